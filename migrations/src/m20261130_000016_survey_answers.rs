//! Callers' answers to the keypad questions after a call: one row per contact and
//! question, so a repeated delivery of a key press records it once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000005_contacts::Contacts;
use crate::{cascade, drop_tables, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SurveyAnswers {
    Table,
    Id,
    ContactId,
    Question,
    QuestionText,
    Answer,
    AnsweredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SurveyAnswers::Table)
                    .col(pk_auto(SurveyAnswers::Id))
                    .col(integer(SurveyAnswers::ContactId))
                    .col(integer(SurveyAnswers::Question))
                    .col(text(SurveyAnswers::QuestionText))
                    .col(string_len(SurveyAnswers::Answer, 16))
                    .col(timestamp_with_time_zone(SurveyAnswers::AnsweredAt))
                    .foreign_key(&mut cascade(
                        SurveyAnswers::Table,
                        SurveyAnswers::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique_index(
                "survey_answers_contact_question",
                SurveyAnswers::Table,
                &["contact_id", "question"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [SurveyAnswers::Table.into_iden()]).await
    }
}
