//! Erasing what identifies a caller once a contact is older than its helpline keeps it,
//! or when a caller asks: their encrypted number and keyed hash, the message bodies,
//! the volunteer's notes, supervisors' free text and the voicemail reference. The
//! contact's non-identifying facts (times, topic, outcome, durations, tier) stay, so the
//! reports still add up. Contacts are erased in batches, each batch in one transaction;
//! on PostgreSQL the batch's rows are locked with SKIP LOCKED, so several servers purging
//! at once share the work and erase each contact once.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType},
};

use super::entities::{
    contact, contact_flag, contact_report, debrief, message, outbox_message, review,
};
use super::outbox::OutboxState;
use super::write_transaction;
use crate::domain::ids::{ContactId, HelplineId};

/// What a contact's caller identity reads once erased.
pub const ERASED: &str = "erased";
const BATCH: u64 = 500;

/// Erases every ended, not yet erased contact matching `which`; returns how many.
pub async fn erase_where(
    db: &DatabaseConnection,
    which: Condition,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut erased = 0;
    loop {
        let batch = erase_batch(db, which.clone(), now).await?;
        erased += batch;
        if batch < BATCH {
            return Ok(erased);
        }
    }
}

/// Contacts of `helpline_id` received before `cutoff`.
pub fn older_than(helpline_id: HelplineId, cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(contact::Column::HelplineId.eq(helpline_id))
        .add(contact::Column::ReceivedAt.lt(cutoff))
}

/// Every contact of the caller with this number hash, at any helpline.
pub fn of_caller(number_hashes: &[String]) -> Condition {
    Condition::all().add(contact::Column::CallerHash.is_in(number_hashes.to_vec()))
}

/// How many of the caller's contacts are still open (not erased until they end).
pub async fn open_contacts_of(
    db: &impl ConnectionTrait,
    number_hashes: &[String],
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    contact::Entity::find()
        .filter(of_caller(number_hashes))
        .filter(contact::Column::EndedAt.is_null())
        .count(db)
        .await
}

async fn erase_batch(
    db: &DatabaseConnection,
    which: Condition,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = write_transaction(db).await?;
    let mut pick = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(which)
        .filter(contact::Column::ErasedAt.is_null())
        .filter(contact::Column::EndedAt.is_not_null())
        .order_by_asc(contact::Column::Id)
        .limit(BATCH);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let ids: Vec<ContactId> = pick.into_tuple().all(&txn).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    contact::Entity::update_many()
        .col_expr(
            contact::Column::CallerEncrypted,
            Expr::value(None::<String>),
        )
        .col_expr(contact::Column::CallerHash, Expr::value(ERASED))
        .col_expr(contact::Column::CallerHint, Expr::value(ERASED))
        .col_expr(contact::Column::RecordingSid, Expr::value(None::<String>))
        .col_expr(contact::Column::RecordingUrl, Expr::value(None::<String>))
        .col_expr(contact::Column::ErasedAt, Expr::value(now))
        .filter(contact::Column::Id.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    message::Entity::update_many()
        .col_expr(message::Column::Body, Expr::value(None::<String>))
        .filter(message::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    contact_report::Entity::update_many()
        .col_expr(contact_report::Column::Notes, Expr::value(None::<String>))
        .filter(contact_report::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    review::Entity::update_many()
        .col_expr(review::Column::Comment, Expr::value(None::<String>))
        .filter(review::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    contact_flag::Entity::update_many()
        .col_expr(contact_flag::Column::Action, Expr::value(None::<String>))
        .filter(contact_flag::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    debrief::Entity::update_many()
        .col_expr(debrief::Column::Notes, Expr::value(None::<String>))
        .filter(debrief::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    // A message not yet sent never will be: it is cancelled. Every message of the contact,
    // whatever became of it, loses its text and its address.
    cancel_unsent(
        &txn,
        outbox_message::Column::ContactId.is_in(ids.clone()),
        now,
    )
    .await?;
    outbox_message::Entity::update_many()
        .col_expr(outbox_message::Column::Body, Expr::value(""))
        .col_expr(outbox_message::Column::ToEncrypted, Expr::value(""))
        .filter(outbox_message::Column::ContactId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}

/// Cancels the messages matching `which` that have not gone yet (waiting, or claimed by a
/// sender: a sender that then finds its claim gone records nothing over the cancellation).
async fn cancel_unsent(
    db: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let cancelled = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(OutboxState::Cancelled),
        )
        .col_expr(outbox_message::Column::Body, Expr::value(""))
        .col_expr(outbox_message::Column::ToEncrypted, Expr::value(""))
        .col_expr(outbox_message::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .filter(outbox_message::Column::Status.is_in([OutboxState::Pending, OutboxState::Sending]))
        .exec(db)
        .await?;
    Ok(cancelled.rows_affected)
}

/// The purposes of the messages that go to the caller or texter themself.
const TO_THE_CALLER: [&str; 2] = ["texter_acknowledgement", "texter_relay"];

/// Cancels every message still to be sent to the caller with this number hash, on the
/// contacts still open (an erased contact's are cancelled as it is erased).
pub async fn cancel_messages_to_caller(
    db: &DatabaseConnection,
    number_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let open = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .filter(of_caller(number_hashes))
        .filter(contact::Column::EndedAt.is_null());
    let which = Condition::all()
        .add(outbox_message::Column::ContactId.in_subquery(sea_orm::QueryTrait::into_query(open)))
        .add(outbox_message::Column::Purpose.is_in(TO_THE_CALLER));
    cancel_unsent(db, which.into(), now).await
}
