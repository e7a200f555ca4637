//! The kept tallies of settled local days (`report_days`). A report adds up the kept days
//! of its period and counts the rest (recent days, and days changed since they were
//! kept) from the contacts, so what it says never depends on what was kept.
//!
//! A day is planted (given a row) once it has settled, and tallied a while later, once
//! every change under way when it was planted has committed. From its planting on, the
//! database's triggers move its generation on with every change to what it counts; a
//! tally is read only while its generation is the day's.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, TransactionTrait, Value,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::report_queries::{self, rows, statement};
use crate::domain::ids::HelplineId;
use crate::domain::report_period::Period;
use crate::domain::report_tally::{ContactsTally, VolunteerTally};
use crate::domain::timezone::TimeZone;

/// A local day is planted once it has been over this long.
pub const SETTLED_AFTER: Duration = Duration::days(2);

/// A planted day is tallied once it has been planted this long: far longer than any
/// transaction that was under way when it was planted.
pub const PLANTED_FOR: Duration = Duration::minutes(10);

/// A report's tally, of either kind.
pub trait Tally: Serialize + DeserializeOwned {
    /// The column it is kept in.
    const COLUMN: &'static str;

    /// The tally of all of `parts`' contacts.
    fn sum(parts: &[Self]) -> Self;

    /// Counts it from the contacts.
    fn count(
        db: &DatabaseConnection,
        helpline_id: HelplineId,
        period: &Period,
    ) -> impl Future<Output = Result<Self, DbErr>> + Send;
}

impl Tally for ContactsTally {
    const COLUMN: &'static str = "contacts_tally";

    fn sum(parts: &[Self]) -> Self {
        ContactsTally::sum(parts)
    }

    async fn count(
        db: &DatabaseConnection,
        helpline_id: HelplineId,
        period: &Period,
    ) -> Result<Self, DbErr> {
        report_queries::contacts_tally(db, helpline_id, period).await
    }
}

impl Tally for VolunteerTally {
    const COLUMN: &'static str = "volunteers_tally";

    fn sum(parts: &[Self]) -> Self {
        VolunteerTally::sum(parts)
    }

    async fn count(
        db: &DatabaseConnection,
        helpline_id: HelplineId,
        period: &Period,
    ) -> Result<Self, DbErr> {
        report_queries::volunteer_tally(db, helpline_id, period).await
    }
}

async fn execute(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let done = db
        .execute_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    Ok(done.rows_affected())
}

fn to_json(tally: &impl Serialize) -> Result<String, DbErr> {
    serde_json::to_string(tally).map_err(|e| DbErr::Custom(format!("report tally: {e}")))
}

fn parse_day(raw: &str) -> Result<NaiveDate, DbErr> {
    raw.parse()
        .map_err(|e| DbErr::Custom(format!("report day {raw}: {e}")))
}

/// The period's tally: its kept days added up, and its other days counted from the
/// contacts, a run of consecutive days at a time.
pub async fn tally<T: Tally>(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<T, DbErr> {
    let sql = format!(
        "SELECT day, {column} AS tally FROM report_days WHERE helpline_id = ? \
         AND time_zone = ? AND starts_at >= ? AND starts_at < ? \
         AND tallied_generation = generation AND {column} IS NOT NULL",
        column = T::COLUMN
    );
    let values = vec![
        helpline_id.into(),
        period.zone.to_string().into(),
        period.start().timestamp().into(),
        period.end().timestamp().into(),
    ];
    let mut parts = Vec::new();
    let mut kept = BTreeSet::new();
    for row in rows(db, &sql, values).await? {
        let day = parse_day(&row.try_get::<String>("", "day")?)?;
        let raw: String = row.try_get("", "tally")?;
        // A tally kept in a form this version does not read is counted from the contacts
        // (a change of form comes with a migration that has the days tallied again).
        match serde_json::from_str(&raw) {
            Ok(tally) => {
                parts.push(tally);
                kept.insert(day);
            }
            Err(e) => tracing::warn!(%day, error = %e, "a kept report tally could not be read"),
        }
    }
    for run in period.runs_without(&kept) {
        parts.push(T::count(db, helpline_id, &run).await?);
    }
    Ok(T::sum(&parts))
}

/// The last local day that has settled at `now`.
fn last_settled_day(zone: TimeZone, now: DateTime<Utc>) -> Option<NaiveDate> {
    (now - SETTLED_AFTER)
        .with_timezone(&zone.tz())
        .date_naive()
        .pred_opt()
}

/// Plants every settled day of the helpline from its first contact on that has no row
/// yet, and drops the days kept in a time zone the helpline no longer has. How many it
/// planted.
pub async fn plant(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    execute(
        db,
        "DELETE FROM report_days WHERE helpline_id = ? AND time_zone <> ?",
        vec![helpline_id.into(), zone.to_string().into()],
    )
    .await?;
    let first = rows(
        db,
        "SELECT MIN(received_at) AS first FROM contacts WHERE helpline_id = ?",
        vec![helpline_id.into()],
    )
    .await?;
    let first: Option<DateTime<Utc>> = match first.first() {
        Some(row) => row.try_get("", "first")?,
        None => None,
    };
    let (Some(first), Some(last)) = (first, last_settled_day(zone, now)) else {
        return Ok(0);
    };
    let first = first.with_timezone(&zone.tz()).date_naive();
    if first > last {
        return Ok(0);
    }
    let planted = rows(
        db,
        "SELECT day FROM report_days WHERE helpline_id = ?",
        vec![helpline_id.into()],
    )
    .await?
    .iter()
    .map(|row| parse_day(&row.try_get::<String>("", "day")?))
    .collect::<Result<BTreeSet<NaiveDate>, DbErr>>()?;
    let settled = Period {
        zone,
        from: first,
        to: last,
    };
    let missing: Vec<NaiveDate> = settled
        .days()
        .filter(|day| !planted.contains(day))
        .collect();
    for batch in missing.chunks(200) {
        let marks = vec!["(?, ?, ?, ?, ?, 0, ?)"; batch.len()].join(", ");
        let mut values: Vec<Value> = Vec::with_capacity(batch.len() * 6);
        for day in batch {
            let period = Period::day(zone, *day);
            values.extend([
                helpline_id.into(),
                period.start().timestamp().into(),
                period.end().timestamp().into(),
                day.to_string().into(),
                zone.to_string().into(),
                now.timestamp().into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO report_days (helpline_id, starts_at, ends_at, day, time_zone, \
             generation, planted_at) VALUES {marks} \
             ON CONFLICT (helpline_id, starts_at) DO NOTHING"
        );
        execute(db, &sql, values).await?;
    }
    Ok(missing.len())
}

/// The helpline's days planted long enough ago whose tallies are missing or out of date,
/// oldest first.
pub async fn due(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    zone: TimeZone,
    now: DateTime<Utc>,
) -> Result<Vec<NaiveDate>, DbErr> {
    let sql = "SELECT day FROM report_days WHERE helpline_id = ? AND time_zone = ? \
         AND planted_at <= ? \
         AND (tallied_generation IS NULL OR tallied_generation <> generation) \
         ORDER BY starts_at";
    let values = vec![
        helpline_id.into(),
        zone.to_string().into(),
        (now - PLANTED_FOR).timestamp().into(),
    ];
    rows(db, sql, values)
        .await?
        .iter()
        .map(|row| parse_day(&row.try_get::<String>("", "day")?))
        .collect()
}

/// Whether a contact received in the period is still in progress.
async fn has_open_contacts(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<bool, DbErr> {
    let start: DateTime<Utc> = period.start();
    let end: DateTime<Utc> = period.end();
    let open = rows(
        db,
        "SELECT 1 AS open FROM contacts WHERE helpline_id = ? AND received_at >= ? \
         AND received_at < ? AND (ended_at IS NULL OR outcome IS NULL) LIMIT 1",
        vec![helpline_id.into(), start.into(), end.into()],
    )
    .await?;
    Ok(!open.is_empty())
}

/// Counts the day's tallies and keeps them, unless its tallies are up to date, another
/// server is counting them (PostgreSQL: the day's row is claimed for the count, and
/// a change to what it counts waits for it; SQLite: the first count to finish is kept),
/// or one of its contacts is still in progress. True if it kept them.
pub async fn keep(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    zone: TimeZone,
    day: NaiveDate,
) -> Result<bool, DbErr> {
    let period = Period::day(zone, day);
    if db.get_database_backend() != DatabaseBackend::Postgres {
        // One writer at a time: a transaction would hold every webhook's writes back
        // for the count. A change meanwhile moves the generation on, and the count is
        // not kept.
        return count_and_keep(db, helpline_id, &period, "").await;
    }
    let txn = db.begin().await?;
    let kept = count_and_keep(&txn, helpline_id, &period, " FOR UPDATE SKIP LOCKED").await?;
    txn.commit().await?;
    Ok(kept)
}

async fn count_and_keep(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
    lock: &str,
) -> Result<bool, DbErr> {
    let starts_at = period.start().timestamp();
    let claimed = rows(
        db,
        &format!(
            "SELECT generation FROM report_days WHERE helpline_id = ? AND starts_at = ? \
             AND (tallied_generation IS NULL OR tallied_generation <> generation){lock}"
        ),
        vec![helpline_id.into(), starts_at.into()],
    )
    .await?;
    let Some(row) = claimed.first() else {
        return Ok(false);
    };
    let generation: i64 = row.try_get("", "generation")?;
    if has_open_contacts(db, helpline_id, period).await? {
        return Ok(false);
    }
    let contacts = report_queries::contacts_tally(db, helpline_id, period).await?;
    let volunteers = report_queries::volunteer_tally(db, helpline_id, period).await?;
    let kept = execute(
        db,
        "UPDATE report_days SET contacts_tally = ?, volunteers_tally = ?, \
         tallied_generation = ? WHERE helpline_id = ? AND starts_at = ? AND generation = ? \
         AND (tallied_generation IS NULL OR tallied_generation <> generation)",
        vec![
            to_json(&contacts)?.into(),
            to_json(&volunteers)?.into(),
            generation.into(),
            helpline_id.into(),
            starts_at.into(),
            generation.into(),
        ],
    )
    .await?;
    Ok(kept == 1)
}
