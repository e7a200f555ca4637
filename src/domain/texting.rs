//! A helpline's texting settings: what texters are told, the phrases that raise a
//! safeguarding alert, and the timeouts and limits of text conversations.

use serde::{Deserialize, Serialize};

use super::validate::{self, FieldError};

/// How text conversations run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TextingSettings {
    /// Sent with the acknowledgement and the holding message, e.g. "If you are in danger now, call 999."
    pub crisis_text: String,
    /// The answer to HELP.
    pub help_text: String,
    /// Sent to the texter when a volunteer ends the conversation.
    pub closing_text: String,
    /// When volunteers are usually on shift, in words, for the holding message (may be empty).
    pub opening_hours: String,
    /// A texter message containing one of these (case and punctuation aside) flags the
    /// conversation for safeguarding and alerts the on-call supervisor.
    pub risk_phrases: Vec<String>,
    /// Seconds a volunteer has to take an offered conversation before the next is tried (60 to 3600).
    pub offer_timeout_secs: i32,
    /// Hours without a message after which a conversation closes by itself (1 to 168).
    pub inactivity_timeout_hours: i32,
    /// Most messages from one texter relayed per minute; the rest are logged only (1 to 60).
    pub max_messages_per_minute: i32,
}

impl Default for TextingSettings {
    fn default() -> Self {
        Self {
            crisis_text: "If you are in danger now, call your local emergency number.".into(),
            help_text: "This is a peer-support text line. Text us and a trained volunteer \
                        will reply when on shift. Text STOP to stop messages."
                .into(),
            closing_text: "Thank you for texting. This conversation has ended; text us again \
                           any time."
                .into(),
            opening_hours: String::new(),
            risk_phrases: [
                "kill myself",
                "end my life",
                "suicide",
                "suicidal",
                "overdose",
                "hurt myself",
                "want to die",
            ]
            .map(String::from)
            .to_vec(),
            offer_timeout_secs: 300,
            inactivity_timeout_hours: 24,
            max_messages_per_minute: 6,
        }
    }
}

impl TextingSettings {
    /// How long a conversation stays open without a message.
    pub fn inactivity_timeout(&self) -> chrono::Duration {
        chrono::Duration::hours(self.inactivity_timeout_hours.into())
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::text("texting.crisis_text", &self.crisis_text, 500)?;
        validate::text("texting.help_text", &self.help_text, 500)?;
        validate::text("texting.closing_text", &self.closing_text, 500)?;
        if self.opening_hours.chars().count() > 300 {
            return Err(FieldError::new(
                "texting.opening_hours",
                "must be at most 300 characters",
            ));
        }
        if self.risk_phrases.len() > 200 {
            return Err(FieldError::new(
                "texting.risk_phrases",
                "must hold at most 200 phrases",
            ));
        }
        for phrase in &self.risk_phrases {
            validate::text("texting.risk_phrases", phrase, 100)?;
        }
        validate::range(
            "texting.offer_timeout_secs",
            self.offer_timeout_secs.into(),
            60,
            3600,
        )?;
        validate::range(
            "texting.inactivity_timeout_hours",
            self.inactivity_timeout_hours.into(),
            1,
            168,
        )?;
        validate::range(
            "texting.max_messages_per_minute",
            self.max_messages_per_minute.into(),
            1,
            60,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(TextingSettings::default().validate(), Ok(()));
        let blank_phrase = TextingSettings {
            risk_phrases: vec!["  ".into()],
            ..TextingSettings::default()
        };
        assert_eq!(
            blank_phrase.validate().unwrap_err().field,
            "texting.risk_phrases"
        );
        let quick = TextingSettings {
            offer_timeout_secs: 5,
            ..TextingSettings::default()
        };
        assert_eq!(
            quick.validate().unwrap_err().field,
            "texting.offer_timeout_secs"
        );
    }

    #[test]
    fn a_partial_document_keeps_the_other_defaults() {
        let parsed: TextingSettings =
            serde_json::from_str(r#"{"crisis_text": "Call 999 if you are in danger."}"#).unwrap();
        assert_eq!(parsed.crisis_text, "Call 999 if you are in danger.");
        assert_eq!(parsed.offer_timeout_secs, 300);
    }
}
