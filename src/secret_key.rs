//! Where the server's secret key comes from: `PEERLINE_SECRET_KEY` when set; otherwise a
//! generated key, kept in a file beside a SQLite database (readable by the server's user
//! alone, so a copy of the database alone opens nothing), or in a PostgreSQL database
//! itself (so that every instance shares it). Either way the key is checked against the
//! data before anything is read.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Settings, sqlite_file};
use crate::secrets::{KeyVerdict, NumberHasher, generate_secret_key, judge_key};
use crate::storage;

/// `PEERLINE_SECRET_KEY` if set; otherwise the generated key (see the module's notes),
/// generated on first start.
pub async fn resolve_secret_key(
    db: &DatabaseConnection,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<SecretString> {
    let key = match &settings.secret_key {
        Some(key) => {
            tracing::info!(
                "PEERLINE_SECRET_KEY is set: callers' numbers are sealed under a key kept outside the database"
            );
            key.clone()
        }
        None => match key_file(settings) {
            Some(path) => file_key(db, &path).await?,
            None => stored_or_generated_key(db, now).await?,
        },
    };
    verify_key(db, &key, settings.secret_key.is_some(), now).await?;
    Ok(key)
}

/// Refuses a key under which the stored data was not sealed (a `PEERLINE_SECRET_KEY` set,
/// or changed, on a database started with another key); records the check value of a key
/// that is fine.
async fn verify_key(
    db: &DatabaseConnection,
    key: &SecretString,
    from_environment: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let numbers = NumberHasher::new(key.clone());
    let check = numbers.key_check();
    let stored = storage::secrets::get(db, storage::secrets::KEY_CHECK)
        .await
        .context("reading the stored key check value")?;
    let opens_sample = match stored {
        Some(_) => None,
        None => storage::secrets::sealed_sample(db)
            .await
            .context("reading a sealed number to test the key")?
            .map(|sealed| numbers.open(&sealed).is_some()),
    };
    let stored_check = stored.as_ref().map(|s| s.expose_secret().to_owned());
    match judge_key(&check, stored_check.as_deref(), opens_sample) {
        KeyVerdict::Matches => Ok(()),
        KeyVerdict::Record => {
            storage::secrets::get_or_create(db, storage::secrets::KEY_CHECK, || check, now)
                .await
                .context("storing the key check value")?;
            Ok(())
        }
        KeyVerdict::Refuse => {
            let which = if from_environment {
                "PEERLINE_SECRET_KEY is not the key this database's phone numbers were sealed under"
            } else {
                "the key stored in the database is not the one its phone numbers were sealed under"
            };
            anyhow::bail!(
                "{which}: starting with it would lose every block, every volunteer's declared \
                 conflict and every number a supervisor may need to reveal. Set \
                 PEERLINE_SECRET_KEY to the key the database was started with; if that key was \
                 generated, `peerline export-key` (run with PEERLINE_SECRET_KEY unset) prints it. \
                 Moving the data to a new key is not supported yet."
            )
        }
    }
}

/// The key generated on this database's first start (generated now if there is none).
async fn stored_or_generated_key(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<SecretString> {
    let (key, created) = storage::secrets::get_or_create(
        db,
        storage::secrets::SECRET_KEY,
        || generate_secret_key().expose_secret().to_owned(),
        now,
    )
    .await
    .context("reading the stored secret key")?;
    if created {
        tracing::warn!(
            "PEERLINE_SECRET_KEY is not set: generated a new secret key and stored it in the database, \
             so a copy of the database alone opens every sealed number. For production, set \
             PEERLINE_SECRET_KEY from a secret store instead (peerline export-key prints this one)."
        );
    } else {
        tracing::info!(
            "PEERLINE_SECRET_KEY is not set: using the secret key stored in the database (a copy of the database alone opens every sealed number)"
        );
    }
    Ok(key)
}

/// The file a SQLite database's generated key is kept in: beside it, named after it.
pub fn key_file(settings: &Settings) -> Option<PathBuf> {
    let database = sqlite_file(settings.database_url.expose_secret())?;
    let mut name = database.file_name()?.to_owned();
    name.push(".key");
    Some(database.with_file_name(name))
}

/// The key in `path`; on the first start with a key file, the key this database kept
/// itself (an older set-up) moves into the file, or a new one is generated.
async fn file_key(db: &DatabaseConnection, path: &Path) -> anyhow::Result<SecretString> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let stored = storage::secrets::get(db, storage::secrets::SECRET_KEY)
        .await
        .context("reading the stored secret key")?;
    let key = stored.clone().unwrap_or_else(generate_secret_key);
    match write_private(path, key.expose_secret()) {
        Ok(()) => {}
        // Another process started at the same moment and wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return read_key(path)?.ok_or_else(|| anyhow::anyhow!("{} is empty", path.display()));
        }
        Err(e) => {
            return Err(e).with_context(|| format!("writing the secret key to {}", path.display()));
        }
    }
    if stored.is_some() {
        storage::secrets::delete(db, storage::secrets::SECRET_KEY)
            .await
            .context("removing the secret key from the database once kept in its file")?;
        tracing::warn!(path = %path.display(), "moved the generated secret key out of the database into its own file; back it up with the database, but apart from it");
    } else {
        tracing::warn!(
            path = %path.display(),
            "PEERLINE_SECRET_KEY is not set: generated a secret key and kept it in a file beside the database \
             (readable by this user alone). Back it up apart from the database; for production, set \
             PEERLINE_SECRET_KEY from a secret store (peerline export-key prints this one)."
        );
    }
    Ok(key)
}

/// The copy of a key kept in the database that a server keeps in its spool folder, so
/// that it can start, and seal what it spools, while the database is out of reach.
const OUTAGE_COPY: &str = "secret.key";

/// Keeps a copy of a key kept in the database (neither `PEERLINE_SECRET_KEY` nor a key file)
/// in `folder`, readable by this user alone. Whoever can read it could read the database
/// too: this server's user holds `DATABASE_URL`.
pub fn keep_for_outages(
    settings: &Settings,
    folder: &Path,
    key: &SecretString,
) -> anyhow::Result<()> {
    if settings.secret_key.is_some() || key_file(settings).is_some() {
        return Ok(());
    }
    let copy = folder.join(OUTAGE_COPY);
    if read_key(&copy)?.is_some_and(|kept| kept.expose_secret() == key.expose_secret()) {
        return Ok(());
    }
    let fresh = folder.join(format!("{OUTAGE_COPY}.new"));
    let _ = std::fs::remove_file(&fresh);
    write_private(&fresh, key.expose_secret())
        .and_then(|()| std::fs::rename(&fresh, &copy))
        .with_context(|| format!("keeping a copy of the secret key in {}", copy.display()))
}

/// The key, when it can be known without the database: `PEERLINE_SECRET_KEY`, a SQLite
/// database's key file, or the copy kept by [`keep_for_outages`].
pub fn key_without_database(
    settings: &Settings,
    folder: &Path,
) -> anyhow::Result<Option<SecretString>> {
    if let Some(key) = &settings.secret_key {
        return Ok(Some(key.clone()));
    }
    read_key(&key_file(settings).unwrap_or_else(|| folder.join(OUTAGE_COPY)))
}

fn read_key(path: &Path) -> anyhow::Result<Option<SecretString>> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned().into())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the secret key from {}", path.display())),
    }
}

/// Writes a new file readable by this user alone; fails if it exists.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars(&vars).unwrap()
    }

    #[test]
    fn a_key_kept_in_postgresql_is_known_without_it_once_a_server_has_read_it() {
        let folder = tempfile::tempdir().unwrap();
        let postgres = settings(&[("DATABASE_URL", "postgres://peerline@db/peerline")]);
        assert!(
            key_without_database(&postgres, folder.path())
                .unwrap()
                .is_none()
        );
        let key: SecretString = "k".repeat(40).into();
        keep_for_outages(&postgres, folder.path(), &key).unwrap();
        let known = key_without_database(&postgres, folder.path()).unwrap();
        assert_eq!(known.unwrap().expose_secret(), key.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(folder.path().join(OUTAGE_COPY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A new key read from the database replaces the copy.
        let rotated: SecretString = "r".repeat(40).into();
        keep_for_outages(&postgres, folder.path(), &rotated).unwrap();
        let known = key_without_database(&postgres, folder.path()).unwrap();
        assert_eq!(known.unwrap().expose_secret(), rotated.expose_secret());
    }

    #[test]
    fn a_key_from_the_environment_or_a_key_file_is_never_copied() {
        let folder = tempfile::tempdir().unwrap();
        let key: SecretString = "e".repeat(40).into();
        let from_environment = settings(&[
            ("DATABASE_URL", "postgres://peerline@db/peerline"),
            ("PEERLINE_SECRET_KEY", key.expose_secret()),
        ]);
        keep_for_outages(&from_environment, folder.path(), &key).unwrap();
        let beside_sqlite = settings(&[("DATABASE_URL", "sqlite://peerline.db?mode=rwc")]);
        keep_for_outages(&beside_sqlite, folder.path(), &key).unwrap();
        assert!(!folder.path().join(OUTAGE_COPY).exists());
        let known = key_without_database(&from_environment, folder.path()).unwrap();
        assert_eq!(known.unwrap().expose_secret(), key.expose_secret());
    }
}
