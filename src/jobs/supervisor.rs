//! Runs every periodic job the same way: a pass per tick; a pass that fails or panics is
//! logged and counted and the job goes on at the next tick; on shutdown no new pass
//! starts and the one under way finishes. Each job's health feeds `/readyz`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;

/// What a job does after a pass that worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Waits for the next tick.
    Wait,
    /// Runs another pass at once (the pass stopped at its batch size with work left).
    GoOn,
}

/// One job's record, as `/readyz` shows it.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct JobHealth {
    /// When a pass last finished without error.
    pub last_success: Option<DateTime<Utc>>,
    /// When a pass last failed or panicked.
    pub last_failure: Option<DateTime<Utc>>,
    /// Passes that finished without error since the server started.
    pub passes: u64,
    /// Passes that failed or panicked since the server started.
    pub failures: u64,
}

/// Every job's health on this server, by name.
#[derive(Debug, Clone, Default)]
pub struct JobBoard(Arc<Mutex<BTreeMap<&'static str, JobHealth>>>);

impl JobBoard {
    pub fn snapshot(&self) -> BTreeMap<&'static str, JobHealth> {
        self.0.lock().map(|jobs| jobs.clone()).unwrap_or_default()
    }

    fn record(&self, job: &'static str, at: DateTime<Utc>, succeeded: bool) {
        let Ok(mut jobs) = self.0.lock() else { return };
        let health = jobs.entry(job).or_default();
        if succeeded {
            health.last_success = Some(at);
            health.passes += 1;
        } else {
            health.last_failure = Some(at);
            health.failures += 1;
        }
    }

    fn register(&self, job: &'static str) {
        if let Ok(mut jobs) = self.0.lock() {
            jobs.entry(job).or_default();
        }
    }
}

/// Starts and stops this server's background jobs.
#[derive(Clone)]
pub struct Supervisor {
    board: JobBoard,
    clock: Clock,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Supervisor {
    pub fn new(board: JobBoard, clock: Clock) -> Self {
        Self {
            board,
            clock,
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        }
    }

    /// Runs `pass` now and then every `period` until shutdown. Several jobs may share a
    /// name (lanes of one job); they share one health record.
    pub fn every<F, Fut>(&self, job: &'static str, period: Duration, pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<After>> + Send + 'static,
    {
        self.every_or_woken(job, period, Arc::default(), pass);
    }

    /// As `every`, and also as soon as `wake` is notified: work that arrives between
    /// ticks is taken up at once. A notification while every lane is busy is kept for
    /// the next lane to wait, so none is lost.
    pub fn every_or_woken<F, Fut>(
        &self,
        job: &'static str,
        period: Duration,
        wake: Arc<Notify>,
        mut pass: F,
    ) where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<After>> + Send + 'static,
    {
        let board = self.board.clone();
        let clock = self.clock.clone();
        let cancel = self.cancel.clone();
        board.register(job);
        self.tracker.spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return,
                    _ = ticks.tick() => {}
                    () = wake.notified() => {}
                }
                // Each pass runs as a task of its own, so that a panic ends only the pass.
                while let After::GoOn = run_pass(job, tokio::spawn(pass()), &board, &clock).await {
                    if cancel.is_cancelled() {
                        return;
                    }
                }
            }
        });
    }

    /// Stops every job: no new pass starts, and this waits for the passes under way.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

async fn run_pass(
    job: &'static str,
    pass: tokio::task::JoinHandle<anyhow::Result<After>>,
    board: &JobBoard,
    clock: &Clock,
) -> After {
    match pass.await {
        Ok(Ok(after)) => {
            board.record(job, clock.now(), true);
            after
        }
        Ok(Err(error)) => {
            tracing::warn!(
                job,
                error = format!("{error:#}"),
                "a background pass failed; the job goes on"
            );
            board.record(job, clock.now(), false);
            After::Wait
        }
        Err(error) => {
            tracing::error!(job, %error, "a background pass panicked; the job goes on");
            board.record(job, clock.now(), false);
            After::Wait
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_panicking_pass_is_counted_and_the_job_goes_on() {
        let board = JobBoard::default();
        let jobs = Supervisor::new(board.clone(), Clock::system());
        let calls = Arc::new(AtomicU32::new(0));
        let seen = calls.clone();
        jobs.every("flaky", Duration::from_millis(5), move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => panic!("first pass panics"),
                    1 => anyhow::bail!("second pass fails"),
                    _ => Ok(After::Wait),
                }
            }
        });
        while calls.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        jobs.shutdown().await;
        let health = board.snapshot()["flaky"].clone();
        assert_eq!(health.failures, 2);
        assert!(health.passes >= 2);
        assert!(health.last_success.is_some());
    }

    #[tokio::test]
    async fn a_woken_job_runs_a_pass_without_waiting_for_its_tick() {
        let jobs = Supervisor::new(JobBoard::default(), Clock::system());
        let wake = Arc::new(Notify::new());
        let passes = Arc::new(AtomicU32::new(0));
        let seen = passes.clone();
        jobs.every_or_woken(
            "woken",
            Duration::from_secs(3600),
            wake.clone(),
            move || {
                seen.fetch_add(1, Ordering::SeqCst);
                async { Ok(After::Wait) }
            },
        );
        // The first pass runs at start; the next tick is an hour away.
        while passes.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        wake.notify_one();
        tokio::time::timeout(Duration::from_secs(10), async {
            while passes.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("a second pass as soon as the job was woken");
        jobs.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_lets_the_pass_under_way_finish_and_starts_no_other() {
        let jobs = Supervisor::new(JobBoard::default(), Clock::system());
        let finished = Arc::new(AtomicU32::new(0));
        let started = Arc::new(AtomicU32::new(0));
        let (f, s) = (finished.clone(), started.clone());
        jobs.every("slow", Duration::from_millis(1), move || {
            s.fetch_add(1, Ordering::SeqCst);
            let f = f.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                f.fetch_add(1, Ordering::SeqCst);
                Ok(After::GoOn)
            }
        });
        while started.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        jobs.shutdown().await;
        let at_stop = started.load(Ordering::SeqCst);
        assert_eq!(finished.load(Ordering::SeqCst), at_stop);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(started.load(Ordering::SeqCst), at_stop);
    }
}
