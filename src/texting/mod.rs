//! Text conversations: a texter's messages open a conversation, which is offered to one
//! volunteer at a time and relayed both ways through the helpline number. Every step
//! writes its state change and the messages it causes (into the outbox) in one
//! transaction, so a message is queued exactly when its change is committed; inbound
//! messages are keyed by MessageSid, so a repeated webhook changes nothing.

pub(crate) mod hand_back;
mod offers;
mod steps;
mod survey;
mod texter;
mod volunteer;
pub mod wording;

pub use steps::{close_inactive, step_due};
pub use texter::receive_from_texter;
pub use volunteer::receive_from_volunteer;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::contact::{EventKind, Outcome};
use crate::domain::helpline::HelplineSettings;
use crate::domain::ids::{ContactId, VolunteerId};
use crate::domain::phone::E164;
use crate::domain::rota::Channel;
use crate::domain::text_message::sms_parts;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::contacts::{self, Event, Stage};
use crate::storage::directory::Listing;
use crate::storage::entities::{contact, helpline, topic};
use crate::storage::messages::{self, Role, Written};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::{self, Scope, helplines, opt_outs};

/// A message as Twilio delivered it to `/twilio/sms`.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub message_sid: String,
    pub from: E164,
    pub to: E164,
    pub body: String,
    pub media_count: i32,
}

/// Takes in a text: from a volunteer's phone, a reply in their conversations; otherwise a
/// texter's message to the helpline that owns the number.
pub async fn receive(state: &AppState, message: Inbound) -> Result<(), DbErr> {
    let volunteer = crate::storage::volunteers::by_phone(&state.db, &state.vault, &message.from);
    if let Some(volunteer) = volunteer.await? {
        return receive_from_volunteer(state, volunteer, message).await;
    }
    let directory = state.directory.current(&state.db).await?;
    let Some(listing) = directory.by_number(&message.to) else {
        tracing::warn!(to = %message.to.masked(), "a text to a number no helpline uses");
        return Ok(());
    };
    receive_from_texter(state, &listing, message).await
}

/// Logs a text from a sender that is no phone number (an alphanumeric id, a short code,
/// withheld) as a refused contact of the helpline the number belongs to: nobody can text
/// it back, so it is not taken in, but it is never lost without a trace.
pub async fn refuse_sender(
    state: &AppState,
    message_sid: &str,
    sender: &str,
    to: &E164,
) -> Result<(), DbErr> {
    let now = state.clock.now();
    let Some(helpline) = helplines::by_number(&state.db, to).await? else {
        tracing::warn!(to = %to.masked(), "a text to a number no helpline uses");
        return Ok(());
    };
    let reason = if sender.trim().is_empty() {
        "no sender (withheld)"
    } else if sender.chars().all(|c| c.is_ascii_digit()) {
        "a short code, not a phone number"
    } else {
        "a name or code, not a phone number"
    };
    tracing::warn!(
        message_sid,
        reason,
        "a text from a sender nobody can answer; logged, not taken in"
    );
    let txn = storage::write_transaction(&state.db).await?;
    let (contact, created) = contacts::open_call(
        &txn,
        contacts::NewCall {
            channel: Channel::Sms,
            helpline_id: helpline.id,
            call_sid: message_sid.to_owned(),
            dialed_number: to.as_str().to_owned(),
            // One identity per sender id, keyed like every number, so repeats group.
            caller_hash: state.vault.hash_sender(sender),
            caller_encrypted: None,
            caller_hint: crate::secrets::WITHHELD_HINT.to_owned(),
            stage: Stage::Ended,
            outcome: Some(Outcome::RefusedSender),
            received_at: now,
            route_deadline: now,
        },
    )
    .await?;
    if created {
        let event = Event::once(now, EventKind::SenderRefused)
            .detail(serde_json::json!({ "reason": reason }));
        contacts::record_event(&txn, contact.id, event).await?;
    }
    txn.commit().await
}

/// A conversation with its helpline's settings.
pub(crate) struct Conversation {
    pub contact: contact::Model,
    pub helpline: helpline::Model,
    pub settings: HelplineSettings,
    pub topics: Vec<topic::Model>,
}

impl Conversation {
    /// The conversation of `contact`, at the helpline `listing` describes, whose settings
    /// the caller has read (`listing.settings()`) once.
    fn of(contact: contact::Model, listing: &Listing, settings: HelplineSettings) -> Self {
        Self {
            contact,
            helpline: listing.row.clone(),
            settings,
            topics: listing.topics.clone(),
        }
    }

    /// The conversation of `contact`, its helpline taken from this server's directory.
    async fn at(
        state: &AppState,
        db: &impl ConnectionTrait,
        contact: contact::Model,
    ) -> Result<Option<Self>, DbErr> {
        let directory = state.directory.current(db).await?;
        match directory.helpline(contact.helpline_id) {
            Some(listing) => {
                let settings = listing.settings()?;
                Ok(Some(Self::of(contact, &listing, settings)))
            }
            None => Ok(None),
        }
    }

    /// The conversation of `contact`, its helpline read from the database (for work that
    /// runs without a server's state, such as the outbox's refusals).
    async fn load(
        db: &impl ConnectionTrait,
        contact: contact::Model,
    ) -> Result<Option<Self>, DbErr> {
        let Some(helpline) = helplines::get(db, &Scope::All, contact.helpline_id).await? else {
            return Ok(None);
        };
        let settings = helplines::settings_of(&helpline)?;
        let topics = helplines::topics(db, helpline.id).await?;
        Ok(Some(Self {
            contact,
            helpline,
            settings,
            topics,
        }))
    }

    fn reference(&self) -> ContactId {
        self.contact.id
    }

    fn topic_label(&self) -> Option<&str> {
        let id = self.contact.topic_id?;
        self.topics
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.label.as_str())
    }

    /// The topics a texter can choose by number, in number order.
    fn menu(&self) -> Vec<wording::TopicChoice> {
        menu_of(&self.topics)
    }

    fn closes_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.settings.texting.inactivity_timeout()
    }

    /// Queues `body` to the texter from the helpline number, unless the texter opted out
    /// (the carrier would refuse it); the outbox row's id.
    async fn tell_texter(
        &self,
        vault: &Vault,
        txn: &impl ConnectionTrait,
        purpose: &'static str,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<Option<i32>, DbErr> {
        let contact = &self.contact;
        let Some(sealed) = contact.caller_encrypted.clone() else {
            return Ok(None);
        };
        let hashes = vault.caller_hashes(Some(&sealed), &contact.caller_hash);
        if opt_outs::is_opted_out(txn, &hashes, &contact.dialed_number).await? {
            return Ok(None);
        }
        let message = NewMessage {
            contact_id: Some(contact.id),
            purpose,
            to_sealed: sealed,
            to_hint: contact.caller_hint.clone(),
            to_hash: contact.caller_hash.clone(),
            from: contact.dialed_number.clone(),
            body,
        };
        Ok(Some(enqueue_in_parts(txn, vault, message, now).await?))
    }

    /// Queues a message peerline wrote to the texter and logs it in the transcript.
    async fn write_to_texter(
        &self,
        vault: &Vault,
        txn: &impl ConnectionTrait,
        purpose: &'static str,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let logged = body.clone();
        if let Some(id) = self.tell_texter(vault, txn, purpose, body, now).await? {
            let written = Written {
                contact_id: self.contact.id,
                recipient: Role::Texter,
                volunteer_id: None,
                body: &logged,
                outbox_id: id,
                at: now,
            };
            messages::record_written(txn, vault, written).await?;
        }
        Ok(())
    }

    /// Queues `body` to a volunteer's phone from the helpline number.
    async fn tell_volunteer(
        &self,
        state: &AppState,
        txn: &impl ConnectionTrait,
        to: &VolunteerPhone,
        purpose: &'static str,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<i32, DbErr> {
        let from = self.contact.dialed_number.clone();
        let message = NewMessage::to_phone(&state.vault, &to.phone, from, purpose, body)
            .about(self.contact.id);
        enqueue_in_parts(txn, &state.vault, message, now).await
    }

    /// Queues a message peerline wrote to a volunteer and logs it in the transcript.
    async fn write_to_volunteer(
        &self,
        state: &AppState,
        txn: &impl ConnectionTrait,
        to: &VolunteerPhone,
        purpose: &'static str,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let logged = body.clone();
        let id = self
            .tell_volunteer(state, txn, to, purpose, body, now)
            .await?;
        let written = Written {
            contact_id: self.contact.id,
            recipient: Role::Volunteer,
            volunteer_id: Some(to.volunteer_id),
            body: &logged,
            outbox_id: id,
            at: now,
        };
        messages::record_written(txn, &state.vault, written).await
    }
}

/// Queues `message`, in numbered parts when it is longer than Twilio takes (a texter's
/// longest message plus the relay's reference would be refused whole); the first part's
/// outbox id.
async fn enqueue_in_parts(
    txn: &impl ConnectionTrait,
    vault: &Vault,
    message: NewMessage,
    now: DateTime<Utc>,
) -> Result<i32, DbErr> {
    let mut first = None;
    for body in sms_parts(&message.body) {
        let part = NewMessage {
            body,
            to_sealed: message.to_sealed.clone(),
            to_hint: message.to_hint.clone(),
            to_hash: message.to_hash.clone(),
            from: message.from.clone(),
            ..message
        };
        let id = outbox::enqueue(txn, vault, part, now).await?.id;
        first.get_or_insert(id);
    }
    first.ok_or_else(|| DbErr::Custom("an empty message has no part to send".into()))
}

/// A volunteer and the phone peerline texts them on.
#[derive(Debug, Clone)]
pub(crate) struct VolunteerPhone {
    pub volunteer_id: VolunteerId,
    pub phone: E164,
}

pub(crate) fn menu_of(topics: &[topic::Model]) -> Vec<wording::TopicChoice> {
    let mut menu: Vec<wording::TopicChoice> = topics
        .iter()
        .filter_map(|t| {
            Some(wording::TopicChoice {
                digit: t.digit?,
                label: t.label.clone(),
            })
        })
        .collect();
    menu.sort_by_key(|t| t.digit);
    menu
}

/// Outbox purposes: what each queued message is for.
const ACKNOWLEDGEMENT: &str = "texter_acknowledgement";
const HOLDING: &str = "texter_holding";
const HANDED_BACK: &str = "texter_handed_back";
const HELP: &str = "texter_help";
const CLOSING: &str = "texter_closing";
const RELAY_TO_TEXTER: &str = "texter_relay";
const OFFER: &str = "volunteer_offer";
const RELAY_TO_VOLUNTEER: &str = "volunteer_relay";
const NOTICE: &str = "volunteer_notice";
const VOLUNTEER_HELP: &str = "volunteer_help";
