//! Fault injection: the [`Fault`] catalogue, the [`FaultRule`] plan and the
//! per-request selection of the faults that apply.
//!
//! A fault is chosen for a request in one of two ways:
//!
//! * a [`FaultRule`] in the simulator's fault plan (from
//!   [`SimulatorConfig::faults`](crate::SimulatorConfig::faults),
//!   [`RunningSimulator::set_faults`](crate::RunningSimulator::set_faults) or
//!   `POST /api/v1/_simulator/faults`) whose `model` matches and whose `times`
//!   budget is not yet spent;
//! * the `X-Simulator-Fault` request header, holding the JSON of one [`Fault`]
//!   or a JSON array of them, which applies to that request only.
//!
//! A rule's `times` budget is spent only when its fault actually takes effect:
//! a [`Fault::CreateStatus`] rule when a create request is answered with the
//! status, a stream fault when an SSE stream is produced, a
//! [`Fault::PollStatus`] rule when a poll is answered with the status, a
//! poll-body fault ([`Fault::HugePollBody`], [`Fault::EndlessPollBody`],
//! [`Fault::SlowPollBody`]) when a poll of a known job is answered with its
//! body, and a [`Fault::Outcome`], [`Fault::NonHttpOutputs`] or
//! [`Fault::CloseBeforeAnswer`] rule when a new job is accepted. A request
//! rejected for another reason (401, 404, 422, ...) spends nothing.

use serde::{Deserialize, Serialize};

/// One deviation from the platform's normal behaviour. The JSON form is
/// internally tagged by `kind` in snake case, e.g.
/// `{"kind": "drop_after_id"}` or `{"kind": "create_status", "status": 503, "retry_after_secs": 2}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// SSE create: the job is created and charged (the platform accepted it),
    /// `200` and the headers are sent, then the body ends before any event.
    DropBeforeEvent,
    /// SSE create: the first (`IN_QUEUE`) event carrying the id is sent, then
    /// the body ends. The job goes on server-side, so polling finds it.
    DropAfterId,
    /// Create (SSE or polling route): the job is accepted and charged, then
    /// the connection is closed before any answer, as by a server that
    /// crashed right after its commit. The client cannot tell whether the job
    /// exists. A later create with the same `Idempotency-Key` is answered
    /// with that job, as usual. On HTTP/2 only the request's stream ends.
    CloseBeforeAnswer,
    /// SSE create: after the first event only `: heartbeat` comments are sent,
    /// every `heartbeat_interval`, and never a terminal event. The job still
    /// completes server-side for pollers.
    StallHeartbeats,
    /// Create (SSE or polling route): answered with `status` before the request
    /// is accepted (no job, no charge). `Retry-After` is sent when
    /// `retry_after_secs` is set.
    CreateStatus {
        /// The HTTP status to answer with.
        status: u16,
        /// Value of the `Retry-After` header, in seconds.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// `GET /generation/{id}`: answered with `status` (`Retry-After` when set).
    PollStatus {
        /// The HTTP status to answer with.
        status: u16,
        /// Value of the `Retry-After` header, in seconds.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// SSE create: the response headers are delayed by `delay_ms` (the job is
    /// accepted first).
    SlowFirstByte {
        /// Delay before the response headers, in milliseconds.
        delay_ms: u64,
    },
    /// SSE: an event whose data is not JSON (`data: {not json`) comes before
    /// the real events.
    MalformedJson,
    /// SSE: the terminal event's last line is not followed by the blank line
    /// that dispatches it; the stream closes right after its `data:` line.
    MissingBlankLine,
    /// SSE: every line ends with `\r\n`.
    CrlfOnly,
    /// SSE: every line ends with `\r`.
    CrOnly,
    /// SSE: the stream starts with a UTF-8 byte order mark.
    Bom,
    /// SSE: each event's JSON is pretty-printed across several `data:` lines.
    MultilineData,
    /// SSE: an extra event with the unknown status `WARMING_UP` comes after the
    /// queued event and before the progress events.
    UnknownStatus,
    /// SSE: an event whose `data:` line is `bytes` bytes long (a JSON object
    /// with a long `padding` string) comes before the terminal event. It is
    /// streamed in chunks, never buffered whole.
    OversizedEvent {
        /// Length of the event's data, in bytes.
        bytes: usize,
    },
    /// The job ends with this status instead of `COMPLETED`: `FAILED` (with
    /// `error.message` "Simulated failure: ..."), `CANCELED` (or `CANCELLED`),
    /// or any other status string, which is reported verbatim as a success
    /// with outputs (e.g. `SUCCEEDED`).
    Outcome {
        /// The terminal status.
        status: String,
    },
    /// SSE create route answers `404 {"message":"Not Found"}` as if the model
    /// had no SSE route; the polling route still works.
    NoSseRoute,
    /// SSE: part of an event's `data:` line is sent, then the connection is
    /// aborted (no clean end of the chunked body).
    ResetMidBody,
    /// SSE: events use other keys the tolerant client must accept: `state`
    /// instead of `status`, `task_id` instead of `generation_id`, nested under
    /// `{"data": {...}}`, with event names `pending`, `running` and `done`.
    AltEventShape,
    /// `GET /generation/{id}` of a known job: answered `200` with a declared
    /// `Content-Length` of `bytes` (at least the JSON's length): `bytes - n`
    /// spaces, then the job's JSON (`n` bytes), so only a client that
    /// buffers it all gets an answer. Streamed in 64 KiB chunks as the
    /// connection takes them; writing stops at the first failed write (the
    /// client went away), so a refused body costs the simulator little.
    HugePollBody {
        /// The declared (and, if read to the end, sent) body length.
        bytes: u64,
    },
    /// `GET /generation/{id}` of a known job: answered `200` with a chunked
    /// body (no `Content-Length`) of spaces that goes on for
    /// [`ENDLESS_BODY_BYTES`] (256 MiB, the simulator's own bound), then the
    /// job's JSON. Writing stops at the first failed write.
    EndlessPollBody,
    /// `GET /generation/{id}` of a known job: the `200` and its headers (with
    /// the true `Content-Length`) are sent at once, then the job's JSON one
    /// byte every `delay_ms` (a 1 KB body at 50 ms takes about a minute).
    SlowPollBody {
        /// The pause before each byte of the body, in milliseconds.
        delay_ms: u64,
    },
    /// Create (SSE or polling route): answered with `status` and the header
    /// `Retry-After: <value>` verbatim (`"1e300"`, `"-5"`, `"0.2"`, an HTTP
    /// date...) before the request is accepted (no job, no charge). A value
    /// that cannot be a header value (control characters) is not sent.
    RetryAfterValue {
        /// The HTTP status to answer with (e.g. 429).
        status: u16,
        /// The `Retry-After` header's text.
        value: String,
    },
    /// SSE: the first event names the job's id; every later event (and the
    /// terminal event's `generation.id`) names another, fresh id. Polling
    /// knows only the first.
    IdChangesMidStream,
    /// SSE create: the job is accepted and charged, the first event names
    /// `id` instead of the job's id (e.g. `".."` or an id with a control
    /// character, JSON-escaped), then the body ends as with
    /// [`Fault::DropAfterId`].
    BadId {
        /// The id the first event carries.
        id: String,
    },
    /// A new job's terminal output lists `file:///etc/passwd` and
    /// `ftp://example.com/a.png` before its usual `http://` file URL(s), in
    /// the SSE terminal event and in polls alike.
    NonHttpOutputs,
}

/// Length of the spaces an [`Fault::EndlessPollBody`] sends before the
/// job's JSON: 256 MiB, the bound that keeps "endless" finite.
pub const ENDLESS_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// One entry of the fault plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The fault to inject.
    pub fault: Fault,
    /// Only for this model (e.g. `"google/nano-banana-pro"`); `None` = every model.
    #[serde(default)]
    pub model: Option<String>,
    /// Apply to the first N matching requests, then stop; `None` = always.
    #[serde(default)]
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule that always applies `fault` to every model.
    pub fn always(fault: Fault) -> Self {
        Self {
            fault,
            model: None,
            times: None,
        }
    }

    /// A rule that applies `fault` to the first `times` matching requests.
    pub fn times(fault: Fault, times: u32) -> Self {
        Self {
            fault,
            model: None,
            times: Some(times),
        }
    }

    /// Restricts this rule to one model.
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

/// The stage of a request at which a fault takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// A create request (either route), before acceptance.
    CreateReject,
    /// An SSE create request, before acceptance (the `NoSseRoute` fault).
    SseRoute,
    /// A new job being accepted (the `Outcome`, `NonHttpOutputs` and
    /// `CloseBeforeAnswer` faults).
    Accept,
    /// An SSE stream being produced (framing, drop and timing faults).
    Stream,
    /// A poll request.
    Poll,
    /// A poll of a known job, answered `200` (the body faults).
    PollBody,
}

impl Fault {
    /// The stage at which this fault takes effect.
    pub(crate) fn stage(&self) -> Stage {
        match self {
            Fault::CreateStatus { .. } | Fault::RetryAfterValue { .. } => Stage::CreateReject,
            Fault::NoSseRoute => Stage::SseRoute,
            Fault::Outcome { .. } | Fault::NonHttpOutputs | Fault::CloseBeforeAnswer => {
                Stage::Accept
            }
            Fault::PollStatus { .. } => Stage::Poll,
            Fault::HugePollBody { .. } | Fault::EndlessPollBody | Fault::SlowPollBody { .. } => {
                Stage::PollBody
            }
            Fault::DropBeforeEvent
            | Fault::DropAfterId
            | Fault::StallHeartbeats
            | Fault::SlowFirstByte { .. }
            | Fault::MalformedJson
            | Fault::MissingBlankLine
            | Fault::CrlfOnly
            | Fault::CrOnly
            | Fault::Bom
            | Fault::MultilineData
            | Fault::UnknownStatus
            | Fault::OversizedEvent { .. }
            | Fault::ResetMidBody
            | Fault::AltEventShape
            | Fault::IdChangesMidStream
            | Fault::BadId { .. } => Stage::Stream,
        }
    }
}

/// The mutable fault plan shared by all requests.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// A plan holding `rules`.
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        Self { rules }
    }

    /// Replaces every rule.
    pub(crate) fn replace(&mut self, rules: Vec<FaultRule>) {
        self.rules = rules;
    }

    /// The rules as they stand (with their remaining `times`).
    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    /// Takes the faults of `stage` that apply to `model`, spending one use of
    /// each matching rule's budget. Spent rules are removed.
    pub(crate) fn take(&mut self, stage: Stage, model: Option<&str>) -> Vec<Fault> {
        let mut out = Vec::new();
        for rule in &mut self.rules {
            if rule.fault.stage() != stage {
                continue;
            }
            if let Some(only) = &rule.model {
                if model != Some(only.as_str()) {
                    continue;
                }
            }
            match &mut rule.times {
                Some(0) => continue,
                Some(n) => *n -= 1,
                None => {}
            }
            out.push(rule.fault.clone());
        }
        self.rules.retain(|r| r.times != Some(0));
        out
    }
}

/// Parses the `X-Simulator-Fault` header: one [`Fault`] or an array of them.
pub(crate) fn parse_header(value: &str) -> Result<Vec<Fault>, String> {
    let json: serde_json::Value =
        serde_json::from_str(value).map_err(|e| format!("not JSON: {e}"))?;
    if json.is_array() {
        serde_json::from_value(json).map_err(|e| e.to_string())
    } else {
        serde_json::from_value(json)
            .map(|f| vec![f])
            .map_err(|e| e.to_string())
    }
}

/// The faults selected for one request, by stage.
#[derive(Debug, Default, Clone)]
pub(crate) struct Selected {
    faults: Vec<Fault>,
}

impl Selected {
    /// Adds faults.
    pub(crate) fn extend(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.extend(faults);
    }

    /// Whether `pred` holds for any selected fault.
    pub(crate) fn has(&self, pred: impl Fn(&Fault) -> bool) -> bool {
        self.faults.iter().any(pred)
    }

    /// The first selected fault for which `f` returns `Some`.
    pub(crate) fn find<T>(&self, f: impl Fn(&Fault) -> Option<T>) -> Option<T> {
        self.faults.iter().find_map(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_budget_is_spent_and_rule_removed() {
        let mut plan = FaultPlan::new(vec![FaultRule::times(Fault::DropAfterId, 2)]);
        assert_eq!(plan.take(Stage::Stream, Some("a/b")).len(), 1);
        assert_eq!(plan.take(Stage::Poll, Some("a/b")).len(), 0);
        assert_eq!(plan.take(Stage::Stream, Some("a/b")).len(), 1);
        assert!(plan.take(Stage::Stream, Some("a/b")).is_empty());
        assert!(plan.rules().is_empty());
    }

    #[test]
    fn model_filter() {
        let mut plan = FaultPlan::new(vec![FaultRule::always(Fault::Bom).for_model("a/b")]);
        assert!(plan.take(Stage::Stream, Some("c/d")).is_empty());
        assert_eq!(plan.take(Stage::Stream, Some("a/b")), vec![Fault::Bom]);
    }

    #[test]
    fn json_shape() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"create_status","status":503,"retry_after_secs":2}"#)
                .unwrap();
        assert_eq!(
            f,
            Fault::CreateStatus {
                status: 503,
                retry_after_secs: Some(2)
            }
        );
        assert_eq!(
            parse_header(r#"[{"kind":"bom"},{"kind":"crlf_only"}]"#).unwrap(),
            vec![Fault::Bom, Fault::CrlfOnly]
        );
        assert!(parse_header("nope").is_err());
        let rule: FaultRule = serde_json::from_str(r#"{"fault":{"kind":"no_sse_route"}}"#).unwrap();
        assert_eq!(rule, FaultRule::always(Fault::NoSseRoute));
    }

    #[test]
    fn json_shape_of_the_hardening_faults() {
        let faults = parse_header(
            r#"[{"kind":"huge_poll_body","bytes":1073741824},{"kind":"endless_poll_body"},
                {"kind":"slow_poll_body","delay_ms":50},
                {"kind":"retry_after_value","status":429,"value":"1e300"},
                {"kind":"id_changes_mid_stream"},{"kind":"bad_id","id":".."},
                {"kind":"non_http_outputs"},{"kind":"close_before_answer"}]"#,
        )
        .unwrap();
        assert_eq!(
            faults,
            vec![
                Fault::HugePollBody { bytes: 1 << 30 },
                Fault::EndlessPollBody,
                Fault::SlowPollBody { delay_ms: 50 },
                Fault::RetryAfterValue {
                    status: 429,
                    value: "1e300".into()
                },
                Fault::IdChangesMidStream,
                Fault::BadId { id: "..".into() },
                Fault::NonHttpOutputs,
                Fault::CloseBeforeAnswer,
            ]
        );
        let stages: Vec<Stage> = faults.iter().map(Fault::stage).collect();
        assert_eq!(
            stages,
            [
                Stage::PollBody,
                Stage::PollBody,
                Stage::PollBody,
                Stage::CreateReject,
                Stage::Stream,
                Stage::Stream,
                Stage::Accept,
                Stage::Accept
            ]
        );
    }
}
