//! Drives an SDK event stream to its end and prints it: the JSON lines of
//! the platform's `create_and_wait` helper script (`start`, `sse_open`,
//! `sse_event`, `sse_stream_ended`, `sse_http_error`, `sse_timeout`,
//! `sse_connect_error`, `fallback_polling_start`, `poll`,
//! `fallback_polling_end`, then exactly one `terminal` or `error`), or human
//! progress and a summary.
//!
//! Every line is a superset of the script's: each key the script prints is
//! here with the same meaning and JSON type (`start.url`, `mode:
//! "sse_then_poll_fallback"`, `sse_open.url`, `sse_stream_ended.message`,
//! `sse_http_error.payload`, `fallback_polling_start.command`,
//! `fallback_polling_end.exit_code`, `terminal.response` = the last SSE
//! payload as received); the CLI's own keys come beside them (`cli_mode`,
//! `reason`, `generation`, `outputs`, ...). One deliberate difference: after
//! a fall-back the script prints the poller's `terminal` and then
//! `fallback_polling_end`; here `fallback_polling_end` comes first, so the
//! outcome is always the last line.

use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use skills_video::{Error, Event, FallbackReason, Generation, Mode, Phase, Source};

use crate::download::{self, DownloadPolicy};
use crate::exit::{self, CliError};
use crate::output::{cli_wording, Output};

/// What a run ended with (the demo reads all of it; the other commands the code).
#[derive(Debug)]
#[cfg_attr(not(feature = "demo"), allow(dead_code))]
pub struct RunOutcome {
    /// The exit code.
    pub code: u8,
    /// The terminal generation (success or FAILED/CANCELED).
    pub generation: Option<Generation>,
    /// Downloaded files.
    pub files: Vec<PathBuf>,
    /// Whether the run fell back from the stream to polling.
    pub fell_back: bool,
    /// The error, when the run did not end with a terminal generation.
    pub error: Option<CliError>,
}

/// Options of a run.
#[derive(Debug, Default)]
pub struct RunOptions<'a> {
    /// `--out DIR`.
    pub out_dir: Option<&'a Path>,
    /// The SSE budget, for the `sse_timeout` line.
    pub sse_timeout_secs: Option<f64>,
    /// Prefix of downloaded file names.
    pub file_prefix: Option<&'a str>,
    /// Size cap and address rule of the downloads.
    pub download: DownloadPolicy,
}

/// What the script-compatible lines need beyond the SDK's events: where the
/// create goes and how to resume by id. With `Default` (the demo, `wait`),
/// `start.url` is null and the resume command is a bare `skills-video wait ID`.
#[derive(Debug, Default, Clone)]
pub struct ScriptInfo {
    /// The model as named (the `start` line printed before the SDK's own `Started`).
    pub model: String,
    /// `sse` or `polling`: how the CLI means to create (`cli_mode`).
    pub cli_mode: &'static str,
    /// The first create URL: the SSE route, or the polling route (`--no-sse`, no SSE route).
    pub start_url: Option<String>,
    /// The SSE create URL (`sse_open.url`).
    pub sse_url: Option<String>,
    /// The flags of the equivalent `skills-video wait ID ...`, each with a leading space.
    pub wait_flags: String,
    /// A warning for the `start` line (`--raw`: nothing was validated).
    pub warning: Option<&'static str>,
}

/// `start.mode` as the script prints it; the CLI's own mode is `cli_mode`.
pub const SCRIPT_MODE: &str = "sse_then_poll_fallback";

/// The `start` line: the script's `url` and `mode`, then the CLI's own keys.
pub fn start_line(info: &ScriptInfo, model: &str, cli_mode: &str, key: Option<&str>) -> Value {
    let mut line = json!({
        "event": "start",
        "url": info.start_url,
        "mode": SCRIPT_MODE,
        "cli_mode": cli_mode,
        "model": model,
        "idempotency_key": key,
    });
    if let Some(warning) = info.warning {
        line["raw"] = json!(true);
        line["warning"] = json!(warning);
    }
    line
}

/// Prints `start` then `error`: the CLI refused before sending anything.
pub fn refuse(out: &Output, info: &ScriptInfo, e: &CliError) {
    out.line(&start_line(info, &info.model, info.cli_mode, None));
    out.error(e);
}

/// `text` as one shell word (single-quoted unless it is plainly safe).
pub fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The server's body as the script's `payload`: JSON when it parses, else text.
fn payload_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()))
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    started: bool,
    sse_open: bool,
    fallback: bool,
    /// `fallback_polling_start` was printed (so `fallback_polling_end` follows).
    polling_started: bool,
    /// A fall-back whose id is not known yet (no SSE route: the polling create names it).
    pending_fallback: Option<&'static str>,
    generation_id: Option<String>,
    last_status: Option<String>,
    /// The last SSE payload exactly as received (`terminal.response` over SSE).
    last_sse_payload: Option<Value>,
}

impl State {
    /// Before the SSE create was answered with a success status.
    fn creating_over_sse(&self) -> bool {
        self.mode == Some(Mode::Sse) && !self.sse_open && !self.fallback
    }
}

/// Runs `events` to its end, printing as it goes.
pub async fn drive(
    out: &Output,
    events: impl Stream<Item = Result<Event, Error>>,
    options: &RunOptions<'_>,
) -> RunOutcome {
    drive_with(out, events, options, &ScriptInfo::default()).await
}

/// [`drive`] with the URLs and the resume command of the script's lines.
pub async fn drive_with(
    out: &Output,
    events: impl Stream<Item = Result<Event, Error>>,
    options: &RunOptions<'_>,
    info: &ScriptInfo,
) -> RunOutcome {
    let mut events = std::pin::pin!(events);
    let mut st = State::default();
    out.spinner("starting");
    while let Some(item) = events.next().await {
        match item {
            Ok(Event::Terminal(generation)) => {
                return finish_success(out, &st, generation, options).await;
            }
            Ok(event) => on_event(out, &mut st, event, options, info),
            Err(e) => return finish_error(out, &st, &e, info),
        }
    }
    let e = Error::Decode {
        message: "the lifecycle ended without a terminal result".into(),
        body: String::new(),
    };
    finish_error(out, &st, &e, info)
}

/// `fallback_polling_start`: the id and the equivalent `skills-video wait` command.
fn fallback_start_line(id: &str, reason: &str, info: &ScriptInfo) -> Value {
    json!({
        "event": "fallback_polling_start",
        "generation_id": id,
        "command": format!("skills-video wait {}{}", shell_quote(id), info.wait_flags),
        "reason": reason,
    })
}

fn on_event(
    out: &Output,
    st: &mut State,
    event: Event,
    options: &RunOptions<'_>,
    info: &ScriptInfo,
) {
    match event {
        Event::Started {
            model,
            idempotency_key,
            mode,
        } => {
            st.mode = Some(mode);
            st.started = true;
            let mode_name = match mode {
                Mode::Sse => "sse",
                Mode::Polling => "polling",
            };
            out.line(&start_line(info, model, mode_name, Some(&idempotency_key)));
            out.note(&format!(
                "{} {model} over {} (idempotency key {idempotency_key})",
                out.paint("creating", "1"),
                if mode == Mode::Sse {
                    "SSE"
                } else {
                    "the polling route"
                }
            ));
            out.spinner("creating");
        }
        Event::SseOpen { status } => {
            st.sse_open = true;
            out.line(&json!({"event": "sse_open", "http_status": status, "url": info.sse_url}));
            out.spinner("stream open, waiting for events");
        }
        Event::Created { generation_id } => {
            out.note(&format!("generation id {generation_id}"));
            if let Some(reason) = st.pending_fallback.take() {
                out.line(&fallback_start_line(&generation_id, reason, info));
                st.polling_started = true;
            }
            st.generation_id = Some(generation_id);
        }
        Event::Message(m) => {
            let status = m.status.as_ref().map(|s| s.as_str().to_string());
            out.line(&json!({
                "event": "sse_event",
                "sse_event_name": m.name,
                "generation_id": m.generation_id,
                "status": status,
                "status_key": m.status_key,
                "terminal": m.terminal,
                "payload": m.payload,
            }));
            st.last_sse_payload = Some(m.payload);
            if let Some(s) = &status {
                if st.last_status.as_deref() != Some(s) {
                    out.note(&format!("  sse: {s} ({})", m.name));
                    st.last_status = Some(s.clone());
                }
                out.spinner(&format!("sse: {s}"));
            }
        }
        Event::Retrying {
            phase,
            attempt,
            delay,
            reason,
            status,
            body,
            ..
        } => {
            let retry_in = delay.as_secs_f64();
            if phase == Phase::SseCreate {
                // The body of the retried answer, as JSON or else as text.
                let payload = body
                    .as_deref()
                    .map(|b| serde_json::from_str::<Value>(b).unwrap_or_else(|_| Value::from(b)))
                    .unwrap_or(Value::Null);
                match status {
                    Some(code) => out.line(&json!({
                        "event": "sse_http_error", "http_status": code, "message": reason,
                        "payload": payload, "retrying": true, "attempt": attempt,
                        "retry_in_secs": retry_in,
                    })),
                    None => out.line(&json!({
                        "event": "sse_connect_error", "message": reason,
                        "generation_id": null, "retrying": true, "attempt": attempt,
                        "retry_in_secs": retry_in,
                    })),
                }
            } else {
                let phase = phase.as_str();
                out.line(&json!({
                    "event": "poll", "ok": false, "phase": phase,
                    "generation_id": st.generation_id, "http_status": status,
                    "error": reason, "retrying": true, "attempt": attempt,
                    "retry_in_secs": retry_in,
                }));
            }
            out.note(&format!(
                "  {} {reason}; retry {attempt} in {retry_in:.1}s",
                out.paint("transient:", "33")
            ));
        }
        Event::FallbackToPolling {
            reason,
            generation_id,
        } => {
            if generation_id.is_some() {
                st.generation_id = generation_id.clone();
            }
            let line = match &reason {
                FallbackReason::StreamEnded => json!({
                    "event": "sse_stream_ended", "generation_id": generation_id,
                    "message": "the SSE stream ended before a terminal event",
                    "reason": reason.as_str(),
                }),
                FallbackReason::StreamError(e) => json!({
                    "event": "sse_stream_ended", "generation_id": generation_id,
                    "message": format!("the SSE stream failed before a terminal event: {e}"),
                    "reason": reason.as_str(), "error": e,
                }),
                FallbackReason::EventTooLarge(e) => json!({
                    "event": "sse_stream_ended", "generation_id": generation_id,
                    "message": cli_wording(&format!("an SSE event broke the size cap: {e}")),
                    "reason": reason.as_str(), "error": cli_wording(e),
                }),
                FallbackReason::SseTimeout => json!({
                    "event": "sse_timeout",
                    "message": sse_timeout_message(options.sse_timeout_secs),
                    "generation_id": generation_id,
                    "timeout_secs": options.sse_timeout_secs,
                }),
                // The 404's body is not kept by the SDK: `payload` is null.
                FallbackReason::NoSseRoute => json!({
                    "event": "sse_http_error", "http_status": 404,
                    "message": "the SSE create route was not found; creating on the polling route",
                    "payload": null, "retrying": false,
                }),
            };
            out.line(&line);
            st.fallback = true;
            match &generation_id {
                Some(id) => {
                    out.line(&fallback_start_line(id, reason.as_str(), info));
                    st.polling_started = true;
                }
                // Printed when the polling create names the id.
                None => st.pending_fallback = Some(reason.as_str()),
            }
            out.note(&format!(
                "  {} {}; polling {}",
                out.paint("stream ended early:", "33"),
                cli_wording(&reason.to_string()),
                generation_id.as_deref().unwrap_or("after a polling create")
            ));
            out.spinner("polling");
        }
        Event::Poll {
            generation_id,
            status,
            attempt,
        } => {
            let status = status.map(|s| s.as_str().to_string());
            // The SDK yields a poll only for a success answer: the platform's 200.
            out.line(&json!({
                "event": "poll", "ok": true, "generation_id": generation_id,
                "status": status, "attempt": attempt, "http_status": 200,
            }));
            let shown = status.as_deref().unwrap_or("unknown");
            if st.last_status.as_deref() != Some(shown) {
                out.note(&format!("  poll: {shown}"));
                st.last_status = Some(shown.to_string());
            }
            out.spinner(&format!("poll #{attempt}: {shown}"));
            st.generation_id = Some(generation_id);
        }
        Event::Terminal(_) => {}
        // The SDK's event enum may grow; new events are not printed.
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

async fn finish_success(
    out: &Output,
    st: &State,
    generation: Generation,
    options: &RunOptions<'_>,
) -> RunOutcome {
    let id = generation
        .id()
        .map(str::to_string)
        .or_else(|| st.generation_id.clone());
    let status = generation.status().as_str().to_string();
    if st.polling_started {
        out.line(&json!({
            "event": "fallback_polling_end", "generation_id": id, "exit_code": exit::OK,
            "ok": true, "status": status,
        }));
    }
    let urls = generation.output_urls();
    // Outputs that are not http(s), then (with --out) those refused by the address rule.
    let mut skipped = generation.skipped_outputs();
    let mut files = Vec::new();
    let mut download_error = None;
    if let Some(dir) = options.out_dir {
        out.spinner("downloading");
        let report = download::download_all(
            &urls,
            dir,
            options.file_prefix.unwrap_or_default(),
            &options.download,
        )
        .await;
        files = report.files;
        skipped.extend(report.refused);
        download_error = report.error;
    }
    let file_names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut line = json!({
        "event": "terminal",
        "source": generation.source().as_str(),
        "ok": true,
        "generation_id": id,
        "response": response_of(st, &generation),
        "status": status,
        "generation": generation.raw(),
        "outputs": urls,
        "skipped_outputs": skipped,
        "usage": generation.usage(),
    });
    if options.out_dir.is_some() {
        line["files"] = json!(file_names);
    }
    if let Some(e) = &download_error {
        line["download_error"] = json!(e);
    }
    out.line(&line);
    let mut text = format!(
        "{} generation {} (delivered by {})",
        out.paint(&status, "1;32"),
        id.as_deref().unwrap_or("?"),
        generation.source().as_str()
    );
    for u in &urls {
        text.push_str(&format!("\n  output: {u}"));
    }
    for s in &skipped {
        // Server text: control characters escaped, never sent to the terminal.
        let url: String = s.url.chars().flat_map(char::escape_debug).collect();
        text.push_str(&format!("\n  skipped: {url} ({})", s.reason));
    }
    for f in &file_names {
        text.push_str(&format!("\n  saved:  {f}"));
    }
    text.push_str(&credits_line(&generation));
    out.summary(&text);
    let code = match &download_error {
        None => exit::OK,
        Some(e) => {
            out.note(&format!(
                "{} {e}\n  the generation succeeded; download again with `skills-video wait {} --out DIR`",
                out.paint("download failed:", "1;31"),
                id.as_deref().unwrap_or("ID")
            ));
            exit::TRANSIENT
        }
    };
    RunOutcome {
        code,
        generation: Some(generation),
        files,
        fell_back: st.fallback,
        error: None,
    }
}

/// `\n  credits charged: 20 (subscription 20, permanent 0)` when the response
/// reports its `usage`, else nothing.
fn credits_line(generation: &Generation) -> String {
    match generation.usage() {
        Some(u) => format!(
            "\n  credits charged: {} (subscription {}, permanent {})",
            u.total, u.subscription, u.permanent
        ),
        None => String::new(),
    }
}

/// `terminal.response`: over SSE the last event's payload exactly as
/// received (as the script gives it), else the body the poll read.
fn response_of(st: &State, generation: &Generation) -> Value {
    match (generation.source(), &st.last_sse_payload) {
        (Source::Sse, Some(payload)) => payload.clone(),
        _ => generation.raw().clone(),
    }
}

fn sse_timeout_message(secs: Option<f64>) -> String {
    match secs {
        Some(s) => format!("no terminal event within the SSE budget of {s} s"),
        None => "no terminal event within the SSE budget".to_string(),
    }
}

fn finish_error(out: &Output, st: &State, e: &Error, info: &ScriptInfo) -> RunOutcome {
    if !st.started {
        // Refused before the SDK's `Started` (e.g. a local file that cannot be read).
        out.line(&start_line(info, &info.model, info.cli_mode, None));
    }
    if st.polling_started {
        let code = match e {
            Error::Failed { .. } => exit::FAILED,
            other => CliError::from(other).code,
        };
        out.line(&json!({
            "event": "fallback_polling_end", "generation_id": st.generation_id,
            "exit_code": code, "ok": false, "error": e.category().as_str(),
        }));
    }
    if st.creating_over_sse() && !matches!(e, Error::Ambiguous { .. }) {
        let payload = match e {
            Error::Api { body, .. } => payload_of(body),
            _ => Value::Null,
        };
        match e.status() {
            Some(code) => out.line(&json!({
                "event": "sse_http_error", "http_status": code, "message": e.message(),
                "payload": payload, "retrying": false,
            })),
            None if matches!(e, Error::Transient { .. }) => out.line(&json!({
                "event": "sse_connect_error", "message": e.message(),
                "generation_id": null, "retrying": false,
            })),
            None => {}
        }
    }
    // The stream ended (or timed out) before naming any id: the script's
    // `sse_stream_ended` / `sse_timeout`, then the error (nothing to poll).
    if let Error::Ambiguous { reason, .. } = e {
        if st.sse_open && !st.fallback && st.generation_id.is_none() {
            let line = if reason.contains("(sse_timeout)") {
                json!({"event": "sse_timeout", "message": reason, "generation_id": null})
            } else {
                json!({"event": "sse_stream_ended", "generation_id": null, "message": reason})
            };
            out.line(&line);
        }
    }
    if let Error::Failed {
        generation,
        message,
    } = e
    {
        let id = generation
            .id()
            .map(str::to_string)
            .or_else(|| st.generation_id.clone());
        let status = generation.status().as_str().to_string();
        out.line(&json!({
            "event": "terminal",
            "source": generation.source().as_str(),
            "ok": false,
            "generation_id": id,
            "response": response_of(st, generation),
            "status": status,
            "message": message,
            "generation": generation.raw(),
            "usage": generation.usage(),
        }));
        out.summary(&format!(
            "{} generation {} (delivered by {}): {message}{}",
            out.paint(&status, "1;31"),
            id.as_deref().unwrap_or("?"),
            generation.source().as_str(),
            credits_line(generation)
        ));
        return RunOutcome {
            code: exit::FAILED,
            generation: Some((**generation).clone()),
            files: Vec::new(),
            fell_back: st.fallback,
            error: None,
        };
    }
    // The SDK's API names become the CLI's flags when printed (Output::error).
    let mut err = CliError::from(e);
    if err.generation_id.is_none() {
        err.generation_id = st.generation_id.clone();
    }
    if err.code == exit::TIMEOUT || (err.code == exit::TRANSIENT && err.generation_id.is_some()) {
        let id = err.generation_id.clone().unwrap_or_default();
        err.extra
            .entry("resume_command")
            .or_insert_with(|| Value::String(format!("skills-video wait {id}")));
    }
    out.error(&err);
    RunOutcome {
        code: err.code,
        generation: None,
        files: Vec::new(),
        fell_back: st.fallback,
        error: Some(err),
    }
}
