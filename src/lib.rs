//! peerline: the routing backend for peer-support helplines.

pub mod domain;

pub mod config;
pub mod error;
pub mod routes;
pub mod secrets;
pub mod storage;
