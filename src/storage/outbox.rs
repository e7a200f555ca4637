//! The SMS outbox. A row moves `pending` → `sending` (claimed by one worker) → `sent`,
//! `failed` (Twilio refused it) or `uncertain` (it may have gone: never re-sent), or back
//! to `pending` for a retry Twilio allows. Every move is a conditional update, so two
//! workers on one database never both send a row.

use std::cell::Cell;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};

use super::entities::{Sealed, outbox_message};
use crate::domain::ids::ContactId;
use crate::domain::phone::E164;
use crate::secrets::Vault;

/// Where a message is on its way out.
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
pub enum OutboxState {
    /// Waiting to be sent (or sent again, after a refusal Twilio never processed).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Claimed by one sender until `claimed_until`.
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Twilio refused it for good.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// It may have gone: never sent again.
    #[sea_orm(string_value = "uncertain")]
    Uncertain,
    /// Never to be sent: the contact it belongs to was erased before it went.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// How long a claim lasts: longer than one send can take.
pub const CLAIM: Duration = Duration::minutes(2);

/// A message to send.
pub struct NewMessage {
    pub contact_id: Option<ContactId>,
    /// What it is for, e.g. `voicemail_alert`.
    pub purpose: &'static str,
    /// The recipient, sealed by `Vault::seal`.
    pub to_sealed: String,
    pub to_hint: String,
    /// The recipient's keyed hash (`Vault::hash`): messages to one person are sent
    /// in the order they were queued.
    pub to_hash: String,
    pub from: String,
    pub body: String,
}

impl NewMessage {
    /// A message to `phone` from the helpline number `from`, sealed (with its masked
    /// hint) as every outbox row is; about no contact until [`NewMessage::about`].
    pub fn to_phone(
        vault: &Vault,
        phone: &E164,
        from: impl Into<String>,
        purpose: &'static str,
        body: String,
    ) -> Self {
        Self {
            contact_id: None,
            purpose,
            to_sealed: vault.seal(phone),
            to_hint: phone.masked(),
            to_hash: vault.hash(phone),
            from: from.into(),
            body,
        }
    }

    /// The same message, logged with `contact_id`.
    pub fn about(self, contact_id: ContactId) -> Self {
        Self {
            contact_id: Some(contact_id),
            ..self
        }
    }
}

tokio::task_local! {
    /// Set when the request or pass running in this task queues a message.
    static QUEUED: Cell<bool>;
}

/// Runs `work` and says whether it queued any message, so that the outbox can be woken
/// once the work (and the transaction that queued the message) is done.
pub async fn noting_queued<F: Future>(work: F) -> (F::Output, bool) {
    QUEUED
        .scope(Cell::new(false), async {
            let output = work.await;
            (output, QUEUED.with(Cell::get))
        })
        .await
}

/// Records that this task queued a message. Outside `noting_queued` (a job, a command)
/// nothing is recorded, and the outbox finds the message at its next tick.
fn note_queued() {
    let _ = QUEUED.try_with(|queued| queued.set(true));
}

/// Queues a message; pass the transaction of the change that causes it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    vault: &Vault,
    message: NewMessage,
    now: DateTime<Utc>,
) -> Result<outbox_message::Model, DbErr> {
    let queued = outbox_message::ActiveModel {
        contact_id: Set(message.contact_id),
        purpose: Set(message.purpose.to_owned()),
        to_encrypted: Set(message.to_sealed),
        to_hint: Set(message.to_hint),
        to_hash: Set(Some(message.to_hash)),
        from_number: Set(message.from),
        body: Set(Sealed(vault.seal_text(&message.body))),
        status: Set(OutboxState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    note_queued();
    Ok(queued)
}

/// Every message queued for a contact, oldest first.
pub async fn of_contact(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::ContactId.eq(contact_id))
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await
}

/// Messages due at `now` and not yet sent: how many, and when the oldest was queued.
pub async fn backlog(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
    let (count, oldest): (i64, Option<DateTime<Utc>>) = outbox_message::Entity::find()
        .select_only()
        .column_as(outbox_message::Column::Id.count(), "count")
        .column_as(outbox_message::Column::CreatedAt.min(), "oldest")
        .filter(outbox_message::Column::Status.eq(OutboxState::Pending))
        .filter(outbox_message::Column::NextAttemptAt.lte(now))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok((u64::try_from(count).unwrap_or(0), oldest))
}

/// Claims the oldest message due at `now`, if any; only one worker can win each row. One
/// statement picks the row, locks it (PostgreSQL skips rows another worker holds; SQLite
/// has one writer at a time), marks it as sending and returns it. The row is chosen by a
/// scalar subquery, which PostgreSQL evaluates once: with `IN`, it may run again for
/// each row of the outer scan and claim a second row nobody sends.
pub async fn claim_next(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Option<outbox_message::Model>, DbErr> {
    let oldest_due = outbox_message::Entity::find()
        .select_only()
        .column(outbox_message::Column::Id)
        .filter(outbox_message::Column::Status.eq(OutboxState::Pending))
        .filter(outbox_message::Column::NextAttemptAt.lte(now))
        .filter(no_earlier_message_to_the_same_person())
        .order_by_asc(outbox_message::Column::Id)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_query();
    let oldest_due = Expr::SubQuery(None, Box::new(oldest_due.into()));
    let claimed = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(OutboxState::Sending),
        )
        .col_expr(
            outbox_message::Column::ClaimedUntil,
            Expr::value(now + CLAIM),
        )
        .col_expr(
            outbox_message::Column::Attempts,
            Expr::col(outbox_message::Column::Attempts).add(1),
        )
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(Expr::col(outbox_message::Column::Id).eq(oldest_due))
        .filter(outbox_message::Column::Status.eq(OutboxState::Pending))
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().next())
}

/// A message waits while an earlier one to the same recipient is still to go or going,
/// so that one person's messages arrive in the order they were queued.
fn no_earlier_message_to_the_same_person() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(
        "NOT EXISTS (SELECT 1 FROM outbox_messages earlier \
         WHERE earlier.to_hash = outbox_messages.to_hash \
         AND earlier.id < outbox_messages.id \
         AND earlier.status IN ('pending', 'sending'))",
    )
}

/// Settles a claimed message; `false` if it was no longer claimed.
async fn settle(
    db: &DatabaseConnection,
    id: i32,
    status: OutboxState,
    changes: Vec<(outbox_message::Column, sea_orm::Value)>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Status, Expr::value(status))
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_message::Column::Id.eq(id))
        .filter(outbox_message::Column::Status.eq(OutboxState::Sending));
    for (column, value) in changes {
        update = update.col_expr(column, Expr::value(value));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Purposes whose text is a secret (a sign-in code): forgotten once it has gone.
const SECRET_TEXTS: [&str; 1] = ["sign_in_code"];

pub async fn mark_sent(
    db: &DatabaseConnection,
    message: &outbox_message::Model,
    provider_sid: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let sid = sea_orm::Value::from(provider_sid.to_owned());
    let mut changes = vec![(outbox_message::Column::ProviderSid, sid)];
    if SECRET_TEXTS.contains(&message.purpose.as_str()) {
        changes.push((outbox_message::Column::Body, String::new().into()));
    }
    settle(db, message.id, OutboxState::Sent, changes, now).await
}

pub async fn mark_retry(
    db: &DatabaseConnection,
    id: i32,
    at: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = vec![
        (outbox_message::Column::NextAttemptAt, at.into()),
        (outbox_message::Column::Error, reason.to_owned().into()),
    ];
    settle(db, id, OutboxState::Pending, changes, now).await
}

pub async fn mark_failed(
    db: &DatabaseConnection,
    id: i32,
    code: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = vec![
        (outbox_message::Column::ErrorCode, code.into()),
        (outbox_message::Column::Error, reason.to_owned().into()),
    ];
    settle(db, id, OutboxState::Failed, changes, now).await
}

pub async fn mark_uncertain(
    db: &DatabaseConnection,
    id: i32,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = vec![(outbox_message::Column::Error, reason.to_owned().into())];
    settle(db, id, OutboxState::Uncertain, changes, now).await
}

/// Messages whose worker stopped mid-send (the claim ran out): they may have gone, so they
/// become `uncertain` instead of being sent again. Returns how many.
pub async fn expire_claims(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(OutboxState::Uncertain),
        )
        .col_expr(
            outbox_message::Column::Error,
            Expr::value("the sending server stopped before Twilio answered"),
        )
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_message::Column::Status.eq(OutboxState::Sending))
        .filter(outbox_message::Column::ClaimedUntil.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Records a delivery status Twilio reported for the message with this SID, if it moves
/// the message forward; returns the message (as it was) when it did.
pub async fn record_delivery(
    db: &DatabaseConnection,
    provider_sid: &str,
    status: &str,
    error_code: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<outbox_message::Model>, DbErr> {
    let Some(message) = outbox_message::Entity::find()
        .filter(outbox_message::Column::ProviderSid.eq(provider_sid))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !crate::domain::delivery::advances(message.delivery_status.as_deref(), status) {
        return Ok(None);
    }
    let mut update = outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::DeliveryStatus, Expr::value(status))
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_message::Column::Id.eq(message.id));
    // Compare and set: a concurrent callback that moved it first wins.
    update = match &message.delivery_status {
        Some(seen) => update.filter(outbox_message::Column::DeliveryStatus.eq(seen.as_str())),
        None => update.filter(outbox_message::Column::DeliveryStatus.is_null()),
    };
    if let Some(code) = error_code {
        update = update.col_expr(outbox_message::Column::ErrorCode, Expr::value(code));
    }
    Ok((update.exec(db).await?.rows_affected == 1).then_some(message))
}

/// The id of the newest queued message (0 when there is none).
pub async fn latest_id(db: &DatabaseConnection) -> Result<i32, DbErr> {
    let latest = outbox_message::Entity::find()
        .order_by_desc(outbox_message::Column::Id)
        .one(db)
        .await?;
    Ok(latest.map_or(0, |m| m.id))
}

/// Messages queued after the one with id `after`, oldest first.
pub async fn queued_after(
    db: &DatabaseConnection,
    after: i32,
) -> Result<Vec<outbox_message::Model>, DbErr> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Id.gt(after))
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_that_queues_a_message_says_so() {
        assert_eq!(noting_queued(async { 7 }).await, (7, false));
        assert_eq!(noting_queued(async { note_queued() }).await, ((), true));
        // Outside any request, queueing records nothing and does not fail.
        note_queued();
    }
}
