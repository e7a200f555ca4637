//! The roster version: one counter that every change to volunteers, their helplines,
//! sign-offs, shifts, leave and extra shifts moves on (database triggers move it in the
//! transaction of the change). A server keeps each helpline's roster in memory and
//! re-reads it when the counter has moved, so several servers sharing a database never
//! route on a stale rota for longer than one read takes.
//!
//! Reading a large roster takes a while (about a second at 10,000 volunteers), and a
//! caller cannot wait that long. So a read runs in its own task, once per helpline and
//! version whoever asked for it, and no request that gives up waiting cancels it. While
//! it runs, requests wait for it for at most `fresh_wait` (and not at all when the last
//! read took more than a quarter of that) and otherwise go on with the version they
//! already have; only a server that has none yet (just started) waits for the read to
//! finish.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::{OnceCell, watch};

use super::rota::{RotaMember, helpline_members};
use crate::domain::ids::{ById, HelplineId, VolunteerId};
use crate::domain::roster_index::{RosterEntry, RosterIndex};

pub async fn version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    super::counter(db, "roster_versions").await
}

/// A helpline's members as of one roster version, with the index routing reads them
/// through; built once per version, by the read, which no request cancels.
pub struct Roster {
    pub members: Vec<RotaMember>,
    /// The members' readiness and who could be on shift when, by position in `members`.
    pub index: RosterIndex,
    /// Each member's position in `members`, by volunteer id.
    positions: ById<VolunteerId, usize>,
}

impl Roster {
    pub fn new(members: Vec<RotaMember>) -> Self {
        let index = RosterIndex::build(members.iter().map(|m| RosterEntry {
            volunteer_id: m.volunteer_id,
            profile: &m.profile,
            rota: &m.rota,
            ready_topics: &m.ready_topics,
            stepped_back: &m.stepped_back,
        }));
        let positions = members
            .iter()
            .enumerate()
            .map(|(position, m)| (m.volunteer_id, position))
            .collect();
        Self {
            members,
            index,
            positions,
        }
    }

    /// The member who is this volunteer, if they serve the helpline.
    pub fn member(&self, volunteer_id: VolunteerId) -> Option<&RotaMember> {
        let position = *self.positions.get(&volunteer_id)?;
        self.members.get(position)
    }
}

/// Each helpline's roster as of a roster version.
pub type RosterCache = VersionedCache<Roster>;

/// A read of what the cache keeps, with the roster version it was read at.
type Read<T> = Pin<Box<dyn Future<Output = Result<(i64, T), DbErr>> + Send>>;
type Reader<T> = Arc<dyn Fn(HelplineId) -> Read<T> + Send + Sync>;
/// A read in progress: `None` until it finishes, then what it read or its error.
type Outcome<T> = Option<Result<Arc<T>, String>>;

/// Something read per helpline and kept while the roster version stays the same.
pub struct VersionedCache<T> {
    read: Reader<T>,
    /// How long a request waits for a newer version before using the one it has.
    fresh_wait: Duration,
    helplines: Arc<Mutex<HashMap<HelplineId, Slot<T>>>>,
}

struct Slot<T> {
    ready: Option<(i64, Arc<T>)>,
    reading: Option<(i64, watch::Receiver<Outcome<T>>)>,
    /// How long the last read that finished took.
    last_read: Duration,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self {
            ready: None,
            reading: None,
            last_read: Duration::ZERO,
        }
    }
}

impl RosterCache {
    /// A cache reading rosters from the database at `database_url`, over a connection
    /// of its own: a request that waits for a read while it holds one of the pool's
    /// connections must never leave the read waiting for a connection in turn.
    pub fn reading(database_url: &str, fresh_wait: Duration) -> Self {
        let url: Arc<str> = database_url.into();
        let connection: Arc<OnceCell<DatabaseConnection>> = Arc::default();
        Self::with_reader(
            Arc::new(move |helpline_id| {
                let (url, connection) = (url.clone(), connection.clone());
                Box::pin(async move {
                    let db = connection
                        .get_or_try_init(|| super::connect_single(&url))
                        .await?;
                    // The version and the members from one snapshot, so that they agree.
                    let snapshot = db.begin().await?;
                    let version = version(&snapshot).await?;
                    let members = helpline_members(&snapshot, helpline_id).await?;
                    snapshot.commit().await?;
                    Ok((version, Roster::new(members)))
                })
            }),
            fresh_wait,
        )
    }
}

impl<T: Send + Sync + 'static> VersionedCache<T> {
    fn with_reader(read: Reader<T>, fresh_wait: Duration) -> Self {
        Self {
            read,
            fresh_wait,
            helplines: Arc::default(),
        }
    }

    /// What is kept for the helpline, read again only when the roster has changed since
    /// it was last read.
    pub async fn helpline(
        &self,
        db: &impl ConnectionTrait,
        helpline_id: HelplineId,
    ) -> Result<Arc<T>, DbErr> {
        let current = version(db).await?;
        self.helpline_at(helpline_id, current).await
    }

    /// The same, once the roster's `current` version has been read.
    pub async fn helpline_at(
        &self,
        helpline_id: HelplineId,
        current: i64,
    ) -> Result<Arc<T>, DbErr> {
        let (held, mut reading) = {
            let mut helplines = self.helplines.lock().map_err(poisoned)?;
            let slot = helplines.entry(helpline_id).or_default();
            if let Some((version, members)) = &slot.ready
                && *version >= current
            {
                return Ok(members.clone());
            }
            let held = slot.ready.as_ref().map(|(_, members)| members.clone());
            let reading = self.read_started(slot, helpline_id, current);
            // A roster that took long to read last time will again: waiting for it
            // would only make the caller wait.
            if let Some(held) = &held
                && slot.last_read > self.fresh_wait / 4
            {
                return Ok(held.clone());
            }
            (held, reading)
        };
        let finished = async {
            let outcome = reading.wait_for(Option::is_some).await;
            match outcome.as_deref() {
                Ok(Some(Ok(members))) => Ok(members.clone()),
                Ok(Some(Err(message))) => Err(DbErr::Custom(message.clone())),
                _ => Err(DbErr::Custom("the roster read stopped".into())),
            }
        };
        let Some(held) = held else {
            return finished.await;
        };
        match tokio::time::timeout(self.fresh_wait, finished).await {
            Ok(Ok(members)) => Ok(members),
            Ok(Err(e)) => {
                tracing::warn!(%helpline_id, error = %e, "roster read failed; routing on the roster already held");
                Ok(held)
            }
            Err(_) => {
                tracing::info!(
                    %helpline_id,
                    "roster still being read; routing on the roster already held"
                );
                Ok(held)
            }
        }
    }

    /// The read of `version` (or a later one) under way for the helpline, started now if
    /// none is (or the last one failed). It runs in a task of its own, which puts what
    /// it read in the cache.
    fn read_started(
        &self,
        slot: &mut Slot<T>,
        helpline_id: HelplineId,
        version: i64,
    ) -> watch::Receiver<Outcome<T>> {
        if let Some((reading, receiver)) = &slot.reading
            && *reading >= version
            && receiver.borrow().as_ref().is_none_or(Result::is_ok)
        {
            return receiver.clone();
        }
        let (sender, receiver) = watch::channel(None);
        slot.reading = Some((version, receiver.clone()));
        let read = (self.read)(helpline_id);
        let helplines = self.helplines.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let outcome = read.await.map_err(|e| e.to_string());
            let outcome = outcome.map(|(read_at, members)| {
                let members = Arc::new(members);
                if let Ok(mut helplines) = helplines.lock() {
                    let slot = helplines.entry(helpline_id).or_default();
                    slot.last_read = started.elapsed();
                    if slot.ready.as_ref().is_none_or(|(held, _)| *held < read_at) {
                        slot.ready = Some((read_at, members.clone()));
                    }
                }
                members
            });
            sender.send_replace(Some(outcome));
        });
        receiver
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> DbErr {
    DbErr::Custom("the roster cache lock was poisoned".into())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A cache whose reads take `delay` and are counted; each read returns as many
    /// members as reads so far, so a test can tell which read it got.
    fn counting(
        delay: Duration,
        fresh_wait: Duration,
    ) -> (VersionedCache<usize>, Arc<AtomicUsize>) {
        counting_each(move |_| delay, fresh_wait)
    }

    /// As `counting`, the nth read taking `delay_of(n)`.
    fn counting_each(
        delay_of: impl Fn(usize) -> Duration + Send + Sync + 'static,
        fresh_wait: Duration,
    ) -> (VersionedCache<usize>, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        let delay_of = Arc::new(delay_of);
        let cache = VersionedCache::with_reader(
            Arc::new(move |_| {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let delay = delay_of(n);
                Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    Ok((i64::try_from(n).unwrap(), n))
                })
            }),
            fresh_wait,
        );
        (cache, reads)
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_read_that_none_of_them_can_cancel() {
        let (cache, reads) = counting(Duration::from_millis(50), Duration::from_secs(5));
        let cache = Arc::new(cache);
        let waiting: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { *cache.helpline_at(HelplineId(7), 1).await.unwrap() })
            })
            .collect();
        // A request that gives up at once: the read goes on without it.
        let impatient = tokio::time::timeout(
            Duration::from_millis(1),
            cache.helpline_at(HelplineId(7), 1),
        )
        .await;
        assert!(impatient.is_err());
        for request in waiting {
            assert_eq!(request.await.unwrap(), 1);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(*cache.helpline_at(HelplineId(7), 1).await.unwrap(), 1);
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "a current version is not read again"
        );
    }

    #[tokio::test]
    async fn a_slow_new_version_is_waited_for_briefly_then_the_held_one_serves() {
        // The first read is quick, so requests wait for the next; that one is slower than
        // the wait.
        let slow_second = |n| Duration::from_millis(if n == 1 { 1 } else { 500 });
        let (cache, reads) = counting_each(slow_second, Duration::from_millis(100));
        assert_eq!(*cache.helpline_at(HelplineId(7), 1).await.unwrap(), 1);
        // The roster moved on: the held version answers once the wait is over, and the
        // same read completes in the background.
        let started = std::time::Instant::now();
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 1);
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "it waited first"
        );
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 2);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn after_a_slow_read_a_request_goes_on_with_what_it_holds_without_waiting() {
        // Reads take a second, more than a quarter of the two seconds a request may wait.
        let (cache, reads) = counting(Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(*cache.helpline_at(HelplineId(7), 1).await.unwrap(), 1);
        let started = std::time::Instant::now();
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 1);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "the request waited for the read"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 2);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_quick_new_version_is_used_at_once() {
        let (cache, _) = counting(Duration::from_millis(1), Duration::from_secs(5));
        assert_eq!(*cache.helpline_at(HelplineId(7), 1).await.unwrap(), 1);
        assert_eq!(*cache.helpline_at(HelplineId(7), 2).await.unwrap(), 2);
    }
}
