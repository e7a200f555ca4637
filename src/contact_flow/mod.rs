//! What the voice and text flows share around a contact: loading who could take it (the
//! router's inputs) and the SMS alerts to supervisors that a contact's end or content
//! sets off.

pub mod alerts;
pub mod candidates;
