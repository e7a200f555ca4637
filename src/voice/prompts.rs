//! What callers and volunteers hear: the menus and the short spoken lines, built from the
//! helpline's own words. Pure functions of their inputs.

use crate::domain::ids::TopicId;

/// A topic a caller can choose from the keypad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuTopic {
    pub id: TopicId,
    pub digit: u32,
    pub label: String,
}

/// Which menus a helpline plays before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menus {
    /// Topics with a keypad digit, in digit order; a menu only when there are two or more.
    pub topics: Vec<MenuTopic>,
    /// Languages offered, in the helpline's order; a menu only when there are two or more.
    pub languages: Vec<String>,
}

impl Menus {
    pub fn topic_menu(&self) -> bool {
        self.topics.len() > 1
    }

    pub fn language_menu(&self) -> bool {
        self.languages.len() > 1
    }

    /// The topic a helpline with a single topic routes every call to.
    pub fn only_topic(&self) -> Option<TopicId> {
        match self.topics.as_slice() {
            [only] => Some(only.id),
            _ => None,
        }
    }

    /// The topic chosen with `digits`; anything else means any topic.
    pub fn topic_for(&self, digits: &str) -> Option<&MenuTopic> {
        let digit: u32 = digits.trim().parse().ok()?;
        self.topics.iter().find(|t| t.digit == digit)
    }

    /// The language chosen with `digits` (1 for the first offered); anything else means any.
    pub fn language_for(&self, digits: &str) -> Option<&str> {
        let index: usize = digits.trim().parse().ok()?;
        self.languages
            .get(index.checked_sub(1)?)
            .map(String::as_str)
    }
}

pub fn topic_menu(menus: &Menus) -> String {
    let mut text = String::new();
    for topic in &menus.topics {
        text.push_str(&format!("For {}, press {}. ", topic.label, topic.digit));
    }
    text.push_str("Or stay on the line to talk to any of our peer supporters.");
    text
}

pub fn language_menu(menus: &Menus) -> String {
    let mut text = String::new();
    for (index, code) in menus.languages.iter().enumerate().take(9) {
        text.push_str(&format!(
            "For {}, press {}. ",
            language_name(code),
            index + 1
        ));
    }
    text.push_str("Or stay on the line.");
    text
}

/// What the volunteer hears before they are put through.
pub fn whisper(helpline: &str, topic: Option<&str>) -> String {
    match topic {
        Some(topic) => format!("{helpline} call about {topic}. Press 1 to accept."),
        None => format!("{helpline} call. Press 1 to accept."),
    }
}

pub fn whisper_supervisor(helpline: &str) -> String {
    format!("{helpline}: no peer supporter answered this caller. Press 1 to take the call.")
}

pub const CONNECTING: &str = "Thank you. We are finding a peer supporter for you.";
pub const HOLD: &str =
    "All our peer supporters are talking with other callers. Please stay on the line.";
pub const TO_SUPERVISOR: &str = "Please hold while we connect you to our duty supervisor.";
pub const TO_FALLBACK: &str = "Please hold while we connect you to someone who can help.";
pub const VOICEMAIL: &str = "We are sorry nobody could take your call. Please leave a message after the tone, with a number we can call you back on, then hang up.";
pub const NO_MESSAGE: &str =
    "We did not receive a message. Please call again at any time. Goodbye.";
pub const MESSAGE_SAVED: &str = "Thank you. Your message has been saved. Goodbye.";
pub const ANSWERED_ELSEWHERE: &str = "This call has already been answered. Thank you.";
pub const NOT_IN_SERVICE: &str = "We are sorry, this number is not in service.";
pub const FAULT: &str = "We are sorry, we are having trouble connecting your call.";
pub const FAULT_NO_FALLBACK: &str = "We are sorry, we are having trouble connecting your call. \
     Please call again in a few minutes. If you are in danger now, please call your local \
     emergency number.";

pub fn goodbye(helpline: &str) -> String {
    format!("Thank you for calling {helpline}. Goodbye.")
}

/// The English name of a language tag, for the menu; the tag itself when unknown.
pub fn language_name(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    let name = match primary.as_str() {
        "ar" => "Arabic",
        "bn" => "Bengali",
        "cy" => "Welsh",
        "de" => "German",
        "en" => "English",
        "es" => "Spanish",
        "fr" => "French",
        "ga" => "Irish",
        "gd" => "Scottish Gaelic",
        "gu" => "Gujarati",
        "hi" => "Hindi",
        "it" => "Italian",
        "ja" => "Japanese",
        "ko" => "Korean",
        "nl" => "Dutch",
        "pa" => "Punjabi",
        "pl" => "Polish",
        "pt" => "Portuguese",
        "ro" => "Romanian",
        "ru" => "Russian",
        "so" => "Somali",
        "tr" => "Turkish",
        "uk" => "Ukrainian",
        "ur" => "Urdu",
        "vi" => "Vietnamese",
        "zh" => "Chinese",
        _ => return tag.to_owned(),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menus() -> Menus {
        Menus {
            topics: vec![
                MenuTopic {
                    id: TopicId(10),
                    digit: 1,
                    label: "neonatal care".into(),
                },
                MenuTopic {
                    id: TopicId(11),
                    digit: 2,
                    label: "bereavement".into(),
                },
            ],
            languages: vec!["en".into(), "cy".into()],
        }
    }

    #[test]
    fn menus_read_the_keypad_and_anything_else_means_any() {
        let m = menus();
        assert!(m.topic_menu() && m.language_menu());
        assert_eq!(m.topic_for("2").map(|t| t.id), Some(TopicId(11)));
        assert_eq!(m.topic_for(""), None);
        assert_eq!(m.topic_for("9"), None);
        assert_eq!(m.topic_for("#"), None);
        assert_eq!(m.language_for("2"), Some("cy"));
        assert_eq!(m.language_for("0"), None);
        assert_eq!(m.only_topic(), None);
        assert_eq!(
            topic_menu(&m),
            "For neonatal care, press 1. For bereavement, press 2. Or stay on the line to talk to any of our peer supporters."
        );
        assert_eq!(
            language_menu(&m),
            "For English, press 1. For Welsh, press 2. Or stay on the line."
        );
    }

    #[test]
    fn the_whisper_names_the_helpline_and_topic() {
        assert_eq!(
            whisper("Peerline", Some("neonatal care")),
            "Peerline call about neonatal care. Press 1 to accept."
        );
        assert_eq!(
            whisper("Peerline", None),
            "Peerline call. Press 1 to accept."
        );
    }
}
