//! A token bucket: up to `burst` requests at once, refilled at `per_minute`. Pure: the
//! caller passes the time.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    at: Instant,
}

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    /// `per_minute` requests a minute, with bursts of up to a fifth of that (at least 10).
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute,
            burst: (per_minute / 5).max(10).min(per_minute.max(1)),
        }
    }
}

impl TokenBucket {
    pub fn full(rate: Rate, now: Instant) -> Self {
        Self {
            tokens: f64::from(rate.burst),
            at: now,
        }
    }

    /// Takes one request's token, or says how long until one is there.
    pub fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        let per_second = f64::from(rate.per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(f64::from(rate.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if per_second > 0.0 {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_second))
        } else {
            Err(Duration::from_secs(60))
        }
    }

    /// Whether a request could take a token now (without taking it).
    pub fn has_token(&self, rate: Rate, now: Instant) -> bool {
        let per_second = f64::from(rate.per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * per_second >= 1.0
    }

    /// Whether the bucket has refilled completely (and can be forgotten).
    pub fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let per_second = f64::from(rate.per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * per_second >= f64::from(rate.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_refill() {
        let rate = Rate::per_minute(60);
        assert_eq!(rate.burst, 12);
        let start = Instant::now();
        let mut bucket = TokenBucket::full(rate, start);
        for _ in 0..12 {
            assert!(bucket.take(rate, start).is_ok());
        }
        let wait = bucket.take(rate, start).unwrap_err();
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::from_millis(900),
            "{wait:?}"
        );
        let later = start + Duration::from_secs(1);
        assert!(bucket.take(rate, later).is_ok(), "one token a second");
        assert!(bucket.take(rate, later).is_err());
        assert!(!bucket.is_full(rate, later));
        assert!(bucket.is_full(rate, later + Duration::from_secs(12)));
    }
}
