//! Twilio's webhooks under `/twilio`. Each is signed (checked by the `SignedForm`
//! extractor before anything else) and answers with TwiML; on the voice path a fault
//! never reaches the caller as an error.

pub mod callbacks;
pub mod sms;
pub mod survey;
pub mod voice;

use actix_web::web::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    voice::configure(cfg);
    callbacks::configure(cfg);
    cfg.service(survey::survey);
    cfg.service(sms::incoming).service(sms::status);
}

/// How long a status callback may wait for the database before Twilio is told to retry.
pub const STATUS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
