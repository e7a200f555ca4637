//! What each helpline number answers when peerline cannot use its database: the
//! helpline's fallback number (for calls) and its crisis text (for texts). Kept in memory,
//! refreshed from the database every minute and on every call and text, so that a caller
//! still reaches a human and a texter still hears back during an outage; and kept in a
//! file beside the spool, so that a server started while the database is out of reach
//! answers the same.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::domain::phone::E164;

/// The file, in the spool folder, that keeps the answers across restarts.
const FILE: &str = "offline-answers.json";

/// What a helpline number answers without the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineAnswer {
    pub fallback_number: Option<String>,
    pub crisis_text: Option<String>,
}

#[derive(Debug, Default)]
pub struct FallbackCache {
    by_helpline_number: RwLock<BTreeMap<String, OfflineAnswer>>,
    /// Where the answers are kept across restarts; none keeps them in memory only.
    file: Option<PathBuf>,
}

impl FallbackCache {
    /// The answers kept in `folder` by an earlier run of this server (none if there are
    /// none, or they cannot be read: the log says so), kept there from now on.
    pub fn kept_in(folder: &Path) -> Self {
        let file = folder.join(FILE);
        let answers = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                tracing::warn!(%error, file = %file.display(), "the offline answers kept by an earlier run cannot be read; starting without them");
                BTreeMap::new()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => {
                tracing::warn!(%error, file = %file.display(), "the offline answers kept by an earlier run cannot be read; starting without them");
                BTreeMap::new()
            }
        };
        Self {
            by_helpline_number: RwLock::new(answers),
            file: Some(file),
        }
    }

    /// How many helpline numbers have an answer.
    pub fn len(&self) -> usize {
        self.by_helpline_number.read().map_or(0, |map| map.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers what the helpline reached on `dialed` answers offline; a changed answer
    /// is written to the file at once.
    pub fn remember(&self, dialed: &E164, fallback: Option<&E164>, crisis_text: &str) {
        let answer = OfflineAnswer {
            fallback_number: fallback.map(|n| n.as_str().to_owned()),
            crisis_text: Some(crisis_text.to_owned()),
        };
        if self.answer(dialed.as_str()).as_ref() == Some(&answer) {
            return;
        }
        let Ok(mut map) = self.by_helpline_number.write() else {
            return;
        };
        map.insert(dialed.as_str().to_owned(), answer);
        if let Some(file) = &self.file
            && let Err(error) = write_replacing(file, &map)
        {
            tracing::warn!(%error, file = %file.display(), "the offline answers could not be kept on disk; a restart during an outage would not know them");
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

/// Writes `answers` to a new file beside `file` and moves it into place, so that a crash
/// leaves the old answers or the new ones, never half of them.
fn write_replacing(file: &Path, answers: &BTreeMap<String, OfflineAnswer>) -> std::io::Result<()> {
    let fresh = file.with_extension("json.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&fresh)?;
    out.write_all(&serde_json::to_vec_pretty(answers).map_err(std::io::Error::other)?)?;
    out.sync_all()?;
    std::fs::rename(&fresh, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> E164 {
        E164::parse(text).unwrap()
    }

    #[test]
    fn a_restarted_server_answers_what_the_last_run_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let before = FallbackCache::kept_in(dir.path());
        assert!(before.is_empty());
        before.remember(
            &number("+12025550100"),
            Some(&number("+12025550188")),
            "In danger now? Call 999.",
        );
        before.remember(&number("+12025550101"), None, "Call 999.");

        let after = FallbackCache::kept_in(dir.path());
        assert_eq!(after.len(), 2);
        assert_eq!(
            after.for_number("+12025550100").as_deref(),
            Some("+12025550188")
        );
        assert_eq!(after.for_number("+12025550101"), None);
        assert_eq!(
            after.crisis_text_for("+12025550101").as_deref(),
            Some("Call 999.")
        );
    }

    #[test]
    fn answers_that_cannot_be_read_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let cache = FallbackCache::kept_in(dir.path());
        assert!(cache.is_empty());
        cache.remember(&number("+12025550100"), None, "Call 999.");
        assert_eq!(FallbackCache::kept_in(dir.path()).len(), 1);
    }
}
