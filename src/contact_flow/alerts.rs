//! Alerts to the supervisors on call: queued in the outbox with the change that raises
//! them, so an alert is sent exactly when that change is committed.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use serde_json::json;

use crate::domain::contact::Alert;
use crate::domain::on_call::{SafeguardingRecipients, safeguarding_recipients};
use crate::secrets::Vault;
use crate::storage::contacts::{self, Event, EventKind};
use crate::storage::entities::{contact, user};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::{rota, users};

/// Queues the alert, if any, that `ended`'s outcome raises (a voicemail, a call or a text
/// conversation nobody took).
pub async fn alert_after_end(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    ended: &contact::Model,
    helpline_name: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let alert = ended.outcome.and_then(Alert::after);
    if let Some(alert) = alert {
        alert_on_call(txn, vault, ended, helpline_name, alert, at).await?;
    }
    Ok(())
}

/// Queues `alert` about `contact` for each supervisor on call for its helpline who has a
/// phone; returns how many were queued. Sent from the number the contact reached. A
/// safeguarding alert that nobody on call can receive goes to every supervisor of the
/// helpline and every administrator with a phone; if even they cannot be reached, the
/// contact's log and the server's log say so.
pub async fn alert_on_call(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    contact: &contact::Model,
    helpline_name: &str,
    alert: Alert,
    at: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let on_call: Vec<user::Model> = rota::on_call_at(txn, contact.helpline_id, at)
        .await?
        .into_iter()
        .map(|(user, _)| user)
        .filter(|user| users::phone_of(vault, user).is_some())
        .collect();
    if !alert.is_safeguarding() {
        return queue(txn, vault, contact, helpline_name, alert, &on_call, at).await;
    }
    // The wider circle is read only when nobody on call can be reached.
    let overseers = if on_call.is_empty() {
        users::reachable_overseers(txn, contact.helpline_id).await?
    } else {
        Vec::new()
    };
    let ids = |people: &[user::Model]| people.iter().map(|u| u.id).collect::<Vec<_>>();
    let recipients = safeguarding_recipients(&ids(&on_call), &ids(&overseers));
    match &recipients {
        SafeguardingRecipients::OnCall(_) => {
            queue(txn, vault, contact, helpline_name, alert, &on_call, at).await
        }
        SafeguardingRecipients::Escalated(users) => {
            tracing::warn!(
                contact = %contact.id,
                helpline = %contact.helpline_id,
                "no supervisor on call can receive a safeguarding alert: sent to every supervisor and administrator with a phone"
            );
            let event = Event::once(at, EventKind::SafeguardingEscalated)
                .detail(json!({ "reason": "no supervisor on call with a phone", "users": users }));
            contacts::record_event(txn, contact.id, event).await?;
            queue(txn, vault, contact, helpline_name, alert, &overseers, at).await
        }
        SafeguardingRecipients::Nobody => {
            tracing::error!(
                contact = %contact.id,
                helpline = %contact.helpline_id,
                "a safeguarding concern reached nobody by text: no supervisor or administrator has a phone; it waits in the review queue"
            );
            let event = Event::once(at, EventKind::SafeguardingUnreached).detail(json!({
                "reason": "no supervisor on call, and no supervisor or administrator with a phone",
            }));
            contacts::record_event(txn, contact.id, event).await?;
            Ok(0)
        }
    }
}

/// Queues `alert` for each of `people` who has a phone; returns how many.
async fn queue(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    contact: &contact::Model,
    helpline_name: &str,
    alert: Alert,
    people: &[user::Model],
    at: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let mut queued = 0;
    for phone in people
        .iter()
        .filter_map(|user| users::phone_of(vault, user))
    {
        let body = alert.text(helpline_name, contact.id);
        let from = contact.dialed_number.clone();
        let message =
            NewMessage::to_phone(vault, &phone, from, alert.purpose(), body).about(contact.id);
        outbox::enqueue(txn, vault, message, at).await?;
        queued += 1;
    }
    Ok(queued)
}
