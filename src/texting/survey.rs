//! Asking a texter afterwards: once a conversation a volunteer answered has closed, a
//! helpline that asks callers afterwards texts the peer-support question, then its own;
//! a reply of just 1, 2 or 3 soon after is the answer, not a new conversation. Nothing
//! waits on an answer, and a texter who opted out is never asked.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseTransaction, DbErr};
use serde_json::json;

use super::{Conversation, Inbound};
use crate::domain::survey::{self, SurveyAnswer};
use crate::secrets::Vault;
use crate::storage::contacts::{self, Event, EventKind};
use crate::storage::directory::Listing;
use crate::storage::entities::contact;
use crate::storage::{conversations, surveys};

/// Outbox purpose of the questions and the thanks.
const SURVEY: &str = "texter_survey";
/// How long after a conversation closed a bare 1, 2 or 3 answers its question.
const ANSWER_WINDOW: Duration = Duration::hours(2);

/// After `conversation` closed: the first question, if the helpline asks and a volunteer
/// took the conversation.
pub(super) async fn ask_first(
    vault: &Vault,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let asks = conversation.settings.callers.survey_enabled;
    if asks && conversation.contact.answered_by.is_some() {
        ask(vault, txn, conversation, 1, now).await?;
    }
    Ok(())
}

/// Texts question `number`; false when there is no such question.
async fn ask(
    vault: &Vault,
    txn: &DatabaseTransaction,
    conversation: &Conversation,
    number: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(text) = survey::question(&conversation.settings.callers, number) else {
        return Ok(false);
    };
    let body = survey::sms_question(&conversation.helpline.name, &text, number == 1);
    conversation
        .write_to_texter(vault, txn, SURVEY, body, now)
        .await?;
    let event = Event::once(now, EventKind::SurveyAsked)
        .keyed(format!("survey_asked:{number}"))
        .detail(json!({"question": number}));
    contacts::record_event(txn, conversation.contact.id, event).await?;
    Ok(true)
}

/// A texter's message while no conversation is open: when it is just 1, 2 or 3 and their
/// last conversation's latest question, asked within the answer window, is unanswered,
/// it is that answer (recorded, then the next question or thanks). True when it was.
pub(super) async fn take_answer(
    vault: &Vault,
    txn: &DatabaseTransaction,
    listing: &Listing,
    texter_hashes: &[String],
    reply: &Inbound,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(answer) = SurveyAnswer::from_digits(&reply.body) else {
        return Ok(false);
    };
    let since = now - ANSWER_WINDOW;
    let Some(last) = conversations::closed_since(txn, listing.row.id, texter_hashes, since).await?
    else {
        return Ok(false);
    };
    // A repeated delivery of a reply already taken as an answer changes nothing.
    let reply_key = format!("survey_reply:{}", reply.message_sid);
    if contacts::event_by_key(txn, last.id, &reply_key)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let Some(number) = last_question(txn, &last).await? else {
        return Ok(false);
    };
    let answered = surveys::of_contact(txn, last.id).await?;
    if answered.iter().any(|a| a.question == number) {
        return Ok(false);
    }
    let conversation = Conversation::of(last, listing, listing.settings()?);
    let Some(text) = survey::question(&conversation.settings.callers, number) else {
        return Ok(false);
    };
    surveys::record(txn, conversation.contact.id, number, &text, answer, now).await?;
    let taken = Event::once(now, EventKind::SurveyAnswered)
        .keyed(reply_key)
        .detail(json!({"question": number}));
    contacts::record_event(txn, conversation.contact.id, taken).await?;
    if !ask(vault, txn, &conversation, number + 1, now).await? {
        let thanks = survey::SMS_THANKS.to_owned();
        conversation
            .write_to_texter(vault, txn, SURVEY, thanks, now)
            .await?;
    }
    Ok(true)
}

/// The number of the last question texted after `conversation`, if any.
async fn last_question(
    txn: &DatabaseTransaction,
    conversation: &contact::Model,
) -> Result<Option<i32>, DbErr> {
    let asked = contacts::latest_event(txn, conversation.id, EventKind::SurveyAsked).await?;
    Ok(asked
        .and_then(|event| event.detail)
        .and_then(|detail| serde_json::from_str::<serde_json::Value>(&detail).ok())
        .and_then(|detail| detail["question"].as_i64())
        .and_then(|n| i32::try_from(n).ok()))
}
