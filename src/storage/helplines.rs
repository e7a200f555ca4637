//! Helplines, their numbers and their topics.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{helpline, helpline_number, topic};
use super::{PageRequest, Scope};
use crate::domain::helpline::{HelplineSettings, RoutingSettings, TopicSettings};
use crate::domain::ids::{HelplineId, TopicId};
use crate::domain::phone::E164;
use crate::domain::timezone::TimeZone;

/// The helplines a scope may see, as a condition on `helplines.id`.
fn visible(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Helplines(ids) | Scope::Volunteer { helplines: ids, .. } => {
            Condition::all().add(helpline::Column::Id.is_in(ids.clone()))
        }
    }
}

fn corrupt(what: &str, id: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("stored {what} {id} holds an invalid value"))
}

/// The settings stored in a helpline row.
pub fn settings_of(row: &helpline::Model) -> Result<HelplineSettings, DbErr> {
    Ok(HelplineSettings {
        name: row.name.clone(),
        time_zone: TimeZone::parse(&row.time_zone).map_err(|_| corrupt("helpline", row.id))?,
        greeting: row.greeting.clone(),
        voice_language: row.voice_language.clone(),
        languages: serde_json::from_str(&row.languages).map_err(|_| corrupt("helpline", row.id))?,
        fallback_number: row
            .fallback_number
            .as_deref()
            .map(E164::parse)
            .transpose()
            .map_err(|_| corrupt("helpline", row.id))?,
        routing: RoutingSettings {
            ring_timeout_secs: row.ring_timeout_secs,
            ring_group_size: row.ring_group_size,
            max_wait_secs: row.max_wait_secs,
            continuity_enabled: row.continuity_enabled,
            continuity_days: row.continuity_days,
            continuity_max_repeats: row.continuity_max_repeats,
        },
        texting: serde_json::from_str(&row.texting).map_err(|_| corrupt("helpline", row.id))?,
        supervision: serde_json::from_str(&row.supervision)
            .map_err(|_| corrupt("helpline", row.id))?,
        rota: serde_json::from_str(&row.rota).map_err(|_| corrupt("helpline", row.id))?,
        callers: serde_json::from_str(&row.callers).map_err(|_| corrupt("helpline", row.id))?,
    })
}

fn apply(row: &mut helpline::ActiveModel, s: &HelplineSettings, now: DateTime<Utc>) {
    row.name = Set(s.name.trim().to_owned());
    row.time_zone = Set(s.time_zone.name().to_owned());
    row.greeting = Set(s.greeting.clone());
    row.voice_language = Set(s.voice_language.clone());
    row.languages = Set(serde_json::Value::from(s.languages.clone()).to_string());
    row.fallback_number = Set(s.fallback_number.as_ref().map(|n| n.as_str().to_owned()));
    row.ring_timeout_secs = Set(s.routing.ring_timeout_secs);
    row.ring_group_size = Set(s.routing.ring_group_size);
    row.max_wait_secs = Set(s.routing.max_wait_secs);
    row.continuity_enabled = Set(s.routing.continuity_enabled);
    row.continuity_days = Set(s.routing.continuity_days);
    row.continuity_max_repeats = Set(s.routing.continuity_max_repeats);
    row.texting = Set(serde_json::to_string(&s.texting).unwrap_or_else(|_| "{}".to_owned()));
    row.supervision =
        Set(serde_json::to_string(&s.supervision).unwrap_or_else(|_| "{}".to_owned()));
    row.rota = Set(serde_json::to_string(&s.rota).unwrap_or_else(|_| "{}".to_owned()));
    row.callers = Set(serde_json::to_string(&s.callers).unwrap_or_else(|_| "{}".to_owned()));
    row.updated_at = Set(now);
}

pub async fn create(
    db: &DatabaseConnection,
    settings: &HelplineSettings,
    now: DateTime<Utc>,
) -> Result<helpline::Model, DbErr> {
    let mut row = helpline::ActiveModel {
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut row, settings, now);
    row.insert(db).await
}

pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    page: PageRequest,
) -> Result<Vec<helpline::Model>, DbErr> {
    let query = helpline::Entity::find().filter(visible(scope));
    super::keyset(query, helpline::Column::Id, page)
        .all(db)
        .await
}

/// The settings of each helpline the scope may see.
pub async fn all_settings(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(HelplineId, HelplineSettings)>, DbErr> {
    let rows = helpline::Entity::find()
        .filter(visible(scope))
        .order_by_asc(helpline::Column::Id)
        .all(db)
        .await?;
    rows.iter()
        .map(|row| settings_of(row).map(|s| (row.id, s)))
        .collect()
}

/// The time zone of each helpline the scope may see.
pub async fn zones(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(HelplineId, TimeZone)>, DbErr> {
    let rows: Vec<(HelplineId, String)> = helpline::Entity::find()
        .select_only()
        .column(helpline::Column::Id)
        .column(helpline::Column::TimeZone)
        .filter(visible(scope))
        .order_by_asc(helpline::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(id, zone)| {
            TimeZone::parse(&zone)
                .map(|z| (id, z))
                .map_err(|_| corrupt("helpline", id))
        })
        .collect()
}

pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: HelplineId,
) -> Result<Option<helpline::Model>, DbErr> {
    helpline::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(db)
        .await
}

pub async fn update(
    db: &DatabaseConnection,
    existing: helpline::Model,
    settings: &HelplineSettings,
    now: DateTime<Utc>,
) -> Result<helpline::Model, DbErr> {
    let mut row: helpline::ActiveModel = existing.into();
    apply(&mut row, settings, now);
    row.update(db).await
}

pub async fn delete(db: &DatabaseConnection, id: HelplineId) -> Result<bool, DbErr> {
    let gone = helpline::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0;
    Ok(gone)
}

pub async fn numbers(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<helpline_number::Model>, DbErr> {
    helpline_number::Entity::find()
        .filter(helpline_number::Column::HelplineId.eq(helpline_id))
        .order_by_asc(helpline_number::Column::Id)
        .all(db)
        .await
}

pub async fn add_number(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    number: &E164,
    now: DateTime<Utc>,
) -> Result<helpline_number::Model, DbErr> {
    helpline_number::ActiveModel {
        helpline_id: Set(helpline_id),
        number: Set(number.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn remove_number(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    number_id: i32,
) -> Result<bool, DbErr> {
    super::delete_owned::<helpline_number::Entity>(
        db,
        (helpline_number::Column::Id, number_id),
        (helpline_number::Column::HelplineId, helpline_id),
    )
    .await
}

pub async fn topics(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<topic::Model>, DbErr> {
    topic::Entity::find()
        .filter(topic::Column::HelplineId.eq(helpline_id))
        .order_by_asc(topic::Column::Id)
        .all(db)
        .await
}

pub async fn topic(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    topic_id: TopicId,
) -> Result<Option<topic::Model>, DbErr> {
    topic::Entity::find_by_id(topic_id)
        .filter(topic::Column::HelplineId.eq(helpline_id))
        .one(db)
        .await
}

pub async fn topic_by_id(
    db: &impl ConnectionTrait,
    topic_id: TopicId,
) -> Result<Option<topic::Model>, DbErr> {
    topic::Entity::find_by_id(topic_id).one(db).await
}

fn apply_topic(row: &mut topic::ActiveModel, s: &TopicSettings) {
    row.key = Set(s.key.clone());
    row.label = Set(s.label.trim().to_owned());
    row.digit = Set(s.digit);
    row.strict = Set(s.strict);
}

pub async fn create_topic(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    s: &TopicSettings,
    now: DateTime<Utc>,
) -> Result<topic::Model, DbErr> {
    let mut row = topic::ActiveModel {
        helpline_id: Set(helpline_id),
        created_at: Set(now),
        ..Default::default()
    };
    apply_topic(&mut row, s);
    row.insert(db).await
}

pub async fn update_topic(
    db: &DatabaseConnection,
    existing: topic::Model,
    s: &TopicSettings,
) -> Result<topic::Model, DbErr> {
    let mut row: topic::ActiveModel = existing.into();
    apply_topic(&mut row, s);
    row.update(db).await
}

pub async fn delete_topic(
    db: &DatabaseConnection,
    helpline_id: HelplineId,
    topic_id: TopicId,
) -> Result<bool, DbErr> {
    let gone = super::delete_owned::<topic::Entity>(
        db,
        (topic::Column::Id, topic_id),
        (topic::Column::HelplineId, helpline_id),
    )
    .await?;
    Ok(gone)
}

/// The helpline a caller reaches by dialing `number`.
pub async fn by_number(
    db: &impl ConnectionTrait,
    number: &E164,
) -> Result<Option<helpline::Model>, DbErr> {
    let Some(row) = helpline_number::Entity::find()
        .filter(helpline_number::Column::Number.eq(number.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    helpline::Entity::find_by_id(row.helpline_id).one(db).await
}

/// Whether `number` is one of the helplines' own numbers or fallback numbers (a volunteer
/// given it would be rung by the helpline itself).
pub async fn is_helplines_own(db: &impl ConnectionTrait, number: &E164) -> Result<bool, DbErr> {
    let dialled = helpline_number::Entity::find()
        .filter(helpline_number::Column::Number.eq(number.as_str()))
        .one(db)
        .await?
        .is_some();
    if dialled {
        return Ok(true);
    }
    for row in helpline::Entity::find().all(db).await? {
        if settings_of(&row)?.fallback_number.as_ref() == Some(number) {
            return Ok(true);
        }
    }
    Ok(false)
}
