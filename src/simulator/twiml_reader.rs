//! Reads a TwiML document back into elements, as Twilio would, for the simulator.

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
#[error("malformed TwiML at byte {0}")]
pub struct MalformedTwiml(pub usize);

/// Parses a document and returns its root element (`<Response>`).
pub fn parse(xml: &str) -> Result<Element, MalformedTwiml> {
    let mut reader = Reader { xml, pos: 0 };
    reader.skip_prolog();
    let root = reader.element()?;
    Ok(root)
}

struct Reader<'a> {
    xml: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.xml[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.xml.len() - trimmed.len();
    }

    fn skip_prolog(&mut self) {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<?") || self.rest().starts_with("<!") {
                match self.rest().find('>') {
                    Some(end) => self.pos += end + 1,
                    None => return,
                }
            } else {
                return;
            }
        }
    }

    fn element(&mut self) -> Result<Element, MalformedTwiml> {
        self.skip_ws();
        if !self.rest().starts_with('<') {
            return Err(MalformedTwiml(self.pos));
        }
        self.pos += 1;
        let name_len = self
            .rest()
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or(MalformedTwiml(self.pos))?;
        let mut element = Element {
            name: self.rest()[..name_len].to_owned(),
            ..Default::default()
        };
        self.pos += name_len;
        loop {
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.pos += 2;
                return Ok(element);
            }
            if self.rest().starts_with('>') {
                self.pos += 1;
                break;
            }
            let eq = self.rest().find('=').ok_or(MalformedTwiml(self.pos))?;
            let key = self.rest()[..eq].trim().to_owned();
            self.pos += eq + 1;
            self.skip_ws();
            let quote = self.rest().chars().next().ok_or(MalformedTwiml(self.pos))?;
            if quote != '"' && quote != '\'' {
                return Err(MalformedTwiml(self.pos));
            }
            self.pos += 1;
            let end = self.rest().find(quote).ok_or(MalformedTwiml(self.pos))?;
            let value = unescape(&self.rest()[..end]);
            self.pos += end + 1;
            element.attrs.push((key, value));
        }
        loop {
            let next = self.rest().find('<').ok_or(MalformedTwiml(self.pos))?;
            element.text.push_str(&unescape(&self.rest()[..next]));
            self.pos += next;
            if self.rest().starts_with("</") {
                let end = self.rest().find('>').ok_or(MalformedTwiml(self.pos))?;
                if self.rest()[2..end].trim() != element.name {
                    return Err(MalformedTwiml(self.pos));
                }
                self.pos += end + 1;
                return Ok(element);
            }
            let child = self.element()?;
            element.children.push(child);
        }
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
