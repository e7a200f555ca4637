//! Callers' keypad answers after a call, and the answers a report counts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::entities::survey_answer;
use crate::domain::ids::ContactId;
use crate::domain::survey::SurveyAnswer;

/// Records an answer once per contact and question.
pub async fn record(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    question: i32,
    question_text: &str,
    answer: SurveyAnswer,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = survey_answer::ActiveModel {
        contact_id: Set(contact_id),
        question: Set(question),
        question_text: Set(question_text.to_owned()),
        answer: Set(answer),
        answered_at: Set(at),
        ..Default::default()
    };
    survey_answer::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                survey_answer::Column::ContactId,
                survey_answer::Column::Question,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A contact's answers, in question order.
pub async fn of_contact(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<survey_answer::Model>, DbErr> {
    survey_answer::Entity::find()
        .filter(survey_answer::Column::ContactId.eq(contact_id))
        .order_by_asc(survey_answer::Column::Question)
        .all(db)
        .await
}
