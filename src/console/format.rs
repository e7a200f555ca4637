//! How times and names appear on console pages, and how dates and times are read back
//! from their forms.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::session::{ConsoleError, FormFields};
use crate::domain::ids::UserId;
use crate::domain::rota::{ShiftChannels, earliest_instant_at_or_after};
use crate::domain::timezone::TimeZone;
use crate::error::ApiError;

/// The clock a supervisor or administrator reads times on where no helpline's applies
/// (the audit log, the debrief queue): the time zone on their user record, else UTC.
pub async fn own_clock(
    state: &crate::state::AppState,
    user_id: UserId,
) -> Result<Tz, sea_orm::DbErr> {
    let person = crate::storage::users::get(&state.db, user_id).await?;
    Ok(person
        .and_then(|p| p.time_zone)
        .and_then(|zone| TimeZone::parse(&zone).ok())
        .map_or(Tz::UTC, TimeZone::tz))
}

/// "Tue 1 Dec 19:00" on the given clock.
pub fn day_and_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%a %-d %b %H:%M")
        .to_string()
}

/// "19:00" on the given clock.
pub fn time_of_day(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%H:%M").to_string()
}

/// "Tue 1 Dec 19:00–22:00", or "Sat 5 Dec 23:00 – Sun 6 Dec 02:00" across midnight.
pub fn stretch(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz) -> String {
    let (from, to) = (start.with_timezone(&zone), end.with_timezone(&zone));
    if from.date_naive() == to.date_naive() {
        format!("{}–{}", day_and_time(start, zone), to.format("%H:%M"))
    } else {
        format!(
            "{} – {}",
            day_and_time(start, zone),
            day_and_time(end, zone)
        )
    }
}

/// A "YYYY-MM-DD HH:MM" form field on `zone`'s clock, as an instant (inside a
/// spring-forward gap, the moment the clocks jump to).
pub fn local_instant(
    form: &FormFields,
    name: &'static str,
    zone: TimeZone,
) -> Result<DateTime<Utc>, ConsoleError> {
    let raw = form.get(name).unwrap_or_default();
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M")
        .map_err(|_| ApiError::field(name, "a date and time, e.g. 2026-12-24 19:00"))?;
    Ok(earliest_instant_at_or_after(zone.tz(), local))
}

/// What a shift covers, in words.
pub fn channels_in_words(channels: ShiftChannels) -> &'static str {
    match channels {
        ShiftChannels::Voice => "calls",
        ShiftChannels::Sms => "texts",
        ShiftChannels::Both => "calls and texts",
    }
}

/// A stored snake_case name as words: "needs_debrief" as "needs debrief".
pub fn words(name: &str) -> String {
    name.replace('_', " ")
}

/// A state or kind (anything serialised as a snake_case name) as words.
pub fn words_of(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => words(&name),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_on_the_viewers_own_clock() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T19:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            day_and_time(at, chrono_tz::Europe::London),
            "Tue 1 Dec 19:00"
        );
        let later = |hours| at + chrono::Duration::hours(hours);
        assert_eq!(
            stretch(at, later(3), chrono_tz::Europe::London),
            "Tue 1 Dec 19:00–22:00"
        );
        assert_eq!(
            stretch(at, later(6), chrono_tz::Europe::London),
            "Tue 1 Dec 19:00 – Wed 2 Dec 01:00"
        );
        assert_eq!(
            stretch(at, later(3), chrono_tz::America::New_York),
            "Tue 1 Dec 14:00–17:00"
        );
        assert_eq!(words("needs_debrief"), "needs debrief");
        assert_eq!(
            words_of(&crate::domain::supervision::Flag::NeedsDebrief),
            "needs debrief"
        );
    }
}
