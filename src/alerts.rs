//! Alerts to the supervisors on call: queued in the outbox with the change that raises
//! them, so an alert is sent exactly when that change is committed.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::contact::{Alert, Outcome};
use crate::domain::phone::E164;
use crate::secrets::NumberHasher;
use crate::storage::entities::contact;
use crate::storage::outbox::{self, NewMessage};
use crate::storage::rota;

/// Queues the alert, if any, that `ended`'s outcome raises (a voicemail, a call or a text
/// conversation nobody took).
pub async fn alert_after_end(
    txn: &impl ConnectionTrait,
    numbers: &NumberHasher,
    ended: &contact::Model,
    helpline_name: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let alert = ended
        .outcome
        .as_deref()
        .and_then(Outcome::parse)
        .and_then(Alert::after);
    if let Some(alert) = alert {
        alert_on_call(txn, numbers, ended, helpline_name, alert, at).await?;
    }
    Ok(())
}

/// Queues `alert` about `contact` for each supervisor on call for its helpline who has a
/// phone; returns how many were queued. Sent from the number the contact reached.
pub async fn alert_on_call(
    txn: &impl ConnectionTrait,
    numbers: &NumberHasher,
    contact: &contact::Model,
    helpline_name: &str,
    alert: Alert,
    at: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let mut queued = 0;
    for (supervisor, _) in rota::on_call_at(txn, contact.helpline_id, at).await? {
        let Some(phone) = supervisor
            .phone
            .as_deref()
            .and_then(|p| E164::parse(p).ok())
        else {
            continue;
        };
        let message = NewMessage {
            contact_id: Some(contact.id),
            purpose: alert.purpose(),
            to_sealed: numbers.seal(&phone),
            to_hint: phone.masked(),
            from: contact.dialed_number.clone(),
            body: alert.text(helpline_name, contact.id),
        };
        outbox::enqueue(txn, message, at).await?;
        queued += 1;
    }
    Ok(queued)
}
