//! peerline: the routing backend for peer-support helplines.

pub mod domain;
