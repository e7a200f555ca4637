//! A message from a texter: keywords first (never relayed), then the conversation: opened
//! with an acknowledgement, a topic answer, or a message relayed to the volunteer who has
//! it, with the safeguarding check and the per-texter rate limit on the way.

use chrono::Duration;
use sea_orm::DbErr;
use serde_json::json;

use super::offers::offer_next;
use super::steps::{close, notify_holder};
use super::survey;
use super::{ACKNOWLEDGEMENT, Conversation, HELP, Inbound, RELAY_TO_VOLUNTEER, menu_of, wording};
use crate::contact_flow::alerts::alert_on_call;
use crate::domain::contact::{Alert, Outcome};
use crate::domain::supervision::Flag;
use crate::domain::text_message::{self, Keyword};
use crate::state::AppState;
use crate::storage::contacts::{Event, EventKind, Stage, TalkTime};
use crate::storage::conversations::{self, NewConversation};
use crate::storage::directory::Listing;
use crate::storage::messages::{self, Received, Role};
use crate::storage::{self, after_contact, blocklist, opt_outs};

/// How long the texter has to answer the topic menu before the conversation is offered
/// for any topic.
pub const TOPIC_REPLY_WAIT: Duration = Duration::minutes(2);

/// Handles a texter's message to the helpline `listing` describes. Safe to deliver twice:
/// the second delivery of a MessageSid changes nothing and queues nothing.
pub async fn receive_from_texter(
    state: &AppState,
    listing: &Listing,
    inbound: Inbound,
) -> Result<(), DbErr> {
    let now = state.clock.now();
    let (helpline_id, settings) = (listing.row.id, listing.settings()?);
    state.fallbacks.remember(
        &inbound.to,
        settings.fallback_number.as_ref(),
        &settings.texting.crisis_text,
    );
    let texter_hash = state.vault.hash(&inbound.from);
    let menu = menu_of(&listing.topics);
    let new = NewConversation {
        helpline_id,
        message_sid: inbound.message_sid.clone(),
        dialed_number: inbound.to.as_str().to_owned(),
        texter_hash: texter_hash.clone(),
        texter_sealed: state.vault.seal(&inbound.from),
        texter_hint: inbound.from.masked(),
        stage: if menu.len() > 1 {
            Stage::Menu
        } else {
            Stage::Routing
        },
        at: now,
        due: now + TOPIC_REPLY_WAIT,
        closes_at: now + settings.texting.inactivity_timeout(),
    };
    // A read: done before the write lock is taken.
    let texter_hashes = state.vault.hashes(&inbound.from);
    let blocked = blocklist::is_blocked(&state.db, helpline_id, &texter_hashes, now).await?;
    let txn = storage::write_transaction(&state.db).await?;
    if blocked {
        conversations::record_closed(&txn, new, Outcome::RejectedBlocked).await?;
        return txn.commit().await;
    }
    let keyword = text_message::keyword(&inbound.body);
    let number = inbound.to.as_str();
    match keyword {
        Some(Keyword::OptOut) => {
            opt_outs::opt_out(&txn, &state.vault, &inbound.from, number, now).await?;
        }
        Some(Keyword::OptIn) => opt_outs::opt_in(&txn, &state.vault, &inbound.from, number).await?,
        _ => {}
    }
    let existing = conversations::open_for(&txn, helpline_id, &texter_hashes).await?;
    // A bare 1, 2 or 3 soon after a conversation closed answers the question asked then.
    if keyword.is_none()
        && existing.is_none()
        && survey::take_answer(&state.vault, &txn, listing, &texter_hashes, &inbound, now).await?
    {
        return txn.commit().await;
    }
    let (contact, opened) = match (keyword, existing) {
        // Found under either key while the secret key changes.
        (_, Some(open)) => (open, false),
        (None, None) => conversations::open(&txn, new).await?,
        // HELP with no conversation open is answered and logged as a contact of its own
        // (keyed by the MessageSid, so answered once); STOP and START only change the
        // opt-out state.
        (Some(keyword), None) => {
            if keyword == Keyword::Help
                && let Some(contact) =
                    conversations::record_closed(&txn, new, Outcome::HelpOnly).await?
            {
                let conversation = Conversation::of(contact, listing, settings);
                let help = wording::help(&conversation.settings.texting);
                conversation
                    .write_to_texter(&state.vault, &txn, HELP, help, now)
                    .await?;
            }
            return txn.commit().await;
        }
    };
    let conversation = Conversation::of(contact, listing, settings);
    if let Some(keyword) = keyword {
        if !log_control(&state.vault, &txn, &conversation, &inbound, now).await? {
            return txn.rollback().await;
        }
        match keyword {
            Keyword::OptOut => {
                let text = wording::closed_by_texter(conversation.reference());
                notify_holder(state, &txn, &conversation, text, now).await?;
                // The texter had written and, unless a volunteer answered (that outcome
                // stays), reached nobody: a missed contact, not a keyword-only one.
                let outcome = Outcome::Unanswered;
                let talk = TalkTime::UntilNow;
                close(state, &txn, &conversation, outcome, "opted_out", talk, now).await?;
            }
            Keyword::Help => {
                let help = wording::help(&conversation.settings.texting);
                conversation
                    .write_to_texter(&state.vault, &txn, HELP, help, now)
                    .await?;
            }
            Keyword::OptIn => {}
        }
        return txn.commit().await;
    }
    let answers_menu = !opened && conversation.contact.stage == Stage::Menu;
    let chosen = answers_menu
        .then(|| text_message::topic_digit(&inbound.body))
        .flatten()
        .and_then(|digit| conversation.topics.iter().find(|t| t.digit == Some(digit)))
        .map(|t| t.id);
    let recipient = if chosen.is_some() {
        Role::System
    } else {
        Role::Volunteer
    };
    let received = Received {
        contact_id: conversation.contact.id,
        recipient,
        at: now,
        sender: Role::Texter,
        volunteer_id: None,
        message_sid: &inbound.message_sid,
        body: &inbound.body,
        media_count: inbound.media_count,
    };
    let Some(message) = messages::record_received(&txn, &state.vault, received).await? else {
        // A repeated delivery: everything it caused is already committed.
        return txn.rollback().await;
    };
    let mut conversation = conversation;
    let closes_at = conversation.closes_at(now);
    conversations::keep_open_until(&txn, conversation.contact.id, closes_at, now).await?;
    if inbound.media_count > 0 {
        let event = Event::once(now, EventKind::MediaReceived)
            .keyed(format!("media:{}", message.id))
            .detail(json!({"count": inbound.media_count}));
        storage::contacts::record_event(&txn, conversation.contact.id, event).await?;
    }
    check_safeguarding(state, &txn, &conversation, &inbound.body, now).await?;
    if opened {
        storage::contacts::record_event(
            &txn,
            conversation.contact.id,
            Event::once(now, EventKind::Received),
        )
        .await?;
        let ack = wording::acknowledgement(
            &conversation.helpline.name,
            &conversation.menu(),
            &conversation.settings.texting,
        );
        conversation
            .write_to_texter(&state.vault, &txn, ACKNOWLEDGEMENT, ack, now)
            .await?;
        if conversation.contact.stage != Stage::Menu {
            offer_next(state, &txn, &conversation, now).await?;
        }
        return txn.commit().await;
    }
    if answers_menu {
        if let Some(topic_id) = chosen {
            conversations::choose_topic(&txn, conversation.contact.id, topic_id, now).await?;
            conversation.contact.topic_id = Some(topic_id);
        }
        offer_next(state, &txn, &conversation, now).await?;
        return txn.commit().await;
    }
    relay_to_holder(state, &txn, &conversation, &message, now).await?;
    txn.commit().await
}

/// Logs a keyword or other control message on the conversation, for the transcript only;
/// false for a repeated delivery.
async fn log_control(
    vault: &crate::secrets::Vault,
    txn: &sea_orm::DatabaseTransaction,
    conversation: &Conversation,
    inbound: &Inbound,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let received = Received {
        contact_id: conversation.contact.id,
        recipient: Role::System,
        at: now,
        sender: Role::Texter,
        volunteer_id: None,
        message_sid: &inbound.message_sid,
        body: &inbound.body,
        media_count: inbound.media_count,
    };
    Ok(messages::record_received(txn, vault, received)
        .await?
        .is_some())
}

/// Flags the conversation and alerts the supervisors on call the first time a message
/// holds one of the helpline's risk phrases.
async fn check_safeguarding(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    conversation: &Conversation,
    body: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let phrases = &conversation.settings.texting.risk_phrases;
    let Some(phrase) = text_message::risk_phrase(body, phrases) else {
        return Ok(());
    };
    if !conversations::flag_safeguarding(txn, conversation.contact.id, now).await? {
        return Ok(());
    }
    // On the supervisors' review queue too, until one of them resolves it.
    after_contact::raise_flag(txn, conversation.contact.id, Flag::Safeguarding, None, now).await?;
    let name = &conversation.helpline.name;
    let alerted = alert_on_call(
        txn,
        &state.vault,
        &conversation.contact,
        name,
        Alert::Safeguarding,
        now,
    )
    .await?;
    let event = Event::once(now, EventKind::SafeguardingFlagged)
        .detail(json!({"phrase": phrase, "supervisors_alerted": alerted}));
    storage::contacts::record_event(txn, conversation.contact.id, event).await?;
    if alerted == 0 {
        tracing::warn!(
            contact_id = %conversation.contact.id,
            "a conversation was flagged for safeguarding but no supervisor with a phone is on call"
        );
    }
    Ok(())
}

/// Passes the texter's message to the volunteer who holds the conversation (taken or
/// offered), within the texter's rate limit. Held conversations keep it for the offer.
async fn relay_to_holder(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    conversation: &Conversation,
    message: &crate::storage::entities::message::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let Some(holder) = super::steps::holder(state, txn, conversation).await? else {
        return Ok(());
    };
    let limit = u64::try_from(conversation.settings.texting.max_messages_per_minute).unwrap_or(1);
    let recent =
        messages::texter_messages_since(txn, conversation.contact.id, now - Duration::minutes(1))
            .await?;
    if recent > limit {
        let minute = now.timestamp() / 60;
        let event = Event::once(now, EventKind::RateLimited)
            .keyed(format!("rate_limited:{minute}"))
            .detail(json!({"limit_per_minute": limit}));
        storage::contacts::record_event(txn, conversation.contact.id, event).await?;
        return Ok(());
    }
    let body = messages::body_of(&state.vault, message);
    let text = wording::relayed_to_volunteer(conversation.reference(), &body, message.media_count);
    let queued = conversation
        .tell_volunteer(state, txn, &holder, RELAY_TO_VOLUNTEER, text, now)
        .await?;
    messages::mark_relayed(txn, message.id, queued).await
}
