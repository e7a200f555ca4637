//! What a caller hears while they wait and when they are called back, and what the
//! volunteer hears on a callback. Short, calm, and never a promise the helpline may not
//! keep. Pure functions of their inputs.

use crate::domain::callback::{CallbackKind, QueueNews};

/// The queue news for a holding caller: their position, then the estimate, if either is due.
pub fn queue_news(news: QueueNews) -> Option<String> {
    let position = news.ahead.map(|ahead| match ahead {
        0 => "You are next in the queue.".to_owned(),
        1 => "There is one caller ahead of you.".to_owned(),
        n => format!("There are {n} callers ahead of you."),
    });
    let estimate = news.estimate_minutes.map(|minutes| match minutes {
        1 => "The wait may be around a minute.".to_owned(),
        n => format!("The wait may be around {n} minutes."),
    });
    let parts: Vec<String> = position.into_iter().chain(estimate).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

pub const OFFER_CALLBACK: &str =
    "If you would rather be called back than hold, press 2. You will keep your place.";

pub const CONFIRM_NUMBER: &str = "We would call you back on the number you are calling from, \
and the call would come from this helpline's number. If it is safe to call you on this number, \
press 1. To keep holding, press any other key.";

pub const ASK_TEXTS: &str = "If we cannot reach you, may we send you a text message to say we \
tried? Press 1 for yes, or 2 for no.";

/// The caller has asked to be called back.
pub fn callback_booked(expires_mins: i32) -> String {
    let within = match expires_mins {
        m if m % 60 == 0 && m >= 120 => format!("{} hours", m / 60),
        60 => "an hour".to_owned(),
        m => format!("{m} minutes"),
    };
    format!(
        "Thank you. We will call you back as soon as a peer supporter is free, within {within}. \
You can hang up now."
    )
}

/// What the volunteer hears when they pick up a callback.
pub fn callback_whisper(helpline: &str, topic: Option<&str>) -> String {
    match topic {
        Some(topic) => format!("{helpline} callback about {topic}. Press 1 to call them back."),
        None => format!("{helpline} callback. Press 1 to call them back."),
    }
}

pub const CALLING_THEM: &str = "Thank you. Calling them now.";

/// What the caller hears when they pick up.
pub fn callback_greeting(helpline: &str, kind: CallbackKind) -> String {
    let why = match kind {
        CallbackKind::Requested => "calling you back, as you asked",
        CallbackKind::Returned => "returning your call",
    };
    format!("Hello, this is {helpline} {why}. To talk with a peer supporter now, press 1.")
}

pub const TRYING_AGAIN_LATER: &str =
    "They did not answer. We will try them again in a few minutes. Thank you.";
pub const GIVEN_UP: &str = "They did not answer again, so we will stop trying. Thank you.";
pub const CALLBACK_TAKEN: &str = "This callback has already been taken. Thank you.";

/// The text a caller gets when they could not be reached.
pub fn missed_callback_text(helpline: &str, number: &str) -> String {
    format!(
        "{helpline}: we tried to call you back but could not reach you. Please call us again on \
{number} whenever you are ready."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_news_says_only_what_is_due() {
        let both = QueueNews {
            ahead: Some(2),
            estimate_minutes: Some(6),
        };
        assert_eq!(
            queue_news(both).as_deref(),
            Some("There are 2 callers ahead of you. The wait may be around 6 minutes.")
        );
        let next = QueueNews {
            ahead: Some(0),
            estimate_minutes: None,
        };
        assert_eq!(
            queue_news(next).as_deref(),
            Some("You are next in the queue.")
        );
        let nothing = QueueNews {
            ahead: None,
            estimate_minutes: None,
        };
        assert_eq!(queue_news(nothing), None);
    }

    #[test]
    fn the_callback_window_is_said_in_words() {
        assert!(callback_booked(120).contains("within 2 hours"));
        assert!(callback_booked(60).contains("within an hour"));
        assert!(callback_booked(45).contains("within 45 minutes"));
        assert!(callback_booked(90).contains("within 90 minutes"));
    }
}
