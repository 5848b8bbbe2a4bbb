//! The request log: one [`RecordedRequest`] per request seen, in order.

use std::collections::VecDeque;

use serde::Serialize;

/// What kind of route a request addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RouteKind {
    /// `POST /api/v1/generation/sse/{model}`.
    CreateSse,
    /// `POST /api/v1/generation/{model}`.
    CreatePoll,
    /// `GET /api/v1/generation/{id}`.
    Poll,
    /// `GET /api/v1/credits`.
    Credits,
    /// `GET /api/v1/files/{id}/{name}`.
    File,
    /// `/api/v1/_simulator/...`.
    Control,
    /// Anything else.
    Other,
}

/// One request as the simulator saw and answered it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path without the query, e.g. `/api/v1/generation/sse/google/nano-banana-pro`.
    pub path: String,
    /// The kind of route.
    pub kind: RouteKind,
    /// The model (`google/nano-banana-pro`) of a create request, or of the job
    /// a poll or file request addressed, when known.
    pub model: Option<String>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The status the simulator answered; for a create the
    /// [`CloseBeforeAnswer`](crate::Fault::CloseBeforeAnswer) fault cut off,
    /// the `200` it accepted the job with, though no answer was sent.
    pub status: u16,
    /// Whether the request was a create sent as `multipart/form-data`.
    pub multipart: bool,
    /// The file parts of a multipart create, in order (empty when the
    /// create was answered before its body was read, e.g. by a fault).
    pub files: Vec<UploadedFile>,
    /// When the request arrived, in microseconds since the simulator
    /// started (records are kept in the order they were answered, which
    /// for a streamed response is not the order they arrived).
    pub received_us: u64,
    /// Whether the connection was closed instead of answering (the
    /// [`CloseBeforeAnswer`](crate::Fault::CloseBeforeAnswer) fault).
    pub closed_before_answer: bool,
}

/// One file part of a multipart create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadedFile {
    /// The part's name (the request field), e.g. `image_url`.
    pub field: String,
    /// The file name the client sent.
    pub file_name: String,
    /// The part's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// What a create's body was, attached to its response for the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct UploadRecord {
    pub(crate) files: Vec<UploadedFile>,
}

/// Most records kept; past it the oldest records are dropped.
pub const MAX_RECORDS: usize = 1_000_000;

/// The bounded, ordered request log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    records: VecDeque<RecordedRequest>,
    creates: usize,
}

impl RequestLog {
    /// Appends a record.
    pub(crate) fn push(&mut self, record: RecordedRequest) {
        if matches!(record.kind, RouteKind::CreateSse | RouteKind::CreatePoll) {
            self.creates += 1;
        }
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// Every kept record, in order.
    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        self.records.iter().cloned().collect()
    }

    /// Number of create requests seen (never dropped from the count).
    pub(crate) fn creates(&self) -> usize {
        self.creates
    }
}

/// Classifies a path (with the `/api/v1` prefix) and method: the route kind
/// and, for create routes, the model named by the path.
pub(crate) fn classify(method: &str, path: &str) -> (RouteKind, Option<String>) {
    let Some(rest) = path.strip_prefix("/api/v1") else {
        return (RouteKind::Other, None);
    };
    let rest = rest.trim_start_matches('/');
    if let Some(gen) = rest.strip_prefix("generation/") {
        if method == "POST" {
            return match gen.strip_prefix("sse/") {
                Some(model) => (RouteKind::CreateSse, Some(model.to_string())),
                None => (RouteKind::CreatePoll, Some(gen.to_string())),
            };
        }
        if method == "GET" && !gen.is_empty() && !gen.contains('/') {
            return (RouteKind::Poll, None);
        }
        return (RouteKind::Other, None);
    }
    if rest == "credits" && method == "GET" {
        return (RouteKind::Credits, None);
    }
    if rest.starts_with("files/") {
        return (RouteKind::File, None);
    }
    if rest.starts_with("_simulator/") || rest == "_simulator" {
        return (RouteKind::Control, None);
    }
    (RouteKind::Other, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_routes() {
        assert_eq!(
            classify("POST", "/api/v1/generation/sse/kling-ai/v3/image"),
            (RouteKind::CreateSse, Some("kling-ai/v3/image".into()))
        );
        assert_eq!(
            classify("POST", "/api/v1/generation/openai/sora-2"),
            (RouteKind::CreatePoll, Some("openai/sora-2".into()))
        );
        assert_eq!(classify("GET", "/api/v1/generation/abc").0, RouteKind::Poll);
        assert_eq!(classify("GET", "/api/v1/credits").0, RouteKind::Credits);
        assert_eq!(
            classify("GET", "/api/v1/files/x/output.png").0,
            RouteKind::File
        );
        assert_eq!(
            classify("GET", "/api/v1/_simulator/requests").0,
            RouteKind::Control
        );
        assert_eq!(classify("GET", "/nope").0, RouteKind::Other);
    }
}
