//! What a routing round reads from the database, in one statement: the database's clock,
//! the roster version, the contacts whose activity changed, the latest flags, who is
//! engaged on the channel, the caller's conflicts, who was tried for the contact and the
//! caller's latest volunteers. Each read is one branch of a `UNION ALL`, its rows tagged
//! with their kind, so a round waits for one round trip and holds one connection.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, IntoColumnRef, Order, Query, SelectStatement, UnionType,
};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};

use super::contacts::ActivityRow;
use super::entities::{conflict, contact, contact_flag, offer, reservation, text_slot};
use crate::domain::ids::{ContactId, HelplineId, VolunteerId};
use crate::domain::rota::Channel;

/// What one round asks for.
pub struct RoundQuery<'a> {
    pub channel: Channel,
    pub now: DateTime<Utc>,
    /// Flags raised from then on.
    pub flags_since: DateTime<Utc>,
    /// Contacts whose activity changed at or after this instant on the database's clock
    /// (milliseconds since 1970); `None` reads none.
    pub activity_changed_since_ms: Option<i64>,
    /// Every hash the caller may be stored under.
    pub caller_hashes: &'a [String],
    /// The contact whose offers tell who was tried (`None`: a contact not written yet).
    pub contact_id: Option<ContactId>,
    /// The caller's latest answered contacts, when continuity applies.
    pub latest_answerers: Option<LatestAnswerers>,
}

/// The caller's latest answered contacts on a helpline since an instant, at most `limit`.
pub struct LatestAnswerers {
    pub helpline_id: HelplineId,
    pub since: DateTime<Utc>,
    pub limit: u64,
}

/// What one round read.
#[derive(Debug, Default)]
pub struct RoundRows {
    /// The database's clock, in milliseconds since 1970, as the activity triggers read it.
    pub database_now_ms: i64,
    pub roster_version: i64,
    pub activity_changed: Vec<ActivityRow>,
    /// Each volunteer's latest flag.
    pub flags: Vec<(VolunteerId, DateTime<Utc>)>,
    /// Once per contact each volunteer is engaged in.
    pub engaged: Vec<VolunteerId>,
    pub conflicted: Vec<VolunteerId>,
    pub already_tried: Vec<VolunteerId>,
    /// Who answered the caller's latest contacts, latest first.
    pub latest_answerers: Vec<VolunteerId>,
}

/// The kind of each row, in its first column.
#[derive(Clone, Copy)]
enum Kind {
    Versions = 0,
    ActivityChanged = 1,
    Flag = 2,
    Engaged = 3,
    Conflict = 4,
    Tried = 5,
    Answerer = 6,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Versions,
        Kind::ActivityChanged,
        Kind::Flag,
        Kind::Engaged,
        Kind::Conflict,
        Kind::Tried,
        Kind::Answerer,
    ];

    /// The kind a row's first column names.
    fn of(code: i64) -> Option<Kind> {
        Self::ALL.into_iter().find(|kind| *kind as i64 == code)
    }
}

const KIND: &str = "kind";
const FIRST: &str = "first";
const SECOND: &str = "second";
const THIRD: &str = "third";
const AT: &str = "at";
const OTHER_AT: &str = "other_at";

/// Reads everything `query` asks for in one statement.
pub async fn read(db: &impl ConnectionTrait, query: &RoundQuery<'_>) -> Result<RoundRows, DbErr> {
    let backend = db.get_database_backend();
    let statement = backend.build(&round_statement(backend, query));
    let mut rows = RoundRows::default();
    let mut answerers = Vec::new();
    let mut versions_read = false;
    for row in db.query_all_raw(statement).await? {
        let first: Option<i64> = row.try_get("", FIRST)?;
        let volunteer = || volunteer_id(first);
        let code: i64 = row.try_get("", KIND)?;
        match Kind::of(code) {
            Some(Kind::Versions) => {
                versions_read = true;
                rows.database_now_ms = row.try_get("", FIRST)?;
                rows.roster_version = row.try_get("", SECOND)?;
            }
            Some(Kind::ActivityChanged) => {
                rows.activity_changed.push(activity_row(&row, first)?);
            }
            Some(Kind::Flag) => {
                if let (Some(v), Some(at)) = (volunteer()?, row.try_get("", AT)?) {
                    rows.flags.push((v, at));
                }
            }
            Some(Kind::Engaged) => rows.engaged.extend(volunteer()?),
            Some(Kind::Conflict) => rows.conflicted.extend(volunteer()?),
            Some(Kind::Tried) => rows.already_tried.extend(volunteer()?),
            Some(Kind::Answerer) => {
                let at: Option<DateTime<Utc>> = row.try_get("", AT)?;
                let contact: Option<i64> = row.try_get("", SECOND)?;
                if let Some(v) = volunteer()? {
                    answerers.push((at, contact, v));
                }
            }
            None => return Err(DbErr::Custom(format!("a round read of kind {code}"))),
        }
    }
    if !versions_read {
        return Err(DbErr::RecordNotFound("roster_versions row".into()));
    }
    // Latest first, as the contacts were ordered before the limit.
    answerers.sort_unstable_by_key(|&(at, contact, _)| std::cmp::Reverse((at, contact)));
    rows.latest_answerers = answerers.into_iter().map(|(_, _, v)| v).collect();
    Ok(rows)
}

fn volunteer_id(value: Option<i64>) -> Result<Option<VolunteerId>, DbErr> {
    value
        .map(|v| {
            i32::try_from(v)
                .map(VolunteerId)
                .map_err(|_| DbErr::Custom(format!("volunteer id {v} out of range")))
        })
        .transpose()
}

fn activity_row(row: &QueryResult, id: Option<i64>) -> Result<ActivityRow, DbErr> {
    let id = id
        .and_then(|id| i32::try_from(id).ok())
        .ok_or_else(|| DbErr::Custom("an activity row without a contact id".into()))?;
    let talk_secs: Option<i64> = row.try_get("", THIRD)?;
    Ok(ActivityRow {
        id: ContactId(id),
        answered_by: volunteer_id(row.try_get("", SECOND)?)?,
        answered_at: row.try_get("", AT)?,
        ended_at: row.try_get("", OTHER_AT)?,
        talk_secs: talk_secs.and_then(|s| i32::try_from(s).ok()),
    })
}

/// The statement: one branch per read the query asks for.
fn round_statement(backend: sea_orm::DatabaseBackend, query: &RoundQuery<'_>) -> SelectStatement {
    let mut statement = versions(backend);
    let mut add = |branch: SelectStatement| {
        statement.union(UnionType::All, branch);
    };
    if let Some(since_ms) = query.activity_changed_since_ms {
        add(activity_changed(since_ms));
    }
    add(flags(query.flags_since));
    add(engaged(query.channel, query.now));
    if !query.caller_hashes.is_empty() {
        add(conflicts(query.caller_hashes));
    }
    if let Some(contact_id) = query.contact_id {
        add(tried(contact_id));
    }
    if let Some(latest) = &query.latest_answerers
        && !query.caller_hashes.is_empty()
    {
        add(answerers(latest, query.caller_hashes, query.contact_id));
    }
    statement
}

/// A branch's six columns: its kind, three numbers and two instants.
fn branch(kind: Kind, numbers: [Option<Expr>; 3], instants: [Option<Expr>; 2]) -> SelectStatement {
    let mut select = Query::select();
    select.expr_as(Expr::val(kind as i64), Alias::new(KIND));
    for (number, name) in numbers.into_iter().zip([FIRST, SECOND, THIRD]) {
        let number = number.unwrap_or_else(|| Expr::val(Value::BigInt(None)));
        select.expr_as(number.cast_as(Alias::new("BIGINT")), Alias::new(name));
    }
    for (instant, name) in instants.into_iter().zip([AT, OTHER_AT]) {
        let instant = instant.unwrap_or_else(|| Expr::val(Value::ChronoDateTimeUtc(None)));
        select.expr_as(instant, Alias::new(name));
    }
    select
}

/// The database's clock and the roster version, in the one row of `roster_versions`.
fn versions(backend: sea_orm::DatabaseBackend) -> SelectStatement {
    let mut select = branch(
        Kind::Versions,
        [
            Some(Expr::cust(super::contacts::database_now_ms_sql(backend))),
            Some(Expr::col(Alias::new("version"))),
            None,
        ],
        [None, None],
    );
    select
        .from(Alias::new("roster_versions"))
        .and_where(Expr::col(Alias::new("id")).eq(1));
    select
}

fn activity_changed(since_ms: i64) -> SelectStatement {
    let mut select = branch(
        Kind::ActivityChanged,
        [
            Some(Expr::col(contact::Column::Id)),
            Some(Expr::col(contact::Column::AnsweredBy)),
            Some(Expr::col(contact::Column::TalkSecs)),
        ],
        [
            Some(Expr::col(contact::Column::AnsweredAt)),
            Some(Expr::col(contact::Column::EndedAt)),
        ],
    );
    select
        .from(contact::Entity)
        .and_where(Expr::col(contact::Column::AnsweredBy).is_not_null())
        .and_where(Expr::col(super::contacts::ACTIVITY_CHANGED_MS).gte(since_ms));
    select
}

fn flags(since: DateTime<Utc>) -> SelectStatement {
    let mut select = branch(
        Kind::Flag,
        [Some(Expr::col(contact_flag::Column::RaisedBy)), None, None],
        [Some(Expr::col(contact_flag::Column::RaisedAt).max()), None],
    );
    select
        .from(contact_flag::Entity)
        .and_where(Expr::col(contact_flag::Column::RaisedBy).is_not_null())
        .and_where(Expr::col(contact_flag::Column::RaisedAt).gte(since))
        .group_by_col(contact_flag::Column::RaisedBy);
    select
}

/// Ringing or on a call (reservations), or holding text slots.
fn engaged(channel: Channel, now: DateTime<Utc>) -> SelectStatement {
    match channel {
        Channel::Voice => {
            let mut select = volunteer_ids(Kind::Engaged, reservation::Column::VolunteerId);
            select
                .from(reservation::Entity)
                .and_where(Expr::col(reservation::Column::ExpiresAt).gt(now));
            select
        }
        Channel::Sms => {
            let mut select = volunteer_ids(Kind::Engaged, text_slot::Column::VolunteerId);
            select.from(text_slot::Entity);
            select
        }
    }
}

fn conflicts(caller_hashes: &[String]) -> SelectStatement {
    let mut select = volunteer_ids(Kind::Conflict, conflict::Column::VolunteerId);
    select
        .from(conflict::Entity)
        .and_where(Expr::col(conflict::Column::NumberHash).is_in(caller_hashes.iter().cloned()));
    select
}

fn tried(contact_id: ContactId) -> SelectStatement {
    let mut select = volunteer_ids(Kind::Tried, offer::Column::VolunteerId);
    select
        .from(offer::Entity)
        .and_where(Expr::col(offer::Column::ContactId).eq(contact_id.0));
    select
}

/// A branch of the volunteer ids in `column`.
fn volunteer_ids(kind: Kind, column: impl IntoColumnRef) -> SelectStatement {
    branch(kind, [Some(Expr::col(column)), None, None], [None, None])
}

/// The caller's latest answered contacts, in a subquery of their own: a branch of a
/// union cannot order or limit its rows by itself.
fn answerers(
    latest: &LatestAnswerers,
    caller_hashes: &[String],
    except: Option<ContactId>,
) -> SelectStatement {
    let mut contacts = Query::select();
    contacts
        .columns([
            contact::Column::Id,
            contact::Column::AnsweredBy,
            contact::Column::ReceivedAt,
        ])
        .from(contact::Entity)
        .and_where(Expr::col(contact::Column::HelplineId).eq(latest.helpline_id.0))
        .and_where(Expr::col(contact::Column::CallerHash).is_in(caller_hashes.iter().cloned()))
        .and_where(Expr::col(contact::Column::ReceivedAt).gte(latest.since))
        .and_where(Expr::col(contact::Column::AnsweredBy).is_not_null())
        .order_by(contact::Column::ReceivedAt, Order::Desc)
        .order_by(contact::Column::Id, Order::Desc)
        .limit(latest.limit);
    if let Some(id) = except {
        contacts.and_where(Expr::col(contact::Column::Id).ne(id.0));
    }
    let latest_contacts = Alias::new("latest");
    let mut select = branch(
        Kind::Answerer,
        [
            Some(Expr::col((
                latest_contacts.clone(),
                contact::Column::AnsweredBy,
            ))),
            Some(Expr::col((latest_contacts.clone(), contact::Column::Id))),
            None,
        ],
        [
            Some(Expr::col((
                latest_contacts.clone(),
                contact::Column::ReceivedAt,
            ))),
            None,
        ],
    );
    select.from_subquery(contacts, latest_contacts);
    select
}
