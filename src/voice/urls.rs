//! The absolute callback URLs peerline hands to Twilio inside its TwiML, all under
//! `PEERLINE_PUBLIC_URL`. Only ids travel in them: never a phone number.

use url::Url;

use crate::domain::ids::{ContactId, OfferId};

#[derive(Debug, Clone)]
pub struct CallbackUrls {
    base: String,
}

impl CallbackUrls {
    pub fn new(public_url: &Url) -> Self {
        Self {
            base: public_url.as_str().trim_end_matches('/').to_owned(),
        }
    }

    fn at(&self, path: &str) -> String {
        format!("{}/twilio/voice/{path}", self.base)
    }

    pub fn menu(&self, contact: ContactId, step: &str) -> String {
        self.at(&format!("menu?contact={contact}&step={step}"))
    }

    pub fn route(&self, contact: ContactId, round: i32) -> String {
        self.at(&format!("route?contact={contact}&round={round}"))
    }

    pub fn dial(&self, contact: ContactId, round: i32) -> String {
        self.at(&format!("dial?contact={contact}&round={round}"))
    }

    pub fn whisper(&self, offer: OfferId) -> String {
        self.at(&format!("whisper?offer={offer}"))
    }

    pub fn whisper_answer(&self, offer: OfferId) -> String {
        self.at(&format!("whisper/answer?offer={offer}"))
    }

    pub fn leg(&self, offer: OfferId) -> String {
        self.at(&format!("leg?offer={offer}"))
    }

    pub fn fallback(&self, contact: ContactId, step: i32) -> String {
        self.at(&format!("fallback?contact={contact}&step={step}"))
    }

    pub fn supervisor_whisper(&self, contact: ContactId) -> String {
        self.at(&format!("supervisor?contact={contact}"))
    }

    pub fn supervisor_answer(&self, contact: ContactId) -> String {
        self.at(&format!("supervisor/answer?contact={contact}"))
    }

    pub fn voicemail(&self, contact: ContactId) -> String {
        self.at(&format!("voicemail?contact={contact}"))
    }

    pub fn recording(&self, contact: ContactId) -> String {
        self.at(&format!("recording?contact={contact}"))
    }

    /// A holding caller's answer to a callback question (`step`: offer, confirm, texts).
    pub fn hold(&self, contact: ContactId, round: i32, step: &str) -> String {
        self.at(&format!("hold?contact={contact}&round={round}&step={step}"))
    }

    /// The TwiML for a volunteer's phone rung for a callback, once they pick up.
    pub fn callback_volunteer(&self, offer: OfferId) -> String {
        self.at(&format!("callback/volunteer?offer={offer}"))
    }

    pub fn callback_accept(&self, offer: OfferId) -> String {
        self.at(&format!("callback/accept?offer={offer}"))
    }

    /// Where Twilio reports the end of a volunteer's callback leg.
    pub fn callback_status(&self, offer: OfferId) -> String {
        self.at(&format!("callback/status?offer={offer}"))
    }

    /// What the caller hears when they pick up a callback.
    pub fn callback_caller(&self, offer: OfferId) -> String {
        self.at(&format!("callback/caller?offer={offer}"))
    }

    pub fn callback_caller_answer(&self, offer: OfferId) -> String {
        self.at(&format!("callback/caller/answer?offer={offer}"))
    }

    /// The end of the volunteer's `<Dial>` to the caller.
    pub fn callback_dialled(&self, offer: OfferId) -> String {
        self.at(&format!("callback/dialled?offer={offer}"))
    }

    /// A caller's answer to question `question` of the survey after their call.
    pub fn survey(&self, contact: ContactId, question: i32) -> String {
        self.at(&format!("survey?contact={contact}&question={question}"))
    }
}
