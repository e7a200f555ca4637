//! peerline: the routing backend for peer-support helplines.

pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod contact_flow;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod key_rotation;
pub mod openapi;
pub mod rota_care;
pub mod routes;
pub mod secret_key;
pub mod secrets;
pub mod simulator;
pub mod spool;
pub mod startup;
pub mod state;
pub mod storage;
pub mod supervision;
pub mod telemetry;
pub mod telephony;
pub mod texting;
pub mod voice;
