//! Twilio: the webhook signature, the TwiML builder and the REST client.

pub mod rest;
pub mod signature;
pub mod twiml;
pub mod webhook;
