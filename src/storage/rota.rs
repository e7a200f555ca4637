//! The rota's rows: weekly shifts, leave and extra shifts, declared conflicts and the
//! supervisors' on-call shifts; and loading them as domain `Rota`s.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{Sealed, conflict, on_call_shift, rota_exception, shift};
use super::rota_history;
use crate::domain::calendar::{LocalTime, Weekday};
use crate::domain::coverage::{CoverageMember, TopicCoverage, covered, uncovered};
use crate::domain::ids::{HelplineId, TopicId, UserId, VolunteerId};
use crate::domain::on_call::{self, OnCallShift};
use crate::domain::phone::E164;
use crate::domain::rota::{Channel, Interval, Rota, ShiftChannels, WeeklyShift};
use crate::domain::timezone::TimeZone;

/// A dated exception to the weekly rota.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Not available in the interval, whatever the weekly shifts say.
    Leave,
    /// On shift in the interval, in addition to the weekly shifts.
    ExtraShift,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::Leave => "leave",
            ExceptionKind::ExtraShift => "extra_shift",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Leave, Self::ExtraShift]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

fn corrupt(what: &str, id: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored {what} {id} holds an invalid value"))
}

/// Parses a stored weekly shift; `what` and `id` name the row if it is corrupt.
fn parse_weekly(
    what: &str,
    id: i32,
    (weekday, start, end): (&str, &str, &str),
    channels: Option<ShiftChannels>,
    valid: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
) -> Result<WeeklyShift, DbErr> {
    let bad = || corrupt(what, id);
    WeeklyShift::new(
        Weekday::parse(weekday).map_err(|_| bad())?,
        LocalTime::parse(start).map_err(|_| bad())?,
        LocalTime::parse(end).map_err(|_| bad())?,
        channels.ok_or_else(bad)?,
        valid.0,
        valid.1,
    )
    .map_err(|_| bad())
}

/// The weekly shift stored in a row.
pub fn weekly_shift_of(row: &shift::Model) -> Result<WeeklyShift, DbErr> {
    let times = (
        row.weekday.as_str(),
        row.start_time.as_str(),
        row.end_time.as_str(),
    );
    parse_weekly(
        "shift",
        row.id,
        times,
        ShiftChannels::parse(&row.channels),
        (row.valid_from, row.valid_until),
    )
}

/// The on-call shift stored in a row (on call covers every channel).
pub fn on_call_shift_of(row: &on_call_shift::Model) -> Result<WeeklyShift, DbErr> {
    let times = (
        row.weekday.as_str(),
        row.start_time.as_str(),
        row.end_time.as_str(),
    );
    parse_weekly(
        "on-call shift",
        row.id,
        times,
        Some(ShiftChannels::Both),
        (row.valid_from, row.valid_until),
    )
}

pub async fn shifts(
    db: &impl ConnectionTrait,
    volunteer_ids: Vec<VolunteerId>,
) -> Result<Vec<shift::Model>, DbErr> {
    shift::Entity::find()
        .filter(shift::Column::VolunteerId.is_in(volunteer_ids))
        .order_by_asc(shift::Column::Id)
        .all(db)
        .await
}

pub async fn shift(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
    shift_id: i32,
) -> Result<Option<shift::Model>, DbErr> {
    shift::Entity::find_by_id(shift_id)
        .filter(shift::Column::VolunteerId.eq(volunteer_id))
        .one(db)
        .await
}

fn apply_shift(row: &mut shift::ActiveModel, s: &WeeklyShift) {
    row.weekday = Set(s.weekday().as_str().to_owned());
    row.start_time = Set(s.start().to_string());
    row.end_time = Set(s.end().to_string());
    row.channels = Set(s.channels().as_str().to_owned());
    row.valid_from = Set(s.valid_from());
    row.valid_until = Set(s.valid_until());
}

pub async fn create_shift(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    s: &WeeklyShift,
    now: DateTime<Utc>,
) -> Result<shift::Model, DbErr> {
    let created = insert_shift(db, volunteer_id, s, now).await?;
    rota_history::record(db, &[volunteer_id], now).await?;
    Ok(created)
}

/// Adds a weekly shift without recording the rota: for changes to many volunteers at
/// once, which record each of them once at the end (`rota_history::record`).
pub async fn insert_shift(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    s: &WeeklyShift,
    now: DateTime<Utc>,
) -> Result<shift::Model, DbErr> {
    let mut row = shift::ActiveModel {
        volunteer_id: Set(volunteer_id),
        created_at: Set(now),
        ..Default::default()
    };
    apply_shift(&mut row, s);
    row.insert(db).await
}

pub async fn update_shift(
    db: &impl ConnectionTrait,
    existing: shift::Model,
    s: &WeeklyShift,
    now: DateTime<Utc>,
) -> Result<shift::Model, DbErr> {
    let mut row: shift::ActiveModel = existing.into();
    apply_shift(&mut row, s);
    let updated = row.update(db).await?;
    rota_history::record(db, &[updated.volunteer_id], now).await?;
    Ok(updated)
}

pub async fn delete_shift(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    shift_id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let gone = remove_shift(db, volunteer_id, shift_id).await?;
    if gone {
        rota_history::record(db, &[volunteer_id], now).await?;
    }
    Ok(gone)
}

/// Removes a weekly shift without recording the rota (see `insert_shift`).
pub async fn remove_shift(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    shift_id: i32,
) -> Result<bool, DbErr> {
    super::delete_owned::<shift::Entity>(
        db,
        (shift::Column::Id, shift_id),
        (shift::Column::VolunteerId, volunteer_id),
    )
    .await
}

pub async fn exceptions(
    db: &impl ConnectionTrait,
    volunteer_ids: Vec<VolunteerId>,
) -> Result<Vec<rota_exception::Model>, DbErr> {
    rota_exception::Entity::find()
        .filter(rota_exception::Column::VolunteerId.is_in(volunteer_ids))
        .order_by_asc(rota_exception::Column::StartsAt)
        .order_by_asc(rota_exception::Column::Id)
        .all(db)
        .await
}

pub async fn create_exception(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    kind: ExceptionKind,
    span: Interval,
    channels: Option<ShiftChannels>,
    note: Option<Sealed>,
    now: DateTime<Utc>,
) -> Result<rota_exception::Model, DbErr> {
    let created = rota_exception::ActiveModel {
        volunteer_id: Set(volunteer_id),
        kind: Set(kind.as_str().to_owned()),
        starts_at: Set(span.start),
        ends_at: Set(span.end),
        channels: Set(channels.map(|c| c.as_str().to_owned())),
        note: Set(note),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    rota_history::record(db, &[volunteer_id], now).await?;
    Ok(created)
}

pub async fn delete_exception(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    exception_id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let gone = super::delete_owned::<rota_exception::Entity>(
        db,
        (rota_exception::Column::Id, exception_id),
        (rota_exception::Column::VolunteerId, volunteer_id),
    )
    .await?;
    if gone {
        rota_history::record(db, &[volunteer_id], now).await?;
    }
    Ok(gone)
}

/// One volunteer's `Rota`, on their clock `zone`.
pub async fn rota_of(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    zone: TimeZone,
) -> Result<Rota, DbErr> {
    let mut rotas = assemble(
        &HashMap::from([(volunteer_id, zone)]),
        &shifts(db, vec![volunteer_id]).await?,
        &exceptions(db, vec![volunteer_id]).await?,
    )?;
    Ok(rotas
        .remove(&volunteer_id)
        .unwrap_or_else(|| Rota::new(zone)))
}

/// Builds each volunteer's `Rota` from their rows.
pub fn assemble(
    zones: &HashMap<VolunteerId, TimeZone>,
    shift_rows: &[shift::Model],
    exception_rows: &[rota_exception::Model],
) -> Result<HashMap<VolunteerId, Rota>, DbErr> {
    let mut rotas: HashMap<VolunteerId, Rota> =
        zones.iter().map(|(id, tz)| (*id, Rota::new(*tz))).collect();
    for row in shift_rows {
        if let Some(rota) = rotas.get_mut(&row.volunteer_id) {
            rota.shifts.push(weekly_shift_of(row)?);
        }
    }
    for row in exception_rows {
        let Some(rota) = rotas.get_mut(&row.volunteer_id) else {
            continue;
        };
        let span =
            Interval::new(row.starts_at, row.ends_at).map_err(|_| corrupt("exception", row.id))?;
        match ExceptionKind::parse(&row.kind) {
            Some(ExceptionKind::Leave) => rota.leave.push(span),
            Some(ExceptionKind::ExtraShift) => {
                let channels = row
                    .channels
                    .as_deref()
                    .and_then(ShiftChannels::parse)
                    .unwrap_or(ShiftChannels::Both);
                rota.extra_shifts.push((span, channels));
            }
            None => return Err(corrupt("exception", row.id)),
        }
    }
    Ok(rotas)
}

pub async fn conflicts(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
) -> Result<Vec<conflict::Model>, DbErr> {
    conflict::Entity::find()
        .filter(conflict::Column::VolunteerId.eq(volunteer_id))
        .order_by_asc(conflict::Column::Id)
        .all(db)
        .await
}

pub async fn create_conflict(
    db: &DatabaseConnection,
    vault: &crate::secrets::Vault,
    volunteer_id: VolunteerId,
    number: &E164,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<conflict::Model, DbErr> {
    conflict::ActiveModel {
        volunteer_id: Set(volunteer_id),
        number_hash: Set(vault.hash(number)),
        number_hint: Set(number.masked()),
        number_sealed: Set(Some(Sealed::seal(vault, number.as_str()))),
        note: Set(Sealed::seal_some(vault, note)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn delete_conflict(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
    conflict_id: i32,
) -> Result<bool, DbErr> {
    super::delete_owned::<conflict::Entity>(
        db,
        (conflict::Column::Id, conflict_id),
        (conflict::Column::VolunteerId, volunteer_id),
    )
    .await
}

pub async fn on_call_shifts(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<on_call_shift::Model>, DbErr> {
    on_call_shift::Entity::find()
        .filter(on_call_shift::Column::HelplineId.eq(helpline_id))
        .order_by_asc(on_call_shift::Column::Id)
        .all(db)
        .await
}

pub async fn create_on_call_shift(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    user_id: UserId,
    s: &WeeklyShift,
    now: DateTime<Utc>,
) -> Result<on_call_shift::Model, DbErr> {
    on_call_shift::ActiveModel {
        helpline_id: Set(helpline_id),
        user_id: Set(user_id),
        weekday: Set(s.weekday().as_str().to_owned()),
        start_time: Set(s.start().to_string()),
        end_time: Set(s.end().to_string()),
        valid_from: Set(s.valid_from()),
        valid_until: Set(s.valid_until()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn delete_on_call_shift(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    id: i32,
) -> Result<bool, DbErr> {
    super::delete_owned::<on_call_shift::Entity>(
        db,
        (on_call_shift::Column::Id, id),
        (on_call_shift::Column::HelplineId, helpline_id),
    )
    .await
}

/// A volunteer serving a helpline, with everything rota questions need.
pub struct RotaMember {
    pub volunteer_id: VolunteerId,
    pub profile: crate::domain::volunteer::VolunteerProfile,
    /// Their phone, sealed: opened (`volunteers::open_phone`) only to reach them.
    pub phone: super::entities::Sealed,
    pub rota: Rota,
    pub ready_topics: Vec<TopicId>,
    /// Their step-backs, in force or not.
    pub stepped_back: Vec<crate::domain::step_back::StepBack>,
    pub quiet_hours: Option<crate::domain::shift_reminders::QuietHours>,
}

impl RotaMember {
    /// Their phone, opened to reach them.
    pub fn open_phone(&self, vault: &crate::secrets::Vault) -> Result<E164, DbErr> {
        super::volunteers::open_phone(vault, self.volunteer_id, &self.phone)
    }

    /// When they do not count towards coverage of `topic` (none: overall): their
    /// step-backs from it or from every contact.
    pub fn away_from(&self, topic: Option<TopicId>) -> Vec<Interval> {
        self.stepped_back
            .iter()
            .filter(|step_back| step_back.counts_against(topic))
            .map(|step_back| step_back.span)
            .collect()
    }
}

/// Every volunteer serving `helpline_id`, with their rota, sign-offs and step-backs, in
/// five queries.
pub async fn helpline_members(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<RotaMember>, DbErr> {
    let rows = super::volunteers::serving_helpline(db, helpline_id).await?;
    members_of(db, &rows).await
}

/// The volunteers of `rows` with their rota, sign-offs and step-backs, in four queries.
pub async fn members_of(
    db: &impl ConnectionTrait,
    rows: &[super::entities::volunteer::Model],
) -> Result<Vec<RotaMember>, DbErr> {
    let ids: Vec<VolunteerId> = rows.iter().map(|r| r.id).collect();
    let mut profiles = Vec::with_capacity(rows.len());
    let mut phones = HashMap::with_capacity(rows.len());
    for row in rows {
        profiles.push((row.id, super::volunteers::profile_of(row)?));
        phones.insert(row.id, row.phone.clone());
    }
    let quiet: HashMap<VolunteerId, _> = rows
        .iter()
        .map(|row| (row.id, super::volunteers::quiet_hours_of(row)))
        .collect();
    let zones: HashMap<VolunteerId, TimeZone> =
        profiles.iter().map(|(id, p)| (*id, p.time_zone)).collect();
    let shift_rows = shifts(db, ids.clone()).await?;
    let exception_rows = exceptions(db, ids.clone()).await?;
    let mut rotas = assemble(&zones, &shift_rows, &exception_rows)?;
    let mut signoffs: HashMap<VolunteerId, Vec<TopicId>> = HashMap::new();
    let mut stepped_back = super::step_backs::of_volunteers(db, ids.clone()).await?;
    for (volunteer_id, topic_id) in super::volunteers::signed_off_topics(db, ids).await? {
        signoffs.entry(volunteer_id).or_default().push(topic_id);
    }
    Ok(profiles
        .into_iter()
        .filter_map(|(volunteer_id, profile)| {
            let rota = rotas.remove(&volunteer_id)?;
            let ready_topics = signoffs.remove(&volunteer_id).unwrap_or_default();
            Some(RotaMember {
                volunteer_id,
                profile,
                phone: phones.remove(&volunteer_id)?,
                rota,
                ready_topics,
                stepped_back: stepped_back.remove(&volunteer_id).unwrap_or_default(),
                quiet_hours: quiet.get(&volunteer_id).copied().flatten(),
            })
        })
        .collect())
}

/// The members who count towards coverage from `from` on `channel`: those who take
/// contacts then (someone whose refresher falls due counts until then), each with the
/// coverage view of their rota.
pub fn counted_for_coverage(
    members: &[RotaMember],
    from: chrono::DateTime<Utc>,
    channel: Option<Channel>,
) -> Vec<(&RotaMember, CoverageMember<'_>)> {
    members
        .iter()
        .filter_map(|m| {
            let readiness = m.profile.readiness();
            let trained = ShiftChannels::trained(m.profile.trained_voice, m.profile.trained_sms)?;
            readiness.check(from, channel).is_ok().then(|| {
                (
                    m,
                    CoverageMember {
                        rota: &m.rota,
                        away: m.away_from(None),
                        takes_contacts_until: readiness.refresher_overdue_from(),
                        trained,
                    },
                )
            })
        })
        .collect()
}

/// Of the members `counted` for coverage, those who count for `topic`: signed off for it,
/// and away while they step back from it.
pub fn counted_for_topic<'a>(
    counted: &[(&'a RotaMember, CoverageMember<'a>)],
    topic: TopicId,
) -> Vec<CoverageMember<'a>> {
    counted
        .iter()
        .filter(|(m, _)| m.ready_topics.contains(&topic))
        .map(|(m, c)| CoverageMember {
            away: m.away_from(Some(topic)),
            ..c.clone()
        })
        .collect()
}

/// The helpline's on-call shifts, each on its person's clock (people without a valid
/// time zone cannot be placed on call and are left out).
pub async fn on_call_rota(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<(Vec<OnCallShift>, Vec<super::entities::user::Model>), DbErr> {
    let rows = on_call_shifts(db, helpline_id).await?;
    let people = super::users::by_ids(db, rows.iter().map(|row| row.user_id).collect()).await?;
    let mut shifts = Vec::with_capacity(rows.len());
    for row in &rows {
        let zone = people
            .iter()
            .find(|user| user.id == row.user_id)
            .and_then(|user| user.time_zone.as_deref())
            .and_then(|zone| TimeZone::parse(zone).ok());
        if let Some(time_zone) = zone {
            shifts.push(OnCallShift {
                user_id: row.user_id,
                time_zone,
                shift: on_call_shift_of(row)?,
            });
        }
    }
    Ok((shifts, people))
}

/// The supervisors on call for a helpline at `at`, each once, with their time zone.
pub async fn on_call_at(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    at: chrono::DateTime<Utc>,
) -> Result<Vec<(super::entities::user::Model, TimeZone)>, DbErr> {
    let (shifts, people) = on_call_rota(db, helpline_id).await?;
    Ok(on_call::on_call_at(&shifts, at)
        .into_iter()
        .filter_map(|id| {
            let user = people.iter().find(|user| user.id == id)?.clone();
            let zone = shifts.iter().find(|slot| slot.user_id == id)?.time_zone;
            Some((user, zone))
        })
        .collect())
}

/// The gaps in a helpline's rota over `span`: overall, and per topic (nobody signed off
/// for it on shift). The part of `span` before `now` is answered with the rota as it
/// stood then (see `rota_history`), the rest with the rota as planned now.
pub async fn coverage_of(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    span: Interval,
    channel: Option<Channel>,
    now: DateTime<Utc>,
) -> Result<(Vec<Interval>, Vec<TopicCoverage>), DbErr> {
    let topics = super::helplines::topics(db, helpline_id).await?;
    // What each counted volunteer covers, overall and per topic, stretch by stretch.
    let mut everyone_covered = Vec::new();
    let mut topic_covered: Vec<Vec<Interval>> = vec![Vec::new(); topics.len()];
    let mut count = |stretch: Interval, member: &RotaMember| {
        // Someone who never takes contacts in the stretch (in training, paused, untrained
        // for the channel) does not count; someone whose refresher falls due counts
        // until then.
        let counted = counted_for_coverage(std::slice::from_ref(member), stretch.start, channel);
        let Some((_, counts)) = counted.first() else {
            return;
        };
        everyone_covered.extend(covered(stretch, counts, channel));
        for (topic, found) in topics.iter().zip(topic_covered.iter_mut()) {
            for ready in counted_for_topic(&counted, topic.id) {
                found.extend(covered(stretch, &ready, channel));
            }
        }
    };
    if span.start < now {
        let past = Interval {
            start: span.start,
            end: span.end.min(now),
        };
        let history = rota_history::History::over(db, past).await?;
        for (stretch, member) in history.stretches(helpline_id, past) {
            count(stretch, &member);
        }
    }
    if now < span.end {
        let ahead = Interval {
            start: span.start.max(now),
            end: span.end,
        };
        for member in helpline_members(db, helpline_id).await? {
            count(ahead, &member);
        }
    }
    let topics = topics
        .into_iter()
        .zip(topic_covered)
        .map(|(topic, cover)| TopicCoverage {
            topic_id: topic.id,
            key: topic.key,
            label: topic.label,
            gaps: uncovered(span, cover),
        })
        .collect();
    Ok((uncovered(span, everyone_covered), topics))
}
