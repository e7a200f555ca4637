//! The rota's memory in the database (see `domain::rota_history`): a record of each
//! volunteer's place on the rota, kept by every storage function that changes it, in the
//! same transaction; and the rota of a past moment rebuilt from those records.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{Sealed, rota_record, volunteer};
use super::rota::{RotaMember, members_of};
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::rota::Interval;
use crate::domain::rota_history::RotaRecord;
use crate::domain::shift_reminders::QuietHours;
use crate::domain::volunteer::VolunteerProfile;

/// How many volunteers' records are written at a time.
const BATCH: usize = 500;

/// Records where `volunteer_ids` stand on the rota now, from `at` on.
pub async fn record(
    db: &impl ConnectionTrait,
    volunteer_ids: &[VolunteerId],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    for batch in volunteer_ids.chunks(BATCH) {
        let rows = volunteer::Entity::find()
            .filter(volunteer::Column::Id.is_in(batch.to_vec()))
            .all(db)
            .await?;
        write(db, &rows, |_| at).await?;
    }
    Ok(())
}

/// Gives every volunteer without a record one of where they stand now, as standing since
/// they were added (the rota before records were kept is known only as it is today).
/// Returns how many were recorded.
pub async fn record_unrecorded(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    let recorded = Query::select()
        .expr(Expr::col(rota_record::Column::VolunteerId))
        .from(rota_record::Entity)
        .to_owned();
    let rows = volunteer::Entity::find()
        .filter(volunteer::Column::Id.not_in_subquery(recorded))
        .order_by_asc(volunteer::Column::Id)
        .all(db)
        .await?;
    for batch in rows.chunks(BATCH) {
        write(db, batch, |row| row.created_at).await?;
    }
    Ok(rows.len())
}

async fn write(
    db: &impl ConnectionTrait,
    rows: &[volunteer::Model],
    at: impl Fn(&volunteer::Model) -> DateTime<Utc>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<VolunteerId> = rows.iter().map(|r| r.id).collect();
    let mut served = super::users::served_helplines_of(db, ids).await?;
    let since: HashMap<VolunteerId, DateTime<Utc>> = rows.iter().map(|r| (r.id, at(r))).collect();
    let mut records = Vec::with_capacity(rows.len());
    for member in members_of(db, rows).await? {
        let helplines = served.remove(&member.volunteer_id).unwrap_or_default();
        let record = RotaRecord::new(
            &member.profile,
            member.rota,
            member.ready_topics,
            member.stepped_back,
            helplines,
        );
        let record = serde_json::to_string(&record)
            .map_err(|e| DbErr::Custom(format!("rota record: {e}")))?;
        records.push(rota_record::ActiveModel {
            volunteer_id: Set(member.volunteer_id),
            recorded_at: Set(since.get(&member.volunteer_id).copied().unwrap_or_default()),
            record: Set(record),
            ..Default::default()
        });
    }
    rota_record::Entity::insert_many(records)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn read(row: &rota_record::Model) -> Result<RotaRecord, DbErr> {
    serde_json::from_str(&row.record)
        .map_err(|e| DbErr::Custom(format!("rota record {}: {e}", row.id)))
}

/// The records that say where everyone stood over a stretch of the past.
pub struct History {
    /// Where each volunteer stood at the start.
    standing: HashMap<VolunteerId, RotaRecord>,
    /// The records made during the stretch, in order.
    later: Vec<(DateTime<Utc>, VolunteerId, RotaRecord)>,
    /// Each volunteer's profile, sealed phone and quiet hours today.
    today: HashMap<VolunteerId, (VolunteerProfile, Sealed, Option<QuietHours>)>,
}

impl History {
    /// The records in force over `span`.
    pub async fn over(db: &impl ConnectionTrait, span: Interval) -> Result<Self, DbErr> {
        let latest = Query::select()
            .expr(Func::max(Expr::col(rota_record::Column::Id)))
            .from(rota_record::Entity)
            .and_where(rota_record::Column::RecordedAt.lte(span.start))
            .group_by_col(rota_record::Column::VolunteerId)
            .to_owned();
        let mut standing = HashMap::new();
        for row in rota_record::Entity::find()
            .filter(rota_record::Column::Id.in_subquery(latest))
            .all(db)
            .await?
        {
            standing.insert(row.volunteer_id, read(&row)?);
        }
        let mut later = Vec::new();
        for row in rota_record::Entity::find()
            .filter(rota_record::Column::RecordedAt.gt(span.start))
            .filter(rota_record::Column::RecordedAt.lt(span.end))
            .order_by_asc(rota_record::Column::RecordedAt)
            .order_by_asc(rota_record::Column::Id)
            .all(db)
            .await?
        {
            later.push((row.recorded_at, row.volunteer_id, read(&row)?));
        }
        let mut ids: Vec<VolunteerId> = standing.keys().copied().collect();
        ids.extend(later.iter().map(|(_, id, _)| *id));
        ids.sort_unstable();
        ids.dedup();
        let mut today = HashMap::new();
        for row in volunteer::Entity::find()
            .filter(volunteer::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            let profile = super::volunteers::profile_of(&row)?;
            let quiet = super::volunteers::quiet_hours_of(&row);
            today.insert(row.id, (profile, row.phone, quiet));
        }
        Ok(Self {
            standing,
            later,
            today,
        })
    }

    /// Each volunteer's stretches of `span` (the one the history was read over), each
    /// with the record that stood then, as members of the helpline: a stretch when they
    /// did not serve it is left out.
    pub fn stretches(
        &self,
        helpline_id: HelplineId,
        span: Interval,
    ) -> Vec<(Interval, RotaMember)> {
        let mut timelines: HashMap<VolunteerId, Vec<(DateTime<Utc>, &RotaRecord)>> = HashMap::new();
        for (id, record) in &self.standing {
            timelines.entry(*id).or_default().push((span.start, record));
        }
        for (at, id, record) in &self.later {
            timelines.entry(*id).or_default().push((*at, record));
        }
        let mut stretches = Vec::new();
        for (id, timeline) in timelines {
            for (i, (start, record)) in timeline.iter().enumerate() {
                let end = timeline.get(i + 1).map_or(span.end, |(next, _)| *next);
                if *start >= end || !record.helplines.contains(&helpline_id) {
                    continue;
                }
                if let Some(member) = self.member(id, record) {
                    stretches.push((Interval { start: *start, end }, member));
                }
            }
        }
        stretches
    }

    fn member(&self, id: VolunteerId, record: &RotaRecord) -> Option<RotaMember> {
        let (profile, phone, quiet) = self.today.get(&id)?;
        Some(RotaMember {
            volunteer_id: id,
            profile: record.profile_then(profile.clone()),
            phone: phone.clone(),
            rota: record.rota.clone(),
            ready_topics: record.ready_topics.clone(),
            stepped_back: record.stepped_back.clone(),
            quiet_hours: *quiet,
        })
    }

    /// The helpline's members as they stood at `at`, within the stretch.
    pub fn members_at(&self, helpline_id: HelplineId, at: DateTime<Utc>) -> Vec<RotaMember> {
        let mut standing: HashMap<VolunteerId, &RotaRecord> =
            self.standing.iter().map(|(id, r)| (*id, r)).collect();
        for (_, id, record) in self.later.iter().take_while(|(when, _, _)| *when <= at) {
            standing.insert(*id, record);
        }
        let mut members: Vec<RotaMember> = standing
            .into_iter()
            .filter(|(_, record)| record.helplines.contains(&helpline_id))
            .filter_map(|(id, record)| self.member(id, record))
            .collect();
        members.sort_by_key(|m| m.volunteer_id);
        members
    }
}

/// The helpline's members as they stood at `at`: from the records for a past moment, as
/// planned now for the present and future.
pub async fn members_at(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<RotaMember>, DbErr> {
    if at >= now {
        return super::rota::helpline_members(db, helpline_id).await;
    }
    let moment = Interval {
        start: at,
        end: at + chrono::Duration::seconds(1),
    };
    Ok(History::over(db, moment).await?.members_at(helpline_id, at))
}

/// The volunteers who served the helpline at some time in `span`: by the records for the
/// part before `now`, and those serving now if it reaches now.
pub async fn served_during(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    span: Interval,
    now: DateTime<Utc>,
) -> Result<Vec<VolunteerId>, DbErr> {
    let mut ids = Vec::new();
    if span.start < now {
        let past = Interval {
            start: span.start,
            end: span.end.min(now),
        };
        let history = History::over(db, past).await?;
        ids.extend(
            history
                .stretches(helpline_id, past)
                .into_iter()
                .map(|(_, member)| member.volunteer_id),
        );
    }
    if now < span.end {
        let serving = super::volunteers::serving_helpline(db, helpline_id).await?;
        ids.extend(serving.into_iter().map(|v| v.id));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
