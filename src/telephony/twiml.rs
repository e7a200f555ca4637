//! TwiML documents, built from types that only allow the nesting Twilio accepts: a
//! `<Gather>` holds prompts, a `<Dial>` holds numbers. Every text and attribute is
//! escaped, because names and greetings come from users.

use std::fmt::Write as _;

/// A voice `<Response>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoiceResponse {
    verbs: Vec<Verb>,
}

/// A messaging `<Response>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessagingResponse {
    messages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say(Say),
    Pause { seconds: u32 },
    Gather(Gather),
    Dial(Dial),
    Record(Record),
    Redirect { url: String },
    Hangup,
    Reject,
}

/// Speech in the helpline's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    pub text: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Say(Say),
    Pause { seconds: u32 },
}

/// Collects one keypad digit; with `action_on_empty`, the action runs even without input.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    pub action: String,
    pub num_digits: u32,
    pub timeout_secs: u32,
    pub prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// Where Twilio asks what to do when the dial ends; without one, the call goes on to
    /// the next verb.
    pub action: Option<String>,
    pub timeout_secs: u32,
    pub caller_id: String,
    pub numbers: Vec<DialNumber>,
}

/// One phone rung by a `<Dial>`; `whisper_url` runs on that leg before it is bridged.
#[derive(Debug, Clone, PartialEq)]
pub struct DialNumber {
    pub number: String,
    pub whisper_url: Option<String>,
    pub status_callback: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub action: String,
    pub max_length_secs: u32,
    pub recording_status_callback: String,
}

impl VoiceResponse {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    pub fn say(self, text: impl Into<String>, language: &str) -> Self {
        self.push(Verb::Say(Say::new(text, language)))
    }

    pub fn verbs(&self) -> &[Verb] {
        &self.verbs
    }

    pub fn to_xml(&self) -> String {
        let mut out = String::from(XML_DECLARATION);
        if self.verbs.is_empty() {
            out.push_str("<Response/>");
            return out;
        }
        out.push_str("<Response>");
        for verb in &self.verbs {
            verb.write(&mut out);
        }
        out.push_str("</Response>");
        out
    }
}

impl MessagingResponse {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn message(mut self, body: impl Into<String>) -> Self {
        self.messages.push(body.into());
        self
    }

    pub fn to_xml(&self) -> String {
        let mut out = String::from(XML_DECLARATION);
        if self.messages.is_empty() {
            out.push_str("<Response/>");
            return out;
        }
        out.push_str("<Response>");
        for body in &self.messages {
            element(&mut out, "Message", &[], |out| escape_into(out, body));
        }
        out.push_str("</Response>");
        out
    }
}

impl Say {
    pub fn new(text: impl Into<String>, language: &str) -> Self {
        Self {
            text: text.into(),
            language: language.to_owned(),
        }
    }

    fn write(&self, out: &mut String) {
        element(out, "Say", &[("language", &self.language)], |out| {
            escape_into(out, &self.text)
        });
    }
}

const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

impl Verb {
    fn write(&self, out: &mut String) {
        match self {
            Verb::Say(say) => say.write(out),
            Verb::Pause { seconds } => pause(out, *seconds),
            Verb::Gather(g) => {
                let attrs = [
                    ("input", "dtmf".to_owned()),
                    ("numDigits", g.num_digits.to_string()),
                    ("timeout", g.timeout_secs.to_string()),
                    ("action", g.action.clone()),
                    ("method", "POST".to_owned()),
                    ("actionOnEmptyResult", "true".to_owned()),
                ];
                element(out, "Gather", &borrow(&attrs), |out| {
                    for prompt in &g.prompts {
                        match prompt {
                            Prompt::Say(say) => say.write(out),
                            Prompt::Pause { seconds } => pause(out, *seconds),
                        }
                    }
                });
            }
            Verb::Dial(d) => {
                let mut attrs = Vec::new();
                if let Some(action) = &d.action {
                    attrs.push(("action", action.clone()));
                    attrs.push(("method", "POST".to_owned()));
                }
                attrs.push(("timeout", d.timeout_secs.to_string()));
                attrs.push(("callerId", d.caller_id.clone()));
                attrs.push(("answerOnBridge", "true".to_owned()));
                element(out, "Dial", &borrow(&attrs), |out| {
                    for n in &d.numbers {
                        let mut attrs = Vec::new();
                        if let Some(url) = &n.whisper_url {
                            attrs.push(("url", url.as_str()));
                            attrs.push(("method", "POST"));
                        }
                        if let Some(url) = &n.status_callback {
                            attrs.push(("statusCallback", url.as_str()));
                            attrs.push(("statusCallbackMethod", "POST"));
                            attrs.push((
                                "statusCallbackEvent",
                                "initiated ringing answered completed",
                            ));
                        }
                        element(out, "Number", &attrs, |out| escape_into(out, &n.number));
                    }
                });
            }
            Verb::Record(r) => {
                let attrs = [
                    ("action", r.action.clone()),
                    ("method", "POST".to_owned()),
                    ("maxLength", r.max_length_secs.to_string()),
                    ("playBeep", "true".to_owned()),
                    (
                        "recordingStatusCallback",
                        r.recording_status_callback.clone(),
                    ),
                    ("recordingStatusCallbackMethod", "POST".to_owned()),
                ];
                empty_element(out, "Record", &borrow(&attrs));
            }
            Verb::Redirect { url } => {
                element(out, "Redirect", &[("method", "POST")], |out| {
                    escape_into(out, url)
                });
            }
            Verb::Hangup => out.push_str("<Hangup/>"),
            Verb::Reject => out.push_str(r#"<Reject reason="rejected"/>"#),
        }
    }
}

fn borrow<'a>(attrs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    attrs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn pause(out: &mut String, seconds: u32) {
    let _ = write!(out, r#"<Pause length="{seconds}"/>"#);
}

fn open_tag(out: &mut String, name: &str, attrs: &[(&str, &str)]) {
    out.push('<');
    out.push_str(name);
    for (key, value) in attrs {
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        escape_into(out, value);
        out.push('"');
    }
}

fn element(
    out: &mut String,
    name: &str,
    attrs: &[(&str, &str)],
    children: impl FnOnce(&mut String),
) {
    open_tag(out, name, attrs);
    out.push('>');
    children(out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn empty_element(out: &mut String, name: &str, attrs: &[(&str, &str)]) {
    open_tag(out, name, attrs);
    out.push_str("/>");
}

/// Escapes XML's five special characters, writes tab and line breaks as character
/// references (a parser would turn them into spaces in an attribute, and `\r` into `\n`
/// anywhere), and drops the control characters XML 1.0 forbids.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_in_text_and_attributes() {
        let xml = VoiceResponse::new()
            .say(
                "Tom & Jerry's <helpline> \"welcome\" — Croeso\u{7}",
                "en-GB",
            )
            .push(Verb::Redirect {
                url: "https://x.org/a?b=1&c=2".into(),
            })
            .to_xml();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Say language=\"en-GB\">Tom &amp; Jerry&apos;s &lt;helpline&gt; &quot;welcome&quot; — Croeso</Say>\
             <Redirect method=\"POST\">https://x.org/a?b=1&amp;c=2</Redirect></Response>"
        );
    }

    #[test]
    fn an_empty_response_is_self_closing() {
        assert!(VoiceResponse::new().to_xml().ends_with("<Response/>"));
        assert!(MessagingResponse::new().to_xml().ends_with("<Response/>"));
    }

    #[test]
    fn dial_rings_numbers_with_a_whisper_and_the_helpline_as_caller_id() {
        let xml = VoiceResponse::new()
            .push(Verb::Dial(Dial {
                action: Some("https://p.org/twilio/voice/dial?contact=1&round=1".into()),
                timeout_secs: 20,
                caller_id: "+12025550100".into(),
                numbers: vec![DialNumber {
                    number: "+12025550111".into(),
                    whisper_url: Some("https://p.org/w?offer=3".into()),
                    status_callback: None,
                }],
            }))
            .to_xml();
        assert!(xml.contains(
            "<Dial action=\"https://p.org/twilio/voice/dial?contact=1&amp;round=1\" method=\"POST\" timeout=\"20\" callerId=\"+12025550100\" answerOnBridge=\"true\">"
        ));
        assert!(xml.contains(
            "<Number url=\"https://p.org/w?offer=3\" method=\"POST\">+12025550111</Number></Dial>"
        ));
    }

    #[test]
    fn any_user_text_comes_out_as_well_formed_xml_that_reads_back_the_same() {
        use rand::{Rng, SeedableRng};
        const POOL: &[char] = &[
            'a', ' ', '<', '>', '&', '"', '\'', ';', '#', 'x', '\t', '\n', '\r', '\u{0}', '\u{7}',
            '\u{1F}', '\u{FFFE}', 'é', '—', '✓', '😀', '中', ']', '!', '-',
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
        for _ in 0..2000 {
            let len = rng.random_range(0..40);
            let text: String = (0..len)
                .map(|_| POOL[rng.random_range(0..POOL.len())])
                .collect();
            // What XML 1.0 can carry: the builder drops the other control characters.
            let carried: String = text
                .chars()
                .filter(|c| {
                    matches!(c, '\t' | '\n' | '\r') || (*c as u32 >= 0x20 && *c != '\u{FFFE}')
                })
                .collect();
            let spoken = VoiceResponse::new().say(text.clone(), "en-GB").to_xml();
            let root = crate::simulator::twiml_reader::parse(&spoken)
                .unwrap_or_else(|e| panic!("{e}: {spoken}"));
            assert_eq!(root.children[0].text, carried, "{spoken}");
            let texted = MessagingResponse::new().message(text.clone()).to_xml();
            let root = crate::simulator::twiml_reader::parse(&texted)
                .unwrap_or_else(|e| panic!("{e}: {texted}"));
            assert_eq!(root.children[0].text, carried, "{texted}");
            let attribute = VoiceResponse::new().say("hello", &text).to_xml();
            let root = crate::simulator::twiml_reader::parse(&attribute)
                .unwrap_or_else(|e| panic!("{e}: {attribute}"));
            assert_eq!(root.children[0].attr("language"), Some(carried.as_str()));
        }
    }
}
