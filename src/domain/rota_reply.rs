//! A volunteer's answer to a rota text, by SMS.
//!
//! - `OK` (or `YES`) confirms the shift a reminder asked about; `NO` says they cannot
//!   come. Bare `YES` is also a carrier opt-in word (Twilio answers it with its own
//!   re-subscribed notice), so reminders ask for `OK`; `YES` is still understood.
//! - `OK NOT BEREAVEMENT` (or `YES NOT ...`) confirms the shift and steps back from that
//!   topic (named by its label or key) for the shift: no contact about it is offered.
//! - `YES 7` takes the shift of cover request 7; `NO 7` turns it down.
//!
//! A whole message, trimmed, in any case, with a trailing `.` or `!` ignored. Anything
//! else is not a rota answer and goes on to the conversation path.

/// What a rota answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotaReply<'a> {
    Confirm,
    /// Confirms, stepping back for the shift from the topic these words name.
    ConfirmSteppingBack(&'a str),
    CannotCome,
    TakeCover(i32),
    DeclineCover(i32),
}

impl<'a> RotaReply<'a> {
    pub fn parse(body: &'a str) -> Option<Self> {
        let text = body.trim().trim_end_matches(['.', '!']).trim();
        if let Some((first, rest)) = text.split_once(char::is_whitespace)
            && matches!(first.to_ascii_uppercase().as_str(), "OK" | "YES")
            && let Some((not, topic)) = rest.trim_start().split_once(char::is_whitespace)
            && not.eq_ignore_ascii_case("NOT")
            && !topic.trim().is_empty()
        {
            return Some(Self::ConfirmSteppingBack(topic.trim()));
        }
        let mut words = text.split_whitespace();
        let word = words.next()?.to_ascii_uppercase();
        let number = match words.next() {
            None => None,
            Some(n) => Some(n.trim_start_matches('#').parse::<i32>().ok()?),
        };
        if words.next().is_some() {
            return None;
        }
        match (word.as_str(), number) {
            ("OK" | "YES", None) => Some(Self::Confirm),
            ("NO", None) => Some(Self::CannotCome),
            ("YES" | "OK", Some(n)) if n > 0 => Some(Self::TakeCover(n)),
            ("NO", Some(n)) if n > 0 => Some(Self::DeclineCover(n)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_words_are_understood() {
        assert_eq!(RotaReply::parse(" ok "), Some(RotaReply::Confirm));
        assert_eq!(RotaReply::parse("Yes!"), Some(RotaReply::Confirm));
        assert_eq!(RotaReply::parse("no."), Some(RotaReply::CannotCome));
        assert_eq!(RotaReply::parse("YES 7"), Some(RotaReply::TakeCover(7)));
        assert_eq!(RotaReply::parse("yes #12"), Some(RotaReply::TakeCover(12)));
        assert_eq!(RotaReply::parse("No 7"), Some(RotaReply::DeclineCover(7)));
        assert_eq!(
            RotaReply::parse("YES NOT BEREAVEMENT"),
            Some(RotaReply::ConfirmSteppingBack("BEREAVEMENT"))
        );
        assert_eq!(
            RotaReply::parse("ok not  neonatal care."),
            Some(RotaReply::ConfirmSteppingBack("neonatal care"))
        );
    }

    #[test]
    fn anything_else_is_left_for_the_conversation() {
        for text in [
            "",
            "okay",
            "no worries",
            "yes I can",
            "#12 END",
            "YES 0",
            "yes 7 8",
            "yes not",
            "no not bereavement",
        ] {
            assert_eq!(RotaReply::parse(text), None, "{text}");
        }
    }
}
