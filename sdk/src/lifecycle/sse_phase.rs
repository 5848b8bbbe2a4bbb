//! The SSE phase's reading of one event: its payload, id and status, and
//! whether (and how) it ends the job.

use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use super::{Event, FallbackReason, SseMessage};
use crate::error::Error;
use crate::generation::{Generation, Source};
use crate::sse::{SseEvent, SseItem, SseStreamError};
use crate::status::{self, Status};

/// One step of [`read`].
pub(crate) enum SseStep {
    /// An event for the caller ([`Event::Terminal`] ends the job).
    Event(Event),
    /// The stream ended without a terminal event: why, and the generation id
    /// it named, if any. Always the last step.
    Fallback {
        reason: FallbackReason,
        generation_id: Option<String>,
    },
}

/// Reads an open SSE create's stream until a terminal event (then a
/// [`SseStep::Event`] with [`Event::Terminal`], or the job's error) or until
/// the stream ends, fails or passes `deadline` (then [`SseStep::Fallback`]).
pub(crate) fn read(
    response: reqwest::Response,
    max_event_bytes: usize,
    deadline: Instant,
    model_id: &'static str,
) -> impl Stream<Item = Result<SseStep, Error>> + Send {
    async_stream::try_stream! {
        let mut items = crate::sse::items(response.bytes_stream(), max_event_bytes);
        let mut generation_id: Option<String> = None;
        let mut conflicts: Vec<String> = Vec::new();
        let reason = loop {
            let raw = match timeout(deadline.saturating_duration_since(Instant::now()), items.next()).await {
                Err(_) => break FallbackReason::SseTimeout,
                Ok(None) => break FallbackReason::StreamEnded,
                Ok(Some(Err(SseStreamError::Transport(e)))) => break FallbackReason::StreamError(e.to_string()),
                Ok(Some(Err(SseStreamError::Parse(e)))) => break FallbackReason::EventTooLarge(e.to_string()),
                Ok(Some(Ok(SseItem::Heartbeat))) => {
                    yield SseStep::Event(Event::Heartbeat);
                    continue;
                }
                Ok(Some(Ok(SseItem::Event(raw)))) => raw,
            };
            let (message, terminal) = interpret(raw);
            match (&generation_id, &message.generation_id) {
                (None, Some(id)) => {
                    generation_id = Some(id.clone());
                    tracing::info!(model = model_id, generation_id = %id, "generation created");
                    yield SseStep::Event(Event::Created { generation_id: id.clone() });
                }
                // The first id wins; a different later one is reported once.
                (Some(first), Some(later)) if first != later && !conflicts.contains(later) => {
                    conflicts.push(later.clone());
                    tracing::warn!(model = model_id, generation_id = %first, ignored_id = %later, "the stream named a different generation id; keeping the first");
                    yield SseStep::Event(Event::IdConflict { kept: first.clone(), ignored: later.clone() });
                }
                _ => {}
            }
            yield SseStep::Event(Event::Message(message));
            if let Some(generation) = terminal {
                yield SseStep::Event(terminal_result(generation, generation_id.clone())?);
                return;
            }
        };
        drop(items);
        yield SseStep::Fallback { reason, generation_id };
    }
}

/// Reads one SSE event: its payload, id, status, and whether it ends the job.
pub(crate) fn interpret(raw: SseEvent) -> (SseMessage, Option<Generation>) {
    let payload = serde_json::from_str::<Value>(&raw.data)
        .unwrap_or_else(|_| Value::String(raw.data.to_string()));
    let found = status::find_status(&payload);
    let generation_id = status::find_id(&payload);
    let by_status = found.as_ref().is_some_and(|(_, s)| s.is_terminal());
    let terminal = by_status || status::is_terminal_event_name(&raw.event);
    let generation = terminal.then(|| {
        let final_status = match &found {
            Some((_, s)) if s.is_terminal() => s.clone(),
            _ if status::is_failure_event_name(&raw.event) => Status::Failed,
            _ if status::is_cancel_event_name(&raw.event) => Status::Canceled,
            _ => Status::Completed,
        };
        let body = match payload.get("generation") {
            Some(g @ Value::Object(_)) => g.clone(),
            _ => payload.clone(),
        };
        Generation::new(generation_id.clone(), final_status, body, Source::Sse)
    });
    let message = SseMessage {
        name: raw.event.to_string(),
        generation_id,
        status: found.as_ref().map(|(_, s)| s.clone()),
        status_key: found.map(|(k, _)| k),
        terminal,
        progress: progress_of(&payload),
        payload,
    };
    (message, generation)
}

/// The progress an event reports, if it carries a finite number under
/// `progress` (top level first, then under `generation`).
fn progress_of(payload: &Value) -> Option<f64> {
    payload
        .get("progress")
        .or_else(|| payload.pointer("/generation/progress"))
        .and_then(Value::as_f64)
        .filter(|p| p.is_finite())
}

/// A terminal generation: success becomes the last event, FAILED/CANCELED an error.
pub(crate) fn terminal_result(
    generation: Generation,
    known_id: Option<String>,
) -> Result<Event, Error> {
    let generation = match (generation.id(), known_id) {
        // The first id seen names the generation, whatever the last event says.
        (found, Some(id)) if found != Some(id.as_str()) => Generation::new(
            Some(id),
            generation.status().clone(),
            generation.raw().clone(),
            generation.source(),
        ),
        _ => generation,
    };
    if generation.is_success() {
        tracing::info!(generation_id = generation.id().unwrap_or("?"), status = %generation.status(), "generation finished");
        Ok(Event::Terminal(generation))
    } else {
        let message = generation
            .error_message()
            .unwrap_or_else(|| format!("the job ended {}", generation.status()));
        tracing::warn!(generation_id = generation.id().unwrap_or("?"), status = %generation.status(), "generation failed");
        Err(Error::Failed {
            generation: Box::new(generation),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, data: Value) -> SseEvent {
        raw(name, &data.to_string())
    }

    fn raw(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    #[test]
    fn a_progress_event_is_not_terminal_and_carries_id_and_status() {
        let (message, terminal) = interpret(event(
            "message",
            json!({"generation_id": "g1", "status": "IN_PROGRESS"}),
        ));
        assert!(terminal.is_none() && !message.terminal);
        assert_eq!(message.generation_id.as_deref(), Some("g1"));
        assert_eq!(message.status, Some(Status::InProgress));
    }

    #[test]
    fn terminal_by_status_or_by_event_name() {
        let (_, done) = interpret(event(
            "message",
            json!({"id": "g1", "status": "succeeded", "generation": {"status": "succeeded"}}),
        ));
        let done = done.expect("terminal by status");
        assert!(done.is_success());
        assert_eq!(done.source(), Source::Sse);
        let (_, failed) = interpret(event("failed", json!({"id": "g1"})));
        assert_eq!(failed.expect("terminal by name").status(), &Status::Failed);
        let (message, none) = interpret(raw("message", "not json"));
        assert!(none.is_none());
        assert_eq!(message.payload, json!("not json"));
    }

    /// A terminal status wins over the event's name, the name decides only
    /// when there is none, the body is the `generation` object when there is
    /// one, and progress is read at either level. Mutations tried
    /// (cargo-mutants; fault_matrix and every sdk test passed them): the
    /// status guard made false (a FAILED job under a plain event name read as
    /// COMPLETED) or true (a non-terminal status kept at a `failed` event),
    /// the cancel-name guard made true or false, the `generation` arm
    /// deleted, `progress_of` returning a constant. Each fails here.
    #[test]
    fn a_status_beats_the_event_name_and_body_and_progress_are_found() {
        let status = |name: &str, data: Value| {
            let (_, generation) = interpret(event(name, data));
            generation.expect("terminal").status().clone()
        };
        assert_eq!(
            status("message", json!({"status": "FAILED"})),
            Status::Failed
        );
        assert_eq!(
            status("failed", json!({"status": "IN_PROGRESS"})),
            Status::Failed
        );
        assert_eq!(status("canceled", json!({"id": "g1"})), Status::Canceled);
        assert_eq!(status("failure", json!({"id": "g1"})), Status::Failed);
        assert_eq!(status("completed", json!({"id": "g1"})), Status::Completed);

        let inner = json!({"id": "g1", "status": "COMPLETED", "output": {"images": []}});
        let (_, done) = interpret(event(
            "message",
            json!({"status": "COMPLETED", "generation": inner.clone()}),
        ));
        assert_eq!(done.expect("terminal").raw(), &inner);

        let progress = |data: Value| interpret(event("message", data)).0.progress;
        assert_eq!(
            progress(json!({"status": "IN_PROGRESS", "progress": 0.5})),
            Some(0.5)
        );
        assert_eq!(
            progress(json!({"generation": {"progress": 0.25}})),
            Some(0.25)
        );
        assert_eq!(progress(json!({"progress": "half"})), None);
    }

    #[test]
    fn the_first_id_names_the_result_and_failures_are_errors() {
        let later = Generation::new(Some("g2".into()), Status::Completed, json!({}), Source::Sse);
        match terminal_result(later, Some("g1".into())).unwrap() {
            Event::Terminal(g) => assert_eq!(g.id(), Some("g1")),
            other => panic!("{other:?}"),
        }
        let unnamed = Generation::new(None, Status::Completed, json!({}), Source::Sse);
        match terminal_result(unnamed, Some("g1".into())).unwrap() {
            Event::Terminal(g) => assert_eq!(g.id(), Some("g1")),
            other => panic!("{other:?}"),
        }
        let failed = Generation::new(
            Some("g1".into()),
            Status::Failed,
            json!({"error": {"message": "nope"}}),
            Source::Sse,
        );
        match terminal_result(failed, None) {
            Err(Error::Failed { message, .. }) => assert_eq!(message, "nope"),
            other => panic!("{other:?}"),
        }
    }
}
