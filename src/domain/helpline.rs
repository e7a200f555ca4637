//! A helpline's settings and its topics, as an administrator writes them, with the
//! rules that keep them usable by the router.

use serde::{Deserialize, Serialize};

use super::callback::CallerSettings;
use super::phone::E164;
use super::shift_reminders::RotaCareSettings;
use super::supervision::SupervisionSettings;
use super::texting::TextingSettings;
use super::timezone::TimeZone;
use super::validate::{self, FieldError};

/// How calls are offered to volunteers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    /// Seconds each offer rings before the next volunteer is tried (5 to 120).
    #[serde(default = "RoutingSettings::default_ring_timeout")]
    pub ring_timeout_secs: i32,
    /// How many volunteers ring at once (1 = one by one, up to 10).
    #[serde(default = "RoutingSettings::default_ring_group_size")]
    pub ring_group_size: i32,
    /// The longest a caller waits for a volunteer before the fallback path (30 to 1800).
    #[serde(default = "RoutingSettings::default_max_wait")]
    pub max_wait_secs: i32,
    /// Offer a returning caller to the volunteer they last spoke to first.
    #[serde(default)]
    pub continuity_enabled: bool,
    /// How recent the last contact must be for continuity (1 to 365 days).
    #[serde(default = "RoutingSettings::default_continuity_days")]
    pub continuity_days: i32,
    /// At most this many contacts in a row with the same volunteer (1 to 20).
    #[serde(default = "RoutingSettings::default_continuity_max_repeats")]
    pub continuity_max_repeats: i32,
}

impl RoutingSettings {
    fn default_ring_timeout() -> i32 {
        20
    }
    fn default_ring_group_size() -> i32 {
        1
    }
    fn default_max_wait() -> i32 {
        120
    }
    fn default_continuity_days() -> i32 {
        30
    }
    fn default_continuity_max_repeats() -> i32 {
        3
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        validate::range(
            "routing.ring_timeout_secs",
            self.ring_timeout_secs.into(),
            5,
            120,
        )?;
        validate::range(
            "routing.ring_group_size",
            self.ring_group_size.into(),
            1,
            10,
        )?;
        validate::range("routing.max_wait_secs", self.max_wait_secs.into(), 30, 1800)?;
        validate::range(
            "routing.continuity_days",
            self.continuity_days.into(),
            1,
            365,
        )?;
        validate::range(
            "routing.continuity_max_repeats",
            self.continuity_max_repeats.into(),
            1,
            20,
        )
    }
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            ring_timeout_secs: Self::default_ring_timeout(),
            ring_group_size: Self::default_ring_group_size(),
            max_wait_secs: Self::default_max_wait(),
            continuity_enabled: false,
            continuity_days: Self::default_continuity_days(),
            continuity_max_repeats: Self::default_continuity_max_repeats(),
        }
    }
}

/// A helpline's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelplineSettings {
    pub name: String,
    /// IANA time zone of the helpline (its opening hours and reports).
    #[schema(value_type = String, example = "Europe/London")]
    pub time_zone: TimeZone,
    /// What a caller hears first.
    pub greeting: String,
    /// Language of the spoken prompts, e.g. `en-GB`.
    pub voice_language: String,
    /// Languages the helpline offers, e.g. `["en", "cy"]`.
    pub languages: Vec<String>,
    /// A partner helpline or duty phone for when nobody answers.
    #[schema(value_type = Option<String>, example = "+12025550100")]
    pub fallback_number: Option<E164>,
    #[serde(default)]
    pub routing: RoutingSettings,
    #[serde(default)]
    pub texting: TextingSettings,
    #[serde(default)]
    pub supervision: SupervisionSettings,
    /// Shift reminders and cover requests.
    #[serde(default)]
    pub rota: RotaCareSettings,
    /// Callers who cannot be answered at once: callbacks and the hold message.
    #[serde(default)]
    pub callers: CallerSettings,
}

impl HelplineSettings {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::text("name", &self.name, 200)?;
        validate::text("greeting", &self.greeting, 1000)?;
        validate::language("voice_language", &self.voice_language)?;
        validate::languages("languages", &self.languages)?;
        self.routing.validate()?;
        self.texting.validate()?;
        self.supervision.validate()?;
        self.rota.validate()?;
        self.callers.validate()
    }
}

/// A shared experience a helpline offers, chosen from the keypad menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicSettings {
    /// Short stable key, e.g. `neonatal` (lower-case letters, digits, `-`, `_`).
    pub key: String,
    /// What callers and volunteers hear, e.g. "neonatal care".
    pub label: String,
    /// Keypad digit 1 to 9 in the topic menu.
    pub digit: Option<i32>,
    /// Strict: only volunteers signed off for it; otherwise any trained volunteer may take it when none is.
    #[serde(default)]
    pub strict: bool,
}

impl TopicSettings {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::text("key", &self.key, 50)?;
        if !self
            .key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(FieldError::new(
                "key",
                "may hold only lower-case letters, digits, '-' and '_'",
            ));
        }
        validate::text("label", &self.label, 200)?;
        if let Some(digit) = self.digit {
            validate::range("digit", digit.into(), 1, 9)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> HelplineSettings {
        HelplineSettings {
            name: "NICU parents".into(),
            time_zone: TimeZone::parse("Europe/London").unwrap(),
            greeting: "Hello".into(),
            voice_language: "en-GB".into(),
            languages: vec!["en".into()],
            fallback_number: None,
            routing: RoutingSettings::default(),
            texting: TextingSettings::default(),
            supervision: SupervisionSettings::default(),
            rota: RotaCareSettings::default(),
            callers: Default::default(),
        }
    }

    #[test]
    fn defaults_are_valid_and_bounds_are_named() {
        assert_eq!(settings().validate(), Ok(()));
        let mut s = settings();
        s.routing.ring_group_size = 11;
        assert_eq!(s.validate().unwrap_err().field, "routing.ring_group_size");
    }

    #[test]
    fn topic_rules() {
        let topic = TopicSettings {
            key: "neonatal".into(),
            label: "neonatal care".into(),
            digit: Some(1),
            strict: false,
        };
        assert_eq!(topic.validate(), Ok(()));
        assert_eq!(
            TopicSettings {
                digit: Some(0),
                ..topic.clone()
            }
            .validate()
            .unwrap_err()
            .field,
            "digit"
        );
        assert_eq!(
            TopicSettings {
                key: "Neo Natal".into(),
                ..topic
            }
            .validate()
            .unwrap_err()
            .field,
            "key"
        );
    }
}
