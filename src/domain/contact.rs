//! How a contact ended, and who must hear about it at once.

use super::ids::ContactId;

/// How a contact ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Outcome {
    #[sea_orm(string_value = "answered")]
    Answered,
    #[sea_orm(string_value = "on_call_supervisor")]
    OnCallSupervisor,
    #[sea_orm(string_value = "fallback_number")]
    FallbackNumber,
    #[sea_orm(string_value = "voicemail")]
    Voicemail,
    #[sea_orm(string_value = "abandoned")]
    Abandoned,
    #[sea_orm(string_value = "rejected_blocked")]
    RejectedBlocked,
    /// A text from a sender that is no phone number (an alphanumeric id, a short code,
    /// withheld): nobody can text back, so it is logged and not taken in.
    #[sea_orm(string_value = "refused_sender")]
    RefusedSender,
    /// A text conversation no volunteer took before it closed.
    #[sea_orm(string_value = "unanswered")]
    Unanswered,
    /// The texter sent STOP.
    #[sea_orm(string_value = "opted_out")]
    OptedOut,
    /// The texter only asked for information (HELP).
    #[sea_orm(string_value = "help_only")]
    HelpOnly,
    /// The caller asked to be called back and could not be reached, or nobody was free
    /// before the callback expired.
    #[sea_orm(string_value = "callback_failed")]
    CallbackFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::OnCallSupervisor => "on_call_supervisor",
            Outcome::FallbackNumber => "fallback_number",
            Outcome::Voicemail => "voicemail",
            Outcome::Abandoned => "abandoned",
            Outcome::RejectedBlocked => "rejected_blocked",
            Outcome::RefusedSender => "refused_sender",
            Outcome::Unanswered => "unanswered",
            Outcome::OptedOut => "opted_out",
            Outcome::HelpOnly => "help_only",
            Outcome::CallbackFailed => "callback_failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Outcome::Answered,
            Outcome::OnCallSupervisor,
            Outcome::FallbackNumber,
            Outcome::Voicemail,
            Outcome::Abandoned,
            Outcome::RejectedBlocked,
            Outcome::RefusedSender,
            Outcome::Unanswered,
            Outcome::OptedOut,
            Outcome::HelpOnly,
            Outcome::CallbackFailed,
        ]
        .into_iter()
        .find(|o| o.as_str() == raw)
    }
}

/// What happened on a contact's timeline.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum EventKind {
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "answered")]
    Answered,
    #[sea_orm(string_value = "answered_by_on_call")]
    AnsweredByOnCall,
    #[sea_orm(string_value = "answered_from_memory")]
    AnsweredFromMemory,
    #[sea_orm(string_value = "call_status")]
    CallStatus,
    /// The caller chose to be called back instead of holding.
    #[sea_orm(string_value = "callback_requested")]
    CallbackRequested,
    /// A volunteer accepted a callback and the caller's phone is dialled.
    #[sea_orm(string_value = "callback_dialling")]
    CallbackDialling,
    /// The caller did not answer a callback.
    #[sea_orm(string_value = "callback_unanswered")]
    CallbackUnanswered,
    /// The callback was given up.
    #[sea_orm(string_value = "callback_failed")]
    CallbackFailed,
    #[sea_orm(string_value = "closed_unfinished")]
    ClosedUnfinished,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "ended")]
    Ended,
    #[sea_orm(string_value = "fallback_number")]
    FallbackNumber,
    #[sea_orm(string_value = "fallback_on_call")]
    FallbackOnCall,
    /// A conversation its volunteer could no longer take part in went back to the queue.
    #[sea_orm(string_value = "handed_back")]
    HandedBack,
    #[sea_orm(string_value = "holding")]
    Holding,
    #[sea_orm(string_value = "language_chosen")]
    LanguageChosen,
    #[sea_orm(string_value = "leg_status")]
    LegStatus,
    #[sea_orm(string_value = "media_received")]
    MediaReceived,
    #[sea_orm(string_value = "message_refused")]
    MessageRefused,
    #[sea_orm(string_value = "nul_removed")]
    NulRemoved,
    #[sea_orm(string_value = "offer_declined")]
    OfferDeclined,
    #[sea_orm(string_value = "offer_expired")]
    OfferExpired,
    #[sea_orm(string_value = "offer_missed")]
    OfferMissed,
    #[sea_orm(string_value = "offered")]
    Offered,
    #[sea_orm(string_value = "on_call_declined")]
    OnCallDeclined,
    #[sea_orm(string_value = "picked_up")]
    PickedUp,
    #[sea_orm(string_value = "rate_limited")]
    RateLimited,
    #[sea_orm(string_value = "received")]
    Received,
    #[sea_orm(string_value = "rejected_blocked")]
    RejectedBlocked,
    #[sea_orm(string_value = "sender_refused")]
    SenderRefused,
    #[sea_orm(string_value = "repeat_calls_to_fallback")]
    RepeatCallsToFallback,
    #[sea_orm(string_value = "routed")]
    Routed,
    #[sea_orm(string_value = "safeguarding_escalated")]
    SafeguardingEscalated,
    #[sea_orm(string_value = "safeguarding_flagged")]
    SafeguardingFlagged,
    #[sea_orm(string_value = "safeguarding_unreached")]
    SafeguardingUnreached,
    /// A question asked after the contact (by text).
    #[sea_orm(string_value = "survey_asked")]
    SurveyAsked,
    /// The texter's reply that answered it.
    #[sea_orm(string_value = "survey_answered")]
    SurveyAnswered,
    #[sea_orm(string_value = "topic_chosen")]
    TopicChosen,
    #[sea_orm(string_value = "voicemail_offered")]
    VoicemailOffered,
    #[sea_orm(string_value = "voicemail_recorded")]
    VoicemailRecorded,
}

/// Calls from one number within `REPEAT_WINDOW` beyond which the calls skip the volunteers
/// and go straight to the on-call supervisor, the fallback number or voicemail: a person
/// in distress redialling after each unanswered wait stays well below it, a dialler
/// flooding the line does not reach volunteers, and nobody is ever turned away.
pub const REPEAT_CALL_LIMIT: u64 = 8;
pub const REPEAT_WINDOW_MINUTES: i64 = 10;

/// Whether a call, the `calls_in_window`-th from its number, skips the volunteers.
pub fn skips_volunteers(calls_in_window: u64) -> bool {
    calls_in_window > REPEAT_CALL_LIMIT
}

/// An SMS the supervisors on call get at once: a contact nobody took, or a texter at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    Voicemail,
    UnansweredCall,
    UnansweredText,
    /// A risk phrase in a text conversation.
    Safeguarding,
    /// A volunteer's safeguarding flag on their report.
    SafeguardingReport,
    /// A text conversation went back to the queue: its volunteer's phone no longer takes
    /// the helpline number's texts.
    HandedBack,
}

impl Alert {
    /// The alert a contact that ended with `outcome` raises, if any.
    pub fn after(outcome: Outcome) -> Option<Self> {
        match outcome {
            Outcome::Voicemail => Some(Alert::Voicemail),
            Outcome::Abandoned => Some(Alert::UnansweredCall),
            Outcome::Unanswered => Some(Alert::UnansweredText),
            Outcome::CallbackFailed => Some(Alert::UnansweredCall),
            Outcome::Answered
            | Outcome::OnCallSupervisor
            | Outcome::FallbackNumber
            | Outcome::RejectedBlocked
            | Outcome::RefusedSender
            | Outcome::OptedOut
            | Outcome::HelpOnly => None,
        }
    }

    pub fn is_safeguarding(self) -> bool {
        matches!(self, Alert::Safeguarding | Alert::SafeguardingReport)
    }

    pub fn purpose(self) -> &'static str {
        match self {
            Alert::Voicemail => "voicemail_alert",
            Alert::UnansweredCall | Alert::UnansweredText => "unanswered_alert",
            Alert::HandedBack => "handed_back_alert",
            Alert::Safeguarding | Alert::SafeguardingReport => "safeguarding_alert",
        }
    }

    /// The message: the helpline and the contact's reference, never the caller's number
    /// or anything they said.
    pub fn text(self, helpline: &str, contact_id: ContactId) -> String {
        match self {
            Alert::Voicemail => {
                format!(
                    "{helpline}: a caller left a voicemail (contact #{contact_id}). Please review it."
                )
            }
            Alert::UnansweredCall => {
                format!("{helpline}: a call ended before anyone answered (contact #{contact_id}).")
            }
            Alert::UnansweredText => format!(
                "{helpline}: text conversation #{contact_id} closed without a volunteer's reply."
            ),
            Alert::HandedBack => format!(
                "{helpline}: text conversation #{contact_id} is back in the queue: its \
                 volunteer's phone no longer receives texts from this number (opted out)."
            ),
            Alert::Safeguarding => format!(
                "{helpline}: SAFEGUARDING. Text conversation #{contact_id} may involve risk to \
                 life. Please review it now."
            ),
            Alert::SafeguardingReport => format!(
                "{helpline}: SAFEGUARDING. A volunteer raised a concern about contact \
                 #{contact_id}. Please review it now."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_flood_of_calls_skips_the_volunteers() {
        assert!(!skips_volunteers(1));
        assert!(!skips_volunteers(REPEAT_CALL_LIMIT));
        assert!(skips_volunteers(REPEAT_CALL_LIMIT + 1));
    }

    #[test]
    fn only_calls_no_one_took_raise_an_alert() {
        assert_eq!(Alert::after(Outcome::Voicemail), Some(Alert::Voicemail));
        assert_eq!(
            Alert::after(Outcome::Abandoned),
            Some(Alert::UnansweredCall)
        );
        assert_eq!(Alert::after(Outcome::Answered), None);
        assert_eq!(Alert::after(Outcome::RejectedBlocked), None);
        assert_eq!(
            Alert::Voicemail.text("Peerline", ContactId(12)),
            "Peerline: a caller left a voicemail (contact #12). Please review it."
        );
    }
}
