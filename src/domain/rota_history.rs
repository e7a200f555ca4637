//! The rota's memory: each time anything about a volunteer's place on the rota changes
//! (shifts, leave, extra shifts, pause, training, sign-offs, step-backs, limits, the
//! helplines they serve), a record of all of it as it now stands is kept with the time.
//! A question about the past is answered with the records in force then: the stretch
//! asked about is cut where records change, and each piece is answered with the rota of
//! its own time.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::rota::{Interval, Rota};
use super::step_back::StepBack;
use super::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};

/// Everything about a volunteer's place on the rota, as it stood from a moment on. Their
/// name and phone are not kept: a past rota is shown with today's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotaRecord {
    pub helplines: Vec<i32>,
    pub training_status: TrainingStatus,
    pub training_completed_on: Option<NaiveDate>,
    pub refresher_due_on: Option<NaiveDate>,
    pub trained_voice: bool,
    pub trained_sms: bool,
    pub active: bool,
    pub limits: WellbeingLimits,
    /// With the time zone the volunteer lived by then.
    pub rota: Rota,
    pub ready_topics: Vec<i32>,
    pub stepped_back: Vec<StepBack>,
}

impl RotaRecord {
    pub fn new(
        profile: &VolunteerProfile,
        rota: Rota,
        ready_topics: Vec<i32>,
        stepped_back: Vec<StepBack>,
        helplines: Vec<i32>,
    ) -> Self {
        Self {
            helplines,
            training_status: profile.training_status,
            training_completed_on: profile.training_completed_on,
            refresher_due_on: profile.refresher_due_on,
            trained_voice: profile.trained_voice,
            trained_sms: profile.trained_sms,
            active: profile.active,
            limits: profile.limits,
            rota,
            ready_topics,
            stepped_back,
        }
    }

    /// Today's `profile` (name, phone, languages) with the rota facts of this record.
    pub fn profile_then(&self, profile: VolunteerProfile) -> VolunteerProfile {
        VolunteerProfile {
            time_zone: self.rota.time_zone,
            training_status: self.training_status,
            training_completed_on: self.training_completed_on,
            refresher_due_on: self.refresher_due_on,
            trained_voice: self.trained_voice,
            trained_sms: self.trained_sms,
            active: self.active,
            limits: self.limits,
            ..profile
        }
    }
}

/// `span` cut at each of `changes` that falls inside it: the pieces, in order, each
/// answered by one set of records.
pub fn pieces(span: Interval, changes: &[DateTime<Utc>]) -> Vec<Interval> {
    let mut cuts: Vec<DateTime<Utc>> = changes
        .iter()
        .copied()
        .filter(|at| span.start < *at && *at < span.end)
        .collect();
    cuts.sort();
    cuts.dedup();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = span.start;
    for cut in cuts {
        pieces.push(Interval { start, end: cut });
        start = cut;
    }
    pieces.push(Interval {
        start,
        end: span.end,
    });
    pieces
}

/// Sorted gaps from consecutive pieces, with those that meet at a cut joined into one.
pub fn joined(gaps: impl IntoIterator<Item = Interval>) -> Vec<Interval> {
    let mut joined: Vec<Interval> = Vec::new();
    for gap in gaps {
        match joined.last_mut() {
            Some(last) if last.end >= gap.start => last.end = last.end.max(gap.end),
            _ => joined.push(gap),
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn span(from: &str, to: &str) -> Interval {
        Interval::new(utc(from), utc(to)).unwrap()
    }

    #[test]
    fn a_span_is_cut_only_where_records_change_inside_it() {
        let week = span("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z");
        let changes = [
            utc("2026-11-05T12:00:00Z"),
            utc("2026-10-01T00:00:00Z"),
            utc("2026-11-03T08:00:00Z"),
            utc("2026-11-05T12:00:00Z"),
            utc("2026-11-09T00:00:00Z"),
        ];
        assert_eq!(
            pieces(week, &changes),
            vec![
                span("2026-11-02T00:00:00Z", "2026-11-03T08:00:00Z"),
                span("2026-11-03T08:00:00Z", "2026-11-05T12:00:00Z"),
                span("2026-11-05T12:00:00Z", "2026-11-09T00:00:00Z"),
            ]
        );
        assert_eq!(pieces(week, &[]), vec![week]);
    }

    #[test]
    fn gaps_that_meet_at_a_cut_are_one_gap() {
        assert_eq!(
            joined([
                span("2026-11-02T00:00:00Z", "2026-11-03T08:00:00Z"),
                span("2026-11-03T08:00:00Z", "2026-11-03T09:00:00Z"),
                span("2026-11-04T00:00:00Z", "2026-11-04T01:00:00Z"),
            ]),
            vec![
                span("2026-11-02T00:00:00Z", "2026-11-03T09:00:00Z"),
                span("2026-11-04T00:00:00Z", "2026-11-04T01:00:00Z"),
            ]
        );
    }
}
