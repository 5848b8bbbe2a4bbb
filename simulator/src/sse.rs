//! SSE event encoding and the event stream of one job.
//!
//! Default wire format (one event per step of the job's timeline):
//!
//! ```text
//! event: queued
//! id: 1
//! data: {"generation_id":"…","status":"IN_QUEUE","progress":0.0,"message":"Queued"}
//!
//! event: progress
//! id: 2
//! data: {"generation_id":"…","status":"IN_PROGRESS","progress":0.33,"message":"Generating (33%)"}
//!
//! event: completed
//! id: 5
//! data: {"generation_id":"…","status":"COMPLETED","progress":1.0,"message":"Completed","generation":{…}}
//!
//! ```
//!
//! The terminal event is named `completed`, `failed` or `canceled` and carries
//! the full `GenerationResponse` under `generation`. While the stream waits
//! longer than the heartbeat interval for the next step it sends
//! `: heartbeat` comments. The stream faults of [`crate::Fault`] change this
//! framing (line ends, BOM, multi-line data, extra events, early ends) or the
//! ids the events name (a bad first id, a different id after the first).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::faults::{Fault, Selected};
use crate::jobs::{Job, Phase, Timeline};

/// How the stream ends after its planned events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndMode {
    /// Every event, then a clean end.
    Normal,
    /// No event at all, then a clean end.
    DropBeforeEvent,
    /// The first (queued) event, then a clean end.
    DropAfterId,
    /// The first event, then heartbeats forever.
    Stall,
    /// The first event, then half of the next event, then an aborted body.
    ResetMidBody,
}

/// The framing of one stream, derived from the selected faults.
#[derive(Debug, Clone)]
pub(crate) struct StreamOptions {
    line_end: &'static str,
    bom: bool,
    multiline: bool,
    alt_shape: bool,
    malformed_json: bool,
    unknown_status: bool,
    oversized: Option<usize>,
    missing_blank_line: bool,
    end: EndMode,
    /// The id the first event names instead of the job's ([`Fault::BadId`]).
    first_id: Option<String>,
    /// The id every later event names ([`Fault::IdChangesMidStream`]).
    later_id: Option<String>,
}

impl StreamOptions {
    /// The options for the stream faults in `faults`.
    pub(crate) fn from_faults(faults: &Selected) -> Self {
        let line_end = if faults.has(|f| matches!(f, Fault::CrOnly)) {
            "\r"
        } else if faults.has(|f| matches!(f, Fault::CrlfOnly)) {
            "\r\n"
        } else {
            "\n"
        };
        let end = if faults.has(|f| matches!(f, Fault::DropBeforeEvent)) {
            EndMode::DropBeforeEvent
        } else if faults.has(|f| matches!(f, Fault::DropAfterId | Fault::BadId { .. })) {
            EndMode::DropAfterId
        } else if faults.has(|f| matches!(f, Fault::ResetMidBody)) {
            EndMode::ResetMidBody
        } else if faults.has(|f| matches!(f, Fault::StallHeartbeats)) {
            EndMode::Stall
        } else {
            EndMode::Normal
        };
        Self {
            line_end,
            bom: faults.has(|f| matches!(f, Fault::Bom)),
            multiline: faults.has(|f| matches!(f, Fault::MultilineData)),
            alt_shape: faults.has(|f| matches!(f, Fault::AltEventShape)),
            malformed_json: faults.has(|f| matches!(f, Fault::MalformedJson)),
            unknown_status: faults.has(|f| matches!(f, Fault::UnknownStatus)),
            oversized: faults.find(|f| match f {
                Fault::OversizedEvent { bytes } => Some(*bytes),
                _ => None,
            }),
            missing_blank_line: faults.has(|f| matches!(f, Fault::MissingBlankLine)),
            end,
            first_id: faults.find(|f| match f {
                Fault::BadId { id } => Some(id.clone()),
                _ => None,
            }),
            later_id: faults
                .has(|f| matches!(f, Fault::IdChangesMidStream))
                .then(|| uuid::Uuid::new_v4().to_string()),
        }
    }
}

/// Encodes one event. `data` is written on one `data:` line, or pretty-printed
/// across several with `multiline`.
fn encode(out: &mut String, name: Option<&str>, id: u64, data: &str, le: &str, blank_line: bool) {
    if let Some(name) = name {
        out.push_str("event: ");
        out.push_str(name);
        out.push_str(le);
    }
    out.push_str("id: ");
    out.push_str(&id.to_string());
    out.push_str(le);
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push_str(le);
    }
    if blank_line {
        out.push_str(le);
    }
}

/// One part of a planned stream.
#[derive(Debug)]
enum Chunk {
    /// Ready bytes.
    Bytes(Bytes),
    /// An oversized event: `head`, then `pad` bytes of `x`, then `tail`.
    Oversized {
        head: Bytes,
        pad: usize,
        tail: Bytes,
    },
}

#[derive(Debug)]
struct Item {
    at: Instant,
    chunk: Chunk,
}

/// Builds the events of a job's stream.
struct Planner<'a> {
    job: &'a Job,
    timeline: Timeline,
    files_base: &'a str,
    opts: &'a StreamOptions,
    start: Instant,
    next_id: u64,
    items: Vec<Item>,
}

impl Planner<'_> {
    fn at(&self, k: u32) -> Instant {
        self.start + self.timeline.offset(k)
    }

    /// The id event `k` of the timeline names: the job's, unless a fault
    /// replaces the first one or the later ones.
    fn id_at(&self, k: u32) -> &str {
        let replaced = if k == 0 {
            &self.opts.first_id
        } else {
            &self.opts.later_id
        };
        replaced.as_deref().unwrap_or(&self.job.id)
    }

    fn data_json(
        &self,
        id: &str,
        status: &str,
        progress: f64,
        message: &str,
        generation: Option<Value>,
    ) -> Value {
        if self.opts.alt_shape {
            let mut inner = json!({
                "task_id": id,
                "state": status,
                "progress": progress,
                "message": message,
            });
            if let (Some(g), Value::Object(map)) = (generation, &mut inner) {
                map.insert("result".to_string(), g);
            }
            json!({ "data": inner })
        } else {
            let mut v = json!({
                "generation_id": id,
                "status": status,
                "progress": progress,
                "message": message,
            });
            if let (Some(g), Value::Object(map)) = (generation, &mut v) {
                map.insert("generation".to_string(), g);
            }
            v
        }
    }

    fn render(&self, v: &Value) -> String {
        let text = if self.opts.multiline {
            serde_json::to_string_pretty(v)
        } else {
            serde_json::to_string(v)
        };
        text.unwrap_or_default()
    }

    fn push_event(&mut self, at: Instant, name: Option<&str>, data: &str, blank_line: bool) {
        let mut s = String::with_capacity(data.len() + 48);
        encode(
            &mut s,
            name,
            self.next_id,
            data,
            self.opts.line_end,
            blank_line,
        );
        self.next_id += 1;
        self.items.push(Item {
            at,
            chunk: Chunk::Bytes(Bytes::from(s)),
        });
    }

    fn step_event(&mut self, k: u32) {
        let tl = self.timeline;
        let status = self.job.status_at(&tl, k);
        let progress = self.job.progress_at(&tl, k);
        let (name, message, generation) = match tl.phase(k) {
            Phase::Queued => (
                if self.opts.alt_shape {
                    "pending"
                } else {
                    "queued"
                },
                "Queued".to_string(),
                None,
            ),
            Phase::Progress(p) => (
                if self.opts.alt_shape {
                    "running"
                } else {
                    "progress"
                },
                format!("Generating ({:.0}%)", p * 100.0),
                None,
            ),
            Phase::Done => (
                if self.opts.alt_shape {
                    "done"
                } else {
                    self.job.outcome.event_name()
                },
                match self.job.outcome.event_name() {
                    "completed" => "Completed".to_string(),
                    "failed" => "Failed: simulated failure".to_string(),
                    _ => "Canceled".to_string(),
                },
                Some(self.job.response_at(&tl, k, self.files_base)),
            ),
        };
        let id = self.id_at(k).to_string();
        let generation = generation.map(|mut g| {
            if self.opts.later_id.is_some() {
                g["id"] = json!(id);
            }
            g
        });
        let data = self.render(&self.data_json(&id, &status, progress, &message, generation));
        let blank = !(self.opts.missing_blank_line && k == tl.last_step());
        self.push_event(self.at(k), Some(name), &data, blank);
    }

    fn oversized_event(&mut self, bytes: usize, at: Instant) {
        let (head_json, tail_json) = if self.opts.alt_shape {
            (
                format!(
                    "{{\"data\":{{\"task_id\":\"{}\",\"state\":\"IN_PROGRESS\",\"message\":\"Oversized event\",\"padding\":\"",
                    self.id_at(1)
                ),
                "\"}}".to_string(),
            )
        } else {
            (
                format!(
                    "{{\"generation_id\":\"{}\",\"status\":\"IN_PROGRESS\",\"progress\":1.0,\"message\":\"Oversized event\",\"padding\":\"",
                    self.id_at(1)
                ),
                "\"}".to_string(),
            )
        };
        let pad = bytes.saturating_sub(head_json.len() + tail_json.len());
        let le = self.opts.line_end;
        let name = if self.opts.alt_shape {
            "running"
        } else {
            "progress"
        };
        let head = format!("event: {name}{le}id: {}{le}data: {head_json}", self.next_id);
        self.next_id += 1;
        let tail = format!("{tail_json}{le}{le}");
        self.items.push(Item {
            at,
            chunk: Chunk::Oversized {
                head: Bytes::from(head),
                pad,
                tail: Bytes::from(tail),
            },
        });
    }
}

/// The planned stream of a job, ready to be served.
pub(crate) struct EventStream {
    items: VecDeque<Item>,
    end: EndMode,
    heartbeat: Bytes,
    heartbeat_interval: Duration,
    shutdown: watch::Receiver<bool>,
    pending_pad: usize,
    pending_tail: Option<Bytes>,
    finished: bool,
}

impl EventStream {
    /// Plans the stream of `job`; output URLs start with `files_base`.
    pub(crate) fn plan(
        job: &Arc<Job>,
        timeline: Timeline,
        files_base: &str,
        opts: &StreamOptions,
        heartbeat_interval: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let start = Instant::from_std(job.created);
        let mut p = Planner {
            job,
            timeline,
            files_base,
            opts,
            start,
            next_id: 1,
            items: Vec::new(),
        };
        let last = timeline.last_step();
        if opts.end != EndMode::DropBeforeEvent {
            if opts.malformed_json {
                p.push_event(start, None, "{not json", true);
            }
            p.step_event(0);
            let first_only = matches!(
                opts.end,
                EndMode::DropAfterId | EndMode::Stall | EndMode::ResetMidBody
            );
            if !first_only {
                if opts.unknown_status {
                    let data =
                        p.render(&p.data_json(p.id_at(1), "WARMING_UP", 0.0, "Warming up", None));
                    p.push_event(start, Some("warming_up"), &data, true);
                }
                for k in 1..last {
                    p.step_event(k);
                }
                if let Some(bytes) = opts.oversized {
                    p.oversized_event(bytes, p.at(last));
                }
                p.step_event(last);
            } else if opts.end == EndMode::ResetMidBody {
                // Half of the next event, cut inside its data line.
                let next = if last > 1 { 1 } else { last };
                let before = p.items.len();
                p.step_event(next);
                if let Some(Item {
                    at,
                    chunk: Chunk::Bytes(b),
                }) = p.items.pop()
                {
                    let data_at = find(&b, b"data: ").map_or(b.len() / 2, |i| i + 6);
                    let cut = (data_at + (b.len() - data_at) / 2).min(b.len());
                    p.items.push(Item {
                        at,
                        chunk: Chunk::Bytes(b.slice(..cut)),
                    });
                }
                debug_assert_eq!(p.items.len(), before + 1);
            }
        }
        let mut items: Vec<Item> = p.items;
        if opts.bom {
            let bom = Bytes::from_static("\u{FEFF}".as_bytes());
            items.insert(
                0,
                Item {
                    at: start,
                    chunk: Chunk::Bytes(bom),
                },
            );
        }
        let le = opts.line_end;
        Self {
            items: coalesce(items),
            end: opts.end,
            heartbeat: Bytes::from(format!(": heartbeat{le}{le}")),
            heartbeat_interval: heartbeat_interval.max(Duration::from_millis(1)),
            shutdown,
            pending_pad: 0,
            pending_tail: None,
            finished: false,
        }
    }

    /// The stream of body chunks.
    pub(crate) fn into_stream(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures::stream::unfold(self, |mut s| async move {
            let chunk = s.next_chunk().await?;
            Some((chunk, s))
        })
    }

    /// Waits for `deadline`, or the shutdown signal. Returns false on shutdown.
    async fn wait_until(&mut self, deadline: Instant) -> bool {
        if *self.shutdown.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => true,
            _ = self.shutdown.wait_for(|stop| *stop) => false,
        }
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        static PAD: [u8; 65536] = [b'x'; 65536];
        if self.finished {
            return None;
        }
        if self.pending_pad > 0 {
            let n = self.pending_pad.min(PAD.len());
            self.pending_pad -= n;
            return Some(Ok(Bytes::from_static(&PAD[..n])));
        }
        if let Some(tail) = self.pending_tail.take() {
            return Some(Ok(tail));
        }
        let Some(front) = self.items.front() else {
            return match self.end {
                EndMode::Stall => {
                    let deadline = Instant::now() + self.heartbeat_interval;
                    if self.wait_until(deadline).await {
                        Some(Ok(self.heartbeat.clone()))
                    } else {
                        self.finished = true;
                        None
                    }
                }
                EndMode::ResetMidBody => {
                    // Let the server flush the partial event before aborting
                    // (returning Pending makes hyper write out its buffer).
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    self.finished = true;
                    Some(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "simulated connection reset",
                    )))
                }
                _ => {
                    self.finished = true;
                    None
                }
            };
        };
        let at = front.at;
        let now = Instant::now();
        if at > now {
            if at - now > self.heartbeat_interval {
                let deadline = now + self.heartbeat_interval;
                if !self.wait_until(deadline).await {
                    self.finished = true;
                    return None;
                }
                return Some(Ok(self.heartbeat.clone()));
            }
            if !self.wait_until(at).await {
                self.finished = true;
                return None;
            }
        }
        let item = self.items.pop_front()?;
        match item.chunk {
            Chunk::Bytes(b) => Some(Ok(b)),
            Chunk::Oversized { head, pad, tail } => {
                self.pending_pad = pad;
                self.pending_tail = Some(tail);
                Some(Ok(head))
            }
        }
    }
}

/// Merges consecutive byte chunks due at the same instant into one write.
fn coalesce(items: Vec<Item>) -> VecDeque<Item> {
    let mut out: VecDeque<Item> = VecDeque::with_capacity(items.len());
    for item in items {
        if let (
            Some(Item {
                at,
                chunk: Chunk::Bytes(prev),
            }),
            Chunk::Bytes(next),
        ) = (out.back_mut(), &item.chunk)
        {
            if *at == item.at {
                let mut merged = Vec::with_capacity(prev.len() + next.len());
                merged.extend_from_slice(prev);
                merged.extend_from_slice(next);
                *prev = Bytes::from(merged);
                continue;
            }
        }
        out.push_back(item);
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
