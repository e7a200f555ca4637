//! Reading an inbound text: the carrier keywords (STOP, START, HELP), a volunteer's
//! reference prefix and CLOSE command, a topic number, and the risk phrases that call for
//! safeguarding.

use super::ids::ContactId;

/// A whole-message keyword the carrier acts on (Twilio confirms STOP and START itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

/// The keyword a message is, if it is one: the whole message, trimmed, in any case.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim();
    let is = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    if is(&OPT_OUT) {
        Some(Keyword::OptOut)
    } else if is(&OPT_IN) {
        Some(Keyword::OptIn)
    } else if is(&HELP) {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// The first risk phrase the message contains, matched at the start of a word, ignoring
/// case and punctuation ("Overdosed!" matches "overdose"). Errs towards flagging.
pub fn risk_phrase<'a>(body: &str, phrases: &'a [String]) -> Option<&'a str> {
    let text = format!(" {}", normalise(body));
    phrases
        .iter()
        .find(|phrase| {
            let phrase = normalise(phrase);
            !phrase.is_empty() && text.contains(&format!(" {phrase}"))
        })
        .map(String::as_str)
}

/// Lower case, every run of non-alphanumerics one space.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A texter's answer to the topic menu: a single digit 1 to 9.
pub fn topic_digit(body: &str) -> Option<i32> {
    let trimmed = body.trim();
    let mut chars = trimmed.chars();
    let digit = chars.next()?.to_digit(10)?;
    (chars.next().is_none() && digit > 0).then(|| i32::try_from(digit).unwrap_or(0))
}

/// What, after a conversation's reference, closes it (or passes on an offer). CLOSE is
/// the word volunteers are taught: END is also a carrier opt-out keyword, and texted alone
/// it would opt the volunteer's phone out of every message from the helpline.
const CLOSE_WORDS: [&str; 2] = ["CLOSE", "END"];

/// What a volunteer's text says to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolunteerReply {
    /// The conversation named by a leading `#12` (or `[#12]`), if any.
    pub reference: Option<ContactId>,
    pub action: ReplyAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyAction {
    /// Close the conversation: `#12 CLOSE` (or `#12 END`).
    End,
    /// Relay this text to the texter (empty when the message held only a reference).
    Relay(String),
}

impl VolunteerReply {
    pub fn parse(body: &str) -> Self {
        let trimmed = body.trim();
        let (reference, rest) = match split_reference(trimmed) {
            Some((reference, rest)) => (Some(reference), rest),
            None => (None, trimmed),
        };
        let closes = CLOSE_WORDS.iter().any(|w| rest.eq_ignore_ascii_case(w));
        let action = if reference.is_some() && closes {
            ReplyAction::End
        } else {
            ReplyAction::Relay(rest.to_owned())
        };
        Self { reference, action }
    }
}

/// `#12 rest`, `#12: rest` or `[#12] rest` → (12, "rest").
fn split_reference(text: &str) -> Option<(ContactId, &str)> {
    let bracketed = text.starts_with("[#");
    let after_hash = text.strip_prefix("[#").or_else(|| text.strip_prefix('#'))?;
    let digits = after_hash
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after_hash.len());
    let reference = after_hash[..digits].parse().ok()?;
    let mut rest = &after_hash[digits..];
    if bracketed {
        rest = rest.strip_prefix(']')?;
    }
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    Some((reference, rest))
}

/// Twilio refuses a message body longer than this (error 21617).
pub const MAX_SMS_CHARS: usize = 1600;

/// `body` as messages Twilio accepts: itself when it fits, else numbered parts
/// (`(1/2) ...`), each within the limit, broken at a space where one is near.
pub fn sms_parts(body: &str) -> Vec<String> {
    if body.chars().count() <= MAX_SMS_CHARS {
        return vec![body.to_owned()];
    }
    // Room for a "(nn/nn) " prefix.
    const ROOM: usize = MAX_SMS_CHARS - 10;
    let chars: Vec<char> = body.chars().collect();
    let mut pieces: Vec<String> = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + ROOM).min(chars.len());
        if end < chars.len()
            && let Some(space) = chars[start + ROOM / 2..end]
                .iter()
                .rposition(|c| c.is_whitespace())
        {
            end = start + ROOM / 2 + space + 1;
        }
        pieces.push(
            chars[start..end]
                .iter()
                .collect::<String>()
                .trim()
                .to_owned(),
        );
        start = end;
    }
    let total = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| format!("({}/{total}) {piece}", i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_goes_in_numbered_parts_that_each_fit() {
        let short = "I need to talk.";
        assert_eq!(sms_parts(short), vec![short.to_owned()]);
        let exactly = "é".repeat(MAX_SMS_CHARS);
        assert_eq!(sms_parts(&exactly).len(), 1, "characters, not bytes");

        let words = "word ".repeat(700); // 3,500 characters
        let parts = sms_parts(words.trim());
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_SMS_CHARS));
        assert!(parts[0].starts_with("(1/3) word") && parts[2].starts_with("(3/3) "));
        let rejoined: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.split_whitespace().skip(1))
            .collect();
        assert_eq!(rejoined.len(), 700, "no word lost or cut");

        let unbroken = "x".repeat(3300);
        let parts = sms_parts(&unbroken);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_SMS_CHARS));
        let total: usize = parts
            .iter()
            .map(|p| p.split_once(' ').unwrap().1.len())
            .sum();
        assert_eq!(total, 3300);
    }

    #[test]
    fn keywords_are_whole_messages_in_any_case() {
        assert_eq!(keyword(" stop "), Some(Keyword::OptOut));
        assert_eq!(keyword("End"), Some(Keyword::OptOut));
        assert_eq!(keyword("UNSTOP"), Some(Keyword::OptIn));
        assert_eq!(keyword("help"), Some(Keyword::Help));
        assert_eq!(keyword("please stop"), None);
        assert_eq!(keyword("I need help"), None);
    }

    #[test]
    fn risk_phrases_match_at_word_starts_ignoring_case_and_punctuation() {
        let phrases = vec!["kill myself".to_owned(), "overdose".to_owned()];
        assert_eq!(
            risk_phrase("I want to KILL   myself.", &phrases),
            Some("kill myself")
        );
        assert_eq!(risk_phrase("she overdosed!", &phrases), Some("overdose"));
        assert_eq!(risk_phrase("skill myself up", &phrases), None);
        assert_eq!(risk_phrase("a hard day", &phrases), None);
    }

    #[test]
    fn topic_digits() {
        assert_eq!(topic_digit(" 2 "), Some(2));
        assert_eq!(topic_digit("0"), None);
        assert_eq!(topic_digit("12"), None);
        assert_eq!(topic_digit("two"), None);
    }

    #[test]
    fn volunteer_replies() {
        let plain = VolunteerReply::parse("Hello, I'm here.");
        assert_eq!(plain.reference, None);
        assert_eq!(plain.action, ReplyAction::Relay("Hello, I'm here.".into()));
        let prefixed = VolunteerReply::parse("#12 How are you?");
        assert_eq!(prefixed.reference, Some(ContactId(12)));
        assert_eq!(prefixed.action, ReplyAction::Relay("How are you?".into()));
        assert_eq!(
            VolunteerReply::parse("[#7] ok").action,
            ReplyAction::Relay("ok".into())
        );
        assert_eq!(VolunteerReply::parse("#12: end").action, ReplyAction::End);
        assert_eq!(
            VolunteerReply::parse("#12 END").reference,
            Some(ContactId(12))
        );
        assert_eq!(VolunteerReply::parse("#12 close").action, ReplyAction::End);
        assert_eq!(
            VolunteerReply::parse("CLOSE").action,
            ReplyAction::Relay("CLOSE".into()),
            "a close word needs its reference"
        );
        assert_eq!(VolunteerReply::parse("#hashtag").reference, None);
        assert_eq!(
            VolunteerReply::parse("#12").action,
            ReplyAction::Relay(String::new())
        );
    }
}
