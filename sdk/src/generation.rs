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

/// The credits a generation was charged, as the platform reports them in the
/// `usage` object of its create and generation responses.
///
/// The platform draws on two balances: `subscription` credits first, then
/// `permanent` (purchased) ones; `total` is their sum as reported. A field the
/// response leaves out, or sends in a shape that is not a number, reads as 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Usage {
    /// Total credits charged for the request.
    pub total: f64,
    /// Credits taken from the subscription allowance.
    pub subscription: f64,
    /// Credits taken from the permanent (purchased) balance.
    pub permanent: f64,
}

impl Usage {
    /// Reads a `usage` object; `None` unless `value` is a JSON object. Each
    /// field is a number or a numeric string; anything else counts as 0.
    pub fn from_value(value: &Value) -> Option<Usage> {
        let map = value.as_object()?;
        let field = |key: &str| -> f64 {
            match map.get(key) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|x| x.is_finite())
            .unwrap_or(0.0)
        };
        Some(Usage {
            total: field("total"),
            subscription: field("subscription"),
            permanent: field("permanent"),
        })
    }
}

/// A string under a `url` key of the result that is not downloaded: not an
/// absolute `http://` or `https://` URL (`file://`, `ftp://`, `data:`, a
/// relative path, ...). Reported so that no output is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedOutput {
    /// The value as the server sent it.
    pub url: String,
    /// Why it is not downloaded, in words.
    pub reason: String,
}

impl SkippedOutput {
    /// The entry for `url`, with `reason`.
    pub fn new(url: impl Into<String>, reason: impl Into<String>) -> Self {
        SkippedOutput {
            url: url.into(),
            reason: reason.into(),
        }
    }
}

/// One output file as the response describes it. Only `url` is certain;
/// every other field is `None` when missing or shaped differently, so an odd
/// response never turns a finished job into an error.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct OutputFile {
    /// Where to download it.
    pub url: String,
    /// Its MIME type, e.g. `image/png`.
    pub content_type: Option<String>,
    /// Width in pixels.
    pub width: Option<u64>,
    /// Height in pixels.
    pub height: Option<u64>,
    /// Length in seconds (videos, audio).
    pub duration: Option<f64>,
    /// Size in bytes.
    pub file_size: Option<u64>,
}

impl OutputFile {
    fn from_value(v: &Value) -> Option<Self> {
        let url = v.get("url")?.as_str()?.to_string();
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let whole = |k: &str| v.get(k).and_then(Value::as_u64);
        Some(OutputFile {
            url,
            content_type: text("content_type").or_else(|| text("mime_type")),
            width: whole("width"),
            height: whole("height"),
            duration: v
                .get("duration")
                .and_then(Value::as_f64)
                .filter(|d| d.is_finite() && *d >= 0.0),
            file_size: whole("file_size").or_else(|| whole("size")),
        })
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
        collect_urls(&self.raw, &mut out, &mut Vec::new());
        out
    }

    /// Every other string found under a key named `url` (the keys
    /// [`output_urls`](Self::output_urls) walks), in document order and
    /// without repeats: outputs that are not downloaded, each with the reason
    /// (only absolute `http://` and `https://` URLs are).
    pub fn skipped_outputs(&self) -> Vec<SkippedOutput> {
        let mut skipped = Vec::new();
        collect_urls(&self.raw, &mut Vec::new(), &mut skipped);
        skipped
    }

    /// The credits charged for this generation: the `usage` object at the top
    /// level of the response, or under `generation`. `None` when neither is
    /// an object.
    pub fn usage(&self) -> Option<Usage> {
        [self.raw.get("usage"), self.raw.pointer("/generation/usage")]
            .into_iter()
            .flatten()
            .find_map(Usage::from_value)
    }

    /// The input payload as the platform normalised it (`input` at the top
    /// level, or under `generation`), when the response carries one.
    pub fn input(&self) -> Option<&Value> {
        [self.raw.get("input"), self.raw.pointer("/generation/input")]
            .into_iter()
            .flatten()
            .find(|v| !v.is_null())
    }

    /// The platform's machine-readable error code: the top-level `code` of a
    /// FAILED or CANCELED job (as the platform reference documents it), or the
    /// `code` of a nested `error` object.
    pub fn error_code(&self) -> Option<&str> {
        let v = &self.raw;
        let top = self
            .failed_ish()
            .then(|| v.get("code").or_else(|| v.pointer("/generation/code")))
            .flatten();
        [
            top,
            v.pointer("/error/code"),
            v.pointer("/generation/error/code"),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|s| !s.trim().is_empty())
    }

    /// The output images (`output.images`, at the top level or under
    /// `generation`): URL, content type, width and height where given.
    pub fn images(&self) -> Vec<OutputFile> {
        self.outputs_under("images")
    }

    /// The output videos (`output.videos`): URL, content type, size and
    /// duration where given.
    pub fn videos(&self) -> Vec<OutputFile> {
        self.outputs_under("videos")
    }

    /// Every entry with a string `url` of `output.<kind>`, read leniently.
    fn outputs_under(&self, kind: &str) -> Vec<OutputFile> {
        let list = self
            .raw
            .pointer(&format!("/output/{kind}"))
            .or_else(|| self.raw.pointer(&format!("/generation/output/{kind}")))
            .and_then(Value::as_array);
        list.into_iter()
            .flatten()
            .filter_map(OutputFile::from_value)
            .collect()
    }

    /// The platform's error message: the nested `error.message` (or an
    /// `error` string), else, for a FAILED or CANCELED job, the top-level
    /// `message` the platform reference documents. On a successful job a
    /// top-level `message` is a progress note, not an error, and is ignored.
    pub fn error_message(&self) -> Option<String> {
        let v = &self.raw;
        let nested = [
            v.pointer("/error/message"),
            v.pointer("/generation/error/message"),
            v.get("error"),
        ];
        let top = if self.failed_ish() {
            [v.get("message"), v.pointer("/generation/message")]
        } else {
            [None, None]
        };
        nested
            .into_iter()
            .chain(top)
            .flatten()
            .find_map(Value::as_str)
            .map(str::to_string)
    }

    /// FAILED, CANCELED, or a status this SDK does not know: anything but a
    /// success (a `Generation` is terminal).
    fn failed_ish(&self) -> bool {
        matches!(
            self.status,
            Status::Failed | Status::Canceled | Status::Other(_)
        )
    }
}

fn is_http_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Why a `url` string that is not an `http(s)://` URL is not downloaded.
fn skip_reason(s: &str) -> String {
    if s.trim().is_empty() {
        return "empty URL".into();
    }
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => format!(
            "not written as a plain http:// or https:// URL ({:?}); only those are downloaded",
            truncate(s, 40)
        ),
        Ok(u) => format!(
            "{}: URLs are not downloaded; only http and https are",
            u.scheme()
        ),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            "a relative URL (no scheme): only absolute http and https URLs are downloaded".into()
        }
        Err(e) => format!("not a valid URL ({e}); only http and https URLs are downloaded"),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// Walks `v`: the http(s) strings under `url` keys go to `out`, the other
/// strings under `url` keys to `skipped`.
fn collect_urls(v: &Value, out: &mut Vec<String>, skipped: &mut Vec<SkippedOutput>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match child {
                    Value::String(s) if k == "url" && is_http_url(s) => {
                        if !out.contains(s) {
                            out.push(s.clone());
                        }
                    }
                    Value::String(s) if k == "url" => {
                        if !skipped.iter().any(|x| &x.url == s) {
                            skipped.push(SkippedOutput::new(s.clone(), skip_reason(s)));
                        }
                    }
                    other => collect_urls(other, out, skipped),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_urls(i, out, skipped)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn generation(raw: Value) -> Generation {
        Generation::from_body(raw, Source::Poll).expect("a status")
    }

    #[test]
    fn non_http_output_urls_are_listed_as_skipped_with_a_reason() {
        let g = generation(json!({
            "status": "COMPLETED",
            "outputs": [
                {"url": "https://cdn.example/a.png"},
                {"url": "file:///etc/passwd"},
                {"url": "ftp://files.example/b.mp4"},
                {"url": "data:image/png;base64,iVBORw0KGgo="},
                {"url": "outputs/c.png"},
                {"url": ""},
                {"url": "HTTPS://cdn.example/d.png"},
                {"url": "ftp://files.example/b.mp4"},
                {"url": null},
                {"url": {"url": "http://cdn.example/e.png"}},
            ],
        }));
        assert_eq!(
            g.output_urls(),
            ["https://cdn.example/a.png", "http://cdn.example/e.png"]
        );
        let skipped = g.skipped_outputs();
        let urls: Vec<&str> = skipped.iter().map(|s| s.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "file:///etc/passwd",
                "ftp://files.example/b.mp4",
                "data:image/png;base64,iVBORw0KGgo=",
                "outputs/c.png",
                "",
                "HTTPS://cdn.example/d.png",
            ]
        );
        assert!(skipped[0].reason.starts_with("file:"), "{:?}", skipped[0]);
        assert!(skipped[1].reason.starts_with("ftp:"), "{:?}", skipped[1]);
        assert!(skipped[2].reason.starts_with("data:"), "{:?}", skipped[2]);
        assert!(skipped[3].reason.contains("relative"), "{:?}", skipped[3]);
        assert!(skipped[4].reason.contains("empty"), "{:?}", skipped[4]);
        assert!(skipped
            .iter()
            .all(|s| s.reason.contains("http") || s.reason.contains("empty")));
        // Nothing to skip on an ordinary result.
        let g = generation(json!({"status": "COMPLETED", "url": "https://cdn.example/x.png"}));
        assert!(g.skipped_outputs().is_empty());
    }

    #[test]
    fn usage_input_and_errors_of_a_failed_job_in_both_vocabularies() {
        for status in ["FAILED", "failed"] {
            let g = generation(json!({
                "id": "g1",
                "status": status,
                "input": {"prompt": "a cat", "n": 2},
                "usage": {"total": 20, "subscription": 15.5, "permanent": 4.5},
                "code": "content_policy",
                "message": "The prompt was rejected",
            }));
            assert_eq!(g.status(), &Status::Failed);
            assert_eq!(
                g.usage(),
                Some(Usage {
                    total: 20.0,
                    subscription: 15.5,
                    permanent: 4.5
                })
            );
            assert_eq!(g.input(), Some(&json!({"prompt": "a cat", "n": 2})));
            assert_eq!(g.error_code(), Some("content_policy"));
            assert_eq!(
                g.error_message().as_deref(),
                Some("The prompt was rejected")
            );
        }
        for status in ["CANCELED", "canceled", "cancelled"] {
            let g = generation(
                json!({"status": status, "code": "canceled", "message": "Canceled by the user"}),
            );
            assert_eq!(g.status(), &Status::Canceled);
            assert_eq!(g.error_code(), Some("canceled"));
            assert_eq!(g.error_message().as_deref(), Some("Canceled by the user"));
            assert_eq!(g.usage(), None);
        }
    }

    #[test]
    fn successful_jobs_in_both_vocabularies_have_usage_but_no_error() {
        for status in ["COMPLETED", "succeeded"] {
            let g = generation(json!({
                "id": "g2",
                "status": status,
                "usage": {"total": 8, "subscription": 8, "permanent": 0},
                "input": {"prompt": "p"},
                "message": "Completed",
                "code": "ok",
            }));
            assert!(g.is_success(), "{status}");
            assert_eq!(g.usage().map(|u| u.total), Some(8.0));
            assert_eq!(g.input(), Some(&json!({"prompt": "p"})));
            // A top-level message or code on a success is not an error.
            assert_eq!(g.error_message(), None);
            assert_eq!(g.error_code(), None);
        }
    }

    #[test]
    fn nested_shapes_are_read_and_the_nested_error_comes_first() {
        let g = generation(json!({
            "generation_id": "g3",
            "status": "FAILED",
            "message": "Failed: event note",
            "generation": {
                "usage": {"total": "12.5"},
                "input": {"prompt": "x"},
                "code": "model_error",
                "message": "sanitized",
                "error": {"message": "nested reason", "code": "nested_code"},
            },
        }));
        assert_eq!(
            g.usage(),
            Some(Usage {
                total: 12.5,
                subscription: 0.0,
                permanent: 0.0
            })
        );
        assert_eq!(g.input(), Some(&json!({"prompt": "x"})));
        assert_eq!(g.error_code(), Some("model_error"));
        assert_eq!(g.error_message().as_deref(), Some("nested reason"));
        // The older error object alone still works.
        let g = generation(json!({"status": "FAILED", "error": {"message": "m", "code": "c"}}));
        assert_eq!(g.error_code(), Some("c"));
        assert_eq!(g.error_message().as_deref(), Some("m"));
    }

    #[test]
    fn odd_usage_and_error_shapes_never_panic() {
        let cases = [
            json!({"status": "FAILED", "usage": "20 credits"}),
            json!({"status": "FAILED", "usage": 20}),
            json!({"status": "FAILED", "usage": null, "input": null}),
            json!({"status": "FAILED", "usage": [1, 2]}),
            json!({"status": "COMPLETED"}),
        ];
        for raw in cases {
            let g = generation(raw.clone());
            assert_eq!(g.usage(), None, "{raw}");
            assert_eq!(g.input(), None, "{raw}");
            let _ = (g.error_code(), g.error_message());
        }
        // An object with odd fields: missing or non-numeric read as 0,
        // negative values are reported as sent.
        let g = generation(json!({
            "status": "COMPLETED",
            "usage": {"total": -3, "subscription": {"x": 1}, "permanent": "NaN"},
        }));
        assert_eq!(
            g.usage(),
            Some(Usage {
                total: -3.0,
                subscription: 0.0,
                permanent: 0.0
            })
        );
        assert_eq!(
            generation(json!({"status": "COMPLETED", "usage": {}})).usage(),
            Some(Usage::default())
        );
        // Non-string codes and messages are not errors either.
        let g = generation(json!({"status": "FAILED", "code": 500, "message": {"text": "x"}}));
        assert_eq!(g.error_code(), None);
        assert_eq!(g.error_message(), None);
        // A string usage at the top level falls back to the nested object.
        let g = generation(
            json!({"status": "FAILED", "usage": "n/a", "generation": {"usage": {"total": 2}}}),
        );
        assert_eq!(g.usage().map(|u| u.total), Some(2.0));
    }
}
