//! Reads a TwiML document back into elements, as Twilio would, for the simulator
//! (parsed by roxmltree).

/// One XML element with its attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every descendant named `name`, depth first.
    pub fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for child in &self.children {
            if child.name == name {
                out.push(child);
            }
            child.find_all(name, out);
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed TwiML: {0}")]
pub struct MalformedTwiml(pub String);

/// Parses a document and returns its root element (`<Response>`).
pub fn parse(xml: &str) -> Result<Element, MalformedTwiml> {
    let document = roxmltree::Document::parse(xml).map_err(|e| MalformedTwiml(e.to_string()))?;
    Ok(element(document.root_element()))
}

fn element(node: roxmltree::Node<'_, '_>) -> Element {
    Element {
        name: node.tag_name().name().to_owned(),
        attrs: node
            .attributes()
            .map(|a| (a.name().to_owned(), a.value().to_owned()))
            .collect(),
        text: node
            .children()
            .filter(roxmltree::Node::is_text)
            .filter_map(|t| t.text())
            .collect(),
        children: node
            .children()
            .filter(roxmltree::Node::is_element)
            .map(element)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::twiml::{Gather, Prompt, Say, Verb, VoiceResponse};

    #[test]
    fn reads_back_what_the_builder_writes() {
        let greeting = "Tom & Jerry's <line> \"hi\" — ✓";
        let xml = VoiceResponse::new()
            .push(Verb::Gather(Gather {
                action: "https://x.org/m?contact=1&step=topic".into(),
                num_digits: 1,
                timeout_secs: 6,
                prompts: vec![Prompt::Say(Say::new(greeting, "en-GB"))],
            }))
            .push(Verb::Hangup)
            .to_xml();
        let root = parse(&xml).unwrap();
        assert_eq!(root.name, "Response");
        assert_eq!(root.children.len(), 2);
        let gather = &root.children[0];
        assert_eq!(
            gather.attr("action"),
            Some("https://x.org/m?contact=1&step=topic")
        );
        assert_eq!(gather.children[0].text, greeting);
        assert_eq!(root.children[1].name, "Hangup");
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert!(parse("<Response><Say>hi</Response>").is_err());
        assert!(parse("just text").is_err());
    }
}
