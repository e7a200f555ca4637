//! The rules of signing in to the console: how long codes, links and sessions live, and
//! how many attempts a person or an address may make before they must wait.

use chrono::{DateTime, Duration, Utc};

/// A one-time code or link is good for this long after it is issued.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// A console session lapses after this long unused...
pub const SESSION_IDLE_LIMIT: Duration = Duration::hours(2);
/// ...and, used or not, this long after it began.
pub const SESSION_MAX_AGE: Duration = Duration::hours(12);
/// A session's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(1);
/// The limits below count attempts within this window.
pub const ATTEMPT_WINDOW: Duration = Duration::minutes(15);
/// Codes one person may be sent per window.
const CODES_PER_PERSON: u64 = 3;
/// Wrong codes one person may enter per window (across all their codes).
const WRONG_CODES_PER_PERSON: u64 = 5;
/// Attempts of any kind from one address per window.
const ATTEMPTS_PER_ADDRESS: u64 = 20;

/// What an API token is for: a bearer token for the API, or a console session held in a
/// cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TokenKind {
    #[sea_orm(string_value = "api")]
    Api,
    #[sea_orm(string_value = "console")]
    Console,
}

/// How a one-time secret reaches its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CodeKind {
    /// Six digits, texted to the person's phone.
    #[sea_orm(string_value = "sms_code")]
    SmsCode,
    /// A link printed by `peerline login-link` for someone without a phone.
    #[sea_orm(string_value = "link")]
    Link,
}

/// A step of signing in, as counted for the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Attempt {
    #[sea_orm(string_value = "request_code")]
    RequestCode,
    #[sea_orm(string_value = "enter_code")]
    EnterCode,
    #[sea_orm(string_value = "follow_link")]
    FollowLink,
}

/// Attempts already made within the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentAttempts {
    pub from_address: u64,
    pub codes_sent_to_person: u64,
    pub wrong_codes_of_person: u64,
}

/// Why an attempt must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMany {
    FromThisAddress,
    CodesForThisPerson,
    WrongCodes,
}

/// Whether one more `attempt` may be made now.
pub fn may_attempt(attempt: Attempt, recent: RecentAttempts) -> Result<(), TooMany> {
    if recent.from_address >= ATTEMPTS_PER_ADDRESS {
        return Err(TooMany::FromThisAddress);
    }
    match attempt {
        Attempt::RequestCode if recent.codes_sent_to_person >= CODES_PER_PERSON => {
            Err(TooMany::CodesForThisPerson)
        }
        Attempt::EnterCode if recent.wrong_codes_of_person >= WRONG_CODES_PER_PERSON => {
            Err(TooMany::WrongCodes)
        }
        _ => Ok(()),
    }
}

/// Whether a console session begun at `created_at` and last used at `last_used_at` may
/// still be used at `now`.
pub fn session_is_live(
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let last_used = last_used_at.unwrap_or(created_at);
    now - created_at < SESSION_MAX_AGE && now - last_used < SESSION_IDLE_LIMIT
}

/// Whether a use at `now` should be written down (at most once a minute per session).
pub fn worth_recording_use(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|last| now - last >= TOUCH_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn a_session_lapses_when_idle_and_at_its_maximum_age() {
        assert!(session_is_live(at(0), None, at(119)));
        assert!(!session_is_live(at(0), None, at(120)));
        assert!(session_is_live(at(0), Some(at(600)), at(700)));
        // Used all along, it still ends twelve hours after it began.
        assert!(!session_is_live(at(0), Some(at(719)), at(720)));
    }

    #[test]
    fn a_session_use_is_written_at_most_once_a_minute() {
        assert!(worth_recording_use(None, at(0)));
        assert!(!worth_recording_use(Some(at(10)), at(10)));
        assert!(worth_recording_use(Some(at(10)), at(11)));
    }

    #[test]
    fn each_limit_stops_its_own_kind_of_attempt() {
        let busy_address = RecentAttempts {
            from_address: 20,
            ..Default::default()
        };
        for attempt in [
            Attempt::RequestCode,
            Attempt::EnterCode,
            Attempt::FollowLink,
        ] {
            assert_eq!(
                may_attempt(attempt, busy_address),
                Err(TooMany::FromThisAddress)
            );
        }
        let texted_enough = RecentAttempts {
            codes_sent_to_person: 3,
            ..Default::default()
        };
        assert_eq!(
            may_attempt(Attempt::RequestCode, texted_enough),
            Err(TooMany::CodesForThisPerson)
        );
        // A code already sent may still be entered.
        assert_eq!(may_attempt(Attempt::EnterCode, texted_enough), Ok(()));
        let guessing = RecentAttempts {
            wrong_codes_of_person: 5,
            ..Default::default()
        };
        assert_eq!(
            may_attempt(Attempt::EnterCode, guessing),
            Err(TooMany::WrongCodes)
        );
        assert_eq!(
            may_attempt(Attempt::RequestCode, RecentAttempts::default()),
            Ok(())
        );
    }
}
