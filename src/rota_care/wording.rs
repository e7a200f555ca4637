//! What rota texts say. Times are on the reader's own clock and say so.

use crate::domain::gap_alert::{ALERT_DAYS, GapAlert, hours};
use crate::domain::rota::Interval;
use crate::domain::timezone::TimeZone;

/// "Tue 1 Dec 19:00-22:00" on `zone`'s clock.
pub fn shift(span: Interval, zone: TimeZone) -> String {
    let tz = zone.tz();
    let (start, end) = (span.start.with_timezone(&tz), span.end.with_timezone(&tz));
    format!(
        "{}-{}",
        start.format("%a %-d %b %H:%M"),
        end.format("%H:%M")
    )
}

pub fn reminder(helpline: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Reminder: your {helpline} shift {} (your time). Reply OK to confirm or NO if you cannot make it.",
        shift(span, zone)
    )
}

pub fn hour_before(helpline: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Your {helpline} shift starts in an hour: {} (your time). Thank you.",
        shift(span, zone)
    )
}

pub fn confirmed(span: Interval, zone: TimeZone) -> String {
    format!(
        "Thank you: your shift {} (your time) is confirmed.",
        shift(span, zone)
    )
}

pub fn stepping_back(span: Interval, zone: TimeZone, topic: &str) -> String {
    format!(
        "Thank you: your shift {} (your time) is confirmed, and you will not be offered \
         contacts about {topic} on it. Take care of yourself.",
        shift(span, zone)
    )
}

pub fn no_such_topic(words: &str, topics: &[&str]) -> String {
    format!(
        "No topic is called \"{words}\"; to step back from one, reply OK NOT and one of: {}.",
        topics.join(", ")
    )
}

pub fn cannot_come(span: Interval, zone: TimeZone) -> String {
    format!(
        "Thank you for letting us know. Your shift {} (your time) is now off. Take care.",
        shift(span, zone)
    )
}

pub fn not_confirmed(volunteer: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Peerline: {volunteer} has not confirmed their shift {} ({zone} time).",
        shift(span, zone)
    )
}

pub fn cover_ask(request: i32, span: Interval, zone: TimeZone, topic: Option<&str>) -> String {
    let topic = topic.map(|t| format!(" for {t}")).unwrap_or_default();
    format!(
        "Can you cover {} (your time){topic}? Reply YES {request} to take it, or NO {request}.",
        shift(span, zone)
    )
}

pub fn cover_taken(span: Interval, zone: TimeZone) -> String {
    format!(
        "Thank you: the shift {} (your time) is yours.",
        shift(span, zone)
    )
}

pub fn cover_already_filled(span: Interval, zone: TimeZone) -> String {
    format!(
        "Thank you for offering. The shift {} (your time) is already covered.",
        shift(span, zone)
    )
}

pub fn cover_declined() -> String {
    "Thank you for letting us know.".to_owned()
}

pub fn cover_filled(by: &str, lost_by: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Peerline: {by} will cover {lost_by}'s shift {} ({zone} time).",
        shift(span, zone)
    )
}

pub fn cover_unfilled(lost_by: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Peerline: nobody took {lost_by}'s shift {} ({zone} time); it began uncovered.",
        shift(span, zone)
    )
}

pub fn cover_nobody_to_ask(lost_by: &str, span: Interval, zone: TimeZone) -> String {
    format!(
        "Peerline: {lost_by}'s shift {} ({zone} time) is lost and no volunteer can be asked to cover it.",
        shift(span, zone)
    )
}

/// "Tue 1 Dec 22:00-Wed 2 Dec 06:00" on `zone`'s clock; a stretch within one day reads
/// as a shift does.
fn stretch(span: Interval, zone: TimeZone) -> String {
    let tz = zone.tz();
    let (start, end) = (span.start.with_timezone(&tz), span.end.with_timezone(&tz));
    if start.date_naive() == end.date_naive() {
        return shift(span, zone);
    }
    format!(
        "{}-{}",
        start.format("%a %-d %b %H:%M"),
        end.format("%a %-d %b %H:%M")
    )
}

/// How many topics a gap alert names before it says how many more there are.
const TOPICS_NAMED: usize = 3;

/// The daily gap alert: the overall gaps, then each topic's own, each with its first
/// stretch, and where to see them all.
pub fn gap_alert(alert: &GapAlert, zone: TimeZone, details: &str) -> String {
    let part = |gaps: &[Interval]| {
        let count = gaps.len();
        let first = gaps.first().map(|g| stretch(*g, zone)).unwrap_or_default();
        let plural = if count == 1 { "" } else { "s" };
        format!("{}h in {count} gap{plural}, first {first}", hours(gaps))
    };
    let mut parts = vec![format!(
        "Peerline rota gaps in the next {ALERT_DAYS} days ({zone} time):"
    )];
    if !alert.overall.is_empty() {
        parts.push(format!("nobody on shift {}.", part(&alert.overall)));
    }
    for topic in alert.topics.iter().take(TOPICS_NAMED) {
        parts.push(format!("{}: {}.", topic.label, part(&topic.gaps)));
    }
    let more = alert.topics.len().saturating_sub(TOPICS_NAMED);
    if more > 0 {
        parts.push(format!("{more} more topics have gaps."));
    }
    parts.push(format!("Details: {details}"));
    parts.join(" ")
}
