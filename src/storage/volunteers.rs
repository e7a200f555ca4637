//! Volunteers, the helplines they serve, and their per-topic sign-offs.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{OnConflict, Query},
};

use super::entities::{Sealed, topic, topic_signoff, volunteer, volunteer_helpline};
use super::{PageRequest, Scope};
use crate::domain::calendar::LocalTime;
use crate::domain::ids::{HelplineId, TopicId, UserId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::shift_reminders::QuietHours;
use crate::domain::timezone::TimeZone;
use crate::domain::volunteer::{TrainingStatus, VolunteerProfile, WellbeingLimits};
use crate::secrets::Vault;

/// Volunteers serving any of `helplines`, as a condition on `volunteers.id`.
fn serving(helplines: Vec<HelplineId>) -> Condition {
    Condition::all().add(
        volunteer::Column::Id.in_subquery(
            Query::select()
                .column(volunteer_helpline::Column::VolunteerId)
                .from(volunteer_helpline::Entity)
                .and_where(volunteer_helpline::Column::HelplineId.is_in(helplines))
                .to_owned(),
        ),
    )
}

/// The volunteers a scope may see.
fn visible(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Helplines(ids) => serving(ids.clone()),
        Scope::Volunteer { volunteer_id, .. } => {
            Condition::all().add(volunteer::Column::Id.eq(*volunteer_id))
        }
    }
}

pub fn profile_of(row: &volunteer::Model) -> Result<VolunteerProfile, DbErr> {
    let corrupt = || {
        DbErr::Custom(format!(
            "stored volunteer {} holds an invalid value",
            row.id
        ))
    };
    Ok(VolunteerProfile {
        name: row.name.clone(),
        time_zone: TimeZone::parse(&row.time_zone).map_err(|_| corrupt())?,
        languages: serde_json::from_str(&row.languages).map_err(|_| corrupt())?,
        training_status: TrainingStatus::parse(&row.training_status).ok_or_else(corrupt)?,
        training_completed_on: row.training_completed_on,
        refresher_due_on: row.refresher_due_on,
        trained_voice: row.trained_voice,
        trained_sms: row.trained_sms,
        active: row.active,
        limits: WellbeingLimits {
            max_contacts_per_shift: row.max_contacts_per_shift,
            long_contact_minutes: row.long_contact_minutes,
            rest_minutes_after_long: row.rest_minutes_after_long,
            max_text_conversations: row.max_text_conversations,
        },
    })
}

/// The volunteer's phone, opened from its sealed form.
pub fn phone_of(vault: &Vault, row: &volunteer::Model) -> Result<E164, DbErr> {
    open_phone(vault, row.id, &row.phone)
}

/// Volunteer `volunteer_id`'s phone, sealed as `sealed`; an error when it does not open
/// (sealed under a key this server does not hold, or tampered with).
pub fn open_phone(
    vault: &Vault,
    volunteer_id: VolunteerId,
    sealed: &Sealed,
) -> Result<E164, DbErr> {
    vault.open(&sealed.0).ok_or_else(|| {
        DbErr::Custom(format!(
            "volunteer {volunteer_id}'s phone does not open under this server's key"
        ))
    })
}

/// The volunteer's quiet hours, if they set any.
pub fn quiet_hours_of(row: &volunteer::Model) -> Option<QuietHours> {
    let time = |raw: &Option<String>| raw.as_deref().and_then(|t| LocalTime::parse(t).ok());
    Some(QuietHours {
        from: time(&row.quiet_from)?,
        until: time(&row.quiet_until)?,
    })
}

/// Sets or clears a volunteer's quiet hours; `false` when there is no such volunteer.
pub async fn set_quiet_hours(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    quiet: Option<QuietHours>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let text = |t: Option<LocalTime>| t.map(|t| t.to_string());
    let updated = volunteer::Entity::update_many()
        .col_expr(
            volunteer::Column::QuietFrom,
            text(quiet.map(|q| q.from)).into(),
        )
        .col_expr(
            volunteer::Column::QuietUntil,
            text(quiet.map(|q| q.until)).into(),
        )
        .col_expr(volunteer::Column::UpdatedAt, now.into())
        .filter(volunteer::Column::Id.eq(volunteer_id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Stores `phone` sealed, with the hash it is found by.
fn set_phone(row: &mut volunteer::ActiveModel, vault: &Vault, phone: &E164) {
    row.phone = Set(Sealed(vault.seal(phone)));
    row.phone_hash = Set(Some(vault.hash(phone)));
}

fn apply(row: &mut volunteer::ActiveModel, p: &VolunteerProfile, now: DateTime<Utc>) {
    row.name = Set(p.name.trim().to_owned());
    row.time_zone = Set(p.time_zone.name().to_owned());
    row.languages = Set(serde_json::Value::from(p.languages.clone()).to_string());
    row.training_status = Set(p.training_status.as_str().to_owned());
    row.training_completed_on = Set(p.training_completed_on);
    row.refresher_due_on = Set(p.refresher_due_on);
    row.trained_voice = Set(p.trained_voice);
    row.trained_sms = Set(p.trained_sms);
    row.active = Set(p.active);
    row.max_contacts_per_shift = Set(p.limits.max_contacts_per_shift);
    row.long_contact_minutes = Set(p.limits.long_contact_minutes);
    row.rest_minutes_after_long = Set(p.limits.rest_minutes_after_long);
    row.max_text_conversations = Set(p.limits.max_text_conversations);
    row.updated_at = Set(now);
}

async fn set_helplines(
    db: &impl ConnectionTrait,
    volunteer_id: VolunteerId,
    helplines: &[HelplineId],
) -> Result<(), DbErr> {
    volunteer_helpline::Entity::delete_many()
        .filter(volunteer_helpline::Column::VolunteerId.eq(volunteer_id))
        .exec(db)
        .await?;
    for helpline_id in helplines {
        volunteer_helpline::ActiveModel {
            volunteer_id: Set(volunteer_id),
            helpline_id: Set(*helpline_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    vault: &Vault,
    profile: &VolunteerProfile,
    phone: &E164,
    helplines: &[HelplineId],
    now: DateTime<Utc>,
) -> Result<volunteer::Model, DbErr> {
    let txn = db.begin().await?;
    let mut row = volunteer::ActiveModel {
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut row, profile, now);
    set_phone(&mut row, vault, phone);
    let created = row.insert(&txn).await?;
    set_helplines(&txn, created.id, helplines).await?;
    super::rota_history::record(&txn, &[created.id], now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Replaces a volunteer's profile and, when given, their phone and the helplines they
/// serve, in the caller's transaction.
pub async fn update(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    existing: volunteer::Model,
    profile: &VolunteerProfile,
    phone: Option<&E164>,
    helplines: Option<&[HelplineId]>,
    now: DateTime<Utc>,
) -> Result<volunteer::Model, DbErr> {
    let mut row: volunteer::ActiveModel = existing.into();
    apply(&mut row, profile, now);
    if let Some(phone) = phone {
        set_phone(&mut row, vault, phone);
    }
    let updated = row.update(txn).await?;
    if let Some(helplines) = helplines {
        set_helplines(txn, updated.id, helplines).await?;
    }
    super::rota_history::record(txn, &[updated.id], now).await?;
    Ok(updated)
}

pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    helpline: Option<HelplineId>,
    page: PageRequest,
) -> Result<Vec<volunteer::Model>, DbErr> {
    let mut query = volunteer::Entity::find().filter(visible(scope));
    if let Some(helpline_id) = helpline {
        query = query.filter(serving(vec![helpline_id]));
    }
    super::keyset(query, volunteer::Column::Id, page)
        .all(db)
        .await
}

pub async fn get(
    db: &DatabaseConnection,
    scope: &Scope,
    id: VolunteerId,
) -> Result<Option<volunteer::Model>, DbErr> {
    volunteer::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(db)
        .await
}

/// The volunteer whose phone is `phone`, if any (phones are unique).
pub async fn by_phone(
    db: &impl ConnectionTrait,
    vault: &Vault,
    phone: &E164,
) -> Result<Option<volunteer::Model>, DbErr> {
    volunteer::Entity::find()
        .filter(volunteer::Column::PhoneHash.is_in(vault.hashes(phone)))
        .one(db)
        .await
}

/// Every volunteer serving a helpline (for rota questions).
pub async fn serving_helpline(
    db: &impl ConnectionTrait,
    helpline_id: HelplineId,
) -> Result<Vec<volunteer::Model>, DbErr> {
    volunteer::Entity::find()
        .filter(serving(vec![helpline_id]))
        .order_by_asc(volunteer::Column::Id)
        .all(db)
        .await
}

pub async fn delete(db: &DatabaseConnection, id: VolunteerId) -> Result<bool, DbErr> {
    let gone = volunteer::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0;
    Ok(gone)
}

/// A volunteer's sign-offs with their topics, in topic order.
pub async fn signoffs(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
) -> Result<Vec<(topic_signoff::Model, topic::Model)>, DbErr> {
    let rows = topic_signoff::Entity::find()
        .filter(topic_signoff::Column::VolunteerId.eq(volunteer_id))
        .order_by_asc(topic_signoff::Column::TopicId)
        .all(db)
        .await?;
    let topic_ids: Vec<TopicId> = rows.iter().map(|r| r.topic_id).collect();
    let topics = topic::Entity::find()
        .filter(topic::Column::Id.is_in(topic_ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|s| {
            topics
                .iter()
                .find(|t| t.id == s.topic_id)
                .cloned()
                .map(|t| (s, t))
        })
        .collect())
}

/// The topic ids each volunteer in `volunteer_ids` is signed off for.
pub async fn signed_off_topics(
    db: &impl ConnectionTrait,
    volunteer_ids: Vec<VolunteerId>,
) -> Result<Vec<(VolunteerId, TopicId)>, DbErr> {
    topic_signoff::Entity::find()
        .select_only()
        .column(topic_signoff::Column::VolunteerId)
        .column(topic_signoff::Column::TopicId)
        .filter(topic_signoff::Column::VolunteerId.is_in(volunteer_ids))
        .into_tuple()
        .all(db)
        .await
}

/// Signs a volunteer off as ready for a topic (again, if already: who and when are renewed).
pub async fn sign_off(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
    topic_id: TopicId,
    by_user: UserId,
    now: DateTime<Utc>,
) -> Result<topic_signoff::Model, DbErr> {
    let row = topic_signoff::ActiveModel {
        volunteer_id: Set(volunteer_id),
        topic_id: Set(topic_id),
        signed_off_by: Set(Some(by_user)),
        signed_off_at: Set(now),
        ..Default::default()
    };
    topic_signoff::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                topic_signoff::Column::VolunteerId,
                topic_signoff::Column::TopicId,
            ])
            .update_columns([
                topic_signoff::Column::SignedOffBy,
                topic_signoff::Column::SignedOffAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    super::rota_history::record(db, &[volunteer_id], now).await?;
    topic_signoff::Entity::find()
        .filter(topic_signoff::Column::VolunteerId.eq(volunteer_id))
        .filter(topic_signoff::Column::TopicId.eq(topic_id))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("sign-off just written".into()))
}

pub async fn revoke_sign_off(
    db: &DatabaseConnection,
    volunteer_id: VolunteerId,
    topic_id: TopicId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let gone = super::delete_owned::<topic_signoff::Entity>(
        db,
        (topic_signoff::Column::VolunteerId, volunteer_id),
        (topic_signoff::Column::TopicId, topic_id),
    )
    .await?;
    if gone {
        super::rota_history::record(db, &[volunteer_id], now).await?;
    }
    Ok(gone)
}

/// The names of `ids`, for pages that tell who was who.
pub async fn names_of(
    db: &impl ConnectionTrait,
    ids: Vec<VolunteerId>,
) -> Result<std::collections::HashMap<VolunteerId, String>, DbErr> {
    let pairs: Vec<(VolunteerId, String)> = volunteer::Entity::find()
        .select_only()
        .column(volunteer::Column::Id)
        .column(volunteer::Column::Name)
        .filter(volunteer::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(pairs.into_iter().collect())
}
