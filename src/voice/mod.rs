//! Voice calls: the menus, the rounds of offers, the whisper, the fallback path and the
//! contact log they write.

pub mod fallbacks;
pub mod flow;
pub mod prompts;
pub mod urls;
pub mod waiting_prompts;
