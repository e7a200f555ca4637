//! `peerline rotate-key`: moving everything sealed or hashed under the previous secret
//! key (`PEERLINE_PREVIOUS_SECRET_KEY`) to the current one (`PEERLINE_SECRET_KEY`).
//!
//! Safe while servers run, as long as each was started with both keys: they read under
//! either and seal under the new one. Each row is moved on its own (compare and set), so
//! a rotation that stops part-way is run again and carries on; two at once do no harm.
//! Only when every row has moved does the database record the new key as its own, after
//! which a server needs the new key alone.

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbErr};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::secret_key::resolve_secret_key;
use crate::secrets::Vault;
use crate::storage::audit::{self, Audited};
use crate::storage::sealing::{self, Resealed};
use crate::storage::secrets;

/// Who the audit log says did it.
const BY: &str = "command line (rotate-key)";

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Message bodies, notes and free text sealed again.
    pub text: Resealed,
    /// Phones and numbers sealed and hashed again.
    pub numbers: Resealed,
    /// Blocks, conflicts and opt-outs removed because their number was never kept
    /// (only with `forget_unmovable`).
    pub forgotten: u64,
}

/// Moves the data to `PEERLINE_SECRET_KEY`. Blocks, conflicts and opt-outs made before
/// numbers were kept sealed, whose number is found nowhere else, would stop matching
/// under the new key: the rotation stops before it starts unless `forget_unmovable`.
pub async fn rotate(
    db: &DatabaseConnection,
    settings: &Settings,
    forget_unmovable: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Rotation> {
    anyhow::ensure!(
        settings.secret_key.is_some() && settings.previous_secret_key.is_some(),
        "set PEERLINE_SECRET_KEY to the new key and PEERLINE_PREVIOUS_SECRET_KEY to the key the \
         data is sealed under now (`peerline export-key`, run with PEERLINE_SECRET_KEY unset, \
         prints a generated one), as the servers have them while the data moves"
    );
    let keys = resolve_secret_key(db, settings, now).await?;
    let vault = keys.vault();
    let unmovable = sealing::recover_hashed_numbers(db, &vault).await?;
    let stuck: u64 = unmovable.iter().map(|(_, n)| n).sum();
    if stuck > 0 && !forget_unmovable {
        let list: Vec<String> = unmovable
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(table, n)| format!("{n} in {table}"))
            .collect();
        anyhow::bail!(
            "some blocks, conflicts or opt-outs were made before numbers were kept sealed and \
             their numbers are found nowhere else ({}): under the new key they would match \
             nobody. Nothing has moved to the new key. Run again with --forget-unmovable to remove them \
             (volunteers declare those conflicts again, supervisors block again), or keep the \
             old key.",
            list.join(", ")
        );
    }
    let started = Audited::new("rotate_key_started").detail(serde_json::json!({
        "from": previous_check(&vault),
        "to": vault.key_check(),
    }));
    audit::record_by_peerline(db, started, BY, now).await?;
    let forgotten = if stuck > 0 {
        forget_unmovable_numbers(db).await?
    } else {
        0
    };
    let text = sealing::reseal_text(db, &vault)
        .await
        .context("sealing message bodies, notes and free text again")?;
    let numbers = sealing::reseal_numbers(db, &vault)
        .await
        .context("sealing and hashing phone numbers again")?;
    finish(db, &vault, keys.previous.as_ref(), now).await?;
    let done = Audited::new("rotate_key").detail(serde_json::json!({
        "to": vault.key_check(),
        "text_resealed": text.changed,
        "numbers_resealed": numbers.changed,
        "unreadable": text.unreadable + numbers.unreadable,
        "forgotten": forgotten,
    }));
    audit::record_by_peerline(db, done, BY, now).await?;
    Ok(Rotation {
        text,
        numbers,
        forgotten,
    })
}

fn previous_check(vault: &Vault) -> Option<String> {
    vault.previous().map(|previous| previous.key_check())
}

/// Records the new key as the one the data is sealed under, and drops a generated key
/// the database kept itself if it was the previous one.
async fn finish(
    db: &DatabaseConnection,
    vault: &Vault,
    previous: Option<&secrecy::SecretString>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    secrets::set(db, secrets::KEY_CHECK, &vault.key_check(), now).await?;
    if let (Some(stored), Some(previous)) = (secrets::get(db, secrets::SECRET_KEY).await?, previous)
        && stored.expose_secret() == previous.expose_secret()
    {
        secrets::delete(db, secrets::SECRET_KEY).await?;
    }
    Ok(())
}

/// Removes the blocks, conflicts and opt-outs whose number was never kept; how many.
async fn forget_unmovable_numbers(db: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let mut forgotten = 0;
    for table in ["conflicts", "blocked_callers", "text_opt_outs"] {
        let delete = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("number_sealed")).is_null())
            .to_owned();
        forgotten += db.execute(&delete).await?.rows_affected();
    }
    Ok(forgotten)
}

/// The log line a finished rotation prints.
pub fn summary(rotation: &Rotation) -> String {
    let mut lines = vec![format!(
        "moved to the new key: {} messages, notes and texts, {} phone numbers and callers",
        rotation.text.changed, rotation.numbers.changed
    )];
    let unreadable = rotation.text.unreadable + rotation.numbers.unreadable;
    if unreadable > 0 {
        lines.push(format!(
            "{unreadable} values open under neither key (tampered with, or sealed under a third key) and were left as they are"
        ));
    }
    if rotation.forgotten > 0 {
        lines.push(format!(
            "removed {} blocks, conflicts and opt-outs whose numbers were never kept",
            rotation.forgotten
        ));
    }
    lines.push(
        "the database now records PEERLINE_SECRET_KEY as its key: once every server's spool is \
         empty, remove PEERLINE_PREVIOUS_SECRET_KEY from their settings (and delete a generated \
         key file beside a SQLite database)"
            .to_owned(),
    );
    lines.join("\n")
}
