//! E.164 telephone numbers: parsed once at the edge, so an invalid number cannot exist
//! anywhere inside peerline.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid telephone number in E.164 form (`+` and up to 15 digits), e.g. `+12025550143`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a valid international phone number (E.164, e.g. +12025550143)")]
pub struct InvalidPhoneNumber(pub String);

impl E164 {
    /// Accepts an international number with a leading `+`, with or without spaces,
    /// dashes or brackets, and keeps it only if it is a valid number for its country.
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let trimmed = raw.trim();
        if !trimmed.starts_with('+') {
            return Err(InvalidPhoneNumber(raw.to_owned()));
        }
        let parsed =
            phonenumber::parse(None, trimmed).map_err(|_| InvalidPhoneNumber(raw.to_owned()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(InvalidPhoneNumber(raw.to_owned()));
        }
        Ok(Self(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether ringing it reaches a person's own phone: a mobile or landline number, not
    /// a premium-rate, shared-cost, freephone, satellite, pager or service number.
    pub fn reaches_a_person(&self) -> bool {
        use phonenumber::Type;
        phonenumber::parse(None, &self.0).is_ok_and(|parsed| {
            matches!(
                parsed.number_type(&phonenumber::metadata::DATABASE),
                Type::Mobile | Type::FixedLine | Type::FixedLineOrMobile
            )
        })
    }

    /// A label that lets a person tell numbers apart without revealing them: `...47`.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("...{tail}")
    }
}

impl TryFrom<String> for E164 {
    type Error = InvalidPhoneNumber;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Phone numbers are personal data: Debug output (logs, panics) shows only the mask.
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mobile_and_landline_numbers_reach_a_person() {
        for person in [
            "+12025550111",
            "+447911123456",
            "+442079460000",
            "+61491570156",
        ] {
            assert!(E164::parse(person).unwrap().reaches_a_person(), "{person}");
        }
        // Premium rate, freephone and shared cost (UK 09, 0800, 0845).
        for service in ["+449098790000", "+448001111111", "+448452345678"] {
            assert!(
                !E164::parse(service).unwrap().reaches_a_person(),
                "{service}"
            );
        }
    }

    #[test]
    fn normalises_spacing_and_punctuation() {
        let n = E164::parse(" +1 (202) 555-0143 ").unwrap();
        assert_eq!(n.as_str(), "+12025550143");
        assert_eq!(
            E164::parse("+61 491 570 156").unwrap().as_str(),
            "+61491570156"
        );
    }

    #[test]
    fn rejects_numbers_without_country_code_or_invalid() {
        for bad in ["2025550143", "+1", "+999123456", "hello", "", "+44 12"] {
            assert!(E164::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn debug_and_mask_hide_the_number() {
        let n = E164::parse("+12025550147").unwrap();
        assert_eq!(n.masked(), "...47");
        assert_eq!(format!("{n:?}"), "E164(...47)");
    }
}
