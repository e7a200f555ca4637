//! Integration tests through HTTP against the real server and migrations.

mod access;
mod cli;
mod helpers;
mod openapi;
mod resources;
mod rota;
mod validation;
