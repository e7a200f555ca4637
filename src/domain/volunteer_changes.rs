//! Who may change which part of a volunteer's profile: the volunteer themself changes
//! their name, phone, time zone, languages and pause; training, sign-off-related fields,
//! wellbeing limits and helplines are for their supervisors and admins.

use chrono::NaiveDate;
use serde::Deserialize;

use super::ids::HelplineId;
use super::phone::E164;
use super::shift_reminders::QuietHours;
use super::timezone::TimeZone;
use super::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};

/// Who is changing a volunteer's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// An admin, or a supervisor of every helpline the volunteer serves.
    Manager,
    /// A supervisor of some, not all, of the helplines the volunteer serves: what decides
    /// where the other helplines' calls go (phone, pause, training, limits) is not theirs
    /// alone to change.
    PartManager,
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
    /// The named field of a volunteer shared with other helplines is for a supervisor of
    /// every one of them, or an admin.
    EveryHelplinesSupervisor(&'static str),
}

/// Changes to a volunteer; absent fields stay as they are.
#[derive(Default, Deserialize, utoipa::ToSchema)]
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
    pub helplines: Option<Vec<HelplineId>>,
    /// When no rota text is sent to them; `null` clears them.
    #[serde(default, deserialize_with = "present")]
    pub quiet_hours: Option<Option<QuietHours>>,
}

/// A field that may be sent as `null`: `Some(None)`, told apart from one left out.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl VolunteerChanges {
    /// The first field these changes would change that only a supervisor or admin may
    /// set; a field sent with the value it already has (a GET sent back) changes nothing.
    pub fn supervisor_only_field(
        &self,
        current: &VolunteerProfile,
        helplines: &[HelplineId],
    ) -> Option<&'static str> {
        fn differs<T: PartialEq>(new: Option<&T>, old: &T) -> bool {
            new.is_some_and(|new| new != old)
        }
        let c = current;
        [
            (
                "training_status",
                differs(self.training_status.as_ref(), &c.training_status),
            ),
            (
                "training_completed_on",
                self.training_completed_on.is_some()
                    && self.training_completed_on != c.training_completed_on,
            ),
            (
                "refresher_due_on",
                self.refresher_due_on.is_some() && self.refresher_due_on != c.refresher_due_on,
            ),
            (
                "trained_voice",
                differs(self.trained_voice.as_ref(), &c.trained_voice),
            ),
            (
                "trained_sms",
                differs(self.trained_sms.as_ref(), &c.trained_sms),
            ),
            ("limits", differs(self.limits.as_ref(), &c.limits)),
            (
                "helplines",
                self.helplines.as_ref().is_some_and(|wanted| {
                    let (mut a, mut b) = (wanted.clone(), helplines.to_vec());
                    a.sort_unstable();
                    b.sort_unstable();
                    a != b
                }),
            ),
        ]
        .into_iter()
        .find_map(|(name, changed)| changed.then_some(name))
    }

    /// Applies the changes to `p` (phone and helplines are the storage layer's).
    pub fn apply(self, p: &mut VolunteerProfile) {
        let VolunteerChanges {
            name,
            phone: _,
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
            quiet_hours: _,
        } = self;
        p.name = name.unwrap_or(std::mem::take(&mut p.name));
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
    /// The first field these changes would change that decides where every helpline's
    /// calls go: the phone they ring, pause, training and limits.
    fn shared_field(&self, current: &VolunteerProfile, phone: &E164) -> Option<&'static str> {
        fn differs<T: PartialEq>(new: Option<&T>, old: &T) -> bool {
            new.is_some_and(|new| new != old)
        }
        let limits = &current.limits;
        [
            ("phone", differs(self.phone.as_ref(), phone)),
            ("active", differs(self.active.as_ref(), &current.active)),
            (
                "training_status",
                differs(self.training_status.as_ref(), &current.training_status),
            ),
            (
                "training_completed_on",
                self.training_completed_on.is_some()
                    && self.training_completed_on != current.training_completed_on,
            ),
            (
                "refresher_due_on",
                self.refresher_due_on.is_some()
                    && self.refresher_due_on != current.refresher_due_on,
            ),
            (
                "trained_voice",
                differs(self.trained_voice.as_ref(), &current.trained_voice),
            ),
            (
                "trained_sms",
                differs(self.trained_sms.as_ref(), &current.trained_sms),
            ),
            ("limits", differs(self.limits.as_ref(), limits)),
        ]
        .into_iter()
        .find(|(_, changed)| *changed)
        .map(|(field, _)| field)
    }

    /// Whether `editor` may make these changes to a volunteer who is `current`, has
    /// `phone` and serves `helplines`.
    pub fn check_editor(
        &self,
        editor: Editor,
        (current, phone): (&VolunteerProfile, &E164),
        helplines: &[HelplineId],
    ) -> Result<(), ChangeRefused> {
        match editor {
            Editor::Manager => Ok(()),
            Editor::PartManager => match self.shared_field(current, phone) {
                Some(field) => Err(ChangeRefused::EveryHelplinesSupervisor(field)),
                None => Ok(()),
            },
            Editor::Other => Err(ChangeRefused::NotTheirs),
            Editor::TheVolunteer => match self.supervisor_only_field(current, helplines) {
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

    fn current() -> VolunteerProfile {
        VolunteerProfile {
            name: "Al".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            languages: vec!["en".into()],
            training_status: TrainingStatus::Trained,
            training_completed_on: None,
            refresher_due_on: None,
            trained_voice: true,
            trained_sms: false,
            active: true,
            limits: WellbeingLimits::default(),
        }
    }

    fn phone() -> E164 {
        E164::parse("+12025550101").unwrap()
    }

    #[test]
    fn a_volunteer_changes_their_own_details_and_pause_but_not_their_training() {
        let (me, phone) = (current(), phone());
        let check = |json: &str, editor| {
            changes(json).check_editor(editor, (&me, &phone), &[HelplineId(1)])
        };
        let own = r#"{"name": "Alf", "languages": ["en", "cy"], "active": false}"#;
        assert_eq!(check(own, Editor::TheVolunteer), Ok(()));
        let training = r#"{"name": "Alf", "trained_sms": true}"#;
        assert_eq!(
            check(training, Editor::TheVolunteer),
            Err(ChangeRefused::ManagersOnly("trained_sms"))
        );
        assert_eq!(check(training, Editor::Manager), Ok(()));
        assert_eq!(
            check(r#"{"helplines": [2]}"#, Editor::TheVolunteer),
            Err(ChangeRefused::ManagersOnly("helplines"))
        );
        assert_eq!(check(own, Editor::Other), Err(ChangeRefused::NotTheirs));
    }

    #[test]
    fn a_supervisor_of_one_of_a_shared_volunteers_helplines_cannot_redirect_the_others_calls() {
        let (me, phone) = (current(), phone());
        let check = |json: &str| {
            changes(json).check_editor(
                Editor::PartManager,
                (&me, &phone),
                &[HelplineId(1), HelplineId(2)],
            )
        };
        assert_eq!(
            check(r#"{"phone": "+12025550199"}"#),
            Err(ChangeRefused::EveryHelplinesSupervisor("phone"))
        );
        assert_eq!(
            check(r#"{"active": false}"#),
            Err(ChangeRefused::EveryHelplinesSupervisor("active"))
        );
        assert_eq!(
            check(r#"{"training_status": "lapsed"}"#),
            Err(ChangeRefused::EveryHelplinesSupervisor("training_status"))
        );
        // Their name, or the phone they already have, are fine.
        assert_eq!(check(r#"{"name": "Alf", "phone": "+12025550101"}"#), Ok(()));
        assert_eq!(
            changes(r#"{"phone": "+12025550199"}"#).check_editor(
                Editor::Manager,
                (&me, &phone),
                &[HelplineId(1), HelplineId(2)]
            ),
            Ok(())
        );
    }

    #[test]
    fn sending_back_what_a_get_returned_changes_nothing_a_volunteer_may_not_change() {
        let (me, phone) = (current(), phone());
        let as_read = r#"{"name": "Alf", "training_status": "trained", "trained_voice": true,
                          "trained_sms": false, "helplines": [1]}"#;
        assert_eq!(
            changes(as_read).check_editor(Editor::TheVolunteer, (&me, &phone), &[HelplineId(1)]),
            Ok(())
        );
    }
}
