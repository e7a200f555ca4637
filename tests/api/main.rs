//! Integration tests through HTTP against the real server and migrations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod cli;
mod helpers;
mod openapi;
mod resources;
mod rota;
mod validation;
mod voice;
