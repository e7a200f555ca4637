//! Pure types and decisions: no database, no clock, no network. Everything here is
//! given the facts (including the instant) and answers.

pub mod access;
pub mod audit_diff;
pub mod calendar;
pub mod calendar_feed;
pub mod callback;
pub mod contact;
pub mod cover;
pub mod coverage;
pub mod csv_export;
pub mod delivery;
pub mod gap_alert;
pub mod helpline;
pub mod live_board;
pub mod on_call;
pub mod phone;
pub mod rate_limit;
pub mod report_period;
pub mod reports;
pub mod rota;
pub mod rota_grid;
pub mod rota_reply;
pub mod routing;
pub mod shift_calendar;
pub mod shift_reminders;
pub mod sign_in;
pub mod step_back;
pub mod supervision;
pub mod survey;
pub mod text_message;
pub mod texting;
pub mod timezone;
pub mod trace_words;
pub mod validate;
pub mod volunteer;
pub mod volunteer_changes;
