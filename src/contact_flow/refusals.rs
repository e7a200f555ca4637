//! What Twilio refusing a message means, whether it says so when peerline sends it or later
//! in a delivery report: the refusal goes on the contact's timeline, where supervisors
//! see it; an opted-out recipient (error 21610) is recorded as opted out, so nothing more
//! is queued to them (a volunteer's phone lets go of its conversations); and an offer of a conversation that never reached its volunteer
//! passes to the next one at the conversations job's next pass.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;

use crate::domain::phone::E164;
use crate::secrets::Vault;
use crate::storage::contacts::{self, Event, EventKind};
use crate::storage::entities::outbox_message;
use crate::storage::{self, conversations, opt_outs, volunteers};
use crate::texting;

/// Twilio's error for a recipient who replied STOP (or END...) to this sender.
pub const OPTED_OUT: i64 = 21610;
/// The purpose of a text offering a conversation to a volunteer.
const OFFER: &str = "volunteer_offer";

/// Records Twilio's refusal (`code`) of `message` to `to`.
pub async fn record(
    db: &DatabaseConnection,
    vault: &Vault,
    message: &outbox_message::Model,
    to: &E164,
    code: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if code == OPTED_OUT {
        let txn = storage::write_transaction(db).await?;
        opt_outs::opt_out(&txn, vault, to, &message.from_number, now).await?;
        // A volunteer's phone lets go of the conversations it held through that number.
        if let Some(volunteer) = volunteers::by_phone(&txn, vault, to).await? {
            let number = &message.from_number;
            texting::hand_back::let_go(&txn, vault, volunteer.id, number, now).await?;
        }
        txn.commit().await?;
    }
    // An offer the volunteer can never read passes on now, not when it would have run out.
    if let (Some(contact_id), OFFER) = (message.contact_id, message.purpose.as_str()) {
        conversations::offer_due_now(db, contact_id, message.created_at, now).await?;
    }
    if let Some(contact_id) = message.contact_id {
        let event = Event::once(now, EventKind::MessageRefused)
            .keyed(format!("message_refused:{}", message.id))
            .detail(json!({
                "outbox_id": message.id,
                "purpose": message.purpose,
                "to": message.to_hint,
                "code": code,
            }));
        contacts::record_event(db, contact_id, event).await?;
    }
    Ok(())
}
