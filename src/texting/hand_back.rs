//! A volunteer whose phone no longer takes a helpline number's texts (it opted out: STOP
//! or END texted alone, or Twilio refusing a message with 21610) lets go of the
//! conversations they hold through that number. One they had taken goes back to the
//! queue, to be offered to the next volunteer at the conversations job's next pass; its
//! texter hears that someone else will carry on, and the supervisors on call are told.
//! An offer they had not taken yet passes on at that pass too.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;

use super::{Conversation, HANDED_BACK, wording};
use crate::contact_flow::alerts::alert_on_call;
use crate::domain::contact::Alert;
use crate::domain::ids::VolunteerId;
use crate::secrets::Vault;
use crate::storage::contacts::{self, Event, EventKind, OfferOutcome, Stage};
use crate::storage::{conversations, text_slots};

/// Why the conversations were let go, as the contact log says.
const REASON: &str = "the volunteer's phone no longer receives texts from this number";

/// Lets go of every open conversation `volunteer_id` holds through `helpline_number`.
pub(crate) async fn let_go(
    db: &impl ConnectionTrait,
    vault: &Vault,
    volunteer_id: VolunteerId,
    helpline_number: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut released = 0;
    for contact in conversations::held_by(db, volunteer_id).await? {
        if contact.dialed_number != helpline_number {
            continue;
        }
        let Some(conversation) = Conversation::load(db, contact).await? else {
            continue;
        };
        let taken = conversation.contact.answered_by == Some(volunteer_id);
        let moved = if taken {
            hand_back(db, vault, &conversation, volunteer_id, now).await?
        } else {
            pass_on(db, &conversation, volunteer_id, now).await?
        };
        if moved {
            text_slots::release(db, volunteer_id, conversation.contact.id).await?;
            released += 1;
        }
    }
    if released > 0 {
        tracing::info!(
            volunteer = %volunteer_id,
            released,
            "a phone that opted out let go of its text conversations"
        );
    }
    Ok(())
}

/// A conversation the volunteer had taken goes back to the queue.
async fn hand_back(
    db: &impl ConnectionTrait,
    vault: &Vault,
    conversation: &Conversation,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let contact = &conversation.contact;
    if !conversations::return_to_queue(db, contact.id, volunteer_id, now).await? {
        return Ok(false);
    }
    let event = Event::once(now, EventKind::HandedBack)
        .keyed(format!("handed_back:{volunteer_id}"))
        .volunteer(volunteer_id)
        .detail(json!({ "reason": REASON }));
    contacts::record_event(db, contact.id, event).await?;
    let text = wording::handed_back(&conversation.settings.texting);
    conversation
        .write_to_texter(vault, db, HANDED_BACK, text, now)
        .await?;
    let helpline = &conversation.helpline.name;
    alert_on_call(db, vault, contact, helpline, Alert::HandedBack, now).await?;
    Ok(true)
}

/// An offer the volunteer had not taken yet is settled as failed and passes on.
async fn pass_on(
    db: &impl ConnectionTrait,
    conversation: &Conversation,
    volunteer_id: VolunteerId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let contact = &conversation.contact;
    let Some(offer) = conversations::pending_offer(db, contact.id)
        .await?
        .filter(|offer| offer.volunteer_id == volunteer_id)
    else {
        return Ok(false);
    };
    if !contacts::settle_offer(db, offer.id, OfferOutcome::Failed, now).await? {
        return Ok(false);
    }
    let event = Event::once(now, EventKind::OfferMissed)
        .keyed(format!("offer_outcome:{}", offer.id))
        .volunteer(volunteer_id)
        .detail(json!({ "outcome": OfferOutcome::Failed.as_str(), "reason": REASON }));
    contacts::record_event(db, contact.id, event).await?;
    conversations::set_step(db, contact.id, Stage::Holding, now, now).await?;
    Ok(true)
}
