//! Prometheus metrics: the process's recorder and the names peerline records. Webhook
//! latency and ended contacts are recorded as they happen; the live figures (holding
//! callers, backlog, spool, jobs) are read when `/metrics` is scraped.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Seconds a Twilio webhook took to answer, by route.
pub const WEBHOOK_SECONDS: &str = "peerline_webhook_seconds";
/// Calls and texts that ended, by channel and outcome (counted once, by the server that
/// ended them).
pub const CONTACTS_ENDED: &str = "peerline_contacts_ended_total";

/// Webhook latency buckets: Twilio gives up at 15 s; callers notice well before.
const WEBHOOK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.8, 2.5, 5.0, 10.0, 15.0,
];

/// The process-wide recorder, installed on first use; `None` if something else installed
/// a recorder first (then nothing is recorded, and `/metrics` says so).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(WEBHOOK_SECONDS.into()), WEBHOOK_BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Counts a contact that ended.
pub fn contact_ended(channel: &'static str, outcome: &'static str) {
    metrics::counter!(CONTACTS_ENDED, "channel" => channel, "outcome" => outcome).increment(1);
}
