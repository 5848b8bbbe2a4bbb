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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn generation(raw: Value) -> Generation {
        Generation::from_body(raw, Source::Poll).expect("a status")
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
