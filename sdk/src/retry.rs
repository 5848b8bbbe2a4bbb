//! Bounded exponential backoff with jitter, honouring `Retry-After`.
//!
//! Only transient failures are retried (connect errors, timeouts, 429, 5xx);
//! the lifecycle decides *whether* a request may be repeated (a create only
//! when the platform cannot have accepted it), this module only *when*.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// How transient failures are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 5: waits of about 1, 2, 4, 8, 16 s).
    pub max_retries: u32,
    /// The first wait (default 1 s).
    pub initial_delay: Duration,
    /// The cap on one computed wait (default 16 s).
    pub max_delay: Duration,
    /// The cap on a server's `Retry-After` (default 60 s); a longer one is cut to this.
    pub max_retry_after: Duration,
    /// Spread each wait randomly over its upper half, so many clients do not retry in step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0-based): `initial × 2^retry`,
    /// capped, jittered into `[d/2, d]`; a `Retry-After` from the server wins
    /// when it is longer (up to `max_retry_after`).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        let base = self
            .initial_delay
            .saturating_mul(factor)
            .min(self.max_delay);
        let computed = if self.jitter && !base.is_zero() {
            let half = base / 2;
            half + rand::thread_rng().gen_range(Duration::ZERO..=half)
        } else {
            base
        };
        match retry_after {
            Some(ra) => ra.min(self.max_retry_after).max(computed),
            None => computed,
        }
    }
}

/// Reads a `Retry-After` header value: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            // `from_secs_f64` panics past u64::MAX seconds (`1e300`): saturate.
            return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
        }
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_retry_after_values_never_panic() {
        assert_eq!(parse_retry_after("1e300"), Some(Duration::MAX));
        assert_eq!(
            parse_retry_after("18446744073709551616"),
            Some(Duration::MAX)
        );
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("inf"), None);
        assert_eq!(parse_retry_after("0.25"), Some(Duration::from_millis(250)));
        // The policy caps what it sleeps whatever the header says.
        let p = RetryPolicy::default();
        assert!(p.delay(0, parse_retry_after("1e300")) <= p.max_retry_after.max(p.max_delay));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        let waits: Vec<u64> = (0..7).map(|r| p.delay(r, None).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 16, 16]);
    }

    /// Mutation tried (cargo-mutants): the jitter's `!base.is_zero()` made
    /// `base.is_zero()` -> every wait is the full one, and the spread check fails.
    #[test]
    fn jitter_stays_in_the_upper_half() {
        let p = RetryPolicy::default();
        for retry in 0..6 {
            let full = p.initial_delay.saturating_mul(1 << retry).min(p.max_delay);
            let waits: Vec<Duration> = (0..50).map(|_| p.delay(retry, None)).collect();
            for d in &waits {
                assert!(
                    *d >= full / 2 && *d <= full,
                    "{d:?} outside [{:?}, {full:?}]",
                    full / 2
                );
            }
            // Spread, not the full wait every time (50 draws of nanoseconds).
            assert!(waits.iter().any(|d| *d < full), "no jitter: {waits:?}");
        }
    }

    /// Mutations tried (cargo-mutants): `none()` returning the default
    /// policy, or without its `max_retries: 0` -> five retries, and this fails.
    #[test]
    fn none_never_retries_and_keeps_the_other_defaults() {
        let none = RetryPolicy::none();
        assert_eq!(none.max_retries, 0);
        assert_eq!(
            RetryPolicy {
                max_retries: RetryPolicy::default().max_retries,
                ..none
            },
            RetryPolicy::default()
        );
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(4, Some(Duration::from_secs(3))),
            Duration::from_secs(16)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
