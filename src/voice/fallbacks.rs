//! The last known fallback number of each helpline number, kept in memory so that a call
//! still reaches a human when peerline cannot read its database.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::phone::E164;

#[derive(Debug, Default)]
pub struct FallbackCache {
    by_helpline_number: RwLock<HashMap<String, Option<String>>>,
}

impl FallbackCache {
    /// Remembers the fallback number of the helpline reached on `dialed`.
    pub fn remember(&self, dialed: &E164, fallback: Option<&E164>) {
        if let Ok(mut map) = self.by_helpline_number.write() {
            map.insert(
                dialed.as_str().to_owned(),
                fallback.map(|n| n.as_str().to_owned()),
            );
        }
    }

    /// The fallback number for a call to `dialed`, if one is known.
    pub fn for_number(&self, dialed: &str) -> Option<String> {
        self.by_helpline_number
            .read()
            .ok()?
            .get(dialed)
            .cloned()
            .flatten()
    }
}
