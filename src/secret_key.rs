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
use crate::secrets::{KeyChecks, KeyVerdict, SampleOpens, Vault, generate_secret_key, judge_key};
use crate::storage;

/// The keys a server holds: the one it seals under, and while the data moves to it
/// (`peerline rotate-key`), the one the data was sealed under before.
#[derive(Clone)]
pub struct ServerKeys {
    pub current: SecretString,
    pub previous: Option<SecretString>,
}

impl ServerKeys {
    pub fn vault(&self) -> Vault {
        match &self.previous {
            Some(previous) => Vault::rotating(self.current.clone(), previous.clone()),
            None => Vault::new(self.current.clone()),
        }
    }
}

/// `PEERLINE_SECRET_KEY` if set; otherwise the generated key (see the module's notes),
/// generated on first start; with `PEERLINE_PREVIOUS_SECRET_KEY` while a rotation runs.
pub async fn resolve_secret_key(
    db: &DatabaseConnection,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ServerKeys> {
    let current = match &settings.secret_key {
        Some(key) => {
            tracing::info!(
                "PEERLINE_SECRET_KEY is set: phone numbers and messages are sealed under a key kept outside the database"
            );
            key.clone()
        }
        None => match key_file(settings) {
            Some(path) => file_key(db, &path).await?,
            None => stored_or_generated_key(db, now).await?,
        },
    };
    let keys = ServerKeys {
        current,
        previous: settings.previous_secret_key.clone(),
    };
    verify_key(db, &keys, settings.secret_key.is_some(), now).await?;
    Ok(keys)
}

/// The vault of the server's keys (see [`resolve_secret_key`]).
pub async fn vault(
    db: &DatabaseConnection,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vault> {
    Ok(resolve_secret_key(db, settings, now).await?.vault())
}

/// Refuses a key under which the stored data was not sealed (a `PEERLINE_SECRET_KEY` set,
/// or changed, on a database started with another key) unless the data is moving to it
/// from `PEERLINE_PREVIOUS_SECRET_KEY`; records the check value of a key that is fine.
async fn verify_key(
    db: &DatabaseConnection,
    keys: &ServerKeys,
    from_environment: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let current = Vault::new(keys.current.clone());
    let previous = keys.previous.clone().map(Vault::new);
    let checks = KeyChecks {
        current: current.key_check(),
        previous: previous.as_ref().map(Vault::key_check),
    };
    let stored = storage::secrets::get(db, storage::secrets::KEY_CHECK)
        .await
        .context("reading the stored key check value")?;
    let sample = match stored {
        Some(_) => None,
        None => storage::secrets::sealed_sample(db)
            .await
            .context("reading a sealed number to test the key")?
            .map(|sealed| SampleOpens {
                current: current.open(&sealed).is_some(),
                previous: previous.as_ref().is_some_and(|p| p.open(&sealed).is_some()),
            }),
    };
    let stored_check = stored.as_ref().map(|s| s.expose_secret().to_owned());
    let record = |check: String| async move {
        storage::secrets::get_or_create(db, storage::secrets::KEY_CHECK, || check, now)
            .await
            .context("storing the key check value")
            .map(|_| ())
    };
    match judge_key(&checks, stored_check.as_deref(), sample) {
        KeyVerdict::Matches => {
            if keys.previous.is_some() {
                tracing::info!(
                    "the data is sealed under PEERLINE_SECRET_KEY: PEERLINE_PREVIOUS_SECRET_KEY is needed no longer, once every server's spool is empty"
                );
            }
            Ok(())
        }
        KeyVerdict::Rotating => {
            tracing::warn!(
                "the data is moving from PEERLINE_PREVIOUS_SECRET_KEY to PEERLINE_SECRET_KEY: both are read, new data is sealed under PEERLINE_SECRET_KEY; run `peerline rotate-key` to move the rest"
            );
            Ok(())
        }
        KeyVerdict::Record => record(checks.current).await,
        KeyVerdict::RecordPrevious => {
            record(checks.previous.unwrap_or_default()).await?;
            tracing::warn!(
                "the data is sealed under PEERLINE_PREVIOUS_SECRET_KEY: run `peerline rotate-key` to move it to PEERLINE_SECRET_KEY"
            );
            Ok(())
        }
        KeyVerdict::Refuse => {
            let which = match (from_environment, keys.previous.is_some()) {
                (_, true) => {
                    "neither PEERLINE_SECRET_KEY nor PEERLINE_PREVIOUS_SECRET_KEY is the key this database's data was sealed under"
                }
                (true, false) => {
                    "PEERLINE_SECRET_KEY is not the key this database's phone numbers were sealed under"
                }
                (false, false) => {
                    "the key stored for this database is not the one its phone numbers were sealed under"
                }
            };
            anyhow::bail!(
                "{which}: starting with it would lose every block, every volunteer's declared \
                 conflict and every number and message it keeps. To keep the old key, set \
                 PEERLINE_SECRET_KEY to it (`peerline export-key`, run with PEERLINE_SECRET_KEY \
                 unset, prints a generated one). To move the data to the new key, set \
                 PEERLINE_PREVIOUS_SECRET_KEY to the old key beside the new PEERLINE_SECRET_KEY, \
                 start the servers, and run `peerline rotate-key`."
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
             so a copy of the database alone opens every sealed number and message. For production, set \
             PEERLINE_SECRET_KEY from a secret store instead (peerline export-key prints this one)."
        );
    } else {
        tracing::info!(
            "PEERLINE_SECRET_KEY is not set: using the secret key stored in the database (a copy of the database alone opens every sealed number and message)"
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
    key: &ServerKeys,
) -> anyhow::Result<()> {
    if settings.secret_key.is_some() || key_file(settings).is_some() {
        return Ok(());
    }
    let key = &key.current;
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

/// The keys, when they can be known without the database: `PEERLINE_SECRET_KEY` (and
/// `PEERLINE_PREVIOUS_SECRET_KEY`), a SQLite database's key file, or the copy kept by
/// [`keep_for_outages`].
pub fn key_without_database(
    settings: &Settings,
    folder: &Path,
) -> anyhow::Result<Option<ServerKeys>> {
    let current = match &settings.secret_key {
        Some(key) => Some(key.clone()),
        None => read_key(&key_file(settings).unwrap_or_else(|| folder.join(OUTAGE_COPY)))?,
    };
    Ok(current.map(|current| ServerKeys {
        current,
        previous: settings.previous_secret_key.clone(),
    }))
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

    fn keys(letter: &str) -> ServerKeys {
        ServerKeys {
            current: letter.repeat(40).into(),
            previous: None,
        }
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
        let key = keys("k");
        keep_for_outages(&postgres, folder.path(), &key).unwrap();
        let known = key_without_database(&postgres, folder.path()).unwrap();
        assert_eq!(
            known.unwrap().current.expose_secret(),
            key.current.expose_secret()
        );
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
        let rotated = keys("r");
        keep_for_outages(&postgres, folder.path(), &rotated).unwrap();
        let known = key_without_database(&postgres, folder.path()).unwrap();
        assert_eq!(
            known.unwrap().current.expose_secret(),
            rotated.current.expose_secret()
        );
    }

    #[test]
    fn a_key_from_the_environment_or_a_key_file_is_never_copied() {
        let folder = tempfile::tempdir().unwrap();
        let key = keys("e");
        let from_environment = settings(&[
            ("DATABASE_URL", "postgres://peerline@db/peerline"),
            ("PEERLINE_SECRET_KEY", key.current.expose_secret()),
        ]);
        keep_for_outages(&from_environment, folder.path(), &key).unwrap();
        let beside_sqlite = settings(&[("DATABASE_URL", "sqlite://peerline.db?mode=rwc")]);
        keep_for_outages(&beside_sqlite, folder.path(), &key).unwrap();
        assert!(!folder.path().join(OUTAGE_COPY).exists());
        let known = key_without_database(&from_environment, folder.path()).unwrap();
        assert_eq!(
            known.unwrap().current.expose_secret(),
            key.current.expose_secret()
        );
    }
}
