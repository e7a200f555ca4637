//! Supervision rules: a helpline's supervision settings, the flags a volunteer raises in
//! their after-contact report, how a supervisor's review actions move a contact between
//! unreviewed, in review and reviewed, and which unflagged contacts are sampled for review.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ContactId, HelplineId, VolunteerId};
use super::rota::Channel;
use super::timezone::TimeZone;
use super::validate::{self, FieldError};

/// How a helpline supervises its contacts and how long it keeps identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionSettings {
    /// Outcome tags a volunteer may put on their report, e.g. `signposted`.
    #[serde(default = "SupervisionSettings::default_outcome_tags")]
    pub outcome_tags: Vec<String>,
    /// Unflagged contacts sampled for review per volunteer per week (0 to 50).
    #[serde(default = "SupervisionSettings::default_review_sample")]
    pub review_sample_per_week: i32,
    /// Days after which identities, message bodies, notes and recordings are erased (30 to 3650).
    #[serde(default = "SupervisionSettings::default_retention_days")]
    pub retention_days: i32,
}

impl SupervisionSettings {
    fn default_outcome_tags() -> Vec<String> {
        ["listened", "signposted", "follow-up agreed"]
            .map(String::from)
            .to_vec()
    }
    fn default_review_sample() -> i32 {
        2
    }
    fn default_retention_days() -> i32 {
        365
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        if self.outcome_tags.len() > 30 {
            return Err(FieldError::new(
                "supervision.outcome_tags",
                "at most 30 tags",
            ));
        }
        for tag in &self.outcome_tags {
            validate::text("supervision.outcome_tags", tag, 50)?;
        }
        validate::range(
            "supervision.review_sample_per_week",
            self.review_sample_per_week.into(),
            0,
            50,
        )?;
        validate::range(
            "supervision.retention_days",
            self.retention_days.into(),
            30,
            3650,
        )
    }
}

impl Default for SupervisionSettings {
    fn default() -> Self {
        Self {
            outcome_tags: Self::default_outcome_tags(),
            review_sample_per_week: Self::default_review_sample(),
            retention_days: Self::default_retention_days(),
        }
    }
}

/// What a volunteer flags about a contact for their supervisor, most urgent first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Flag {
    /// A risk to someone's safety: the on-call supervisor is alerted at once.
    #[sea_orm(string_value = "safeguarding")]
    Safeguarding,
    /// The volunteer wants to talk it through: a debrief is queued and they rest.
    #[sea_orm(string_value = "needs_debrief")]
    NeedsDebrief,
    /// The caller was abusive: a supervisor may block them.
    #[sea_orm(string_value = "abusive")]
    Abusive,
}

impl Flag {
    pub const ALL: [Flag; 3] = [Flag::Safeguarding, Flag::NeedsDebrief, Flag::Abusive];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Safeguarding => "safeguarding",
            Flag::NeedsDebrief => "needs_debrief",
            Flag::Abusive => "abusive",
        }
    }
}

/// A volunteer's report on a contact they took, as they submit it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// Free-text notes (up to 10,000 characters).
    pub notes: Option<String>,
    /// Tags from the helpline's list, e.g. `["listened"]`.
    #[serde(default)]
    pub outcome_tags: Vec<String>,
    #[serde(default)]
    pub flags: Vec<Flag>,
}

impl ReportInput {
    /// Checks the report against the helpline's tag list; tags and flags are deduplicated.
    pub fn validated(mut self, settings: &SupervisionSettings) -> Result<Self, FieldError> {
        if self
            .notes
            .as_ref()
            .is_some_and(|n| n.chars().count() > 10_000)
        {
            return Err(FieldError::new("notes", "must be at most 10000 characters"));
        }
        if let Some(unknown) = self
            .outcome_tags
            .iter()
            .find(|t| !settings.outcome_tags.contains(t))
        {
            return Err(FieldError::new(
                "outcome_tags",
                format!(
                    "'{unknown}' is not one of this helpline's tags: {}",
                    settings.outcome_tags.join(", ")
                ),
            ));
        }
        self.outcome_tags.sort();
        self.outcome_tags.dedup();
        self.flags.sort();
        self.flags.dedup();
        Ok(self)
    }
}

/// Where a contact is in its review.
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
pub enum ReviewState {
    #[sea_orm(string_value = "unreviewed")]
    Unreviewed,
    #[sea_orm(string_value = "in_review")]
    InReview,
    #[sea_orm(string_value = "reviewed")]
    Reviewed,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Unreviewed => "unreviewed",
            ReviewState::InReview => "in_review",
            ReviewState::Reviewed => "reviewed",
        }
    }
}

/// What a supervisor does to a contact under review.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReviewAction {
    /// Adds a comment (and takes the contact into review).
    Comment { comment: String },
    /// Resolves one of the volunteer's flags, saying what was done.
    ResolveFlag { flag: Flag, action_taken: String },
    /// Asks for a follow-up (with the volunteer or a partner service).
    RequestFollowUp { comment: String },
    /// Marks the review done; every flag must be resolved first.
    Complete { comment: Option<String> },
    /// Takes a reviewed contact back into review.
    Reopen { comment: String },
}

impl ReviewAction {
    pub fn name(&self) -> &'static str {
        match self {
            ReviewAction::Comment { .. } => "comment",
            ReviewAction::ResolveFlag { .. } => "resolve_flag",
            ReviewAction::RequestFollowUp { .. } => "request_follow_up",
            ReviewAction::Complete { .. } => "complete",
            ReviewAction::Reopen { .. } => "reopen",
        }
    }

    /// The action's free text.
    pub fn comment(&self) -> Option<&str> {
        match self {
            ReviewAction::Comment { comment }
            | ReviewAction::RequestFollowUp { comment }
            | ReviewAction::Reopen { comment } => Some(comment),
            ReviewAction::ResolveFlag { action_taken, .. } => Some(action_taken),
            ReviewAction::Complete { comment } => comment.as_deref(),
        }
    }

    /// The review state after this action, given the open (unresolved) flags; or why the
    /// action does not apply.
    pub fn next_state(
        &self,
        current: ReviewState,
        open_flags: &[Flag],
    ) -> Result<ReviewState, FieldError> {
        if let Some(text) = self.comment() {
            validate::text("comment", text, 5000)?;
        }
        match self {
            ReviewAction::Reopen { .. } if current != ReviewState::Reviewed => Err(
                FieldError::new("action", "only a reviewed contact can be reopened"),
            ),
            ReviewAction::Reopen { .. } => Ok(ReviewState::InReview),
            _ if current == ReviewState::Reviewed => Err(FieldError::new(
                "action",
                "this contact is reviewed; reopen it first",
            )),
            ReviewAction::ResolveFlag { flag, .. } if !open_flags.contains(flag) => {
                Err(FieldError::new(
                    "flag",
                    format!("this contact has no open '{}' flag", flag.as_str()),
                ))
            }
            ReviewAction::Complete { .. } if !open_flags.is_empty() => Err(FieldError::new(
                "action",
                format!(
                    "resolve the open flags first: {}",
                    open_flags
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            ReviewAction::Complete { .. } => Ok(ReviewState::Reviewed),
            _ => Ok(ReviewState::InReview),
        }
    }
}

/// An unflagged, unreviewed contact that may be sampled for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleCandidate {
    pub contact_id: ContactId,
    pub volunteer_id: VolunteerId,
    /// The helpline-local week it falls in (any stable number per week).
    pub week: i64,
}

/// Picks up to `per_week` contacts per volunteer per week. The choice is random across
/// contacts but stable for a given `seed`, so the queue does not reshuffle on every look.
pub fn sample_for_review(
    candidates: &[SampleCandidate],
    per_week: usize,
    seed: u64,
) -> Vec<ContactId> {
    let mut groups: HashMap<(VolunteerId, i64), Vec<(u64, ContactId)>> = HashMap::new();
    for c in candidates {
        groups
            .entry((c.volunteer_id, c.week))
            .or_default()
            .push((scramble(seed ^ c.contact_id.0 as u64), c.contact_id));
    }
    let mut chosen: Vec<ContactId> = groups
        .into_values()
        .flat_map(|mut group| {
            group.sort_unstable();
            group.into_iter().take(per_week).map(|(_, id)| id)
        })
        .collect();
    chosen.sort_unstable();
    chosen
}

/// How far back the review sample reaches.
pub const SAMPLE_WEEKS: i64 = 4;
/// Fixed so that the sample stays the same from one look to the next and across servers.
pub const SAMPLE_SEED: u64 = 0x7065_6572_6c69_6e65;

/// A contact the sample may take: unflagged and not yet reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolContact {
    pub contact_id: ContactId,
    pub helpline_id: HelplineId,
    /// Who took it; contacts nobody took are not sampled.
    pub volunteer_id: Option<VolunteerId>,
    pub received_at: DateTime<Utc>,
}

/// How a helpline samples: its weeks are ISO weeks on its own clock.
#[derive(Debug, Clone, Copy)]
pub struct SamplingRule {
    pub helpline_id: HelplineId,
    pub time_zone: TimeZone,
    pub per_week: usize,
}

/// The review sample across helplines, each at its own rate and in its own weeks.
pub fn review_sample(pool: &[PoolContact], rules: &[SamplingRule]) -> Vec<ContactId> {
    let mut chosen = Vec::new();
    for rule in rules {
        let zone = rule.time_zone.tz();
        let candidates: Vec<SampleCandidate> = pool
            .iter()
            .filter(|c| c.helpline_id == rule.helpline_id)
            .filter_map(|c| {
                let week = c.received_at.with_timezone(&zone).date_naive().iso_week();
                Some(SampleCandidate {
                    contact_id: c.contact_id,
                    volunteer_id: c.volunteer_id?,
                    week: i64::from(week.year()) * 100 + i64::from(week.week()),
                })
            })
            .collect();
        chosen.extend(sample_for_review(&candidates, rule.per_week, SAMPLE_SEED));
    }
    chosen.sort_unstable();
    chosen
}

/// A 64-bit mix (splitmix64's finaliser): close contact ids land far apart.
fn scramble(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Why a supervisor cannot block a contact's caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannotBlock {
    /// A block must end some time in the future.
    ExpiryNotInFuture,
    /// The caller withheld their number, or it was erased under the retention policy.
    NoNumberHeld,
}

/// Whether a contact's caller can be blocked until `expires_at`.
pub fn check_block(
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    number_held: bool,
) -> Result<(), CannotBlock> {
    if expires_at <= now {
        Err(CannotBlock::ExpiryNotInFuture)
    } else if !number_held {
        Err(CannotBlock::NoNumberHeld)
    } else {
        Ok(())
    }
}

/// How a caller or texter is shown to anyone but a supervisor revealing them: "caller
/// ...47" from the stored two-digit hint.
pub fn masked_label(channel: Channel, hint: &str) -> String {
    let who = match channel {
        Channel::Sms => "texter",
        Channel::Voice => "caller",
    };
    format!("{who} {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_needs_every_flag_resolved() {
        let complete = ReviewAction::Complete { comment: None };
        let err = complete
            .next_state(ReviewState::InReview, &[Flag::Safeguarding])
            .unwrap_err();
        assert!(err.message.contains("safeguarding"), "{}", err.message);
        assert_eq!(
            complete.next_state(ReviewState::InReview, &[]),
            Ok(ReviewState::Reviewed)
        );
    }

    #[test]
    fn a_reviewed_contact_changes_only_by_reopening() {
        let comment = ReviewAction::Comment {
            comment: "ok".into(),
        };
        assert_eq!(
            comment.next_state(ReviewState::Unreviewed, &[]),
            Ok(ReviewState::InReview)
        );
        assert!(comment.next_state(ReviewState::Reviewed, &[]).is_err());
        let reopen = ReviewAction::Reopen {
            comment: "new information".into(),
        };
        assert_eq!(
            reopen.next_state(ReviewState::Reviewed, &[]),
            Ok(ReviewState::InReview)
        );
        assert!(reopen.next_state(ReviewState::InReview, &[]).is_err());
    }

    #[test]
    fn resolving_a_flag_that_is_not_open_is_refused() {
        let resolve = ReviewAction::ResolveFlag {
            flag: Flag::Abusive,
            action_taken: "blocked".into(),
        };
        assert_eq!(
            resolve
                .next_state(ReviewState::Unreviewed, &[Flag::Safeguarding])
                .unwrap_err()
                .field,
            "flag"
        );
        assert_eq!(
            resolve.next_state(ReviewState::Unreviewed, &[Flag::Abusive]),
            Ok(ReviewState::InReview)
        );
        let empty = ReviewAction::Comment {
            comment: "  ".into(),
        };
        assert_eq!(
            empty
                .next_state(ReviewState::Unreviewed, &[])
                .unwrap_err()
                .field,
            "comment"
        );
    }

    #[test]
    fn reports_take_only_the_helplines_tags() {
        let settings = SupervisionSettings::default();
        let report = ReportInput {
            notes: Some("talked about the night shift".into()),
            outcome_tags: vec!["signposted".into(), "listened".into(), "listened".into()],
            flags: vec![Flag::NeedsDebrief, Flag::NeedsDebrief],
        };
        let checked = report.clone().validated(&settings).unwrap();
        assert_eq!(checked.outcome_tags, ["listened", "signposted"]);
        assert_eq!(checked.flags, [Flag::NeedsDebrief]);
        let bad = ReportInput {
            outcome_tags: vec!["cured".into()],
            ..report
        };
        assert_eq!(bad.validated(&settings).unwrap_err().field, "outcome_tags");
    }

    #[test]
    fn sampling_takes_per_week_per_volunteer_and_is_stable() {
        let candidates: Vec<SampleCandidate> = (1..=20)
            .map(|id| SampleCandidate {
                contact_id: ContactId(id),
                volunteer_id: if id % 2 == 0 {
                    VolunteerId(1)
                } else {
                    VolunteerId(2)
                },
                week: if id <= 10 { 100 } else { 101 },
            })
            .collect();
        let chosen = sample_for_review(&candidates, 2, 42);
        assert_eq!(chosen.len(), 8, "2 volunteers x 2 weeks x 2");
        assert_eq!(chosen, sample_for_review(&candidates, 2, 42));
        assert_ne!(chosen, sample_for_review(&candidates, 2, 7));
        assert!(sample_for_review(&candidates, 0, 42).is_empty());
    }

    #[test]
    fn each_helpline_samples_its_own_weeks_at_its_own_rate() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let contact = |contact_id, helpline_id, received: &str| PoolContact {
            contact_id: ContactId(contact_id),
            helpline_id: HelplineId(helpline_id),
            volunteer_id: Some(VolunteerId(7)),
            received_at: at(received),
        };
        // Sunday 2026-11-29 20:00Z is already Monday of the next week in Auckland.
        let pool = [
            contact(1, 1, "2026-11-29T20:00:00Z"),
            contact(2, 1, "2026-11-30T09:00:00Z"),
            contact(3, 2, "2026-11-29T20:00:00Z"),
            contact(4, 2, "2026-11-30T09:00:00Z"),
            PoolContact {
                volunteer_id: None,
                ..contact(5, 2, "2026-11-30T10:00:00Z")
            },
        ];
        let rules = [
            SamplingRule {
                helpline_id: HelplineId(1),
                time_zone: TimeZone::parse("Pacific/Auckland").unwrap(),
                per_week: 1,
            },
            SamplingRule {
                helpline_id: HelplineId(2),
                time_zone: TimeZone::parse("Europe/London").unwrap(),
                per_week: 1,
            },
        ];
        let chosen = review_sample(&pool, &rules);
        // Auckland: both in one week, so one of 1 and 2; London: 3 and 4 in two weeks.
        assert_eq!(chosen.iter().filter(|id| [1, 2].contains(&id.0)).count(), 1);
        assert!(chosen.contains(&ContactId(3)) && chosen.contains(&ContactId(4)));
        assert!(
            !chosen.contains(&ContactId(5)),
            "a contact nobody took is not sampled"
        );
    }

    #[test]
    fn a_block_needs_a_future_end_and_a_number_to_block() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .to_utc();
        let later = now + chrono::Duration::days(30);
        assert_eq!(check_block(later, now, true), Ok(()));
        assert_eq!(
            check_block(now, now, true),
            Err(CannotBlock::ExpiryNotInFuture)
        );
        assert_eq!(
            check_block(later, now, false),
            Err(CannotBlock::NoNumberHeld)
        );
    }

    #[test]
    fn labels_never_hold_more_than_the_hint() {
        assert_eq!(masked_label(Channel::Voice, "...47"), "caller ...47");
        assert_eq!(masked_label(Channel::Sms, "...47"), "texter ...47");
    }
}
