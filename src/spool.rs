//! The local spool: what a server could not write to the database (an inbound call it
//! answered from memory, an inbound text it could not take in) is appended to a file in
//! `PEERLINE_SPOOL_DIR`, one JSON line per record, flushed to disk (fsync) before the
//! webhook answers. Numbers and message bodies are sealed under the server's key. Once the
//! database answers again, the spool job writes each record to it exactly once: records
//! carry Twilio's CallSid or MessageSid, which the database keys them by, so replaying a
//! record twice (after a crash mid-replay) changes nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where new records are appended.
const CURRENT: &str = "spool.jsonl";
/// A batch taken for replay: appends go to a fresh `CURRENT` meanwhile.
const REPLAYING: &str = "replaying.jsonl";
/// Records the database answered but would not store, kept for a person to look at.
const DEAD_LETTERS: &str = "dead-letter.jsonl";

/// A record set aside, with why.
#[derive(Debug, Serialize)]
struct DeadLetter<'a> {
    at: DateTime<Utc>,
    error: &'a str,
    record: &'a Spooled,
}

/// One thing the database has not seen yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Spooled {
    /// An inbound call answered from memory.
    Call {
        call_sid: String,
        dialed: String,
        /// The caller's number, sealed; absent when withheld.
        caller_sealed: Option<String>,
        at: DateTime<Utc>,
        /// Whether the caller was put through to the fallback number.
        to_fallback: bool,
        reason: String,
    },
    /// A call already under way, handed to the fallback number from memory (or, with
    /// none known, told to call again) when one of its webhooks could not use the database.
    Handoff {
        call_sid: String,
        at: DateTime<Utc>,
        to_fallback: bool,
        reason: String,
    },
    /// An inbound text not taken in.
    Text {
        message_sid: String,
        from_sealed: String,
        to: String,
        body_sealed: String,
        media_count: i32,
        at: DateTime<Utc>,
    },
}

pub struct Spool {
    dir: PathBuf,
    /// One writer or batch-taker at a time within this server.
    guard: Mutex<()>,
}

impl Spool {
    /// The spool in `dir`, created if missing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        // Only this server's user may read what callers and texters sent.
        let mut folder = fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder.create(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            guard: Mutex::new(()),
        })
    }

    /// The folder the spool is kept in, readable by this server's user alone.
    pub fn folder(&self) -> &Path {
        &self.dir
    }

    /// Appends `record` and flushes it to disk; when this returns Ok, the record survives
    /// a crash of the process or the machine.
    pub fn append(&self, record: &Spooled) -> io::Result<()> {
        let line = serde_json::to_string(record).map_err(io::Error::other)?;
        self.append_line(CURRENT, line)
    }

    /// Sets aside a record the database will not store (`error` says why), so that the
    /// records behind it are written; it stays in the dead-letter file for a person.
    pub fn dead_letter(&self, record: &Spooled, error: &str, at: DateTime<Utc>) -> io::Result<()> {
        let line =
            serde_json::to_string(&DeadLetter { at, error, record }).map_err(io::Error::other)?;
        self.append_line(DEAD_LETTERS, line)
    }

    /// How many records were set aside.
    pub fn dead_letters(&self) -> usize {
        let _held = self.guard.lock().unwrap_or_else(|e| e.into_inner());
        count_lines(&self.dir.join(DEAD_LETTERS))
    }

    fn append_line(&self, name: &str, mut line: String) -> io::Result<()> {
        line.push('\n');
        let _held = self.guard.lock().unwrap_or_else(|e| e.into_inner());
        let mut options = OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(self.dir.join(name))?;
        // A line cut short by a crash must not swallow this one.
        if file.metadata()?.len() > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.insert(0, '\n');
            }
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }

    /// How many records wait to be written to the database.
    pub fn pending(&self) -> usize {
        let _held = self.guard.lock().unwrap_or_else(|e| e.into_inner());
        [CURRENT, REPLAYING]
            .iter()
            .map(|name| count_lines(&self.dir.join(name)))
            .sum()
    }

    /// The batch to replay: one left by an earlier replay (a crash, a database that went
    /// away again), else everything spooled so far; `None` when there is nothing.
    pub fn take_batch(&self) -> io::Result<Option<PathBuf>> {
        let _held = self.guard.lock().unwrap_or_else(|e| e.into_inner());
        let replaying = self.dir.join(REPLAYING);
        if replaying.exists() {
            return Ok(Some(replaying));
        }
        let current = self.dir.join(CURRENT);
        if count_lines(&current) == 0 {
            return Ok(None);
        }
        fs::rename(&current, &replaying)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(Some(replaying))
    }

    /// The records of a batch. A last line cut short by a crash mid-append was never
    /// acknowledged to Twilio, so it is skipped.
    pub fn read(batch: &Path) -> io::Result<Vec<Spooled>> {
        let mut records = Vec::new();
        for line in BufReader::new(File::open(batch)?).lines() {
            let line = line?;
            match serde_json::from_str(&line) {
                Ok(record) => records.push(record),
                Err(error) if !line.trim().is_empty() => {
                    tracing::warn!(%error, "skipping an unreadable spool line");
                }
                Err(_) => {}
            }
        }
        Ok(records)
    }

    /// Removes a batch once every record of it is in the database.
    pub fn finish(&self, batch: &Path) -> io::Result<()> {
        let _held = self.guard.lock().unwrap_or_else(|e| e.into_inner());
        fs::remove_file(batch)
    }
}

fn count_lines(path: &Path) -> usize {
    File::open(path)
        .map(|f| {
            BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.trim().is_empty())
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sid: &str) -> Spooled {
        Spooled::Text {
            message_sid: sid.into(),
            from_sealed: "sealed".into(),
            to: "+12025550100".into(),
            body_sealed: "sealed body".into(),
            media_count: 0,
            at: DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
                .unwrap()
                .to_utc(),
        }
    }

    #[test]
    fn records_survive_until_their_batch_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert!(spool.take_batch().unwrap().is_none());
        spool.append(&text("SM1")).unwrap();
        spool.append(&text("SM2")).unwrap();
        assert_eq!(spool.pending(), 2);
        let batch = spool.take_batch().unwrap().unwrap();
        // Appends during a replay go to a fresh file; an unfinished batch is offered again.
        spool.append(&text("SM3")).unwrap();
        assert_eq!(spool.pending(), 3);
        assert_eq!(spool.take_batch().unwrap().as_ref(), Some(&batch));
        assert_eq!(Spool::read(&batch).unwrap(), vec![text("SM1"), text("SM2")]);
        spool.finish(&batch).unwrap();
        let next = spool.take_batch().unwrap().unwrap();
        assert_eq!(Spool::read(&next).unwrap(), vec![text("SM3")]);
    }

    #[cfg(unix)]
    #[test]
    fn what_is_spooled_is_readable_by_the_servers_user_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("spool");
        let spool = Spool::open(&folder).unwrap();
        spool.append(&text("SM1")).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&folder.join(CURRENT)), 0o600);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        spool.append(&text("SM1")).unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(CURRENT))
            .unwrap();
        file.write_all(b"{\"kind\":\"text\",\"message_s").unwrap();
        spool.append(&text("SM2")).unwrap();
        let batch = spool.take_batch().unwrap().unwrap();
        assert_eq!(Spool::read(&batch).unwrap(), vec![text("SM1"), text("SM2")]);
    }
}
