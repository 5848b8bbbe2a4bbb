//! The job store and the job timeline.
//!
//! A job's state is a pure function of the time elapsed since its creation:
//! step 0 is `IN_QUEUE`, steps `1..=progress_steps` are `IN_PROGRESS` with
//! progress `k / progress_steps`, and step `progress_steps + 1` is terminal
//! (`COMPLETED`, or the status of an [`Outcome`](crate::Fault::Outcome)
//! fault). Step `k` happens `k * step_delay` after creation. No task runs per
//! job: pollers compute the current step from the clock, and SSE streams sleep
//! until each step's instant.
//!
//! The store is bounded: past `max_jobs` the oldest job is evicted. Every job
//! has the same timeline, so the oldest job is also the first one to finish.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::files;
use crate::spec::Category;

/// How a job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `COMPLETED` (or another success status string, reported verbatim).
    Success(String),
    /// `FAILED`, with an error.
    Failed,
    /// `CANCELED`, with an error.
    Canceled,
}

impl Outcome {
    /// The outcome named by an [`Outcome`](crate::Fault::Outcome) fault.
    pub(crate) fn from_status(status: &str) -> Self {
        match status.to_ascii_uppercase().as_str() {
            "FAILED" | "FAILURE" | "ERROR" => Outcome::Failed,
            "CANCELED" | "CANCELLED" => Outcome::Canceled,
            _ => Outcome::Success(status.to_string()),
        }
    }

    /// The terminal status string.
    pub(crate) fn status(&self) -> &str {
        match self {
            Outcome::Success(s) => s,
            Outcome::Failed => "FAILED",
            Outcome::Canceled => "CANCELED",
        }
    }

    /// The SSE event name of the terminal event.
    pub(crate) fn event_name(&self) -> &'static str {
        match self {
            Outcome::Success(_) => "completed",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
        }
    }
}

/// One generation job.
#[derive(Debug)]
pub(crate) struct Job {
    /// UUID v4 string.
    pub id: String,
    /// Model id, e.g. `google/nano-banana-pro`.
    pub model: String,
    /// Image or video.
    pub category: Category,
    /// Monotonic creation instant.
    pub created: Instant,
    /// Wall-clock creation time.
    pub created_wall: SystemTime,
    /// How the job ends.
    pub outcome: Outcome,
    /// Number of output files on success.
    pub outputs: u32,
    /// The Idempotency-Key that created it.
    pub idempotency_key: Option<String>,
    /// The request body as received (echoed as `input`).
    pub input: Value,
    /// Credits charged when the job was accepted (echoed as `usage.total`).
    pub cost: f64,
    /// The output lists `file://` and `ftp://` URLs before the real files
    /// (the [`NonHttpOutputs`](crate::Fault::NonHttpOutputs) fault).
    pub non_http_outputs: bool,
}

/// The shape of every job's timeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    /// Time between steps.
    pub step_delay: Duration,
    /// Number of `IN_PROGRESS` steps.
    pub progress_steps: u32,
}

/// One point of a job's timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Phase {
    /// `IN_QUEUE`.
    Queued,
    /// `IN_PROGRESS` at this progress.
    Progress(f64),
    /// Terminal.
    Done,
}

impl Timeline {
    /// Index of the terminal step.
    pub(crate) fn last_step(&self) -> u32 {
        self.progress_steps + 1
    }

    /// The phase of step `k`.
    pub(crate) fn phase(&self, k: u32) -> Phase {
        if k == 0 {
            Phase::Queued
        } else if k <= self.progress_steps {
            let p = f64::from(k) / f64::from(self.progress_steps);
            Phase::Progress((p * 100.0).round() / 100.0)
        } else {
            Phase::Done
        }
    }

    /// Offset of step `k` from the job's creation.
    pub(crate) fn offset(&self, k: u32) -> Duration {
        self.step_delay.saturating_mul(k)
    }

    /// The step a job created at `created` is at, at `now`.
    pub(crate) fn step_at(&self, created: Instant, now: Instant) -> u32 {
        if self.step_delay.is_zero() {
            return self.last_step();
        }
        let elapsed = now.saturating_duration_since(created).as_nanos();
        let k = elapsed / self.step_delay.as_nanos().max(1);
        u32::try_from(k).unwrap_or(u32::MAX).min(self.last_step())
    }
}

impl Job {
    /// The status string at step `k`.
    pub(crate) fn status_at(&self, timeline: &Timeline, k: u32) -> String {
        match timeline.phase(k) {
            Phase::Queued => "IN_QUEUE".to_string(),
            Phase::Progress(_) => "IN_PROGRESS".to_string(),
            Phase::Done => self.outcome.status().to_string(),
        }
    }

    /// The progress (0..1) at step `k`.
    pub(crate) fn progress_at(&self, timeline: &Timeline, k: u32) -> f64 {
        match timeline.phase(k) {
            Phase::Queued => 0.0,
            Phase::Progress(p) => p,
            Phase::Done => 1.0,
        }
    }

    /// The `usage` object of every response: what accepting this job took
    /// from the balance. The simulator has one balance, so it is all counted
    /// as subscription credits.
    pub(crate) fn usage(&self) -> Value {
        json!({
            "total": self.cost,
            "subscription": self.cost,
            "permanent": 0.0,
        })
    }

    /// The `CreateGenerationResponse` of this job.
    pub(crate) fn create_response(&self) -> Value {
        json!({
            "id": self.id,
            "status": "IN_QUEUE",
            "model": self.model,
            "created_at": rfc3339(self.created_wall),
            "input": self.input,
            "usage": self.usage(),
        })
    }

    /// The `GenerationResponse` of this job at step `k`; output URLs start
    /// with `files_base` (e.g. `http://127.0.0.1:8080/api/v1/files`).
    pub(crate) fn response_at(&self, timeline: &Timeline, k: u32, files_base: &str) -> Value {
        let phase = timeline.phase(k);
        let status = self.status_at(timeline, k);
        let updated = self.created_wall + timeline.offset(k);
        let (output, error) = match (phase, &self.outcome) {
            (Phase::Done, Outcome::Success(_)) => (self.output(files_base), Value::Null),
            (Phase::Done, Outcome::Failed) => (
                Value::Null,
                json!({
                    "message": format!(
                        "Simulated failure: the model {} could not complete this generation",
                        self.model
                    ),
                    "code": "simulated_failure",
                }),
            ),
            (Phase::Done, Outcome::Canceled) => (
                Value::Null,
                json!({
                    "message": "Simulated cancellation: the generation was canceled",
                    "code": "canceled",
                }),
            ),
            _ => (Value::Null, Value::Null),
        };
        // The platform reference puts `code` and `message` at the top level of
        // a FAILED generation; the nested `error` object stays for older
        // clients.
        let top_level = match (phase, &self.outcome) {
            (Phase::Done, Outcome::Failed) => {
                Some((error["code"].clone(), error["message"].clone()))
            }
            _ => None,
        };
        let mut body = json!({
            "id": self.id,
            "status": status,
            "model": self.model,
            "created_at": rfc3339(self.created_wall),
            "updated_at": rfc3339(updated),
            "progress": self.progress_at(timeline, k),
            "output": output,
            "error": error,
            "input": self.input,
            "usage": self.usage(),
        });
        if let (Some((code, message)), Some(map)) = (top_level, body.as_object_mut()) {
            map.insert("code".into(), code);
            map.insert("message".into(), message);
        }
        body
    }

    fn output(&self, files_base: &str) -> Value {
        let mut files = Vec::new();
        for i in 0..self.outputs.max(1) {
            let ext = match self.category {
                Category::Image => "png",
                Category::Video => "mp4",
            };
            let name = if i == 0 {
                format!("output.{ext}")
            } else {
                format!("output-{}.{ext}", i + 1)
            };
            let url = format!("{files_base}/{}/{name}", self.id);
            files.push(match self.category {
                Category::Image => json!({
                    "url": url,
                    "content_type": files::PNG_CONTENT_TYPE,
                    "width": files::IMAGE_SIDE,
                    "height": files::IMAGE_SIDE,
                    "file_size": files::png_size(),
                }),
                Category::Video => json!({
                    "url": url,
                    "content_type": files::MP4_CONTENT_TYPE,
                    "width": files::IMAGE_SIDE,
                    "height": files::IMAGE_SIDE,
                    "duration": f64::from(files::VIDEO_DURATION_SECS),
                    "file_size": files::mp4_size(),
                }),
            });
        }
        if self.non_http_outputs {
            // The same file entry under URLs no client should fetch.
            let template = files.first().cloned().unwrap_or_else(|| json!({}));
            let odd: Vec<Value> = NON_HTTP_OUTPUT_URLS
                .iter()
                .map(|url| {
                    let mut entry = template.clone();
                    entry["url"] = json!(url);
                    entry
                })
                .collect();
            files.splice(0..0, odd);
        }
        match self.category {
            Category::Image => json!({"images": files, "videos": []}),
            Category::Video => json!({"images": [], "videos": files}),
        }
    }
}

/// The URLs a [`NonHttpOutputs`](crate::Fault::NonHttpOutputs) job lists
/// before its real files.
pub const NON_HTTP_OUTPUT_URLS: [&str; 2] = ["file:///etc/passwd", "ftp://example.com/a.png"];

/// The bounded job store, the idempotency index and the credit balance.
#[derive(Debug)]
pub(crate) struct JobStore {
    jobs: HashMap<String, Arc<Job>>,
    order: VecDeque<String>,
    by_key: HashMap<String, String>,
    max_jobs: usize,
    credits: f64,
    cost: f64,
}

/// What a new job needs besides its id.
#[derive(Debug)]
pub(crate) struct NewJob {
    pub model: String,
    pub category: Category,
    pub outcome: Outcome,
    pub outputs: u32,
    pub idempotency_key: Option<String>,
    /// The request body as received.
    pub input: Value,
    /// See [`Job::non_http_outputs`].
    pub non_http_outputs: bool,
}

impl JobStore {
    /// An empty store.
    pub(crate) fn new(max_jobs: usize, credits: f64, cost: f64) -> Self {
        Self {
            jobs: HashMap::new(),
            order: VecDeque::new(),
            by_key: HashMap::new(),
            max_jobs: max_jobs.max(1),
            credits,
            cost,
        }
    }

    /// The balance.
    pub(crate) fn credits(&self) -> f64 {
        self.credits
    }

    /// Number of stored jobs.
    pub(crate) fn len(&self) -> usize {
        self.jobs.len()
    }

    /// A job by id.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.get(id).cloned()
    }

    /// The job an earlier create with this Idempotency-Key produced.
    pub(crate) fn replay(&self, key: Option<&str>) -> Option<Arc<Job>> {
        let id = self.by_key.get(key?)?;
        self.jobs.get(id).cloned()
    }

    /// `Err((balance, cost))` when the balance cannot pay for one generation.
    pub(crate) fn can_afford(&self) -> Result<(), (f64, f64)> {
        if self.credits < self.cost {
            Err((self.credits, self.cost))
        } else {
            Ok(())
        }
    }

    /// Charges and stores a new job (the caller checked [`Self::can_afford`]).
    pub(crate) fn insert(&mut self, new: NewJob) -> Arc<Job> {
        self.credits -= self.cost;
        let job = Arc::new(Job {
            id: uuid::Uuid::new_v4().to_string(),
            model: new.model,
            category: new.category,
            created: Instant::now(),
            created_wall: SystemTime::now(),
            outcome: new.outcome,
            outputs: new.outputs,
            idempotency_key: new.idempotency_key,
            input: new.input,
            cost: self.cost,
            non_http_outputs: new.non_http_outputs,
        });
        while self.jobs.len() >= self.max_jobs {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.jobs.remove(&oldest) {
                if let Some(key) = &evicted.idempotency_key {
                    if self.by_key.get(key) == Some(&evicted.id) {
                        self.by_key.remove(key);
                    }
                }
            }
        }
        if let Some(key) = &job.idempotency_key {
            self.by_key.insert(key.clone(), job.id.clone());
        }
        self.order.push_back(job.id.clone());
        self.jobs.insert(job.id.clone(), job.clone());
        job
    }
}

/// Formats a time as RFC 3339 UTC with milliseconds, e.g.
/// `2026-03-20T12:34:56.789Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job(key: Option<&str>) -> NewJob {
        NewJob {
            model: "a/b".into(),
            category: Category::Image,
            outcome: Outcome::Success("COMPLETED".into()),
            outputs: 1,
            idempotency_key: key.map(str::to_string),
            input: json!({"prompt": "p"}),
            non_http_outputs: false,
        }
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
    }

    #[test]
    fn timeline_steps() {
        let tl = Timeline {
            step_delay: Duration::from_secs(1),
            progress_steps: 3,
        };
        let t0 = Instant::now();
        assert_eq!(tl.step_at(t0, t0), 0);
        assert_eq!(tl.step_at(t0, t0 + Duration::from_millis(2500)), 2);
        assert_eq!(tl.step_at(t0, t0 + Duration::from_secs(100)), 4);
        assert_eq!(tl.phase(1), Phase::Progress(0.33));
        assert_eq!(tl.phase(4), Phase::Done);
        let zero = Timeline {
            step_delay: Duration::ZERO,
            progress_steps: 3,
        };
        assert_eq!(zero.step_at(t0, t0), 4);
    }

    #[test]
    fn store_evicts_oldest_and_dedupes_keys() {
        let mut store = JobStore::new(2, 10.0, 1.0);
        let a = store.insert(new_job(Some("k1")));
        assert_eq!(
            store.replay(Some("k1")).map(|j| j.id.clone()),
            Some(a.id.clone())
        );
        assert!(store.replay(Some("k2")).is_none());
        assert_eq!(store.credits(), 9.0);
        store.insert(new_job(None));
        store.insert(new_job(None));
        assert_eq!(store.len(), 2);
        assert!(store.get(&a.id).is_none());
        // The key of the evicted job is free again.
        assert!(store.replay(Some("k1")).is_none());
    }

    #[test]
    fn insufficient_credits() {
        let mut store = JobStore::new(10, 1.5, 1.0);
        assert!(store.can_afford().is_ok());
        store.insert(new_job(None));
        assert_eq!(store.can_afford(), Err((0.5, 1.0)));
    }
}
