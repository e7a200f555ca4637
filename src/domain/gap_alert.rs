//! Gap alerts: once a day, at a time of the helpline's choosing on its own clock, its
//! coordinators hear of the stretches of the coming week that nobody covers yet, overall
//! and for each topic.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::LocalTime;
use super::coverage::{TopicCoverage, uncovered};
use super::rota::{Interval, earliest_instant_at_or_after};
use super::timezone::TimeZone;

/// How far ahead an alert looks.
pub const ALERT_DAYS: i64 = 7;

/// The helpline's day whose alert is due at `now`: today on its clock, once the alert
/// time has passed (on a spring-forward night, a time the clocks skip falls due when
/// they land). A day whose alert time has not come yet has nothing due; a day missed
/// altogether (every server down) is not caught up, as its gaps are in the next one.
pub fn due_day(alert_at: LocalTime, zone: TimeZone, now: DateTime<Utc>) -> Option<NaiveDate> {
    let tz = zone.tz();
    let today = now.with_timezone(&tz).date_naive();
    let due = earliest_instant_at_or_after(tz, today.and_time(alert_at.time()));
    (now >= due).then_some(today)
}

/// The week an alert sent at `now` looks at, from the start of its minute.
pub fn alert_span(now: DateTime<Utc>) -> Interval {
    let start = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    Interval {
        start,
        end: start + Duration::days(ALERT_DAYS),
    }
}

/// The parts of `gaps` outside every one of `overall`: the times a topic is uncovered
/// although someone is on shift.
pub fn beyond(gaps: &[Interval], overall: &[Interval]) -> Vec<Interval> {
    gaps.iter()
        .flat_map(|gap| uncovered(*gap, overall.to_vec()))
        .collect()
}

/// What an alert tells: the overall gaps, and for each topic the gaps it has beyond them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapAlert {
    pub overall: Vec<Interval>,
    /// Topics with gaps of their own, in the helpline's topic order.
    pub topics: Vec<TopicCoverage>,
}

impl GapAlert {
    pub fn new(overall: Vec<Interval>, topics: Vec<TopicCoverage>) -> Self {
        let topics = topics
            .into_iter()
            .map(|topic| TopicCoverage {
                gaps: beyond(&topic.gaps, &overall),
                ..topic
            })
            .filter(|topic| !topic.gaps.is_empty())
            .collect();
        Self { overall, topics }
    }

    pub fn is_empty(&self) -> bool {
        self.overall.is_empty() && self.topics.is_empty()
    }
}

/// The total length of `gaps`, in whole hours rounded up (a 20-minute gap is "1h").
pub fn hours(gaps: &[Interval]) -> i64 {
    let minutes: i64 = gaps.iter().map(|g| g.duration().num_minutes()).sum();
    (minutes + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TopicId;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn span(from: &str, to: &str) -> Interval {
        Interval::new(utc(from), utc(to)).unwrap()
    }

    fn topic(id: i32, gaps: Vec<Interval>) -> TopicCoverage {
        TopicCoverage {
            topic_id: TopicId(id),
            key: format!("t{id}"),
            label: format!("Topic {id}"),
            gaps,
        }
    }

    #[test]
    fn the_alert_is_due_from_its_time_on_the_helplines_clock() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let eight = LocalTime::parse("08:00").unwrap();
        // 08:00 BST on 1 June is 07:00 UTC.
        assert_eq!(due_day(eight, london, utc("2027-06-01T06:59:00Z")), None);
        assert_eq!(
            due_day(eight, london, utc("2027-06-01T07:00:00Z")),
            NaiveDate::from_ymd_opt(2027, 6, 1)
        );
        // Just after midnight on the helpline's clock is the new day, not yet due.
        assert_eq!(due_day(eight, london, utc("2027-06-01T23:30:00Z")), None);
    }

    #[test]
    fn an_alert_time_the_clocks_skip_falls_due_when_they_land() {
        let london = TimeZone::parse("Europe/London").unwrap();
        let skipped = LocalTime::parse("01:30").unwrap();
        // On 28 March 2027 London jumps from 01:00 GMT to 02:00 BST (01:00 UTC).
        assert_eq!(due_day(skipped, london, utc("2027-03-28T00:59:00Z")), None);
        assert_eq!(
            due_day(skipped, london, utc("2027-03-28T01:00:00Z")),
            NaiveDate::from_ymd_opt(2027, 3, 28)
        );
    }

    #[test]
    fn a_topic_gap_inside_an_overall_gap_is_not_told_twice() {
        let overall = vec![span("2027-06-01T00:00:00Z", "2027-06-01T06:00:00Z")];
        let topic_gaps = vec![
            span("2027-06-01T00:00:00Z", "2027-06-01T08:00:00Z"),
            span("2027-06-01T19:00:00Z", "2027-06-01T22:00:00Z"),
        ];
        assert_eq!(
            beyond(&topic_gaps, &overall),
            vec![
                span("2027-06-01T06:00:00Z", "2027-06-01T08:00:00Z"),
                span("2027-06-01T19:00:00Z", "2027-06-01T22:00:00Z"),
            ]
        );
        let alert = GapAlert::new(
            overall.clone(),
            vec![topic(1, overall.clone()), topic(2, topic_gaps)],
        );
        assert_eq!(alert.topics.len(), 1, "topic 1 has no gap of its own");
        assert_eq!(alert.topics[0].topic_id, TopicId(2));
    }

    #[test]
    fn an_overall_gap_inside_a_topic_gap_splits_it() {
        let overall = vec![span("2027-06-01T02:00:00Z", "2027-06-01T03:00:00Z")];
        let topic_gaps = vec![span("2027-06-01T00:00:00Z", "2027-06-01T05:00:00Z")];
        assert_eq!(
            beyond(&topic_gaps, &overall),
            vec![
                span("2027-06-01T00:00:00Z", "2027-06-01T02:00:00Z"),
                span("2027-06-01T03:00:00Z", "2027-06-01T05:00:00Z"),
            ]
        );
        assert!(GapAlert::new(Vec::new(), Vec::new()).is_empty());
    }

    #[test]
    fn hours_round_up() {
        assert_eq!(
            hours(&[
                span("2027-06-01T00:00:00Z", "2027-06-01T00:20:00Z"),
                span("2027-06-01T01:00:00Z", "2027-06-01T03:00:00Z"),
            ]),
            3
        );
        assert_eq!(hours(&[]), 0);
    }
}
