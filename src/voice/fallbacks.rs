//! What each helpline number answers when peerline cannot use its database: the
//! helpline's fallback number (for calls) and its crisis text (for texts). Kept in memory,
//! refreshed from the database every minute and on every call and text, so that a caller
//! still reaches a human and a texter still hears back during an outage.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::phone::E164;

/// What a helpline number answers without the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfflineAnswer {
    pub fallback_number: Option<String>,
    pub crisis_text: Option<String>,
}

#[derive(Debug, Default)]
pub struct FallbackCache {
    by_helpline_number: RwLock<HashMap<String, OfflineAnswer>>,
}

impl FallbackCache {
    /// Remembers what the helpline reached on `dialed` answers offline.
    pub fn remember(&self, dialed: &E164, fallback: Option<&E164>, crisis_text: &str) {
        if let Ok(mut map) = self.by_helpline_number.write() {
            map.insert(
                dialed.as_str().to_owned(),
                OfflineAnswer {
                    fallback_number: fallback.map(|n| n.as_str().to_owned()),
                    crisis_text: Some(crisis_text.to_owned()),
                },
            );
        }
    }

    /// The fallback number for a call to `dialed`, if one is known.
    pub fn for_number(&self, dialed: &str) -> Option<String> {
        self.answer(dialed)?.fallback_number
    }

    /// The crisis text of the helpline texted at `dialed`, if known.
    pub fn crisis_text_for(&self, dialed: &str) -> Option<String> {
        self.answer(dialed)?.crisis_text
    }

    fn answer(&self, dialed: &str) -> Option<OfflineAnswer> {
        self.by_helpline_number.read().ok()?.get(dialed).cloned()
    }
}
