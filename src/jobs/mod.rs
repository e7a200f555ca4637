//! Background work each server runs beside the HTTP server. Every job is safe to run on
//! several servers at once: each item is settled by a conditional update only one wins.

pub mod callbacks;
pub mod checkpoint;
pub mod conversations;
pub mod offline_answers;
pub mod outbox;
pub mod report_days;
pub mod retention;
pub mod rota_care;
pub mod spool_replay;
pub mod supervisor;
pub mod sweeper;
