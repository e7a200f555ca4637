//! The shift reminders sent, one row per shift and round: the unique row is what makes a
//! reminder go once however many servers plan it, and it keeps the volunteer's answer.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use super::entities::shift_reminder;
use crate::domain::ids::{HelplineId, VolunteerId};
use crate::domain::rota::Interval;
use crate::domain::shift_reminders::ReminderRound;

/// A volunteer's answer to a reminder.
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
pub enum ReminderAnswer {
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
    /// They cannot come: the shift became leave.
    #[sea_orm(string_value = "cannot_come")]
    CannotCome,
}

/// A reminder about to be sent.
pub struct NewReminder {
    pub volunteer_id: VolunteerId,
    pub helpline_id: HelplineId,
    pub round: ReminderRound,
    pub shift: Interval,
    pub answer_by: Option<DateTime<Utc>>,
}

/// Records that `reminder` is being sent; `false` when it already was (by this server or
/// another), in which case nothing must be sent.
pub async fn claim(
    db: &impl ConnectionTrait,
    reminder: NewReminder,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = shift_reminder::ActiveModel {
        volunteer_id: Set(reminder.volunteer_id),
        helpline_id: Set(reminder.helpline_id),
        round: Set(reminder.round),
        shift_starts_at: Set(reminder.shift.start),
        shift_ends_at: Set(reminder.shift.end),
        sent_at: Set(now),
        answer_by: Set(reminder.answer_by),
        ..Default::default()
    };
    let inserted = shift_reminder::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The reminder a volunteer's bare `OK` or `NO` answers: the asking reminder of their
/// soonest shift not yet begun that they have not answered.
pub async fn awaiting_answer(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<Option<shift_reminder::Model>, DbErr> {
    shift_reminder::Entity::find()
        .filter(shift_reminder::Column::VolunteerId.eq(volunteer_id))
        .filter(shift_reminder::Column::Round.eq(ReminderRound::Ask))
        .filter(shift_reminder::Column::Answer.is_null())
        .filter(shift_reminder::Column::ShiftStartsAt.gt(now))
        .order_by_asc(shift_reminder::Column::ShiftStartsAt)
        .one(db)
        .await
}

/// Records the answer; `false` when the reminder already had one.
pub async fn answer(
    db: &impl ConnectionTrait,
    id: i32,
    answer: ReminderAnswer,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = shift_reminder::Entity::update_many()
        .col_expr(shift_reminder::Column::Answer, Expr::value(answer))
        .col_expr(shift_reminder::Column::AnsweredAt, now.into())
        .filter(shift_reminder::Column::Id.eq(id))
        .filter(shift_reminder::Column::Answer.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Reminders whose answer is overdue and not yet reported, for shifts not yet begun.
pub async fn overdue(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<shift_reminder::Model>, DbErr> {
    shift_reminder::Entity::find()
        .filter(shift_reminder::Column::Answer.is_null())
        .filter(shift_reminder::Column::ReportedAt.is_null())
        .filter(shift_reminder::Column::AnswerBy.lte(now))
        .filter(shift_reminder::Column::ShiftStartsAt.gt(now))
        .order_by_asc(shift_reminder::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Claims the report of an unanswered reminder; `false` when another server has it.
pub async fn claim_report(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = shift_reminder::Entity::update_many()
        .col_expr(shift_reminder::Column::ReportedAt, now.into())
        .filter(shift_reminder::Column::Id.eq(id))
        .filter(shift_reminder::Column::ReportedAt.is_null())
        .filter(shift_reminder::Column::Answer.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The reminders of shifts starting within `span`.
pub async fn starting_within(
    db: &impl ConnectionTrait,
    span: Interval,
) -> Result<Vec<shift_reminder::Model>, DbErr> {
    shift_reminder::Entity::find()
        .filter(shift_reminder::Column::ShiftStartsAt.gte(span.start))
        .filter(shift_reminder::Column::ShiftStartsAt.lt(span.end))
        .all(db)
        .await
}

/// A volunteer's reminders for shifts starting from `from`, soonest first.
pub async fn of_volunteer(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    from: DateTime<Utc>,
) -> Result<Vec<shift_reminder::Model>, DbErr> {
    shift_reminder::Entity::find()
        .filter(shift_reminder::Column::VolunteerId.eq(volunteer_id))
        .filter(shift_reminder::Column::ShiftStartsAt.gte(from))
        .order_by_asc(shift_reminder::Column::ShiftStartsAt)
        .order_by_asc(shift_reminder::Column::Id)
        .all(db)
        .await
}
