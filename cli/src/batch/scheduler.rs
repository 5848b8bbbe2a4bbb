//! The one poll scheduler of the jobs created without a stream.
//!
//! Streams are expensive (a connection, buffers and a task each); ids are
//! cheap. Beyond `--max-streams`, a job is created on the polling route and
//! handed here as an id: one task holds every such job in a min-heap of due
//! times, starts the polls that are due (each after a slot of the shared
//! rate limiter, at most `max_parallel` at once), and puts a job back with a
//! longer interval after each non-terminal answer (x1.5 a poll, up to
//! `max_interval`), so old jobs are polled less often than young ones. What
//! a job costs while it waits is one heap entry: its index, id, poll count
//! and times.
//!
//! A poll is one `GET /generation/{id}` made with the SDK's `wait_events`
//! (so its body cap, id checks and error classification apply), stopped
//! after its first answer. A 429 (or a 5xx) puts the job back after the
//! Retry-After, and a 429 also pauses the whole batch at the limiter.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use skills_video::{Client, Error, Event, Generation};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::ratelimit::RateLimiter;

/// How the scheduler polls.
#[derive(Debug, Clone, Copy)]
pub struct PollConfig {
    /// The first interval (`--poll-interval`).
    pub interval: Duration,
    /// The longest interval.
    pub max_interval: Duration,
    /// A job's budget from its hand-over to a terminal status (`--timeout`).
    pub timeout: Duration,
    /// Polls in progress at once.
    pub max_parallel: usize,
}

impl PollConfig {
    /// The interval after `polls` non-terminal answers.
    pub fn interval_after(&self, polls: u32) -> Duration {
        let grown = self.interval.as_secs_f64() * 1.5f64.powi(polls.min(64) as i32);
        Duration::from_secs_f64(grown.min(self.max_interval.as_secs_f64()))
    }
}

/// How a scheduled job ended.
#[derive(Debug)]
pub enum PollEnd {
    /// A successful terminal status.
    Terminal(Generation),
    /// An error: FAILED/CANCELED ([`Error::Failed`]), an unknown id, auth, ...
    Error(Error),
    /// The job's budget passed before a terminal status.
    TimedOut {
        /// The last status seen.
        last_status: String,
    },
}

/// The scheduler's handle: add jobs; dropping it stops the task.
#[derive(Debug)]
pub struct Scheduler {
    tx: mpsc::UnboundedSender<Entry>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Entry {
    idx: usize,
    id: String,
    polls: u32,
    added: Instant,
    last_status: Option<String>,
}

struct Due {
    at: Instant,
    seq: u64,
    entry: Entry,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    // Reversed: the earliest due time is the heap's top.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// What one poll answered.
enum Answer {
    Pending(Option<String>),
    Terminal(Generation),
    Retry {
        status: Option<u16>,
        delay: Duration,
    },
    Error(Error),
}

impl Scheduler {
    /// Starts the task; ended jobs are sent to `done` as `(index, end)`.
    pub fn spawn(
        client: Client,
        limiter: Arc<RateLimiter>,
        config: PollConfig,
        done: mpsc::UnboundedSender<(usize, PollEnd)>,
    ) -> Scheduler {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(client, limiter, config, rx, done));
        Scheduler { tx, task }
    }

    /// Schedules job `idx` (generation `id`), first polled after `first`.
    pub fn add(&self, idx: usize, id: String, first: Duration) {
        let _ = self.tx.send(Entry {
            idx,
            id,
            // `first` is recorded as a due time by the task.
            polls: 0,
            added: Instant::now() + first,
            last_status: None,
        });
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    client: Client,
    limiter: Arc<RateLimiter>,
    config: PollConfig,
    mut rx: mpsc::UnboundedReceiver<Entry>,
    done: mpsc::UnboundedSender<(usize, PollEnd)>,
) {
    let mut heap: BinaryHeap<Due> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut polls = FuturesUnordered::new();
    let mut open = true;
    let max_parallel = config.max_parallel.max(1);
    loop {
        let next_due = heap.peek().map(|d| d.at);
        let room = polls.len() < max_parallel;
        tokio::select! {
            new = rx.recv(), if open => match new {
                Some(entry) => {
                    seq += 1;
                    // `added` carries the first due time (see `add`).
                    heap.push(Due { at: entry.added, seq, entry });
                }
                None => open = false,
            },
            _ = sleep_until_opt(next_due), if room && next_due.is_some() => {
                let now = Instant::now();
                while polls.len() < max_parallel {
                    match heap.peek() {
                        Some(d) if d.at <= now => {}
                        _ => break,
                    }
                    let Some(due) = heap.pop() else { break };
                    let client = client.clone();
                    let limiter = limiter.clone();
                    polls.push(async move {
                        limiter.acquire().await;
                        let answer = poll_once(&client, &due.entry.id).await;
                        (due.entry, answer)
                    });
                }
            },
            Some((mut entry, answer)) = polls.next(), if !polls.is_empty() => {
                let now = Instant::now();
                let pause = match answer {
                    Answer::Terminal(g) => {
                        let _ = done.send((entry.idx, PollEnd::Terminal(g)));
                        continue;
                    }
                    Answer::Error(e) => {
                        let _ = done.send((entry.idx, PollEnd::Error(e)));
                        continue;
                    }
                    Answer::Pending(status) => {
                        if status.is_some() {
                            entry.last_status = status;
                        }
                        entry.polls += 1;
                        config.interval_after(entry.polls)
                    }
                    Answer::Retry { status, delay } => {
                        if status == Some(429) {
                            limiter.throttle(Some(delay));
                        }
                        delay.max(config.interval_after(entry.polls))
                    }
                };
                // `added` was the first due time; the budget runs from there.
                if now.saturating_duration_since(entry.added) + pause > config.timeout {
                    let last_status = entry.last_status.clone().unwrap_or_else(|| "unknown".into());
                    let _ = done.send((entry.idx, PollEnd::TimedOut { last_status }));
                    continue;
                }
                seq += 1;
                heap.push(Due { at: now + pause, seq, entry });
            },
            else => {
                if !open {
                    return;
                }
            }
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One poll: the first answer of the SDK's `wait_events`, then the stream is dropped.
async fn poll_once(client: &Client, id: &str) -> Answer {
    let mut events = Box::pin(client.wait_events(id));
    while let Some(item) = events.next().await {
        match item {
            Ok(Event::Poll { status, .. }) => match status {
                // The terminal result (or error) follows at once.
                Some(s) if s.is_terminal() => continue,
                other => return Answer::Pending(other.map(|s| s.as_str().to_string())),
            },
            Ok(Event::Terminal(g)) => return Answer::Terminal(g),
            Ok(Event::Retrying { status, delay, .. }) => return Answer::Retry { status, delay },
            Ok(_) => {}
            Err(e) => return Answer::Error(e),
        }
    }
    Answer::Error(Error::Decode {
        message: "the poll ended without an answer".into(),
        body: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_grow_with_age_up_to_the_cap() {
        let c = PollConfig {
            interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(20),
            timeout: Duration::from_secs(900),
            max_parallel: 4,
        };
        assert_eq!(c.interval_after(0), Duration::from_secs(2));
        assert_eq!(c.interval_after(1), Duration::from_secs(3));
        assert!(c.interval_after(3) > c.interval_after(2));
        assert_eq!(c.interval_after(50), Duration::from_secs(20));
        assert_eq!(c.interval_after(u32::MAX), Duration::from_secs(20));
    }

    #[test]
    fn the_earliest_due_time_is_on_top() {
        let now = Instant::now();
        let entry = |idx| Entry {
            idx,
            id: String::new(),
            polls: 0,
            added: now,
            last_status: None,
        };
        let mut heap = BinaryHeap::new();
        for (i, ms) in [(0usize, 30u64), (1, 10), (2, 20), (3, 10)] {
            heap.push(Due {
                at: now + Duration::from_millis(ms),
                seq: i as u64,
                entry: entry(i),
            });
        }
        let order: Vec<usize> = std::iter::from_fn(|| heap.pop().map(|d| d.entry.idx)).collect();
        assert_eq!(order, vec![1, 3, 2, 0]);
    }
}
