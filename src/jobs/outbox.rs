//! The outbox worker: claims due messages one at a time, sends each through Twilio's REST
//! API and records what happened. A refusal Twilio never processed (429, no connection) is
//! retried with backoff and jitter, honouring `Retry-After`; a send that may have gone
//! (timeout, 5xx, a server that stopped mid-send) is marked uncertain and never re-sent.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use rand::Rng;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::supervisor::{After, Supervisor};
use crate::clock::Clock;
use crate::contact_flow::refusals;
use crate::secrets::Vault;
use crate::storage::outbox;
use crate::telephony::rest::{SendError, TwilioClient};

/// Retries a message Twilio did not process at most this many times in all.
pub const MAX_ATTEMPTS: i32 = 8;
/// Most messages one pass sends before yielding.
const BATCH: usize = 50;
/// Passes each server runs side by side, so that one slow request to Twilio does not hold
/// up the messages behind it. Each message is claimed by exactly one of them.
pub const LANES: usize = 4;

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

impl OutboxSender {
    /// Sends what is due now; returns what happened.
    pub async fn send_due(&self) -> Result<Pass, DbErr> {
        let mut pass = Pass::default();
        let expired = outbox::expire_claims(&self.db, self.clock.now()).await?;
        pass.uncertain += usize::try_from(expired).unwrap_or(0);
        for _ in 0..BATCH {
            let now = self.clock.now();
            let Some(message) = outbox::claim_next(&self.db, now).await? else {
                break;
            };
            pass.claimed += 1;
            let opened = self.vault.open(&message.to_encrypted);
            let Some((to, body)) = opened.zip(self.vault.open_text(&message.body.0)) else {
                let why =
                    "the recipient's number or the message cannot be read under this server's key";
                outbox::mark_failed(&self.db, message.id, 0, why, now).await?;
                pass.failed += 1;
                continue;
            };
            let result = self
                .client
                .send_sms(
                    to.as_str(),
                    &message.from_number,
                    &body,
                    self.status_callback.as_deref(),
                )
                .await;
            let now = self.clock.now();
            match result {
                Ok(accepted) => {
                    outbox::mark_sent(&self.db, &message, &accepted.sid, now).await?;
                    pass.sent += 1;
                }
                Err(SendError::RetryLater {
                    reason,
                    retry_after,
                }) if message.attempts < MAX_ATTEMPTS => {
                    let jitter = rand::rng().random::<f64>();
                    let at = now + backoff(message.attempts, retry_after, jitter);
                    outbox::mark_retry(&self.db, message.id, at, &reason, now).await?;
                    pass.retrying += 1;
                }
                Err(SendError::RetryLater { reason, .. }) => {
                    let why = format!("gave up after {} attempts: {reason}", message.attempts);
                    outbox::mark_failed(&self.db, message.id, 20429, &why, now).await?;
                    pass.failed += 1;
                }
                Err(SendError::Permanent { code, message: why }) => {
                    tracing::warn!(outbox_id = message.id, code, "Twilio refused a message");
                    outbox::mark_failed(&self.db, message.id, code, &why, now).await?;
                    refusals::record(&self.db, &self.vault, &message, &to, code, now).await?;
                    pass.failed += 1;
                }
                Err(SendError::Uncertain { reason }) => {
                    tracing::warn!(outbox_id = message.id, %reason, "a message may or may not have been sent; not re-sending");
                    outbox::mark_uncertain(&self.db, message.id, &reason, now).await?;
                    pass.uncertain += 1;
                }
            }
        }
        Ok(pass)
    }

    /// Runs `LANES` senders for as long as the server runs. Each looks for due messages
    /// every `every`, and at once when `wake` says this server queued one; after a full
    /// pass it goes on at once: a backlog drains as fast as the database and Twilio
    /// allow, not one batch per tick.
    pub fn start(self, jobs: &Supervisor, every: StdDuration, wake: Arc<Notify>) {
        for _ in 0..LANES {
            let sender = self.clone();
            jobs.every_or_woken("outbox", every, wake.clone(), move || {
                let sender = sender.clone();
                async move {
                    let pass = sender.send_due().await?;
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
