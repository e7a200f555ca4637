//! Twilio's side of an inbound text: the signed form it posts to `/twilio/sms`.

use rand::Rng;

use super::TwilioPeer;

/// A text someone sends to a helpline number.
#[derive(Debug, Clone)]
pub struct Text {
    pub message_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    /// URLs of attached pictures (MMS).
    pub media_urls: Vec<String>,
}

impl Text {
    /// A text with a fresh MessageSid.
    pub fn new(from: &str, to: &str, body: &str) -> Self {
        Self {
            message_sid: format!("SM{:032x}", rand::rng().random::<u128>()),
            from: from.to_owned(),
            to: to.to_owned(),
            body: body.to_owned(),
            media_urls: Vec::new(),
        }
    }

    /// The form Twilio posts, legacy twins included.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = [
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("ApiVersion", "2010-04-01"),
            ("MessageSid", self.message_sid.as_str()),
            ("SmsSid", self.message_sid.as_str()),
            ("SmsMessageSid", self.message_sid.as_str()),
            ("SmsStatus", "received"),
            ("From", self.from.as_str()),
            ("To", self.to.as_str()),
            ("Body", self.body.as_str()),
            ("NumSegments", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        form.push(("NumMedia".into(), self.media_urls.len().to_string()));
        for (i, url) in self.media_urls.iter().enumerate() {
            form.push((format!("MediaUrl{i}"), url.clone()));
            form.push((format!("MediaContentType{i}"), "image/jpeg".into()));
        }
        form
    }
}

impl TwilioPeer {
    /// Delivers `text` to peerline as Twilio would; returns the status and the TwiML.
    pub async fn text(&self, text: &Text) -> anyhow::Result<(u16, String)> {
        self.post(&self.url("/twilio/sms"), &text.form()).await
    }
}
