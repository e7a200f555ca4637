//! The absolute callback URLs peerline hands to Twilio inside its TwiML, all under
//! `PEERLINE_PUBLIC_URL`. Only ids travel in them: never a phone number.

use url::Url;

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

    pub fn menu(&self, contact: i32, step: &str) -> String {
        self.at(&format!("menu?contact={contact}&step={step}"))
    }

    pub fn route(&self, contact: i32, round: i32) -> String {
        self.at(&format!("route?contact={contact}&round={round}"))
    }

    pub fn dial(&self, contact: i32, round: i32) -> String {
        self.at(&format!("dial?contact={contact}&round={round}"))
    }

    pub fn whisper(&self, offer: i32) -> String {
        self.at(&format!("whisper?offer={offer}"))
    }

    pub fn whisper_answer(&self, offer: i32) -> String {
        self.at(&format!("whisper/answer?offer={offer}"))
    }

    pub fn leg(&self, offer: i32) -> String {
        self.at(&format!("leg?offer={offer}"))
    }

    pub fn fallback(&self, contact: i32, step: i32) -> String {
        self.at(&format!("fallback?contact={contact}&step={step}"))
    }

    pub fn supervisor_whisper(&self, contact: i32) -> String {
        self.at(&format!("supervisor?contact={contact}"))
    }

    pub fn supervisor_answer(&self, contact: i32) -> String {
        self.at(&format!("supervisor/answer?contact={contact}"))
    }

    pub fn voicemail(&self, contact: i32) -> String {
        self.at(&format!("voicemail?contact={contact}"))
    }

    pub fn recording(&self, contact: i32) -> String {
        self.at(&format!("recording?contact={contact}"))
    }
}
