//! Drives an SDK event stream to its end and prints it: the seed's JSON
//! lines (`start`, `sse_open`, `sse_event`, `sse_stream_ended`,
//! `sse_http_error`, `sse_timeout`, `sse_connect_error`,
//! `fallback_polling_start`, `poll`, `fallback_polling_end`, then exactly one
//! `terminal` or `error`), or human progress and a summary.

use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use skills_video::{Error, Event, FallbackReason, Generation, Mode, Phase};

use crate::download::{self, DownloadPolicy};
use crate::exit::{self, CliError};
use crate::output::Output;

/// What a run ended with.
#[derive(Debug)]
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

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    sse_open: bool,
    fallback: bool,
    generation_id: Option<String>,
    last_status: Option<String>,
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
    let mut events = std::pin::pin!(events);
    let mut st = State::default();
    out.spinner("starting");
    while let Some(item) = events.next().await {
        match item {
            Ok(Event::Terminal(generation)) => {
                return finish_success(out, &st, generation, options).await;
            }
            Ok(event) => on_event(out, &mut st, event, options),
            Err(e) => return finish_error(out, &st, &e),
        }
    }
    let e = Error::Decode {
        message: "the lifecycle ended without a terminal result".into(),
        body: String::new(),
    };
    finish_error(out, &st, &e)
}

fn on_event(out: &Output, st: &mut State, event: Event, options: &RunOptions<'_>) {
    match event {
        Event::Started {
            model,
            idempotency_key,
            mode,
        } => {
            st.mode = Some(mode);
            let mode_name = match mode {
                Mode::Sse => "sse",
                Mode::Polling => "polling",
            };
            out.line(&json!({
                "event": "start",
                "model": model,
                "mode": mode_name,
                "idempotency_key": idempotency_key,
            }));
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
            out.line(&json!({"event": "sse_open", "http_status": status}));
            out.spinner("stream open, waiting for events");
        }
        Event::Created { generation_id } => {
            out.note(&format!("generation id {generation_id}"));
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
        } => {
            let retry_in = delay.as_secs_f64();
            if phase == Phase::SseCreate {
                match status {
                    Some(code) => out.line(&json!({
                        "event": "sse_http_error", "http_status": code, "message": reason,
                        "retrying": true, "attempt": attempt, "retry_in_secs": retry_in,
                    })),
                    None => out.line(&json!({
                        "event": "sse_connect_error", "message": reason,
                        "retrying": true, "attempt": attempt, "retry_in_secs": retry_in,
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
                    "event": "sse_stream_ended", "reason": reason.as_str(),
                    "generation_id": generation_id,
                }),
                FallbackReason::StreamError(e) | FallbackReason::EventTooLarge(e) => json!({
                    "event": "sse_stream_ended", "reason": reason.as_str(),
                    "error": e, "generation_id": generation_id,
                }),
                FallbackReason::SseTimeout => json!({
                    "event": "sse_timeout", "generation_id": generation_id,
                    "timeout_secs": options.sse_timeout_secs,
                }),
                FallbackReason::NoSseRoute => json!({
                    "event": "sse_http_error", "http_status": 404, "retrying": false,
                    "message": "the SSE create route was not found; creating on the polling route",
                }),
            };
            out.line(&line);
            st.fallback = true;
            out.line(&json!({
                "event": "fallback_polling_start",
                "generation_id": generation_id,
                "reason": reason.as_str(),
            }));
            out.note(&format!(
                "  {} {reason}; polling {}",
                out.paint("stream ended early:", "33"),
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
            out.line(&json!({
                "event": "poll", "ok": true, "generation_id": generation_id,
                "status": status, "attempt": attempt,
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
    if st.fallback {
        out.line(&json!({
            "event": "fallback_polling_end", "ok": true,
            "generation_id": id, "status": status,
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
        "status": status,
        "response": generation.raw(),
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

fn finish_error(out: &Output, st: &State, e: &Error) -> RunOutcome {
    if st.fallback {
        out.line(&json!({
            "event": "fallback_polling_end", "ok": false,
            "generation_id": st.generation_id, "error": e.category().as_str(),
        }));
    }
    if st.creating_over_sse() && !matches!(e, Error::Ambiguous { .. }) {
        match e.status() {
            Some(code) => out.line(&json!({
                "event": "sse_http_error", "http_status": code, "message": e.message(),
                "retrying": false,
            })),
            None if matches!(e, Error::Transient { .. }) => out.line(&json!({
                "event": "sse_connect_error", "message": e.message(), "retrying": false,
            })),
            None => {}
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
            "status": status,
            "message": message,
            "response": generation.raw(),
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
    let mut err = CliError::from(e);
    // The SDK names its builder method; here the cap is a flag.
    err.message = err
        .message
        .replace("ClientBuilder::max_body_bytes", "--max-body-bytes");
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
