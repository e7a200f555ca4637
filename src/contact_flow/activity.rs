//! Volunteers' recent contacts (when each started, the latest to end and how long it
//! was), kept in memory per server and brought up to date from the contacts changed since
//! the last look, instead of reading every contact of the last week for each routing
//! round. Every answered contact is stamped by a trigger on the database's clock when
//! its answer, end or length changes; a server re-reads a few seconds before its last
//! look, so a change stamped there but committed a moment later is never missed, and
//! reads everything again every ten minutes. Several servers each keep their own picture
//! from the same database, so each sees every other's contacts.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::ids::{ById, ContactId, VolunteerId};
use crate::domain::recent_activity::{ActivitySummary, RecentActivity};
use crate::domain::routing::{Activity, PastContact};
use crate::storage::contacts::{self, ACTIVITY_WINDOW, ActivityRow};

/// How far before its last look a server reads changes again: longer than any
/// transaction that answers or ends a contact takes to commit.
const LOOKBACK_MS: i64 = 5_000;
/// How often a server reads every recent contact again, whatever it has seen.
const FULL_READ_EVERY_MS: i64 = 10 * 60 * 1000;
/// How often contacts that left the window are forgotten.
const PRUNE_EVERY: Duration = Duration::minutes(1);

/// Every volunteer's recent contacts: pure, fed with rows.
#[derive(Debug, Clone, Default)]
pub struct History {
    rows: ById<ContactId, ActivityRow>,
    by_volunteer: ById<VolunteerId, Vec<ContactId>>,
    activity: RecentActivity,
}

impl History {
    /// Takes in answered contacts, new or changed, and works out again the activity of
    /// each volunteer concerned, over contacts answered from `window_start`.
    pub fn apply(
        &mut self,
        rows: impl IntoIterator<Item = ActivityRow>,
        window_start: DateTime<Utc>,
    ) {
        let mut touched = HashSet::new();
        for row in rows {
            let Some(volunteer) = row.answered_by else {
                continue;
            };
            match self.rows.insert(row.id, row) {
                Some(old) if old.answered_by == Some(volunteer) => {}
                old => {
                    if let Some(previous) = old.and_then(|o| o.answered_by) {
                        self.forget(previous, row.id);
                        touched.insert(previous);
                    }
                    self.by_volunteer.entry(volunteer).or_default().push(row.id);
                }
            }
            touched.insert(volunteer);
        }
        for volunteer in touched {
            self.work_out(volunteer, window_start);
        }
    }

    /// Forgets contacts answered before `window_start`.
    pub fn prune(&mut self, window_start: DateTime<Utc>) {
        let old: Vec<(ContactId, VolunteerId)> = self
            .rows
            .values()
            .filter(|row| row.answered_at.is_none_or(|at| at < window_start))
            .filter_map(|row| Some((row.id, row.answered_by?)))
            .collect();
        let mut touched = HashSet::new();
        for (contact, volunteer) in old {
            self.rows.remove(&contact);
            self.forget(volunteer, contact);
            touched.insert(volunteer);
        }
        for volunteer in touched {
            self.work_out(volunteer, window_start);
        }
    }

    /// The volunteer's recent contacts, as the router reads them (never engaged: what
    /// they are on now is read per round).
    pub fn of(&self, volunteer_id: VolunteerId) -> Option<&Activity> {
        self.activity.of(volunteer_id)
    }

    /// The same, packed.
    pub fn summary(&self, volunteer_id: VolunteerId) -> ActivitySummary {
        self.activity.summary(volunteer_id)
    }

    fn forget(&mut self, volunteer: VolunteerId, contact: ContactId) {
        if let Some(ids) = self.by_volunteer.get_mut(&volunteer) {
            ids.retain(|id| *id != contact);
        }
    }

    fn work_out(&mut self, volunteer: VolunteerId, window_start: DateTime<Utc>) {
        let mut activity = Activity::default();
        let rows = self
            .by_volunteer
            .get(&volunteer)
            .into_iter()
            .flatten()
            .filter_map(|id| self.rows.get(id));
        for row in rows {
            let Some(answered) = row.answered_at.filter(|at| *at >= window_start) else {
                continue;
            };
            activity.recent_contact_starts.push(answered);
            if let Some(ended) = row.ended_at
                && activity
                    .last_contact
                    .is_none_or(|last| last.ended_at < ended)
            {
                activity.last_contact = Some(PastContact {
                    ended_at: ended,
                    duration: Duration::seconds(row.talk_secs.unwrap_or(0).into()),
                });
            }
        }
        activity.recent_contact_starts.sort_unstable();
        if activity == Activity::default() {
            self.by_volunteer.remove(&volunteer);
        }
        self.activity.set(volunteer, activity);
    }
}

/// This server's `History`, brought up to date on each use.
#[derive(Default)]
pub struct ActivityCache {
    synced: tokio::sync::Mutex<Option<Synced>>,
}

struct Synced {
    history: Arc<History>,
    /// The database's clock when changes were last read.
    looked_ms: i64,
    /// The database's clock when every recent contact was last read.
    read_all_ms: i64,
    pruned_at: DateTime<Utc>,
}

impl ActivityCache {
    /// Volunteers' recent contacts as of `now`, read through `db` (the caller's own
    /// connection: a caller holding one never waits for another).
    pub async fn history(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<Arc<History>, DbErr> {
        let look = self.look().await;
        let looked_ms = contacts::database_now_ms(db).await?;
        let changed = match look.changes_since_ms() {
            Some(since_ms) => contacts::activity_changed_since(db, since_ms).await?,
            None => Vec::new(),
        };
        look.take_in(db, looked_ms, changed, now).await
    }

    /// The cache held for one look, for a caller that reads the changes itself (with
    /// other reads, in one statement): no other look starts until this one is taken in.
    pub async fn look(&self) -> Look<'_> {
        Look {
            synced: self.synced.lock().await,
        }
    }
}

/// One look at the contacts changed since the last: see [`ActivityCache::look`].
pub struct Look<'a> {
    synced: tokio::sync::MutexGuard<'a, Option<Synced>>,
}

impl Look<'_> {
    /// From when (on the database's clock, in milliseconds since 1970) the contacts whose
    /// activity changed must be read; `None` when the cache reads every recent contact.
    pub fn changes_since_ms(&self) -> Option<i64> {
        self.synced.as_ref().map(|s| s.looked_ms - LOOKBACK_MS)
    }

    /// Takes in the contacts changed since [`Look::changes_since_ms`], read when the
    /// database's clock read `looked_ms` or just before; reads every recent contact
    /// instead when the cache holds none yet or last did so ten minutes ago.
    pub async fn take_in(
        mut self,
        db: &impl ConnectionTrait,
        looked_ms: i64,
        changed: Vec<ActivityRow>,
        now: DateTime<Utc>,
    ) -> Result<Arc<History>, DbErr> {
        let window_start = now - ACTIVITY_WINDOW;
        match self.synced.as_mut() {
            Some(s) if looked_ms - s.read_all_ms < FULL_READ_EVERY_MS => {
                let prune = now - s.pruned_at >= PRUNE_EVERY;
                if !changed.is_empty() || prune {
                    let history = Arc::make_mut(&mut s.history);
                    history.apply(changed, window_start);
                    if prune {
                        history.prune(window_start);
                        s.pruned_at = now;
                    }
                }
                s.looked_ms = looked_ms;
                Ok(s.history.clone())
            }
            _ => {
                let mut history = History::default();
                history.apply(
                    contacts::activity_since(db, window_start, None).await?,
                    window_start,
                );
                let history = Arc::new(history);
                *self.synced = Some(Synced {
                    history: history.clone(),
                    looked_ms,
                    read_all_ms: looked_ms,
                    pruned_at: now,
                });
                Ok(history)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVEN: VolunteerId = VolunteerId(7);
    const EIGHT: VolunteerId = VolunteerId(8);

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(
        id: i32,
        volunteer: VolunteerId,
        answered: &str,
        ended: Option<&str>,
        talk: i32,
    ) -> ActivityRow {
        ActivityRow {
            id: ContactId(id),
            answered_by: Some(volunteer),
            answered_at: Some(utc(answered)),
            ended_at: ended.map(utc),
            talk_secs: Some(talk),
        }
    }

    #[test]
    fn a_contact_seen_again_as_it_ends_counts_once() {
        let window = utc("2026-11-15T00:00:00Z");
        let mut history = History::default();
        history.apply([row(1, SEVEN, "2026-11-22T10:00:00Z", None, 0)], window);
        assert_eq!(history.of(SEVEN).unwrap().recent_contact_starts.len(), 1);
        assert_eq!(history.of(SEVEN).unwrap().last_contact, None);
        // The same contact read again (a look-back) and then ended: one start, one end.
        history.apply([row(1, SEVEN, "2026-11-22T10:00:00Z", None, 0)], window);
        history.apply(
            [row(
                1,
                SEVEN,
                "2026-11-22T10:00:00Z",
                Some("2026-11-22T10:50:00Z"),
                3000,
            )],
            window,
        );
        let seven = history.of(SEVEN).unwrap();
        assert_eq!(
            seven.recent_contact_starts,
            vec![utc("2026-11-22T10:00:00Z")]
        );
        assert_eq!(
            seven.last_contact,
            Some(PastContact {
                ended_at: utc("2026-11-22T10:50:00Z"),
                duration: Duration::minutes(50),
            })
        );
    }

    #[test]
    fn the_latest_end_is_the_last_contact_and_old_contacts_are_forgotten() {
        let mut history = History::default();
        let window = utc("2026-11-15T00:00:00Z");
        history.apply(
            [
                row(
                    1,
                    SEVEN,
                    "2026-11-15T09:00:00Z",
                    Some("2026-11-15T09:10:00Z"),
                    600,
                ),
                row(
                    2,
                    SEVEN,
                    "2026-11-22T09:00:00Z",
                    Some("2026-11-22T09:05:00Z"),
                    300,
                ),
                row(3, EIGHT, "2026-11-22T09:00:00Z", None, 0),
            ],
            window,
        );
        assert_eq!(
            history.of(SEVEN).unwrap().last_contact.unwrap().ended_at,
            utc("2026-11-22T09:05:00Z")
        );
        assert_eq!(history.of(SEVEN).unwrap().recent_contact_starts.len(), 2);
        history.prune(utc("2026-11-16T00:00:00Z"));
        assert_eq!(history.of(SEVEN).unwrap().recent_contact_starts.len(), 1);
        history.prune(utc("2026-11-23T00:00:00Z"));
        assert_eq!(history.of(SEVEN), None);
        assert_eq!(history.of(EIGHT), None);
        assert!(history.rows.is_empty() && history.by_volunteer.is_empty());
    }
}
