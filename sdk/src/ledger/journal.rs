//! Journaling of a lifecycle's events. The lifecycle itself is unchanged: its
//! event stream is wrapped, and each event is recorded before it is passed on.
//!
//! The intent is recorded when [`Event::Started`] comes out of the lifecycle,
//! which is before its create: the lifecycle's stream does not run on (and so
//! does not send the create) until `Started` has been handed to the caller,
//! and it is handed over only after the intent's COMMIT returned. When that
//! write fails, the stream ends with [`Error::Ledger`] and the lifecycle is
//! dropped before any create. Later writes that fail are logged at `warn` and
//! never change the events or the result.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;

use super::{now_ms, Intent, JobState, Ledger, TerminalRecord};
use crate::error::Error;
use crate::lifecycle::{Event, EventStream};

/// The parts of the intent known before the lifecycle starts.
pub(crate) struct IntentParts {
    pub(crate) model: &'static str,
    pub(crate) request: Value,
    pub(crate) multipart: bool,
    pub(crate) base_url: String,
}

fn warn(op: &str, key: &str, e: &super::LedgerError) {
    tracing::warn!(idempotency_key = %key, op, error = %e, "ledger write failed; the generation goes on");
}

/// Records what one event tells; `id_known` tracks whether an id was seen.
fn record(ledger: &dyn Ledger, key: &str, item: &Result<Event, Error>, id_known: &mut bool) {
    let result = match item {
        Ok(Event::Created { generation_id }) => {
            *id_known = true;
            ledger.record_id(key, generation_id).map(|_| ())
        }
        Ok(Event::Message(m)) => match &m.status {
            Some(s) => ledger.record_status(key, &s.to_string()),
            None => Ok(()),
        },
        Ok(Event::Poll {
            status: Some(s), ..
        }) => ledger.record_status(key, &s.to_string()),
        Ok(Event::Terminal(g)) => ledger.record_terminal(key, &TerminalRecord::of(g)),
        Err(Error::Failed { generation, .. }) => {
            ledger.record_terminal(key, &TerminalRecord::of(generation))
        }
        Err(e @ Error::Ambiguous { .. }) => {
            ledger.record_state(key, JobState::Ambiguous, Some(&e.to_string()))
        }
        // With an id the job can be waited for again: it stays pending.
        Err(e) if *id_known => ledger.record_error(key, &e.to_string()),
        // No id, and the create was refused or never reached the platform
        // (the money rule returns Ambiguous whenever it may have been accepted).
        Err(
            e @ (Error::Api { .. }
            | Error::Transient { .. }
            | Error::InvalidRequest { .. }
            | Error::Config(_)
            | Error::Serialize { .. }
            | Error::MissingApiKey),
        ) => ledger.record_state(key, JobState::Rejected, Some(&e.to_string())),
        // Anything else without an id (an unusable id, an unreadable answer):
        // the create may have been accepted.
        Err(e) => ledger.record_state(key, JobState::Ambiguous, Some(&e.to_string())),
        Ok(_) => Ok(()),
    };
    if let Err(e) = result {
        warn("record", key, &e);
    }
}

/// Wraps a generation's lifecycle.
pub(crate) fn journal_generation(
    ledger: Arc<dyn Ledger>,
    parts: IntentParts,
    inner: EventStream,
) -> EventStream {
    Box::pin(async_stream::stream! {
        let mut inner = inner;
        let mut key: Option<String> = None;
        let mut id_known = false;
        let mut parts = Some(parts);
        while let Some(item) = inner.next().await {
            if let (Ok(Event::Started { idempotency_key, .. }), Some(p)) = (&item, parts.take()) {
                let intent = Intent {
                    idempotency_key: idempotency_key.clone(),
                    model: p.model.to_string(),
                    request: p.request,
                    multipart: p.multipart,
                    base_url: p.base_url,
                    created_at_ms: now_ms(),
                };
                if let Err(e) = ledger.record_intent(&intent) {
                    tracing::error!(idempotency_key = %idempotency_key, error = %e, "the intent could not be journaled; nothing was sent");
                    drop(inner);
                    yield Err(Error::Ledger { message: format!("the intent could not be recorded, so the create was not sent: {e}") });
                    return;
                }
                key = Some(idempotency_key.clone());
            } else if let Some(k) = &key {
                record(ledger.as_ref(), k, &item, &mut id_known);
            }
            let end = item.is_err();
            yield item;
            if end {
                return;
            }
        }
    })
}

/// Wraps a `wait(id)`: the job's row is found by id (or made for an id the
/// ledger never saw).
pub(crate) fn journal_wait(
    ledger: Arc<dyn Ledger>,
    generation_id: String,
    base_url: String,
    inner: EventStream,
) -> EventStream {
    Box::pin(async_stream::stream! {
        let mut inner = inner;
        let key = match ledger.attach(&generation_id, &base_url) {
            Ok(k) => Some(k),
            Err(e) => {
                warn("attach", &generation_id, &e);
                None
            }
        };
        let mut id_known = true;
        while let Some(item) = inner.next().await {
            match (&key, &item) {
                // The platform does not know this id: nothing to resume.
                (Some(k), Err(e @ Error::Api { .. })) if e.category() == crate::error::ErrorCategory::NotFound => {
                    if let Err(le) = ledger.record_state(k, JobState::Rejected, Some(&e.to_string())) {
                        warn("record", k, &le);
                    }
                }
                (Some(k), _) => record(ledger.as_ref(), k, &item, &mut id_known),
                (None, _) => {}
            }
            let end = item.is_err();
            yield item;
            if end {
                return;
            }
        }
    })
}
