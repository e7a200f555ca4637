//! The aggregate queries behind the helpline reports. The database does the counting,
//! grouping and histograms; local hours, weekdays and weeks are computed in SQL from each
//! instant's Unix time plus the helpline's UTC offset, which changes only at the
//! period's DST boundaries.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

use crate::domain::callback::CallbackRow;
use crate::domain::ids::{HelplineId, TopicId, VolunteerId};
use crate::domain::report_period::{OffsetStretch, Period};
use crate::domain::report_tally::{ContactsTally, VolunteerTally};
use crate::domain::reports::{Breakdown, HourCount, VolunteerWeek};
use crate::domain::survey::UnderstoodAnswer;

/// The contacts a report counts: one helpline, received within the period.
const WINDOW: &str = "c.helpline_id = ? AND c.received_at >= ? AND c.received_at < ?";

/// How a column's instant becomes Unix seconds in SQL.
fn epoch(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"),
        _ => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
    }
}

/// The column's instant as local Unix seconds: epoch plus the offset of its stretch.
fn local_epoch(backend: DatabaseBackend, column: &str, stretches: &[OffsetStretch]) -> String {
    let e = epoch(backend, column);
    let Some((last, earlier)) = stretches.split_last() else {
        return e;
    };
    if earlier.is_empty() {
        return format!("({e} + {})", last.offset_secs);
    }
    let mut case = String::from("CASE");
    for stretch in earlier {
        case.push_str(&format!(
            " WHEN {e} < {} THEN {}",
            stretch.end.timestamp(),
            stretch.offset_secs
        ));
    }
    case.push_str(&format!(" ELSE {} END", last.offset_secs));
    format!("({e} + {case})")
}

/// A statement with `?` placeholders, numbered for PostgreSQL.
pub(super) fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Postgres => {
            let mut numbered = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(ch);
                }
            }
            numbered
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The bound values of `WINDOW`.
fn window(helpline_id: HelplineId, period: &Period) -> Vec<Value> {
    let start: DateTime<Utc> = period.start();
    let end: DateTime<Utc> = period.end();
    vec![helpline_id.into(), start.into(), end.into()]
}

pub(super) async fn rows(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    db.query_all_raw(statement(backend, sql, values)).await
}

/// Channel, topic, outcome and tier: what a `Breakdown` counts by.
type GroupKey = (
    String,
    Option<TopicId>,
    Option<String>,
    Option<String>,
    bool,
);

/// The period's contacts counted, in one pass, by channel, topic, outcome and tier, and
/// by local hour of day (0-23) and weekday (0 = Monday).
pub async fn breakdown_and_hours(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<(Vec<Breakdown>, Vec<HourCount>), DbErr> {
    let local = local_epoch(
        db.get_database_backend(),
        "c.received_at",
        &period.offset_stretches(),
    );
    let sql = format!(
        "SELECT c.channel, c.topic_id, c.outcome, c.peer_match_tier, c.peer_match_free, \
         ({local} / 3600) % 24 AS h, (({local} / 86400) + 3) % 7 AS d, COUNT(*) AS n \
         FROM contacts c WHERE {WINDOW} GROUP BY 1, 2, 3, 4, 5, 6, 7"
    );
    // The rows come split by hour and weekday; the report wants each side summed.
    let mut groups: BTreeMap<GroupKey, i64> = BTreeMap::new();
    let mut hours: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
    for r in rows(db, &sql, window(helpline_id, period)).await? {
        let outcome: Option<String> = r.try_get("", "outcome")?;
        let count: i64 = r.try_get("", "n")?;
        let answered = if outcome.as_deref() == Some("answered") {
            count
        } else {
            0
        };
        let slot = hours
            .entry((r.try_get("", "h")?, r.try_get("", "d")?))
            .or_default();
        slot.0 += count;
        slot.1 += answered;
        let key = (
            r.try_get("", "channel")?,
            r.try_get("", "topic_id")?,
            outcome,
            r.try_get("", "peer_match_tier")?,
            r.try_get::<Option<bool>>("", "peer_match_free")?
                .unwrap_or(false),
        );
        *groups.entry(key).or_default() += count;
    }
    let groups = groups
        .into_iter()
        .map(
            |((channel, topic_id, outcome, tier, peer_match_free), count)| Breakdown {
                channel,
                topic_id,
                outcome,
                tier,
                peer_match_free,
                count,
            },
        )
        .collect();
    let hours = hours
        .into_iter()
        .map(|((hour, weekday), (contacts, answered))| HourCount {
            hour,
            weekday,
            contacts,
            answered,
        })
        .collect();
    Ok((groups, hours))
}

/// The distribution of a duration column over the period's contacts with outcome
/// `answered`, as `(seconds, count)` in ascending order.
pub async fn answered_histogram(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
    column: DurationColumn,
) -> Result<Vec<(i64, i64)>, DbErr> {
    let column = match column {
        DurationColumn::Wait => "c.wait_secs",
        DurationColumn::Talk => "c.talk_secs",
    };
    let sql = format!(
        "SELECT {column} AS secs, COUNT(*) AS n FROM contacts c \
         WHERE {WINDOW} AND c.outcome = 'answered' AND {column} IS NOT NULL \
         GROUP BY {column} ORDER BY {column}"
    );
    rows(db, &sql, window(helpline_id, period))
        .await?
        .iter()
        .map(|r| {
            let secs: i32 = r.try_get("", "secs")?;
            Ok((i64::from(secs), r.try_get("", "n")?))
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
pub enum DurationColumn {
    Wait,
    Talk,
}

/// How many offers were made for the period's answered contacts.
pub async fn offers_for_answered(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<i64, DbErr> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM offers o JOIN contacts c ON c.id = o.contact_id \
         WHERE {WINDOW} AND c.outcome = 'answered'"
    );
    match rows(db, &sql, window(helpline_id, period)).await?.first() {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}

/// Everything the contacts report counts over the period.
pub async fn contacts_tally(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<ContactsTally, DbErr> {
    let (groups, hours) = breakdown_and_hours(db, helpline_id, period).await?;
    Ok(ContactsTally {
        groups,
        hours,
        waits: answered_histogram(db, helpline_id, period, DurationColumn::Wait).await?,
        talks: answered_histogram(db, helpline_id, period, DurationColumn::Talk).await?,
        offers_for_answered: offers_for_answered(db, helpline_id, period).await?,
    })
}

/// Everything the volunteer-load report counts over the period.
pub async fn volunteer_tally(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<VolunteerTally, DbErr> {
    Ok(VolunteerTally {
        weeks: volunteer_weeks(db, helpline_id, period).await?,
    })
}

/// A state or kind column of a raw row, as its enum.
fn stored_enum<T: sea_orm::ActiveEnum<Value = String>>(
    row: &QueryResult,
    column: &str,
) -> Result<T, DbErr> {
    let raw: String = row.try_get("", column)?;
    T::try_from_value(&raw).map_err(|e| DbErr::Custom(format!("{column} {raw}: {e}")))
}

/// The period's callbacks (by the time their caller first called), each with the seconds
/// from the request to the caller talking with a volunteer.
pub async fn callbacks(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<Vec<CallbackRow>, DbErr> {
    let backend = db.get_database_backend();
    let secs = format!(
        "{} - {}",
        epoch(backend, "c.answered_at"),
        epoch(backend, "cb.requested_at")
    );
    // Read from the helpline's callbacks, a few, not from its contacts, a year of which
    // may be a million (CROSS JOIN keeps SQLite to that order).
    let sql = format!(
        "SELECT cb.state AS state, CASE WHEN c.answered_by IS NULL THEN NULL ELSE {secs} END \
         AS secs FROM callbacks cb CROSS JOIN contacts c \
         WHERE cb.helpline_id = ? AND c.id = cb.contact_id AND {WINDOW}"
    );
    let mut values = vec![helpline_id.into()];
    values.extend(window(helpline_id, period));
    let mut callbacks = Vec::new();
    for row in rows(db, &sql, values).await? {
        callbacks.push(CallbackRow {
            state: stored_enum(&row, "state")?,
            secs_to_talk: row.try_get("", "secs")?,
        });
    }
    Ok(callbacks)
}

/// Answers to the peer-support question (the first) about the period's calls, each with
/// the call's topic and the peer-match tier of the volunteer who answered it.
pub async fn understood_answers(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<Vec<UnderstoodAnswer>, DbErr> {
    let sql = format!(
        "SELECT s.answer AS answer, c.topic_id AS topic_id, c.peer_match_tier AS tier \
         FROM survey_answers s JOIN contacts c ON c.id = s.contact_id \
         WHERE {WINDOW} AND s.question = 1"
    );
    let mut answers = Vec::new();
    for row in rows(db, &sql, window(helpline_id, period)).await? {
        answers.push(UnderstoodAnswer {
            answer: stored_enum(&row, "answer")?,
            topic_id: row.try_get("", "topic_id")?,
            tier: row.try_get("", "tier")?,
        });
    }
    Ok(answers)
}

/// A contact that starts this soon after the volunteer's previous one ended is back to back.
pub const BACK_TO_BACK_SECS: i64 = 600;

/// Each volunteer's answered contacts per local week, with talk time, long (by the
/// volunteer's own limit), flagged and back-to-back contacts (after their previous
/// contact, even one received up to a day before the period); then their missed offers.
pub async fn volunteer_weeks(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    period: &Period,
) -> Result<Vec<VolunteerWeek>, DbErr> {
    let backend = db.get_database_backend();
    let stretches = period.offset_stretches();
    let received = local_epoch(backend, "c.received_at", &stretches);
    let answered = epoch(backend, "c.answered_at");
    let ended = epoch(backend, "c.ended_at");
    let sql = format!(
        "SELECT x.volunteer_id, x.week, COUNT(*) AS contacts, SUM(x.talk) AS talk, \
         SUM(x.long_contact) AS long_contacts, SUM(x.flagged) AS flagged, \
         SUM(CASE WHEN x.gap >= 0 AND x.gap <= {BACK_TO_BACK_SECS} THEN 1 ELSE 0 END) AS back_to_back \
         FROM (SELECT c.answered_by AS volunteer_id, (({received} / 86400) + 3) / 7 AS week, \
           COALESCE(c.talk_secs, 0) AS talk, \
           CASE WHEN c.talk_secs >= 60 * v.long_contact_minutes THEN 1 ELSE 0 END AS long_contact, \
           CASE WHEN EXISTS (SELECT 1 FROM contact_flags f WHERE f.contact_id = c.id) THEN 1 ELSE 0 END AS flagged, \
           {answered} - LAG({ended}) OVER (PARTITION BY c.answered_by ORDER BY c.answered_at) AS gap, \
           CASE WHEN c.received_at >= ? THEN 1 ELSE 0 END AS counted \
           FROM contacts c JOIN volunteers v ON v.id = c.answered_by \
           WHERE {WINDOW} AND c.answered_at IS NOT NULL) x \
         WHERE x.counted = 1 \
         GROUP BY x.volunteer_id, x.week ORDER BY x.volunteer_id, x.week"
    );
    // A contact's previous one may have come the day before the period: it is read, for
    // the gap, and not counted.
    let start: DateTime<Utc> = period.start();
    let looked_back: DateTime<Utc> = start - Duration::days(1);
    let values = vec![
        start.into(),
        helpline_id.into(),
        looked_back.into(),
        period.end().into(),
    ];
    let mut weeks: Vec<VolunteerWeek> = rows(db, &sql, values)
        .await?
        .iter()
        .map(|r| {
            Ok(VolunteerWeek {
                volunteer_id: r.try_get("", "volunteer_id")?,
                week: r.try_get("", "week")?,
                contacts: r.try_get("", "contacts")?,
                talk_secs: r.try_get("", "talk")?,
                long_contacts: r.try_get("", "long_contacts")?,
                flagged_contacts: r.try_get("", "flagged")?,
                back_to_back: r.try_get("", "back_to_back")?,
                missed_offers: 0,
            })
        })
        .collect::<Result<_, DbErr>>()?;
    let offered = local_epoch(backend, "o.offered_at", &stretches);
    let sql = format!(
        "SELECT o.volunteer_id, (({offered} / 86400) + 3) / 7 AS week, COUNT(*) AS n \
         FROM offers o JOIN contacts c ON c.id = o.contact_id \
         WHERE {WINDOW} AND o.outcome = 'no_answer' GROUP BY 1, 2"
    );
    for r in rows(db, &sql, window(helpline_id, period)).await? {
        let (volunteer_id, week, n): (VolunteerId, i64, i64) = (
            r.try_get("", "volunteer_id")?,
            r.try_get("", "week")?,
            r.try_get("", "n")?,
        );
        match weeks
            .iter_mut()
            .find(|w| w.volunteer_id == volunteer_id && w.week == week)
        {
            Some(w) => w.missed_offers = n,
            None => weeks.push(VolunteerWeek {
                missed_offers: n,
                ..VolunteerWeek::new(volunteer_id, week)
            }),
        }
    }
    weeks.sort_by_key(|w| (w.volunteer_id, w.week));
    Ok(weeks)
}

/// The names of the volunteers `ids`, each with their open debriefs at the helpline.
pub async fn volunteers_named(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    ids: &[VolunteerId],
) -> Result<Vec<(VolunteerId, String, i64)>, DbErr> {
    let mut named = Vec::with_capacity(ids.len());
    for batch in ids.chunks(500) {
        let marks = vec!["?"; batch.len()].join(", ");
        let sql = format!(
            "SELECT v.id, v.name, \
             (SELECT COUNT(*) FROM debriefs d WHERE d.volunteer_id = v.id AND d.helpline_id = ? \
              AND d.done_at IS NULL) AS open_debriefs \
             FROM volunteers v WHERE v.id IN ({marks}) ORDER BY v.id"
        );
        let mut values: Vec<Value> = vec![helpline_id.into()];
        values.extend(batch.iter().map(|id| (*id).into()));
        for r in rows(db, &sql, values).await? {
            named.push((
                r.try_get("", "id")?,
                r.try_get("", "name")?,
                r.try_get("", "open_debriefs")?,
            ));
        }
    }
    named.sort_by_key(|(id, _, _)| *id);
    Ok(named)
}
