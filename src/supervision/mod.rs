//! Supervision flows that span several stores: a volunteer's after-contact report and
//! what its flags set off.

pub mod report;
