//! HTTP handlers. Each one extracts, loads, asks the domain, persists and responds;
//! none decides policy itself.

pub mod api;
pub mod auth;
pub mod calendar;
pub mod deadline;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod outbox_wake;
pub mod pages;
pub mod rate_limit;
pub mod request_log;
pub mod webhooks;
