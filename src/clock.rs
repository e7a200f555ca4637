//! The time as the call flow sees it: the system clock in production; in tests, an
//! instant the test sets (a DST night, say) that then runs on with real time.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Added to the system time.
    offset: Option<Arc<Duration>>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that reads `start` now and runs on from there.
    #[allow(clippy::disallowed_methods)] // the one place that reads the system time
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: Some(Arc::new(start - Utc::now())),
        }
    }

    #[allow(clippy::disallowed_methods)] // the one place that reads the system time
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset {
            Some(offset) => now + **offset,
            None => now,
        }
    }
}
