//! The batch's one rate limiter: every create, every retried create (its
//! slot taken for when the retry goes out, after the SDK's backoff) and
//! every poll (all polls are the scheduler's, a stream that ends early
//! included) takes a slot first, so `--max-rps` holds for the whole batch,
//! and a 429
//! (with its Retry-After) pauses every job, not only the one that got it.
//!
//! Slots are handed out in order, `1/R` seconds apart (a GCRA with no
//! burst): a caller reserves the next free slot under a lock and sleeps
//! until it, so waiting callers cost a timer each and nothing spins.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The pause after a 429 that named no Retry-After.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause a 429 imposes on the batch.
pub const MAX_PAUSE: Duration = Duration::from_secs(120);

/// A shared limiter (behind an `Arc`).
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    state: Mutex<State>,
    throttled: AtomicU64,
}

#[derive(Debug)]
struct State {
    next: Instant,
    paused_until: Instant,
}

impl RateLimiter {
    /// At most `rps` requests a second (`None`: no limit, only 429 pauses).
    pub fn new(rps: Option<f64>) -> Self {
        let interval = rps
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        let now = Instant::now();
        RateLimiter {
            interval,
            state: Mutex::new(State {
                next: now,
                paused_until: now,
            }),
            throttled: AtomicU64::new(0),
        }
    }

    /// Reserves the next slot and waits for it.
    pub async fn acquire(&self) {
        self.acquire_after(Duration::ZERO).await;
    }

    /// For a retry the SDK sends `wait` after its `Retrying` event (the
    /// SDK's backoff runs from the event, not from when the stream is read
    /// on): reserves the first free slot at least `wait` from now and waits
    /// for it, so the retry itself lands on the slot. Taking the next slot
    /// instead would let retries with different backoffs arrive together.
    pub async fn acquire_after(&self, wait: Duration) {
        let slot = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let slot = (Instant::now() + wait).max(st.next).max(st.paused_until);
            if let Some(i) = self.interval {
                st.next = slot + i;
            }
            slot
        };
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// A 429: no slot is handed out before `delay` from now (capped at
    /// [`MAX_PAUSE`]; [`DEFAULT_PAUSE`] when the answer named none).
    pub fn throttle(&self, delay: Option<Duration>) {
        let delay = delay
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_PAUSE)
            .min(MAX_PAUSE);
        self.throttled.fetch_add(1, Ordering::Relaxed);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + delay;
        if until > st.paused_until {
            st.paused_until = until;
        }
    }

    /// How many 429s paused the batch.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_spaced_and_a_429_pauses_everyone() {
        let limiter = RateLimiter::new(Some(50.0));
        let start = Instant::now();
        for _ in 0..6 {
            limiter.acquire().await;
        }
        // 6 slots at 0, 20, ..., 100 ms.
        let spent = start.elapsed();
        assert!(spent >= Duration::from_millis(95), "{spent:?}");
        limiter.throttle(Some(Duration::from_millis(300)));
        let before = Instant::now();
        limiter.acquire().await;
        assert!(before.elapsed() >= Duration::from_millis(290));
        assert_eq!(limiter.throttled(), 1);
        let free = RateLimiter::new(None);
        let t = Instant::now();
        for _ in 0..1000 {
            free.acquire().await;
        }
        assert!(t.elapsed() < Duration::from_millis(200));
    }

    /// Three retries seen at once, with backoffs of 500, 450 and 420 ms: a
    /// retry goes out at the later of its backoff's end and its slot. Those
    /// moments must be a slot apart; taking the next slot (0, 100, 200 ms)
    /// would send all three within 80 ms (at 420, 450 and 500 ms).
    #[tokio::test(start_paused = true)]
    async fn a_retry_lands_on_its_own_slot_after_its_backoff() {
        let limiter = std::sync::Arc::new(RateLimiter::new(Some(10.0)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for wait_ms in [500u64, 450, 420] {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                // The SDK's backoff, running from the `Retrying` event.
                let backoff = tokio::time::sleep(Duration::from_millis(wait_ms));
                limiter.acquire_after(Duration::from_millis(wait_ms)).await;
                backoff.await;
                Instant::now()
            }));
            // Reserved in this order.
            tokio::task::yield_now().await;
        }
        let mut sent = Vec::new();
        for t in tasks {
            sent.push(t.await.expect("task").duration_since(start));
        }
        sent.sort();
        assert_eq!(
            sent,
            [500, 600, 700].map(Duration::from_millis),
            "every retry on its own slot, 100 ms apart"
        );
        // A plain acquire after them takes the slot after the last.
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(800));
    }
}
