//! How contacts are shown: a supervisor's summary and full record, and a volunteer's own
//! masked view. None of them holds the caller's number; revealing it is its own action.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::callback::{CallbackKind, CallbackState};
use crate::domain::contact::{EventKind, Outcome};
use crate::domain::ids::{ContactId, HelplineId, TopicId, UserId, VolunteerId};
use crate::domain::rota::Channel;
use crate::domain::routing::Tier;
use crate::domain::supervision::{Flag, ReviewState, masked_label};
use crate::domain::survey::SurveyAnswer;
use crate::secrets::Vault;
use crate::storage::contacts::{OfferOutcome, Stage};
use crate::storage::entities::{
    Sealed, callback, contact, contact_event, contact_flag, contact_report, message, offer,
    outbox_message, review, survey_answer,
};
use crate::storage::outbox::OutboxState;

/// A contact in a supervisor's list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactSummary {
    pub id: ContactId,
    pub helpline_id: HelplineId,
    pub channel: Channel,
    pub topic_id: Option<TopicId>,
    /// The caller or texter as a masked label, e.g. `caller ...47`.
    pub caller: String,
    pub received_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_secs: Option<i32>,
    pub talk_secs: Option<i32>,
    pub outcome: Option<Outcome>,
    pub peer_match_tier: Option<Tier>,
    pub answered_by: Option<VolunteerId>,
    pub review_state: ReviewState,
    /// Every flag raised on it.
    pub flags: Vec<Flag>,
    /// The flags not yet resolved.
    pub open_flags: Vec<Flag>,
}

/// The flags of each contact, all and open, from its flag rows.
pub fn flags_by_contact(
    rows: &[contact_flag::Model],
) -> HashMap<ContactId, (Vec<Flag>, Vec<Flag>)> {
    let mut by_contact: HashMap<ContactId, (Vec<Flag>, Vec<Flag>)> = HashMap::new();
    for row in rows {
        let flag = row.flag;
        let entry = by_contact.entry(row.contact_id).or_default();
        entry.0.push(flag);
        if row.resolved_at.is_none() {
            entry.1.push(flag);
        }
    }
    by_contact
}

pub fn summary(row: contact::Model, flags: Option<&(Vec<Flag>, Vec<Flag>)>) -> ContactSummary {
    let (flags, open_flags) = flags.cloned().unwrap_or_default();
    ContactSummary {
        id: row.id,
        helpline_id: row.helpline_id,
        caller: masked_label(row.channel, &row.caller_hint),
        channel: row.channel,
        topic_id: row.topic_id,
        received_at: row.received_at,
        answered_at: row.answered_at,
        ended_at: row.ended_at,
        wait_secs: row.wait_secs,
        talk_secs: row.talk_secs,
        outcome: row.outcome,
        peer_match_tier: row.peer_match_tier,
        answered_by: row.answered_by,
        review_state: row.review_state,
        flags,
        open_flags,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub volunteer_id: Option<VolunteerId>,
    /// Details of the event; a `routed` event holds the routing trace: who was
    /// considered, at which tier, and why others were not offered the contact.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

pub fn event(row: contact_event::Model) -> EventView {
    EventView {
        at: row.at,
        kind: row.kind,
        volunteer_id: row.volunteer_id,
        detail: row
            .detail
            .as_deref()
            .map(|d| serde_json::from_str(d).unwrap_or_else(|_| d.into())),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub volunteer_id: VolunteerId,
    pub round: i32,
    pub tier: Tier,
    pub offered_at: DateTime<Utc>,
    pub outcome: Option<OfferOutcome>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub fn offer(row: offer::Model) -> OfferView {
    OfferView {
        volunteer_id: row.volunteer_id,
        round: row.round,
        tier: row.tier,
        offered_at: row.offered_at,
        outcome: row.outcome,
        accepted_at: row.accepted_at,
        ended_at: row.ended_at,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub at: DateTime<Utc>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// `texter`, `volunteer`, `supervisor` or `system`.
    pub sender: String,
    pub recipient: String,
    pub volunteer_id: Option<VolunteerId>,
    /// Absent once erased under the retention policy.
    pub body: Option<String>,
    pub media_count: i32,
    pub relayed: bool,
}

pub fn message(vault: &Vault, row: message::Model) -> MessageView {
    MessageView {
        body: Sealed::open_some(vault, row.body.as_ref()),
        at: row.at,
        direction: row.direction,
        sender: row.sender_role,
        recipient: row.recipient_role,
        volunteer_id: row.volunteer_id,
        media_count: row.media_count,
        relayed: row.relayed,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportVersionView {
    pub version: i32,
    pub volunteer_id: VolunteerId,
    pub notes: Option<String>,
    pub outcome_tags: Vec<String>,
    pub flags: Vec<Flag>,
    pub created_at: DateTime<Utc>,
}

pub fn report_version(vault: &Vault, row: contact_report::Model) -> ReportVersionView {
    ReportVersionView {
        version: row.version,
        volunteer_id: row.volunteer_id,
        notes: Sealed::open_some(vault, row.notes.as_ref()),
        outcome_tags: serde_json::from_str(&row.outcome_tags).unwrap_or_default(),
        flags: serde_json::from_str(&row.flags).unwrap_or_default(),
        created_at: row.created_at,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub flag: Flag,
    pub raised_at: DateTime<Utc>,
    /// The volunteer who raised it; absent when peerline raised it (a risk phrase).
    pub raised_by: Option<VolunteerId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    /// What the supervisor did about it.
    pub action: Option<String>,
}

pub fn flag(vault: &Vault, row: contact_flag::Model) -> Option<FlagView> {
    Some(FlagView {
        action: Sealed::open_some(vault, row.action.as_ref()),
        flag: row.flag,
        raised_at: row.raised_at,
        raised_by: row.raised_by,
        resolved_at: row.resolved_at,
        resolved_by: row.resolved_by,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub at: DateTime<Utc>,
    pub user_id: UserId,
    pub action: String,
    pub flag: Option<String>,
    pub comment: Option<String>,
}

pub fn review(vault: &Vault, row: review::Model) -> ReviewView {
    ReviewView {
        comment: Sealed::open_some(vault, row.comment.as_ref()),
        at: row.at,
        user_id: row.user_id,
        action: row.action,
        flag: row.flag,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordingView {
    pub sid: String,
    pub url: Option<String>,
    pub duration_secs: Option<i32>,
}

/// A contact's full record, for its helpline's supervisors.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactDetail {
    #[serde(flatten)]
    pub summary: ContactSummary,
    pub language: Option<String>,
    pub stage: Stage,
    /// The voicemail left, if any (absent once erased under the retention policy).
    pub recording: Option<RecordingView>,
    pub events: Vec<EventView>,
    pub offers: Vec<OfferView>,
    /// The text conversation, oldest first (empty for calls).
    pub transcript: Vec<MessageView>,
    /// Every version of the volunteer's report, oldest first.
    pub reports: Vec<ReportVersionView>,
    pub flag_history: Vec<FlagView>,
    pub reviews: Vec<ReviewView>,
    /// Every text peerline queued for this contact (to the texter, volunteers or
    /// supervisors) and what became of it: a refusal or a failed delivery shows here.
    pub deliveries: Vec<DeliveryView>,
    /// The caller's answers to the questions after their call (supervisors only: a
    /// volunteer sees answers only as the helpline's figures).
    pub survey: Vec<SurveyAnswerView>,
    /// The callback, when the caller asked to be called back or a supervisor returned
    /// their call.
    pub callback: Option<CallbackView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallbackView {
    pub kind: CallbackKind,
    pub state: CallbackState,
    pub requested_at: DateTime<Utc>,
    /// When the first volunteer was rung for it.
    pub first_ring_at: Option<DateTime<Utc>>,
    /// Times the caller's phone was dialled.
    pub caller_attempts: i32,
    /// The caller said a text is safe if they cannot be reached.
    pub texts_ok: bool,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// For a returned call: why, as the supervisor gave it.
    pub reason: Option<String>,
}

pub fn callback(vault: &Vault, row: callback::Model) -> CallbackView {
    CallbackView {
        reason: Sealed::open_some(vault, row.reason.as_ref()),
        kind: row.kind,
        state: row.state,
        requested_at: row.requested_at,
        first_ring_at: row.first_ring_at,
        caller_attempts: row.caller_attempts,
        texts_ok: row.texts_ok,
        expires_at: row.expires_at,
        ended_at: row.ended_at,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyAnswerView {
    pub question: String,
    pub answer: SurveyAnswer,
    pub answered_at: DateTime<Utc>,
}

pub fn survey_answer(row: survey_answer::Model) -> SurveyAnswerView {
    SurveyAnswerView {
        question: row.question_text,
        answer: row.answer,
        answered_at: row.answered_at,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// What it was for, e.g. `volunteer_offer` or `texter_relay`.
    pub purpose: String,
    /// The recipient, masked (`...47`).
    pub to: String,
    pub queued_at: DateTime<Utc>,
    pub state: OutboxState,
    pub attempts: i32,
    /// Twilio's last delivery report (`delivered`, `undelivered`, `failed`...).
    pub delivery_status: Option<String>,
    /// Twilio's error code, e.g. 21610 for a recipient who opted out.
    pub error_code: Option<i64>,
    pub error: Option<String>,
}

pub fn delivery(row: outbox_message::Model) -> DeliveryView {
    DeliveryView {
        purpose: row.purpose,
        to: row.to_hint,
        queued_at: row.created_at,
        state: row.status,
        attempts: row.attempts,
        delivery_status: row.delivery_status,
        error_code: row.error_code,
        error: row.error,
    }
}

pub fn recording(row: &contact::Model) -> Option<RecordingView> {
    row.recording_sid.as_ref().map(|sid| RecordingView {
        sid: sid.clone(),
        url: row.recording_url.clone(),
        duration_secs: row.recording_secs,
    })
}

/// A contact in a volunteer's own list: no number, no other volunteer's names.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyContact {
    pub id: ContactId,
    pub helpline_id: HelplineId,
    pub channel: Channel,
    pub topic_id: Option<TopicId>,
    /// The caller or texter as a masked label, e.g. `caller ...47`.
    pub caller: String,
    pub received_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_secs: Option<i32>,
    pub talk_secs: Option<i32>,
    pub outcome: Option<Outcome>,
    /// Whether this volunteer took it (else they were offered it).
    pub taken: bool,
    /// How their offer ended.
    pub offer_outcome: Option<OfferOutcome>,
}

pub fn my_contact(
    row: contact::Model,
    me: VolunteerId,
    offer_outcome: Option<OfferOutcome>,
) -> MyContact {
    MyContact {
        id: row.id,
        helpline_id: row.helpline_id,
        caller: masked_label(row.channel, &row.caller_hint),
        channel: row.channel,
        topic_id: row.topic_id,
        received_at: row.received_at,
        taken: row.answered_by == Some(me),
        // Times and durations of the part they were in; a contact someone else took
        // shows only when it came and how it ended.
        answered_at: row.answered_at.filter(|_| row.answered_by == Some(me)),
        ended_at: row.ended_at,
        wait_secs: row.wait_secs,
        talk_secs: row.talk_secs.filter(|_| row.answered_by == Some(me)),
        outcome: row.outcome,
        offer_outcome,
    }
}

/// A volunteer's own contact with their report versions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyContactDetail {
    #[serde(flatten)]
    pub contact: MyContact,
    pub reports: Vec<ReportVersionView>,
}
