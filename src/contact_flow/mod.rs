//! What the voice and text flows share around a contact: loading who could take it (the
//! router's inputs, with volunteers' recent contacts kept in memory), the SMS alerts to
//! supervisors that a contact's end or content sets off, and what a refused message means.

pub mod activity;
pub mod alerts;
pub mod candidates;
pub mod refusals;
