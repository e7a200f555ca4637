//! Cover requests for lost shifts and the volunteers each one asked. Every step is a
//! conditional write: one request per lost shift, one wave at a time, one volunteer
//! fills it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use super::entities::{cover_ask, cover_request};
use crate::domain::ids::{HelplineId, TopicId, VolunteerId};
use crate::domain::rota::{Interval, ShiftChannels};

/// How a shift was lost.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum LossReason {
    /// The volunteer answered a reminder with NO.
    #[sea_orm(string_value = "cannot_come")]
    CannotCome,
    /// Leave added at short notice.
    #[sea_orm(string_value = "leave")]
    Leave,
    /// The volunteer paused (took no contacts) with shifts coming up.
    #[sea_orm(string_value = "paused")]
    Paused,
}

/// An asked volunteer's answer.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CoverAnswer {
    /// Said yes first: the shift is theirs.
    #[sea_orm(string_value = "took")]
    Took,
    #[sea_orm(string_value = "declined")]
    Declined,
    /// Said yes once someone else had taken it, or after it started.
    #[sea_orm(string_value = "too_late")]
    TooLate,
}

/// A lost shift to ask cover for.
pub struct NewCoverRequest {
    pub helpline_id: HelplineId,
    pub lost_by: VolunteerId,
    pub reason: LossReason,
    pub shift: Interval,
    pub channels: ShiftChannels,
    pub topic_id: Option<TopicId>,
}

/// Opens a request for a lost shift; `None` when one is already open for it.
pub async fn open(
    db: &impl ConnectionTrait,
    request: NewCoverRequest,
    now: DateTime<Utc>,
) -> Result<Option<cover_request::Model>, DbErr> {
    let row = cover_request::ActiveModel {
        helpline_id: Set(request.helpline_id),
        lost_by: Set(request.lost_by),
        reason: Set(request.reason),
        shift_starts_at: Set(request.shift.start),
        shift_ends_at: Set(request.shift.end),
        channels: Set(request.channels.as_str().to_owned()),
        topic_id: Set(request.topic_id),
        created_at: Set(now),
        waves: Set(0),
        ..Default::default()
    };
    let inserted = cover_request::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted != 1 {
        return Ok(None);
    }
    cover_request::Entity::find()
        .filter(cover_request::Column::LostBy.eq(request.lost_by))
        .filter(cover_request::Column::ShiftStartsAt.eq(request.shift.start))
        .one(db)
        .await
}

pub async fn get(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<cover_request::Model>, DbErr> {
    cover_request::Entity::find_by_id(id).one(db).await
}

/// Open requests for shifts not yet begun.
pub async fn open_requests(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<cover_request::Model>, DbErr> {
    cover_request::Entity::find()
        .filter(cover_request::Column::ClosedAt.is_null())
        .filter(cover_request::Column::ShiftStartsAt.gt(now))
        .order_by_asc(cover_request::Column::ShiftStartsAt)
        .all(db)
        .await
}

/// Open requests whose shift has begun.
pub async fn begun_unfilled(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<cover_request::Model>, DbErr> {
    cover_request::Entity::find()
        .filter(cover_request::Column::ClosedAt.is_null())
        .filter(cover_request::Column::ShiftStartsAt.lte(now))
        .order_by_asc(cover_request::Column::Id)
        .all(db)
        .await
}

/// Closes an open request unfilled; `false` when it was already closed.
pub async fn close(db: &impl ConnectionTrait, id: i32, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let closed = cover_request::Entity::update_many()
        .col_expr(cover_request::Column::ClosedAt, now.into())
        .filter(cover_request::Column::Id.eq(id))
        .filter(cover_request::Column::ClosedAt.is_null())
        .exec(db)
        .await?;
    Ok(closed.rows_affected == 1)
}

/// Claims wave `request.waves + 1` of an open request; `false` when another server sent
/// it first or the request closed.
pub async fn claim_wave(
    db: &impl ConnectionTrait,
    request: &cover_request::Model,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = cover_request::Entity::update_many()
        .col_expr(
            cover_request::Column::Waves,
            Expr::col(cover_request::Column::Waves).add(1),
        )
        .col_expr(cover_request::Column::LastWaveAt, now.into())
        .filter(cover_request::Column::Id.eq(request.id))
        .filter(cover_request::Column::Waves.eq(request.waves))
        .filter(cover_request::Column::ClosedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The volunteers a request has asked.
pub async fn asked(db: &impl ConnectionTrait, request_id: i32) -> Result<Vec<VolunteerId>, DbErr> {
    cover_ask::Entity::find()
        .select_only()
        .column(cover_ask::Column::VolunteerId)
        .filter(cover_ask::Column::CoverRequestId.eq(request_id))
        .into_tuple()
        .all(db)
        .await
}

/// Records that `volunteer_id` is asked in `wave`; `false` when they already were.
pub async fn record_ask(
    db: &impl ConnectionTrait,
    request_id: i32,
    volunteer_id: VolunteerId,
    wave: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = cover_ask::ActiveModel {
        cover_request_id: Set(request_id),
        volunteer_id: Set(volunteer_id),
        wave: Set(wave),
        sent_at: Set(now),
        ..Default::default()
    };
    let inserted = cover_ask::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The ask of `volunteer_id` on request `request_id`, if they were asked.
pub async fn ask_of(
    db: &impl ConnectionTrait,
    request_id: i32,
    volunteer_id: VolunteerId,
) -> Result<Option<cover_ask::Model>, DbErr> {
    cover_ask::Entity::find()
        .filter(cover_ask::Column::CoverRequestId.eq(request_id))
        .filter(cover_ask::Column::VolunteerId.eq(volunteer_id))
        .one(db)
        .await
}

/// Records an asked volunteer's answer; `false` when they had answered already (other
/// than a NO, which a later answer may change).
pub async fn answer_ask(
    db: &impl ConnectionTrait,
    ask_id: i32,
    answer: CoverAnswer,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = cover_ask::Entity::update_many()
        .col_expr(cover_ask::Column::Answer, Expr::value(answer))
        .col_expr(cover_ask::Column::AnsweredAt, now.into())
        .filter(cover_ask::Column::Id.eq(ask_id))
        .filter(
            cover_ask::Column::Answer
                .is_null()
                .or(cover_ask::Column::Answer.eq(CoverAnswer::Declined)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Gives the shift to `volunteer_id` if the request is still open and its shift has not
/// begun; `false` when someone else was first.
pub async fn fill(
    db: &impl ConnectionTrait,
    request_id: i32,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = cover_request::Entity::update_many()
        .col_expr(cover_request::Column::FilledBy, volunteer_id.into())
        .col_expr(cover_request::Column::FilledAt, now.into())
        .col_expr(cover_request::Column::ClosedAt, now.into())
        .filter(cover_request::Column::Id.eq(request_id))
        .filter(cover_request::Column::ClosedAt.is_null())
        .filter(cover_request::Column::ShiftStartsAt.gt(now))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// A helpline's requests for shifts ending from `from`, soonest first.
pub async fn of_helpline(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
    from: DateTime<Utc>,
) -> Result<Vec<(cover_request::Model, Vec<cover_ask::Model>)>, DbErr> {
    let requests = cover_request::Entity::find()
        .filter(cover_request::Column::HelplineId.eq(helpline_id))
        .filter(cover_request::Column::ShiftEndsAt.gte(from))
        .order_by_asc(cover_request::Column::ShiftStartsAt)
        .order_by_asc(cover_request::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i32> = requests.iter().map(|r| r.id).collect();
    let asks = cover_ask::Entity::find()
        .filter(cover_ask::Column::CoverRequestId.is_in(ids))
        .order_by_asc(cover_ask::Column::Id)
        .all(db)
        .await?;
    Ok(requests
        .into_iter()
        .map(|request| {
            let mine = asks
                .iter()
                .filter(|a| a.cover_request_id == request.id)
                .cloned()
                .collect();
            (request, mine)
        })
        .collect())
}
