//! The transcript of a text conversation: every message received (from the texter or the
//! volunteer) and every message peerline wrote itself, each linked to the outbox row that
//! carried it on, whose delivery status Twilio reports. Inbound messages are keyed by
//! their MessageSid, so a repeated webhook adds nothing.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr, sea_query::OnConflict,
};

use super::entities::{Sealed, message};
use crate::domain::ids::{ContactId, VolunteerId};
use crate::secrets::Vault;

/// Who wrote a message, or who it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Texter,
    Volunteer,
    Supervisor,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Texter => "texter",
            Role::Volunteer => "volunteer",
            Role::Supervisor => "supervisor",
            Role::System => "system",
        }
    }
}

pub const INBOUND: &str = "inbound";
pub const OUTBOUND: &str = "outbound";

/// A message peerline received.
pub struct Received<'a> {
    pub contact_id: ContactId,
    /// Who it is for: the other side, or `System` for a keyword or a menu answer.
    pub recipient: Role,
    pub at: DateTime<Utc>,
    pub sender: Role,
    pub volunteer_id: Option<VolunteerId>,
    pub message_sid: &'a str,
    pub body: &'a str,
    pub media_count: i32,
}

/// Logs a received message unless its MessageSid is already logged; `None` for a repeat.
/// The contact a message with this Twilio sid belongs to, if it was taken in.
pub async fn contact_of(db: &impl ConnectionTrait, sid: &str) -> Result<Option<ContactId>, DbErr> {
    Ok(message::Entity::find()
        .filter(message::Column::ProviderSid.eq(sid))
        .one(db)
        .await?
        .map(|m| m.contact_id))
}

pub async fn record_received(
    db: &impl ConnectionTrait,
    vault: &Vault,
    received: Received<'_>,
) -> Result<Option<message::Model>, DbErr> {
    let recipient = received.recipient;
    let row = message::ActiveModel {
        contact_id: Set(received.contact_id),
        at: Set(received.at),
        direction: Set(INBOUND.to_owned()),
        sender_role: Set(received.sender.as_str().to_owned()),
        recipient_role: Set(recipient.as_str().to_owned()),
        volunteer_id: Set(received.volunteer_id),
        provider_sid: Set(Some(received.message_sid.to_owned())),
        body: Set(Some(Sealed(vault.seal_text(received.body)))),
        media_count: Set(received.media_count),
        relayed: Set(false),
        ..Default::default()
    };
    let inserted = message::Entity::insert(row)
        .on_conflict(
            OnConflict::column(message::Column::ProviderSid)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    message::Entity::find()
        .filter(message::Column::ProviderSid.eq(received.message_sid))
        .one(db)
        .await
}

/// Records that a received message was passed on in the outbox row `outbox_id`.
pub async fn mark_relayed(
    db: &impl ConnectionTrait,
    message_id: i32,
    outbox_id: i32,
) -> Result<(), DbErr> {
    message::Entity::update_many()
        .col_expr(message::Column::Relayed, Expr::value(true))
        .col_expr(message::Column::OutboxId, Expr::value(outbox_id))
        .filter(message::Column::Id.eq(message_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A message peerline wrote (acknowledgement, offer, notice), sent as `outbox_id`.
pub struct Written<'a> {
    pub contact_id: ContactId,
    pub recipient: Role,
    pub volunteer_id: Option<VolunteerId>,
    pub body: &'a str,
    pub outbox_id: i32,
    pub at: DateTime<Utc>,
}

/// Logs a message peerline wrote.
pub async fn record_written(
    db: &impl ConnectionTrait,
    vault: &Vault,
    written: Written<'_>,
) -> Result<(), DbErr> {
    message::ActiveModel {
        contact_id: Set(written.contact_id),
        at: Set(written.at),
        direction: Set(OUTBOUND.to_owned()),
        sender_role: Set(Role::System.as_str().to_owned()),
        recipient_role: Set(written.recipient.as_str().to_owned()),
        volunteer_id: Set(written.volunteer_id),
        body: Set(Some(Sealed(vault.seal_text(written.body)))),
        media_count: Set(0),
        relayed: Set(true),
        outbox_id: Set(Some(written.outbox_id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A message's body as written; empty once erased (or if it cannot be opened).
pub fn body_of(vault: &Vault, message: &message::Model) -> String {
    message
        .body
        .as_ref()
        .and_then(|sealed| vault.open_text(&sealed.0))
        .unwrap_or_default()
}

/// The texter's messages in a conversation since `since`.
pub async fn texter_messages_since(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    message::Entity::find()
        .filter(message::Column::ContactId.eq(contact_id))
        .filter(message::Column::SenderRole.eq(Role::Texter.as_str()))
        .filter(message::Column::At.gte(since))
        .count(db)
        .await
}

/// The whole transcript, oldest first.
pub async fn transcript(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::ContactId.eq(contact_id))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
}

/// The texter's conversation messages (not keywords or menu answers), oldest first, at
/// most the latest `limit`.
pub async fn texter_conversation(
    db: &impl ConnectionTrait,
    contact_id: ContactId,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut latest = message::Entity::find()
        .filter(message::Column::ContactId.eq(contact_id))
        .filter(message::Column::SenderRole.eq(Role::Texter.as_str()))
        .filter(message::Column::RecipientRole.eq(Role::Volunteer.as_str()))
        .order_by_desc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    latest.reverse();
    Ok(latest)
}
