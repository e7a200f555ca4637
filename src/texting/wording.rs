//! What texters, volunteers and supervisors read: short messages built from the
//! helpline's own words. Pure functions of their inputs; nothing here ever names the
//! other side's number.

use crate::domain::ids::ContactId;
use crate::domain::texting::TextingSettings;

/// A topic the texter can choose by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicChoice {
    pub digit: i32,
    pub label: String,
}

/// The texter's first reply: who they reached, that a peer supporter will reply, the
/// topic menu when there is one, and the crisis text.
pub fn acknowledgement(helpline: &str, menu: &[TopicChoice], texting: &TextingSettings) -> String {
    let mut text = format!(
        "Thank you for texting {helpline}. A trained peer supporter will reply here as soon as they can."
    );
    if menu.len() > 1 {
        let options: Vec<String> = menu
            .iter()
            .map(|t| format!("{} for {}", t.digit, t.label))
            .collect();
        text.push_str(&format!(
            " To talk with someone who has been through it, reply {} (or just tell us what is on your mind).",
            options.join(", ")
        ));
    }
    text.push(' ');
    text.push_str(&texting.crisis_text);
    text
}

/// Nobody can reply now: the conversation waits for the next volunteer on shift.
pub fn holding(texting: &TextingSettings) -> String {
    let mut text = String::from(
        "All our peer supporters are busy or off shift just now. Your message is safe with us and someone will reply as soon as they are free.",
    );
    if !texting.opening_hours.trim().is_empty() {
        text.push_str(&format!(
            " We are usually here {}.",
            texting.opening_hours.trim()
        ));
    }
    text.push(' ');
    text.push_str(&texting.crisis_text);
    text
}

/// The texter's volunteer can no longer reply: someone else will carry on.
pub fn handed_back(texting: &TextingSettings) -> String {
    format!(
        "The peer supporter you were texting can no longer reply from their phone. We are \
         finding someone else to carry on with you; there is no need to start again. {}",
        texting.crisis_text
    )
}

pub fn help(texting: &TextingSettings) -> String {
    format!("{} {}", texting.help_text, texting.crisis_text)
}

/// The volunteer's offer: the reference, the helpline and the topic, and how to take it.
pub fn offer(reference: ContactId, helpline: &str, topic: Option<&str>) -> String {
    let about = topic.map_or_else(String::new, |t| format!(" about {t}"));
    format!(
        "[#{reference}] New text conversation on {helpline}{about}. Reply here to take it \
         (start with #{reference} if you have others open; #{reference} CLOSE to pass or close). \
         Their messages follow."
    )
}

/// A texter's message as the volunteer sees it.
pub fn relayed_to_volunteer(reference: ContactId, body: &str, media_count: i32) -> String {
    let body = body.trim();
    match (media_count, body.is_empty()) {
        (0, _) => format!("[#{reference}] {body}"),
        (_, true) => format!("[#{reference}] (sent a picture, not shown here)"),
        (_, false) => format!("[#{reference}] {body} (also sent a picture, not shown here)"),
    }
}

pub fn offer_expired(reference: ContactId) -> String {
    format!("[#{reference}] No reply in time, so this conversation has gone to another volunteer.")
}

pub fn passed_on(reference: ContactId) -> String {
    format!("[#{reference}] Passed on to another volunteer. Thank you.")
}

pub fn closed_by_volunteer(reference: ContactId) -> String {
    format!("[#{reference}] Conversation closed. Thank you for being there.")
}

pub fn closed_by_texter(reference: ContactId) -> String {
    format!("[#{reference}] The texter has opted out of texts; the conversation is closed.")
}

pub fn closed_inactive(reference: ContactId, hours: i32) -> String {
    format!("[#{reference}] Closed after {hours} hours without a message.")
}

/// A volunteer's message peerline could not place.
pub fn volunteer_help(open: &[ContactId], unknown_reference: Option<ContactId>) -> String {
    let refs: Vec<String> = open.iter().map(|r| format!("#{r}")).collect();
    let listing = match refs.as_slice() {
        [] => "You have no open text conversations.".to_owned(),
        [only] => format!("Your open conversation is {only}."),
        _ => format!(
            "Your open conversations are {}. Start your reply with one of them, e.g. \"{} ...\".",
            refs.join(", "),
            refs[0]
        ),
    };
    let prefix = unknown_reference
        .map(|r| format!("#{r} is not one of your open conversations. "))
        .unwrap_or_default();
    format!("peerline: {prefix}{listing} Your message was not passed on.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acknowledgement_offers_the_menu_only_for_two_topics_or_more() {
        let texting = TextingSettings {
            crisis_text: "In danger now? Call 999.".into(),
            ..TextingSettings::default()
        };
        let menu = vec![
            TopicChoice {
                digit: 1,
                label: "neonatal care".into(),
            },
            TopicChoice {
                digit: 2,
                label: "bereavement".into(),
            },
        ];
        let with_menu = acknowledgement("NICU Line", &menu, &texting);
        assert!(with_menu.contains("reply 1 for neonatal care, 2 for bereavement"));
        assert!(with_menu.ends_with("In danger now? Call 999."));
        let without = acknowledgement("NICU Line", &menu[..1], &texting);
        assert!(!without.contains("reply 1"));
    }

    #[test]
    fn pictures_are_described_not_relayed() {
        assert_eq!(relayed_to_volunteer(ContactId(4), "hi", 0), "[#4] hi");
        assert_eq!(
            relayed_to_volunteer(ContactId(4), "", 1),
            "[#4] (sent a picture, not shown here)"
        );
    }

    #[test]
    fn volunteer_help_lists_the_open_references() {
        assert_eq!(
            volunteer_help(&[ContactId(12), ContactId(15)], None),
            "peerline: Your open conversations are #12, #15. Start your reply with one of them, e.g. \"#12 ...\". Your message was not passed on."
        );
        assert!(
            volunteer_help(&[ContactId(12)], Some(ContactId(99)))
                .starts_with("peerline: #99 is not one of")
        );
    }
}
