//! Who may change which part of a volunteer's profile: the volunteer themself changes
//! their name, phone, time zone, languages and pause; training, sign-off-related fields,
//! wellbeing limits and helplines are for their supervisors and admins.

use chrono::NaiveDate;
use serde::Deserialize;

use super::phone::E164;
use super::timezone::TimeZone;
use super::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};

/// Who is changing a volunteer's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// An admin, or a supervisor of a helpline the volunteer serves.
    Manager,
    /// The volunteer themself.
    TheVolunteer,
    /// Anyone else.
    Other,
}

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefused {
    NotTheirs,
    /// The named field is for supervisors and admins.
    ManagersOnly(&'static str),
}

/// Changes to a volunteer; absent fields stay as they are.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolunteerChanges {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub phone: Option<E164>,
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<TimeZone>,
    pub languages: Option<Vec<String>>,
    /// False pauses the volunteer: they get no contacts until they resume.
    pub active: Option<bool>,
    pub training_status: Option<TrainingStatus>,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: Option<bool>,
    pub trained_sms: Option<bool>,
    pub limits: Option<WellbeingLimits>,
    pub helplines: Option<Vec<i32>>,
}

impl VolunteerChanges {
    /// The first field in these changes that only a supervisor or admin may set.
    pub fn supervisor_only_field(&self) -> Option<&'static str> {
        [
            ("training_status", self.training_status.is_some()),
            (
                "training_completed_on",
                self.training_completed_on.is_some(),
            ),
            ("refresher_due_on", self.refresher_due_on.is_some()),
            ("trained_voice", self.trained_voice.is_some()),
            ("trained_sms", self.trained_sms.is_some()),
            ("limits", self.limits.is_some()),
            ("helplines", self.helplines.is_some()),
        ]
        .into_iter()
        .find_map(|(name, set)| set.then_some(name))
    }

    /// Applies the changes to `p` (helplines are the storage layer's).
    pub fn apply(self, p: &mut VolunteerProfile) {
        let VolunteerChanges {
            name,
            phone,
            time_zone,
            languages,
            active,
            training_status,
            training_completed_on,
            refresher_due_on,
            trained_voice,
            trained_sms,
            limits,
            helplines: _,
        } = self;
        p.name = name.unwrap_or(std::mem::take(&mut p.name));
        p.phone = phone.unwrap_or(p.phone.clone());
        p.time_zone = time_zone.unwrap_or(p.time_zone);
        p.languages = languages.unwrap_or(std::mem::take(&mut p.languages));
        p.active = active.unwrap_or(p.active);
        p.training_status = training_status.unwrap_or(p.training_status);
        p.training_completed_on = training_completed_on.or(p.training_completed_on);
        p.refresher_due_on = refresher_due_on.or(p.refresher_due_on);
        p.trained_voice = trained_voice.unwrap_or(p.trained_voice);
        p.trained_sms = trained_sms.unwrap_or(p.trained_sms);
        p.limits = limits.unwrap_or(p.limits);
    }
}

impl VolunteerChanges {
    /// Whether `editor` may make these changes.
    pub fn check_editor(&self, editor: Editor) -> Result<(), ChangeRefused> {
        match editor {
            Editor::Manager => Ok(()),
            Editor::Other => Err(ChangeRefused::NotTheirs),
            Editor::TheVolunteer => match self.supervisor_only_field() {
                Some(field) => Err(ChangeRefused::ManagersOnly(field)),
                None => Ok(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(json: &str) -> VolunteerChanges {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_volunteer_changes_their_own_details_and_pause_but_not_their_training() {
        let own = changes(r#"{"name": "Al", "languages": ["en"], "active": false}"#);
        assert_eq!(own.check_editor(Editor::TheVolunteer), Ok(()));
        let training = changes(r#"{"name": "Al", "trained_sms": true}"#);
        assert_eq!(
            training.check_editor(Editor::TheVolunteer),
            Err(ChangeRefused::ManagersOnly("trained_sms"))
        );
        assert_eq!(training.check_editor(Editor::Manager), Ok(()));
        let helplines = changes(r#"{"helplines": [2]}"#);
        assert_eq!(
            helplines.check_editor(Editor::TheVolunteer),
            Err(ChangeRefused::ManagersOnly("helplines"))
        );
        assert_eq!(
            own.check_editor(Editor::Other),
            Err(ChangeRefused::NotTheirs)
        );
    }
}
