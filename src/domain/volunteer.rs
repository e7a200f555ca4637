//! Volunteer readiness: training, refreshers and pause state decide whether someone
//! takes contacts at all, before the rota is even consulted.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

use super::phone::E164;
use super::rota::Channel;
use super::timezone::TimeZone;
use super::validate::{self, FieldError};

/// Limits that protect a volunteer from burnout; the router enforces them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WellbeingLimits {
    /// Most contacts in one shift (1 to 50).
    pub max_contacts_per_shift: i32,
    /// A contact at least this long counts as long (5 to 240 minutes).
    pub long_contact_minutes: i32,
    /// Rest after a long contact before the next offer (0 to 240 minutes).
    pub rest_minutes_after_long: i32,
    /// Text conversations held at once (1 to 5).
    #[serde(default = "WellbeingLimits::default_max_text_conversations")]
    pub max_text_conversations: i32,
}

impl Default for WellbeingLimits {
    fn default() -> Self {
        Self {
            max_contacts_per_shift: 6,
            long_contact_minutes: 40,
            rest_minutes_after_long: 15,
            max_text_conversations: Self::default_max_text_conversations(),
        }
    }
}

impl WellbeingLimits {
    fn default_max_text_conversations() -> i32 {
        2
    }

    /// How many contacts on `channel` the volunteer takes at once.
    pub fn capacity(&self, channel: Channel) -> u32 {
        match channel {
            Channel::Voice => 1,
            Channel::Sms => u32::try_from(self.max_text_conversations).unwrap_or(1),
        }
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::range(
            "limits.max_contacts_per_shift",
            self.max_contacts_per_shift.into(),
            1,
            50,
        )?;
        validate::range(
            "limits.long_contact_minutes",
            self.long_contact_minutes.into(),
            5,
            240,
        )?;
        validate::range(
            "limits.rest_minutes_after_long",
            self.rest_minutes_after_long.into(),
            0,
            240,
        )?;
        validate::range(
            "limits.max_text_conversations",
            self.max_text_conversations.into(),
            1,
            5,
        )
    }
}

/// What is recorded about a volunteer to decide what they take (their phone is kept
/// apart, sealed, and opened only to reach them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolunteerProfile {
    pub name: String,
    pub time_zone: TimeZone,
    pub languages: Vec<String>,
    pub training_status: TrainingStatus,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: bool,
    pub trained_sms: bool,
    pub active: bool,
    pub limits: WellbeingLimits,
}

impl VolunteerProfile {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::text("name", &self.name, 200)?;
        validate::languages("languages", &self.languages)?;
        if self.training_status == TrainingStatus::Trained && self.training_completed_on.is_none() {
            return Err(FieldError::new(
                "training_completed_on",
                "is required when training_status is trained",
            ));
        }
        if let (Some(done), Some(due)) = (self.training_completed_on, self.refresher_due_on)
            && due < done
        {
            return Err(FieldError::new(
                "refresher_due_on",
                "must not be before training_completed_on",
            ));
        }
        self.limits.validate()
    }

    pub fn readiness(&self) -> Readiness {
        Readiness {
            status: self.training_status,
            refresher_due_on: self.refresher_due_on,
            trained_voice: self.trained_voice,
            trained_sms: self.trained_sms,
            active: self.active,
            time_zone: self.time_zone,
        }
    }
}

impl VolunteerProfile {
    /// "V", trained for both channels since 1 January 2026, speaking English, with the
    /// default limits: a volunteer nothing keeps from contacts (tests, examples, benches).
    pub fn trained_in(time_zone: TimeZone) -> Self {
        Self {
            name: "V".into(),
            time_zone,
            languages: vec!["en".into()],
            training_status: TrainingStatus::Trained,
            training_completed_on: NaiveDate::from_ymd_opt(2026, 1, 1),
            refresher_due_on: None,
            trained_voice: true,
            trained_sms: true,
            active: true,
            limits: WellbeingLimits::default(),
        }
    }
}

/// Refuses a phone that cannot be rung for a volunteer.
pub fn validate_phone(phone: &E164) -> Result<(), FieldError> {
    if phone.reaches_a_person() {
        Ok(())
    } else {
        Err(FieldError::new(
            "phone",
            "must be a mobile or landline number: premium-rate, shared-cost, freephone, \
             satellite and service numbers cannot be rung for a volunteer",
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrainingStatus {
    InTraining,
    Trained,
    Lapsed,
}

impl TrainingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingStatus::InTraining => "in_training",
            TrainingStatus::Trained => "trained",
            TrainingStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::InTraining, Self::Trained, Self::Lapsed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Why someone does not take contacts on a channel right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotTakingContacts {
    InTraining,
    TrainingLapsed,
    RefresherOverdue,
    NotTrainedForChannel,
    Paused,
}

/// The facts about a volunteer that decide whether they take contacts.
#[derive(Debug, Clone)]
pub struct Readiness {
    pub status: TrainingStatus,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: bool,
    pub trained_sms: bool,
    pub active: bool,
    pub time_zone: TimeZone,
}

impl Readiness {
    /// The first instant at which the refresher is overdue: the start of the day after the
    /// due date, in the volunteer's own time zone.
    pub fn refresher_overdue_from(&self) -> Option<DateTime<Utc>> {
        let day_after = self.refresher_due_on?.succ_opt()?;
        Some(start_of_day(self.time_zone, day_after))
    }

    /// `Ok` when this volunteer may take contacts on `channel` (`None`: on some channel) at `at`.
    pub fn check(
        &self,
        at: DateTime<Utc>,
        channel: Option<Channel>,
    ) -> Result<(), NotTakingContacts> {
        let today = at.with_timezone(&self.time_zone.tz()).date_naive();
        self.check_on(today, channel)
    }

    /// As [`Readiness::check`], given the volunteer's local date at that instant: the
    /// refresher is overdue from the day after it was due.
    pub fn check_on(
        &self,
        local_date: NaiveDate,
        channel: Option<Channel>,
    ) -> Result<(), NotTakingContacts> {
        match self.status {
            TrainingStatus::InTraining => return Err(NotTakingContacts::InTraining),
            TrainingStatus::Lapsed => return Err(NotTakingContacts::TrainingLapsed),
            TrainingStatus::Trained => {}
        }
        if self.refresher_due_on.is_some_and(|due| local_date > due) {
            return Err(NotTakingContacts::RefresherOverdue);
        }
        let trained_for = match channel {
            Some(Channel::Voice) => self.trained_voice,
            Some(Channel::Sms) => self.trained_sms,
            None => self.trained_voice || self.trained_sms,
        };
        if !trained_for {
            return Err(NotTakingContacts::NotTrainedForChannel);
        }
        if !self.active {
            return Err(NotTakingContacts::Paused);
        }
        Ok(())
    }
}

/// The first instant of a local date (midnight, or the end of a gap that swallows it).
fn start_of_day(time_zone: TimeZone, date: NaiveDate) -> DateTime<Utc> {
    let tz = time_zone.tz();
    let mut wall = date.and_time(chrono::NaiveTime::MIN);
    loop {
        match tz.from_local_datetime(&wall) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
            // Midnight skipped by a transition (e.g. America/Santiago): try a minute later.
            LocalResult::None => wall += Duration::minutes(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trained() -> Readiness {
        Readiness {
            status: TrainingStatus::Trained,
            refresher_due_on: NaiveDate::from_ymd_opt(2026, 11, 30),
            trained_voice: true,
            trained_sms: false,
            active: true,
            time_zone: TimeZone::parse("Australia/Sydney").unwrap(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn only_trained_active_current_volunteers_take_contacts() {
        let at = utc("2026-11-22T12:00:00Z");
        assert_eq!(trained().check(at, Some(Channel::Voice)), Ok(()));
        assert_eq!(
            trained().check(at, Some(Channel::Sms)),
            Err(NotTakingContacts::NotTrainedForChannel)
        );
        let learner = Readiness {
            status: TrainingStatus::InTraining,
            ..trained()
        };
        assert_eq!(learner.check(at, None), Err(NotTakingContacts::InTraining));
        let paused = Readiness {
            active: false,
            ..trained()
        };
        assert_eq!(paused.check(at, None), Err(NotTakingContacts::Paused));
    }

    #[test]
    fn refresher_is_overdue_from_the_next_local_midnight() {
        // Due 2026-11-30 in Sydney (UTC+11): overdue from 2026-12-01 00:00 AEDT = 2026-11-30T13:00Z.
        let r = trained();
        assert_eq!(
            r.refresher_overdue_from(),
            Some(utc("2026-11-30T13:00:00Z"))
        );
        assert_eq!(r.check(utc("2026-11-30T12:59:59Z"), None), Ok(()));
        assert_eq!(
            r.check(utc("2026-11-30T13:00:00Z"), None),
            Err(NotTakingContacts::RefresherOverdue)
        );
    }
}
