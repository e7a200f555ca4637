//! Integration tests through HTTP against the real server and migrations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod callbacks;
mod caller_survey;
mod cli;
mod console;
mod console_browser;
mod crash;
mod helpers;
mod key_rotation;
mod metrics;
mod openapi;
mod outage;
mod outbox;
mod report_days;
mod reports;
mod resources;
mod retention;
mod rota;
mod rota_care;
mod sms;
mod supervision;
mod twilio_standin;
mod validation;
mod voice;
mod webdriver;
