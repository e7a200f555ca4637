//! The outbox worker: claims due messages one at a time, sends each through Twilio's REST
//! API and records what happened. [`LANES`] passes run side by side, each with up to
//! [`SENDS_AT_ONCE`] requests to Twilio under way. A refusal Twilio never processed (429,
//! no connection) is retried with backoff and jitter, honouring `Retry-After`; a send that
//! may have gone (timeout, 5xx, a server that stopped mid-send) is marked uncertain and
//! never re-sent.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use rand::Rng;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::supervisor::{After, Supervisor};
use crate::clock::Clock;
use crate::contact_flow::refusals;
use crate::domain::phone::E164;
use crate::secrets::Vault;
use crate::storage::entities::outbox_message;
use crate::storage::outbox;
use crate::telephony::rest::{Accepted, SendError, TwilioClient};

/// Retries a message Twilio did not process at most this many times in all.
pub const MAX_ATTEMPTS: i32 = 8;
/// Most messages one pass claims before yielding.
const BATCH: usize = 200;
/// Passes each server runs side by side, each claiming and recording its messages one
/// after another. On PostgreSQL each of those statements waits for its commit, and one
/// pass fell behind a burst; four keep up. A writer for every send queued them for
/// SQLite's one writer instead. Each message is claimed by exactly one pass.
pub const LANES: usize = 4;
/// Requests to Twilio each pass has under way at once (32 a server). Twilio takes a few
/// hundred milliseconds to answer each, so one at a time would send only a few messages
/// a second: a burst of texters would wait minutes for their replies. Twilio refuses an
/// account too many requests at once with a 429, which is retried.
pub const SENDS_AT_ONCE: usize = 8;

/// When to try again after `attempts` tries: exponential from 2 s, at most 5 minutes,
/// plus up to half again at random (`jitter` in `[0, 1)`), and never before Twilio's
/// `Retry-After`.
pub fn backoff(attempts: i32, retry_after: Option<StdDuration>, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    let base = (2_i64 << exponent).min(300);
    let with_jitter = Duration::milliseconds((base as f64 * 1000.0 * (1.0 + jitter / 2.0)) as i64);
    let asked = retry_after
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_else(Duration::zero);
    with_jitter.max(asked)
}

/// Sends due messages.
#[derive(Clone)]
pub struct OutboxSender {
    pub db: DatabaseConnection,
    pub client: TwilioClient,
    pub vault: Vault,
    pub clock: Clock,
    /// Where Twilio reports each message's delivery (`/twilio/sms/status`).
    pub status_callback: Option<String>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Messages this pass took on (each ends sent, retrying, failed or uncertain).
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub uncertain: usize,
}

/// What came of asking Twilio to send a message: the recipient and Twilio's answer, or
/// `None` when the message cannot be read under this server's key.
type Answer = Option<(E164, Result<Accepted, SendError>)>;

/// How one claimed message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Sent,
    Retrying,
    Failed,
    Uncertain,
}

impl Pass {
    fn count(&mut self, settled: Settled) {
        match settled {
            Settled::Sent => self.sent += 1,
            Settled::Retrying => self.retrying += 1,
            Settled::Failed => self.failed += 1,
            Settled::Uncertain => self.uncertain += 1,
        }
    }
}

impl OutboxSender {
    /// Sends what is due now; returns what happened.
    pub async fn send_due(&self) -> Result<Pass, DbErr> {
        self.send_due_or_queued(&Notify::new()).await
    }

    /// Sends what is due now, up to [`SENDS_AT_ONCE`] at a time, looking for more each
    /// time a send ends (a person's next message waits for the one before it) and each
    /// time `queued` says this server queued one. Only the requests to Twilio run side by
    /// side: the claims and outcomes are written one after another by this pass, so it
    /// never holds more than one of the connections the webhooks need.
    async fn send_due_or_queued(&self, queued: &Notify) -> Result<Pass, DbErr> {
        let mut pass = Pass::default();
        let expired = outbox::expire_claims(&self.db, self.clock.now()).await?;
        pass.uncertain += usize::try_from(expired).unwrap_or(0);
        let mut sending = tokio::task::JoinSet::new();
        // After a failure no more is claimed, and the sends under way are recorded: a
        // send left unrecorded would leave its message neither sent nor free to go again.
        let mut failure = None;
        let can_claim = |sending: usize, claimed: usize, failed: bool| {
            !failed && sending < SENDS_AT_ONCE && claimed < BATCH
        };
        loop {
            while can_claim(sending.len(), pass.claimed, failure.is_some()) {
                match outbox::claim_next(&self.db, self.clock.now()).await {
                    Ok(Some(message)) => {
                        pass.claimed += 1;
                        let request = self.request(&message);
                        sending.spawn(async move { (message, request.await) });
                    }
                    Ok(None) => break,
                    Err(e) => failure = Some(e),
                }
            }
            if sending.is_empty() {
                return failure.map_or(Ok(pass), Err);
            }
            // Only a pass that can claim takes the news of a queued message: another would
            // leave it waiting.
            let room = can_claim(sending.len(), pass.claimed, failure.is_some());
            tokio::select! {
                Some(done) = sending.join_next() => match done {
                    Ok((message, answer)) => match self.record(&message, answer).await {
                        Ok(settled) => pass.count(settled),
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    },
                    Err(e) => {
                        failure.get_or_insert(DbErr::Custom(format!("a send stopped: {e}")));
                    }
                },
                () = queued.notified(), if room => {}
            }
        }
    }

    /// Asks Twilio to send a claimed message: the request, ready to run on its own.
    fn request(
        &self,
        message: &outbox_message::Model,
    ) -> impl Future<Output = Answer> + Send + 'static {
        let opened = self.vault.open(&message.to_encrypted);
        let readable = opened.zip(self.vault.open_text(&message.body.0));
        let client = self.client.clone();
        let from = message.from_number.clone();
        let status_callback = self.status_callback.clone();
        async move {
            let (to, body) = readable?;
            let sent = client
                .send_sms(to.as_str(), &from, &body, status_callback.as_deref())
                .await;
            Some((to, sent))
        }
    }

    /// Records how a claimed message's send went.
    async fn record(
        &self,
        message: &outbox_message::Model,
        answer: Answer,
    ) -> Result<Settled, DbErr> {
        let now = self.clock.now();
        let Some((to, result)) = answer else {
            let why =
                "the recipient's number or the message cannot be read under this server's key";
            outbox::mark_failed(&self.db, message.id, 0, why, now).await?;
            return Ok(Settled::Failed);
        };
        Ok(match result {
            Ok(accepted) => {
                outbox::mark_sent(&self.db, message, &accepted.sid, now).await?;
                Settled::Sent
            }
            Err(SendError::RetryLater {
                reason,
                retry_after,
            }) if message.attempts < MAX_ATTEMPTS => {
                let jitter = rand::rng().random::<f64>();
                let at = now + backoff(message.attempts, retry_after, jitter);
                outbox::mark_retry(&self.db, message.id, at, &reason, now).await?;
                Settled::Retrying
            }
            Err(SendError::RetryLater { reason, .. }) => {
                let why = format!("gave up after {} attempts: {reason}", message.attempts);
                outbox::mark_failed(&self.db, message.id, 20429, &why, now).await?;
                Settled::Failed
            }
            Err(SendError::Permanent { code, message: why }) => {
                tracing::warn!(outbox_id = message.id, code, "Twilio refused a message");
                outbox::mark_failed(&self.db, message.id, code, &why, now).await?;
                refusals::record(&self.db, &self.vault, message, &to, code, now).await?;
                Settled::Failed
            }
            Err(SendError::Uncertain { reason }) => {
                tracing::warn!(outbox_id = message.id, %reason, "a message may or may not have been sent; not re-sending");
                outbox::mark_uncertain(&self.db, message.id, &reason, now).await?;
                Settled::Uncertain
            }
        })
    }

    /// Runs [`LANES`] passes for as long as the server runs. Each looks for due messages
    /// every `every`, and at once when `queued` says this server queued one; after a full
    /// pass it goes on at once, so a backlog drains as fast as the database and Twilio
    /// allow.
    pub fn start(self, jobs: &Supervisor, every: StdDuration, queued: Arc<Notify>) {
        for _ in 0..LANES {
            let sender = self.clone();
            let woken_by = queued.clone();
            jobs.every_or_woken("outbox", every, queued.clone(), move || {
                let sender = sender.clone();
                let queued = woken_by.clone();
                async move {
                    let pass = sender.send_due_or_queued(&queued).await?;
                    Ok(if pass.claimed == BATCH {
                        After::GoOn
                    } else {
                        After::Wait
                    })
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        assert_eq!(backoff(1, None, 0.0), Duration::seconds(2));
        assert_eq!(backoff(2, None, 0.0), Duration::seconds(4));
        assert_eq!(backoff(3, None, 0.99).num_milliseconds(), 11_960);
        assert_eq!(backoff(12, None, 0.0), Duration::seconds(300));
        assert_eq!(
            backoff(1, Some(StdDuration::from_secs(30)), 0.0),
            Duration::seconds(30)
        );
    }
}
