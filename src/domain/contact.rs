//! How a contact ended, and who must hear about it at once.

/// How a contact ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    OnCallSupervisor,
    FallbackNumber,
    Voicemail,
    Abandoned,
    RejectedBlocked,
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
        ]
        .into_iter()
        .find(|o| o.as_str() == raw)
    }
}

/// An SMS a supervisor on call gets when a call ends without a volunteer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAlert {
    Voicemail,
    Unanswered,
}

impl CallAlert {
    /// The alert a call that ended with `outcome` raises, if any.
    pub fn after(outcome: Outcome) -> Option<Self> {
        match outcome {
            Outcome::Voicemail => Some(CallAlert::Voicemail),
            Outcome::Abandoned => Some(CallAlert::Unanswered),
            Outcome::Answered
            | Outcome::OnCallSupervisor
            | Outcome::FallbackNumber
            | Outcome::RejectedBlocked => None,
        }
    }

    pub fn purpose(self) -> &'static str {
        match self {
            CallAlert::Voicemail => "voicemail_alert",
            CallAlert::Unanswered => "unanswered_alert",
        }
    }

    /// The message: the helpline and the contact's reference, never the caller's number.
    pub fn text(self, helpline: &str, contact_id: i32) -> String {
        match self {
            CallAlert::Voicemail => {
                format!(
                    "{helpline}: a caller left a voicemail (contact #{contact_id}). Please review it."
                )
            }
            CallAlert::Unanswered => {
                format!("{helpline}: a call ended before anyone answered (contact #{contact_id}).")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_calls_no_one_took_raise_an_alert() {
        assert_eq!(
            CallAlert::after(Outcome::Voicemail),
            Some(CallAlert::Voicemail)
        );
        assert_eq!(
            CallAlert::after(Outcome::Abandoned),
            Some(CallAlert::Unanswered)
        );
        assert_eq!(CallAlert::after(Outcome::Answered), None);
        assert_eq!(CallAlert::after(Outcome::RejectedBlocked), None);
        assert_eq!(
            CallAlert::Voicemail.text("Peerline", 12),
            "Peerline: a caller left a voicemail (contact #12). Please review it."
        );
    }
}
