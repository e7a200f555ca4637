//! The retention purge: each helpline's contacts older than its retention period lose
//! what identifies the caller. `serve` runs it once a day (and at start); `peerline purge`
//! runs it on demand. Safe on several servers at once, and a rerun changes nothing.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::supervisor::{After, Supervisor};
use crate::domain::access::Scope;
use crate::domain::ids::HelplineId;
use crate::domain::phone::E164;
use crate::secrets::Vault;
use crate::state::AppState;
use crate::storage::audit::{self, Audited};
use crate::storage::{helplines, retention};

/// How many contacts each helpline had erased by this pass; a pass that erased any is
/// written to the audit log, saying `by` what (the daily job, the command line).
pub async fn purge(
    db: &DatabaseConnection,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(HelplineId, u64)>, DbErr> {
    let mut erased = Vec::new();
    for (helpline_id, settings) in helplines::all_settings(db, &Scope::All).await? {
        let cutoff = now - Duration::days(settings.supervision.retention_days.into());
        let count =
            retention::erase_where(db, retention::older_than(helpline_id, cutoff), now).await?;
        if count > 0 {
            let entry = Audited::new("retention_purge")
                .helpline(helpline_id)
                .detail(serde_json::json!({ "contacts": count, "before": cutoff }));
            audit::record_by_peerline(db, entry, by, now).await?;
        }
        erased.push((helpline_id, count));
    }
    Ok(erased)
}

/// What erasing one caller did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerErased {
    pub contacts: u64,
    /// Contacts still in progress: erased by the next purge or request once they end.
    pub still_open: u64,
    /// Messages to the caller on those open contacts, cancelled before they went.
    pub messages_cancelled: u64,
}

/// Erases every ended contact of the caller with `number`, at every helpline, whatever
/// its age (a caller's request to be forgotten).
pub async fn erase_caller(
    db: &DatabaseConnection,
    vault: &Vault,
    number: &E164,
    now: DateTime<Utc>,
) -> Result<CallerErased, DbErr> {
    let hashes = vault.hashes(number);
    let contacts = retention::erase_where(db, retention::of_caller(&hashes), now).await?;
    let still_open = retention::open_contacts_of(db, &hashes).await?;
    let messages_cancelled = retention::cancel_messages_to_caller(db, &hashes, now).await?;
    let detail = serde_json::json!({
        "contacts": contacts,
        "still_open": still_open,
        "messages_cancelled": messages_cancelled,
    });
    let entry = Audited::new("erase_caller").detail(detail);
    audit::record_by_peerline(db, entry, "command line (erase-caller)", now).await?;
    Ok(CallerErased {
        contacts,
        still_open,
        messages_cancelled,
    })
}

/// Purges now and then every `every` for as long as the server runs.
pub fn start(jobs: &Supervisor, state: Arc<AppState>, every: StdDuration) {
    jobs.every("retention", every, move || {
        let state = state.clone();
        async move {
            let erased = purge(&state.db, "the daily retention job", state.clock.now()).await?;
            let total: u64 = erased.iter().map(|(_, n)| n).sum();
            if total > 0 {
                tracing::info!(erased = total, "retention purge erased old contacts");
            }
            Ok(After::Wait)
        }
    });
}
