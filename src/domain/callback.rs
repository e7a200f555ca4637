//! The caller's side of waiting: a helpline's settings for it, where a holding caller
//! stands and how long they may wait, and what a callback does next. Pure.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::validate::{self, FieldError};

/// How a helpline treats callers who cannot be answered at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerSettings {
    /// Offer a caller about to hold a callback instead (press 2), when their number is
    /// known.
    #[serde(default = "CallerSettings::yes")]
    pub callbacks_enabled: bool,
    /// How long a requested callback stays open before it is given up (15 to 720 minutes).
    #[serde(default = "CallerSettings::default_callback_expires_mins")]
    pub callback_expires_mins: i32,
    /// Minutes before a caller who did not answer a callback is tried again (1 to 30).
    #[serde(default = "CallerSettings::default_callback_retry_mins")]
    pub callback_retry_mins: i32,
    /// What a holding caller hears instead of the standard words (at most 300 characters).
    #[serde(default)]
    pub hold_message: Option<String>,
    /// Ask callers who stay on the line after a volunteer hangs up how it went, by keypad
    /// (off by default): whether they felt understood by someone who had been through
    /// something similar, then `survey_questions`.
    #[serde(default)]
    pub survey_enabled: bool,
    /// Up to two more yes / somewhat / no questions in the helpline's own words (each at
    /// most 200 characters).
    #[serde(default)]
    pub survey_questions: Vec<String>,
}

impl CallerSettings {
    fn yes() -> bool {
        true
    }
    fn default_callback_expires_mins() -> i32 {
        120
    }
    fn default_callback_retry_mins() -> i32 {
        3
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::range(
            "callers.callback_expires_mins",
            self.callback_expires_mins.into(),
            15,
            720,
        )?;
        validate::range(
            "callers.callback_retry_mins",
            self.callback_retry_mins.into(),
            1,
            30,
        )?;
        if let Some(message) = &self.hold_message {
            validate::text("callers.hold_message", message, 300)?;
        }
        if self.survey_questions.len() > 2 {
            return Err(FieldError::new(
                "callers.survey_questions",
                "at most 2 questions besides the peer-support question",
            ));
        }
        for question in &self.survey_questions {
            validate::text("callers.survey_questions", question, 200)?;
        }
        Ok(())
    }
}

impl Default for CallerSettings {
    fn default() -> Self {
        Self {
            callbacks_enabled: true,
            callback_expires_mins: Self::default_callback_expires_mins(),
            callback_retry_mins: Self::default_callback_retry_mins(),
            hold_message: None,
            survey_enabled: false,
            survey_questions: Vec::new(),
        }
    }
}

/// Who asked for the callback.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CallbackKind {
    /// The caller, instead of holding.
    #[sea_orm(string_value = "requested")]
    Requested,
    /// A supervisor, returning a missed call or a voicemail.
    #[sea_orm(string_value = "returned")]
    Returned,
}

/// Where a callback is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CallbackState {
    /// Waiting for a volunteer who can take it.
    #[sea_orm(string_value = "waiting")]
    Waiting,
    /// A volunteer is reserved for it; the call to their phone is about to be placed.
    #[sea_orm(string_value = "assigned")]
    Assigned,
    /// The volunteer's phone is ringing.
    #[sea_orm(string_value = "ringing_volunteer")]
    RingingVolunteer,
    /// The volunteer accepted; the caller's phone is being dialled.
    #[sea_orm(string_value = "calling_caller")]
    CallingCaller,
    /// The caller and the volunteer are talking (or have talked).
    #[sea_orm(string_value = "connected")]
    Connected,
    /// The caller could not be reached, or nobody was free before it expired.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Times a callback dials the caller before it gives up.
pub const CALLER_ATTEMPTS: i32 = 2;

/// What follows a dial the caller did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterUnanswered {
    /// Try them again at this time.
    TryAgainAt(DateTime<Utc>),
    /// Give up: tell them by text if they allowed it.
    GiveUp,
}

/// After the caller's `attempts`-th dial went unanswered at `now`.
pub fn after_unanswered(
    attempts: i32,
    retry_after: Duration,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AfterUnanswered {
    let again = now + retry_after;
    if attempts < CALLER_ATTEMPTS && again < expires_at {
        AfterUnanswered::TryAgainAt(again)
    } else {
        AfterUnanswered::GiveUp
    }
}

/// Fewest recent waits an estimate is made from: with fewer, none is given.
const MIN_SAMPLES: usize = 5;
/// Longest wait the estimate speaks of; beyond it, callers hear no figure.
const MAX_ESTIMATE_MINUTES: i64 = 60;

/// A holding caller's likely wait in whole minutes, from the waits of this helpline's
/// recent callers who held before they were answered: the 80th percentile of one wait
/// for each caller ahead and for this one, rounded up. `None` when there are too few
/// recent waits or the figure would be over an hour: never a promise the helpline may not
/// keep.
pub fn estimate_wait_minutes(ahead: usize, recent_waits_secs: &[i32]) -> Option<i64> {
    if recent_waits_secs.len() < MIN_SAMPLES {
        return None;
    }
    let mut waits = recent_waits_secs.to_vec();
    waits.sort_unstable();
    let rank = (waits.len() * 4).div_ceil(5).saturating_sub(1);
    let one_wait = i64::from(waits[rank].max(0));
    let people = i64::try_from(ahead).unwrap_or(i64::MAX).saturating_add(1);
    let total = one_wait.saturating_mul(people);
    let minutes = ((total + 59) / 60).max(1);
    (minutes <= MAX_ESTIMATE_MINUTES).then_some(minutes)
}

/// What a holding caller hears about the queue this round: their position when it is new
/// or has changed, and the estimate at most once a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueNews {
    pub ahead: Option<usize>,
    pub estimate_minutes: Option<i64>,
}

/// What was last said to a holding caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QueueSaid {
    pub ahead: Option<usize>,
    pub estimate_at: Option<DateTime<Utc>>,
}

/// Seconds between two estimates to the same caller.
const ESTIMATE_EVERY_SECS: i64 = 60;

pub fn queue_news(
    ahead: usize,
    estimate_minutes: Option<i64>,
    said: QueueSaid,
    now: DateTime<Utc>,
) -> QueueNews {
    let position_changed = said.ahead != Some(ahead);
    let estimate_due = said
        .estimate_at
        .is_none_or(|at| (now - at).num_seconds() >= ESTIMATE_EVERY_SECS);
    QueueNews {
        ahead: position_changed.then_some(ahead),
        estimate_minutes: estimate_minutes.filter(|_| estimate_due),
    }
}

/// Why a contact's caller cannot be called back by a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CannotReturn {
    #[error("only a phone call can be returned")]
    NotACall,
    #[error("the call is still under way")]
    StillOpen,
    #[error("a volunteer answered this call")]
    Answered,
    #[error("no number is held for this caller: withheld, or erased under the retention policy")]
    NoNumber,
}

/// The facts about a past contact that decide whether it can be returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnFacts {
    pub is_call: bool,
    pub ended: bool,
    pub answered_by_volunteer: bool,
    pub number_held: bool,
}

/// A missed call or a voicemail can be returned: a call that ended without a volunteer,
/// whose number is held.
pub fn check_return(facts: ReturnFacts) -> Result<(), CannotReturn> {
    if !facts.is_call {
        return Err(CannotReturn::NotACall);
    }
    if !facts.ended {
        return Err(CannotReturn::StillOpen);
    }
    if facts.answered_by_volunteer {
        return Err(CannotReturn::Answered);
    }
    if !facts.number_held {
        return Err(CannotReturn::NoNumber);
    }
    Ok(())
}

/// One callback as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackRow {
    pub state: CallbackState,
    /// Seconds from the request to the caller talking with a volunteer, when they did.
    pub secs_to_talk: Option<i64>,
}

/// Callbacks in a report period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallbackFigures {
    /// Callers who asked to be called back (and missed calls returned).
    pub requested: i64,
    /// Of those, the caller talked with a volunteer.
    pub connected: i64,
    /// Given up: the caller was not reached, or nobody was free in time.
    pub failed: i64,
    /// Still under way when the report was made.
    pub open: i64,
    /// requested / the period's calls.
    pub callback_rate: Option<f64>,
    /// Median seconds from the request to the caller talking with a volunteer.
    pub median_secs_to_callback: Option<i64>,
    /// The slowest tenth of connected callbacks took at least this long (seconds).
    pub p90_secs_to_callback: Option<i64>,
}

/// The period's callback figures, out of `calls` calls.
pub fn callback_figures(rows: &[CallbackRow], calls: i64) -> CallbackFigures {
    let count = |state: CallbackState| {
        i64::try_from(rows.iter().filter(|r| r.state == state).count()).unwrap_or(i64::MAX)
    };
    let requested = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let connected = count(CallbackState::Connected);
    let failed = count(CallbackState::Failed);
    let mut times: Vec<i64> = rows.iter().filter_map(|r| r.secs_to_talk).collect();
    times.sort_unstable();
    let at = |share: usize| -> Option<i64> {
        let rank = (times.len() * share).div_ceil(100).checked_sub(1)?;
        times.get(rank).copied()
    };
    CallbackFigures {
        requested,
        connected,
        failed,
        open: requested - connected - failed,
        callback_rate: (calls > 0).then(|| requested as f64 / calls as f64),
        median_secs_to_callback: at(50),
        p90_secs_to_callback: at(90),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_caller_is_tried_twice_then_given_up() {
        let now = at("2026-11-30T20:00:00Z");
        let expires = at("2026-11-30T22:00:00Z");
        let retry = Duration::minutes(3);
        assert_eq!(
            after_unanswered(1, retry, expires, now),
            AfterUnanswered::TryAgainAt(at("2026-11-30T20:03:00Z"))
        );
        assert_eq!(
            after_unanswered(2, retry, expires, now),
            AfterUnanswered::GiveUp
        );
        // No second try after the callback has expired.
        let soon = at("2026-11-30T20:02:00Z");
        assert_eq!(
            after_unanswered(1, retry, soon, now),
            AfterUnanswered::GiveUp
        );
    }

    #[test]
    fn the_estimate_needs_enough_waits_and_counts_everyone_ahead() {
        assert_eq!(estimate_wait_minutes(0, &[60, 60, 60, 60]), None);
        let waits = [30, 45, 60, 90, 100];
        // The 80th percentile of five waits is the fourth: 90 s.
        assert_eq!(estimate_wait_minutes(0, &waits), Some(2));
        assert_eq!(estimate_wait_minutes(2, &waits), Some(5));
        // Never a figure over an hour.
        assert_eq!(estimate_wait_minutes(50, &waits), None);
        // A short wait is still "about a minute", never zero.
        assert_eq!(estimate_wait_minutes(0, &[1, 1, 1, 1, 1]), Some(1));
    }

    #[test]
    fn a_holding_caller_hears_their_position_when_it_changes_and_the_estimate_each_minute() {
        let now = at("2026-11-30T20:00:00Z");
        let first = queue_news(2, Some(4), QueueSaid::default(), now);
        assert_eq!(
            first,
            QueueNews {
                ahead: Some(2),
                estimate_minutes: Some(4)
            }
        );
        let said = QueueSaid {
            ahead: Some(2),
            estimate_at: Some(now),
        };
        let ten_secs = queue_news(2, Some(4), said, now + Duration::seconds(10));
        assert_eq!(
            ten_secs,
            QueueNews {
                ahead: None,
                estimate_minutes: None
            }
        );
        let moved_up = queue_news(1, Some(3), said, now + Duration::seconds(20));
        assert_eq!(moved_up.ahead, Some(1));
        assert_eq!(moved_up.estimate_minutes, None);
        let a_minute = queue_news(1, Some(3), said, now + Duration::seconds(60));
        assert_eq!(a_minute.estimate_minutes, Some(3));
    }

    #[test]
    fn callback_figures_count_states_and_time_to_talk() {
        let row = |state, secs| CallbackRow {
            state,
            secs_to_talk: secs,
        };
        let rows = [
            row(CallbackState::Connected, Some(120)),
            row(CallbackState::Connected, Some(600)),
            row(CallbackState::Connected, Some(300)),
            row(CallbackState::Failed, None),
            row(CallbackState::Waiting, None),
        ];
        let figures = callback_figures(&rows, 50);
        assert_eq!(
            (
                figures.requested,
                figures.connected,
                figures.failed,
                figures.open
            ),
            (5, 3, 1, 1)
        );
        assert_eq!(figures.callback_rate, Some(0.1));
        assert_eq!(figures.median_secs_to_callback, Some(300));
        assert_eq!(figures.p90_secs_to_callback, Some(600));
        let none = callback_figures(&[], 0);
        assert_eq!(none.callback_rate, None);
        assert_eq!(none.median_secs_to_callback, None);
    }

    #[test]
    fn only_an_ended_unanswered_call_with_a_number_can_be_returned() {
        let missed = ReturnFacts {
            is_call: true,
            ended: true,
            answered_by_volunteer: false,
            number_held: true,
        };
        assert_eq!(check_return(missed), Ok(()));
        let text = ReturnFacts {
            is_call: false,
            ..missed
        };
        assert_eq!(check_return(text), Err(CannotReturn::NotACall));
        let open = ReturnFacts {
            ended: false,
            ..missed
        };
        assert_eq!(check_return(open), Err(CannotReturn::StillOpen));
        let answered = ReturnFacts {
            answered_by_volunteer: true,
            ..missed
        };
        assert_eq!(check_return(answered), Err(CannotReturn::Answered));
        let withheld = ReturnFacts {
            number_held: false,
            ..missed
        };
        assert_eq!(check_return(withheld), Err(CannotReturn::NoNumber));
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        assert!(CallerSettings::default().validate().is_ok());
        let short = CallerSettings {
            callback_expires_mins: 5,
            ..Default::default()
        };
        assert_eq!(
            short.validate().unwrap_err().field,
            "callers.callback_expires_mins"
        );
        let blank = CallerSettings {
            hold_message: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(blank.validate().unwrap_err().field, "callers.hold_message");
    }
}
