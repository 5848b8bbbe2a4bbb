//! The terminal result of a generation: typed essentials plus the raw JSON,
//! so a field that is missing or shaped differently never loses a finished job.

use serde_json::Value;

use crate::status::{find_id, find_status, Status};

/// Which channel delivered the terminal state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The SSE stream of the create request.
    Sse,
    /// Polling `GET /generation/{id}`.
    Poll,
}

impl Source {
    /// `sse` or `poll`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Sse => "sse",
            Source::Poll => "poll",
        }
    }
}

/// A generation in a terminal state (COMPLETED, SUCCEEDED, FAILED or CANCELED).
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    id: Option<String>,
    status: Status,
    raw: Value,
    source: Source,
}

impl Generation {
    /// Builds the result from a terminal body; `status` is what ended the job.
    pub fn new(id: Option<String>, status: Status, raw: Value, source: Source) -> Self {
        let id = id.or_else(|| find_id(&raw));
        Generation {
            id,
            status,
            raw,
            source,
        }
    }

    /// Builds it from a poll body.
    pub fn from_body(raw: Value, source: Source) -> Option<Self> {
        let (_, status) = find_status(&raw)?;
        Some(Generation::new(find_id(&raw), status, raw, source))
    }

    /// The generation id.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The terminal status.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// COMPLETED or SUCCEEDED.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The raw JSON of the terminal response.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Which channel delivered it.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Every http(s) URL found under a key named `url`, in document order:
    /// the output files.
    pub fn output_urls(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_urls(&self.raw, &mut out);
        out
    }

    /// The platform's error message, for FAILED or CANCELED jobs.
    pub fn error_message(&self) -> Option<String> {
        let v = &self.raw;
        v.pointer("/error/message")
            .or_else(|| v.pointer("/generation/error/message"))
            .or_else(|| v.get("error"))
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

fn collect_urls(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match child {
                    Value::String(s)
                        if k == "url"
                            && (s.starts_with("http://") || s.starts_with("https://")) =>
                    {
                        if !out.contains(s) {
                            out.push(s.clone());
                        }
                    }
                    other => collect_urls(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_urls(i, out)),
        _ => {}
    }
}
