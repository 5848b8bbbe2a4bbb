//! The generation lifecycle: create over SSE and keep the stream open; fall
//! back to polling by id when the stream ends, errors, stalls past its budget
//! or breaks a rule; return only a terminal result.
//!
//! Money rule: a create is repeated only when the platform cannot have
//! accepted it (the connection failed before the request was sent, or it
//! answered 429/5xx). When it may have been accepted but no id was seen, the
//! lifecycle stops with [`Error::Ambiguous`] instead of creating again.
//!
//! [`events`](crate::Client::events) exposes every step as a stream;
//! [`generate`](crate::Client::generate) is that stream run to its end.
//!
//! The phases live side by side: this file holds the events and the
//! lifecycle's driver (a hand-written stream: the SSE create with its
//! retries, then the SSE reader; or the create on the polling route; then
//! polling by id), `sse_phase` reads one SSE event, `poll` is the polling
//! phase, and `send` sorts every request's outcome (the transient rule, the
//! money rule, retry waits inside the budget, capped body reads).

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::Value;
use tokio::time::{sleep, Instant};

use crate::client::Client;
use crate::error::Error;
use crate::generation::{Generation, Source};
use crate::media::RequestBody;
use crate::model::{GenerationRequest, ModelDescriptor};
use crate::multipart;
use crate::status::{self, Status};

mod poll;
mod raw;
pub(crate) mod send;
mod sse_phase;

use raw::Target;
pub use raw::UNLISTED_MODEL;

use send::{
    bounded, create_attempt, earliest, next_retry, read_body, time_for_create, truncate, Attempt,
};
use sse_phase::{terminal_result, SseStep};

/// The header that makes a create safe to resubmit where the platform deduplicates.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// The idempotency key for this logical generation (a new UUID when unset).
    /// Reuse one key to make a resubmission from, say, a queue worker safe.
    pub idempotency_key: Option<String>,
    /// Create on the polling route even when the model has an SSE route.
    pub no_sse: bool,
}

/// How the job is being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Created over SSE; polling only as a fall-back.
    Sse,
    /// Created on the polling route, then polled.
    Polling,
}

/// Which request a retry repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The create on the SSE route.
    SseCreate,
    /// The create on the polling route.
    Create,
    /// A poll of a known id.
    Poll,
}

impl Phase {
    /// `sse_create`, `create` or `poll`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::SseCreate => "sse_create",
            Phase::Create => "create",
            Phase::Poll => "poll",
        }
    }
}

/// Why the lifecycle switched from the stream to polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallbackReason {
    /// The stream closed before a terminal event.
    StreamEnded,
    /// The connection failed mid-stream.
    StreamError(String),
    /// The SSE budget passed without a terminal event (heartbeats do not extend it).
    SseTimeout,
    /// One event exceeded the size cap.
    EventTooLarge(String),
    /// The SSE create route answered 404: the model is created on its polling route.
    NoSseRoute,
}

impl FallbackReason {
    /// A short machine name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FallbackReason::StreamEnded => "stream_ended",
            FallbackReason::StreamError(_) => "stream_error",
            FallbackReason::SseTimeout => "sse_timeout",
            FallbackReason::EventTooLarge(_) => "event_too_large",
            FallbackReason::NoSseRoute => "no_sse_route",
        }
    }
}

impl std::fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FallbackReason::StreamError(e) | FallbackReason::EventTooLarge(e) => {
                write!(f, "{}: {e}", self.as_str())
            }
            other => f.write_str(other.as_str()),
        }
    }
}

/// One SSE event as the lifecycle read it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SseMessage {
    /// The event name (`message` when the server sent none).
    pub name: String,
    /// The job id found in it, if any.
    pub generation_id: Option<String>,
    /// The status found in it, if any.
    pub status: Option<Status>,
    /// The key the status was found under.
    pub status_key: Option<&'static str>,
    /// Whether it ends the job.
    pub terminal: bool,
    /// The progress the event reports (`progress` at the top level or under
    /// `generation`), as the platform gives it: a fraction from 0 to 1.
    pub progress: Option<f64>,
    /// The data as JSON, or as a JSON string when it is not JSON.
    pub payload: Value,
}

/// A step of the lifecycle. New kinds of step may be added, so a `match`
/// needs a catch-all arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The lifecycle began.
    Started {
        /// The model id.
        model: &'static str,
        /// The idempotency key sent with every create attempt.
        idempotency_key: String,
        /// SSE or polling.
        mode: Mode,
    },
    /// The SSE create was answered with a success status and the stream is open.
    SseOpen {
        /// The HTTP status.
        status: u16,
    },
    /// The job id is known (first sighting): from here on a crash can resume with `wait(id)`.
    Created {
        /// The job id.
        generation_id: String,
    },
    /// The stream named a different generation id after the first: the
    /// first id is kept (it is the job that was created and charged), the
    /// later one is only reported.
    IdConflict {
        /// The first id, which the generation keeps.
        kept: String,
        /// The later, different id, which is ignored.
        ignored: String,
    },
    /// An SSE event arrived.
    Message(SseMessage),
    /// The stream carried a comment (a heartbeat): it is alive but has no
    /// news. Heartbeats do not extend the SSE budget.
    Heartbeat,
    /// A transient failure; the request is tried again `delay` after this
    /// event (or as soon as the stream is read on, if that is later): a
    /// consumer that pauses before reading on does not add its pause to the
    /// backoff, so it can line the retry up with a rate limit of its own.
    Retrying {
        /// Which request is repeated.
        phase: Phase,
        /// Which retry this is (1-based).
        attempt: u32,
        /// The wait before it.
        delay: Duration,
        /// What failed.
        reason: String,
        /// HTTP status, if any.
        status: Option<u16>,
        /// The answer's body, when it was read (a create's 429/5xx, capped at 64 KiB).
        body: Option<String>,
    },
    /// The lifecycle moved from the stream to polling.
    FallbackToPolling {
        /// Why.
        reason: FallbackReason,
        /// The id being polled (absent only for [`FallbackReason::NoSseRoute`], which creates first).
        generation_id: Option<String>,
    },
    /// A poll answered.
    Poll {
        /// The id polled.
        generation_id: String,
        /// The status read.
        status: Option<Status>,
        /// Poll count (1-based).
        attempt: u32,
    },
    /// The job reached a terminal state; always the last event.
    Terminal(Generation),
}

/// One readable line per event (`created gen_123`, `IN_PROGRESS 40%`, ...),
/// for logs and progress output; the full data stays in the fields.
impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Started { model, mode, .. } => write!(f, "started {model} ({mode:?})"),
            Event::SseOpen { status } => write!(f, "stream open (HTTP {status})"),
            Event::Created { generation_id } => write!(f, "created {generation_id}"),
            Event::IdConflict { kept, ignored } => {
                write!(f, "the stream named {ignored}; keeping {kept}")
            }
            Event::Message(m) => {
                match &m.status {
                    Some(status) => write!(f, "{status}")?,
                    None => write!(f, "event {}", m.name)?,
                }
                if let Some(p) = m.progress {
                    write!(f, " {:.0}%", (p * 100.0).clamp(0.0, 100.0))?;
                }
                Ok(())
            }
            Event::Heartbeat => f.write_str("heartbeat"),
            Event::Retrying {
                phase,
                attempt,
                delay,
                reason,
                ..
            } => {
                write!(
                    f,
                    "retrying {} (attempt {attempt}) in {delay:?}: {reason}",
                    phase.as_str()
                )
            }
            Event::FallbackToPolling { reason, .. } => write!(f, "polling: {reason}"),
            Event::Poll {
                generation_id,
                status,
                attempt,
            } => match status {
                Some(s) => write!(f, "poll {attempt} of {generation_id}: {s}"),
                None => write!(f, "poll {attempt} of {generation_id}"),
            },
            Event::Terminal(g) => write!(f, "{} {}", g.id().unwrap_or("?"), g.status()),
        }
    }
}

pub(crate) type EventStream = std::pin::Pin<Box<dyn Stream<Item = Result<Event, Error>> + Send>>;

/// Runs every poll of a stream inside a tracing span, so each phase's events
/// (create, stream, fall-back, retry, poll, terminal) carry the generation's
/// fields. Entering on each poll, never across an `.await`, keeps the span
/// correct when the stream moves between tasks.
struct InSpan {
    span: tracing::Span,
    inner: EventStream,
}

impl Stream for InSpan {
    type Item = Result<Event, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        this.inner.as_mut().poll_next(cx)
    }
}

fn in_span(span: tracing::Span, inner: EventStream) -> EventStream {
    Box::pin(InSpan { span, inner })
}

impl Client {
    /// Runs a generation to its terminal result.
    pub async fn generate<R: GenerationRequest>(&self, request: R) -> Result<Generation, Error> {
        self.generate_with(request, GenerateOptions::default())
            .await
    }

    /// [`generate`](Self::generate) with options.
    pub async fn generate_with<R: GenerationRequest>(
        &self,
        request: R,
        options: GenerateOptions,
    ) -> Result<Generation, Error> {
        finish(self.events_with(request, options)).await
    }

    /// The lifecycle as a stream of events; the last item is
    /// [`Event::Terminal`] or an error.
    pub fn events<R: GenerationRequest>(
        &self,
        request: R,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        self.events_with(request, GenerateOptions::default())
    }

    /// [`events`](Self::events) with options.
    pub fn events_with<R: GenerationRequest>(
        &self,
        request: R,
        options: GenerateOptions,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        let model = R::model();
        let prepared = crate::validation::validate_root(&request)
            .map_err(|errors| Error::InvalidRequest {
                model: model.id.to_string(),
                errors,
            })
            .and_then(|()| RequestBody::from_request(&request));
        self.lifecycle(model, prepared, options)
    }

    /// The lifecycle for a JSON payload, checked against the model's typed
    /// request first (for tools that build requests at run time).
    pub fn events_json(
        &self,
        model: &'static ModelDescriptor,
        body: Value,
        options: GenerateOptions,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        self.events_body(model, RequestBody::json(body), options)
    }

    /// The lifecycle for a [`RequestBody`] (JSON plus local files), checked
    /// against the model's typed request first; a local file stands for a
    /// valid URL in that check. Sent as multipart when it has local files.
    pub fn events_body(
        &self,
        model: &'static ModelDescriptor,
        body: RequestBody,
        options: GenerateOptions,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        let prepared = (model.check_json)(&body.validation_json())
            .map(|()| body)
            .map_err(|errors| Error::InvalidRequest {
                model: model.id.to_string(),
                errors,
            });
        self.lifecycle(model, prepared, options)
    }

    /// [`events_body`](Self::events_body) run to its end.
    pub async fn generate_body(
        &self,
        model: &'static ModelDescriptor,
        body: RequestBody,
        options: GenerateOptions,
    ) -> Result<Generation, Error> {
        finish(self.events_body(model, body, options)).await
    }

    /// [`events_json`](Self::events_json) run to its end.
    pub async fn generate_json(
        &self,
        model: &'static ModelDescriptor,
        body: Value,
        options: GenerateOptions,
    ) -> Result<Generation, Error> {
        finish(self.events_json(model, body, options)).await
    }

    /// Polls an existing generation to a terminal state. Never creates anything.
    pub async fn wait(&self, generation_id: &str) -> Result<Generation, Error> {
        finish(self.wait_events(generation_id)).await
    }

    /// [`wait`](Self::wait) as a stream of events.
    pub fn wait_events(
        &self,
        generation_id: &str,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static {
        // ledger hook (issue 15): with a ledger, the wait is journaled.
        #[cfg(feature = "ledger")]
        if let Some(ledger) = self.inner.ledger.clone() {
            let inner = self.wait_events_unjournaled(generation_id);
            return crate::ledger::journal_wait(
                ledger,
                generation_id.to_string(),
                self.base_url().to_string(),
                inner,
            );
        }
        self.wait_events_unjournaled(generation_id)
    }

    fn wait_events_unjournaled(&self, generation_id: &str) -> EventStream {
        let client = self.clone();
        let id = generation_id.to_string();
        let deadline = client.inner.config.deadline.map(|d| Instant::now() + d);
        let span = tracing::info_span!("wait", generation_id = %id);
        in_span(
            span,
            Box::pin(async_stream::try_stream! {
                let mut polls = client.poll(id, None, deadline);
                while let Some(event) = polls.next().await {
                    yield event?;
                }
            }),
        )
    }
}

impl Client {
    fn lifecycle(
        &self,
        model: impl Into<Target>,
        prepared: Result<RequestBody, Error>,
        options: GenerateOptions,
    ) -> EventStream {
        // A catalog model, or a raw model path's routes (raw.rs).
        let model: Target = model.into();
        // ledger hook (issue 15): with a ledger, the intent is journaled
        // before the create and every later step after it (crate::ledger::journal).
        #[cfg(feature = "ledger")]
        if let (Some(ledger), Ok(body)) = (self.inner.ledger.clone(), prepared.as_ref()) {
            let parts = crate::ledger::IntentParts {
                model: model.id,
                request: body.validation_json(),
                multipart: body.is_multipart(),
                base_url: self.base_url().to_string(),
            };
            let inner = self.lifecycle_unjournaled(model, prepared, options);
            return crate::ledger::journal_generation(ledger, parts, inner);
        }
        self.lifecycle_unjournaled(model, prepared, options)
    }

    fn lifecycle_unjournaled(
        &self,
        model: Target,
        prepared: Result<RequestBody, Error>,
        options: GenerateOptions,
    ) -> EventStream {
        let key = options
            .idempotency_key
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let span = tracing::info_span!("generation", model = model.id, idempotency_key = %key);
        Box::pin(Lifecycle {
            span,
            driver: Driver {
                client: self.clone(),
                key,
                model,
                deadline: None,
                state: State::Start {
                    prepared,
                    no_sse: options.no_sse,
                },
            },
        })
    }
}

/// One generation's lifecycle: a hand-written stream, so that what each
/// generation in flight holds is only what its current phase needs (a few
/// hundred bytes here, plus the one request or reader of that phase, each
/// boxed and freed when the phase ends). Compiler-built `async` state
/// machines nested three deep held several KiB per generation during the
/// create, which over HTTP/2 set the process's peak memory.
///
/// Every poll runs inside the generation's tracing span, so each phase's
/// events (create, stream, fall-back, retry, poll, terminal) carry its
/// fields; entering on each poll, never across an `.await`, keeps the span
/// correct when the stream moves between tasks.
struct Lifecycle {
    span: tracing::Span,
    driver: Driver,
}

impl Stream for Lifecycle {
    type Item = Result<Event, Error>;

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let Lifecycle { span, driver } = self.get_mut();
        let _entered = span.enter();
        driver.poll_next(cx)
    }
}

/// The lifecycle's state and what every phase shares.
struct Driver {
    client: Client,
    /// The idempotency key sent with every create attempt.
    key: String,
    model: Target,
    /// The overall deadline, set when the lifecycle starts.
    deadline: Option<Instant>,
    state: State,
}

/// Where the lifecycle is.
enum State {
    /// Not polled yet: the request body as prepared, and whether to skip SSE.
    Start {
        prepared: Result<RequestBody, Error>,
        no_sse: bool,
    },
    /// The SSE create, with its retries.
    SseCreate(SseCreate),
    /// The create on the polling route, with its retries (the rare path:
    /// models without an SSE route, `no_sse`, or an SSE route not found).
    Creating(Pin<Box<dyn Stream<Item = Result<Step, Error>> + Send>>),
    /// Reading the open SSE stream; `end` is why it ended without a
    /// terminal event, once the reader said so.
    Reading {
        reading: Pin<Box<dyn Stream<Item = Result<SseStep, Error>> + Send>>,
        end: Option<(FallbackReason, Option<String>)>,
    },
    /// Polling the generation by id.
    Polling(EventStream),
    /// Ended: a terminal event or an error was the last item.
    Done,
}

/// The SSE create's state between polls.
struct SseCreate {
    /// The body every attempt sends.
    payload: Payload,
    /// The end of the SSE budget (and of the create's retries).
    sse_deadline: Instant,
    /// Retries so far.
    retries: u32,
    attempt: Attempting,
}

/// The current attempt of a create.
enum Attempting {
    /// The next attempt is due.
    Due,
    /// An attempt is in flight.
    Sending(AttemptFuture),
    /// Waiting before the next attempt.
    Waiting(Pin<Box<tokio::time::Sleep>>),
}

/// One create request, sent and sorted (see [`send::create_attempt`]).
type AttemptFuture = Pin<Box<dyn Future<Output = Result<Attempt, Error>> + Send>>;

/// One step of [`polling_phase`].
enum Step {
    /// An event for the caller ([`Event::Terminal`] ends the job).
    Event(Event),
    /// The job was created with this id and is not terminal yet: poll it.
    /// Always the last step.
    Poll(String),
}

impl Driver {
    /// Ends the lifecycle with `error` as its last item.
    fn fail(&mut self, error: Error) -> Poll<Option<Result<Event, Error>>> {
        self.state = State::Done;
        Poll::Ready(Some(Err(error)))
    }

    /// Yields `event`; a terminal event ends the lifecycle.
    fn emit(&mut self, event: Event) -> Poll<Option<Result<Event, Error>>> {
        if matches!(event, Event::Terminal(_)) {
            self.state = State::Done;
        }
        Poll::Ready(Some(Ok(event)))
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Error>>> {
        loop {
            match &mut self.state {
                State::Done => return Poll::Ready(None),
                State::Start { .. } => {
                    let State::Start { prepared, no_sse } =
                        std::mem::replace(&mut self.state, State::Done)
                    else {
                        unreachable!("matched Start above")
                    };
                    return match self.start(prepared, no_sse) {
                        Ok(event) => self.emit(event),
                        Err(e) => self.fail(e),
                    };
                }
                State::SseCreate(create) => match &mut create.attempt {
                    Attempting::Due => {
                        if let Err(e) = time_for_create(
                            Some(create.sse_deadline),
                            create.retries,
                            "the SSE create",
                        ) {
                            return self.fail(e);
                        }
                        let route = self.model.sse_route.as_deref().unwrap_or_default();
                        let url = self.client.route_url(route, None);
                        let request = KeyHeader::new(&self.key).attach(
                            self.client.request(Method::POST, url).header(
                                reqwest::header::ACCEPT,
                                HeaderValue::from_static("text/event-stream"),
                            ),
                        );
                        tracing::debug!(
                            model = self.model.id,
                            attempt = create.retries + 1,
                            "SSE create"
                        );
                        let wait = create
                            .sse_deadline
                            .saturating_duration_since(Instant::now());
                        create.attempt = Attempting::Sending(start_attempt(
                            &self.client,
                            request,
                            &create.payload,
                            self.model.id,
                            wait,
                            &self.key,
                            "the SSE create",
                        ));
                    }
                    Attempting::Waiting(pause) => {
                        ready!(pause.as_mut().poll(cx));
                        create.attempt = Attempting::Due;
                    }
                    Attempting::Sending(attempt) => {
                        let outcome = ready!(attempt.as_mut().poll(cx));
                        // The attempt's request and its future are freed here.
                        create.attempt = Attempting::Due;
                        let config = &self.client.inner.config;
                        match outcome {
                            Err(e) => return self.fail(e),
                            Ok(Attempt::Accepted(response)) => {
                                let status = response.status().as_u16();
                                // Events and heartbeats from the shared SSE reader; the
                                // whole phase, not each read, is bounded by the SSE budget.
                                let reading = Box::pin(sse_phase::read(
                                    response,
                                    config.max_event_bytes,
                                    create.sse_deadline,
                                    self.model.id,
                                ));
                                self.state = State::Reading { reading, end: None };
                                return self.emit(Event::SseOpen { status });
                            }
                            Ok(Attempt::NotFound(_)) if self.model.create_route.is_some() => {
                                tracing::info!(
                                    model = self.model.id,
                                    "SSE route not found; creating on the polling route"
                                );
                                let State::SseCreate(create) =
                                    std::mem::replace(&mut self.state, State::Done)
                                else {
                                    unreachable!("matched SseCreate above")
                                };
                                self.state = State::Creating(Box::pin(polling_phase(
                                    self.client.clone(),
                                    self.model.clone(),
                                    create.payload,
                                    self.key.clone(),
                                    self.deadline,
                                )));
                                return self.emit(Event::FallbackToPolling {
                                    reason: FallbackReason::NoSseRoute,
                                    generation_id: None,
                                });
                            }
                            Ok(Attempt::NotFound(text)) => {
                                return self.fail(Error::from_response(404, &text, None))
                            }
                            Ok(Attempt::Retry(failure)) => {
                                let delay = match next_retry(
                                    config,
                                    &mut create.retries,
                                    &failure,
                                    None,
                                    Some(create.sse_deadline),
                                ) {
                                    Ok(delay) => delay,
                                    Err(e) => return self.fail(e),
                                };
                                tracing::warn!(model = self.model.id, attempt = create.retries, delay_ms = delay.as_millis() as u64, reason = %failure.reason, "retrying create");
                                let attempt = create.retries;
                                create.attempt = Attempting::Waiting(Box::pin(sleep(delay)));
                                return self.emit(Event::Retrying {
                                    phase: Phase::SseCreate,
                                    attempt,
                                    delay,
                                    reason: failure.reason,
                                    status: failure.status,
                                    body: failure.body,
                                });
                            }
                        }
                    }
                },
                State::Creating(creating) => match ready!(creating.as_mut().poll_next(cx)) {
                    None => {
                        let e = Error::Ambiguous {
                            idempotency_key: self.key.clone(),
                            reason: "no generation id".into(),
                        };
                        return self.fail(e);
                    }
                    Some(Err(e)) => return self.fail(e),
                    Some(Ok(Step::Event(event))) => return self.emit(event),
                    Some(Ok(Step::Poll(id))) => {
                        let key = std::mem::take(&mut self.key);
                        self.state = State::Polling(self.client.poll(id, Some(key), self.deadline));
                    }
                },
                State::Reading { reading, end } => match ready!(reading.as_mut().poll_next(cx)) {
                    Some(Err(e)) => return self.fail(e),
                    Some(Ok(SseStep::Event(event))) => return self.emit(event),
                    Some(Ok(SseStep::Fallback {
                        reason,
                        generation_id,
                    })) => *end = Some((reason, generation_id)),
                    None => {
                        let (reason, id) =
                            end.take().unwrap_or((FallbackReason::StreamEnded, None));
                        // The reader (and its connection's stream) is freed here.
                        self.state = State::Done;
                        let Some(id) = id else {
                            let e = Error::Ambiguous {
                                idempotency_key: self.key.clone(),
                                reason: format!(
                                    "the stream ended ({reason}) before any generation id"
                                ),
                            };
                            return self.fail(e);
                        };
                        tracing::warn!(model = self.model.id, generation_id = %id, reason = %reason, "switching to polling");
                        let key = std::mem::take(&mut self.key);
                        self.state =
                            State::Polling(self.client.poll(id.clone(), Some(key), self.deadline));
                        return self.emit(Event::FallbackToPolling {
                            reason,
                            generation_id: Some(id),
                        });
                    }
                },
                State::Polling(polls) => match ready!(polls.as_mut().poll_next(cx)) {
                    None => {
                        self.state = State::Done;
                        return Poll::Ready(None);
                    }
                    Some(Err(e)) => return self.fail(e),
                    Some(Ok(event)) => return Poll::Ready(Some(Ok(event))),
                },
            }
        }
    }

    /// The first poll: the checks, the create's body (built once: every
    /// attempt sends these same bytes; a JSON body is serialised here and
    /// its JSON tree freed before anything is sent), the budgets, and the
    /// first phase. Returns [`Event::Started`].
    fn start(
        &mut self,
        prepared: Result<RequestBody, Error>,
        no_sse: bool,
    ) -> Result<Event, Error> {
        let body = prepared?;
        let config = &self.client.inner.config;
        // Every local file is checked (present, a regular file, within
        // the cap) before any request is sent.
        if body.is_multipart() {
            multipart::check(&body, self.model.id, config.max_upload_bytes)?;
        }
        let payload = Payload::new(body)?;
        let started = Instant::now();
        let deadline = config.deadline.map(|d| started + d);
        self.deadline = deadline;
        let sse = !no_sse && self.model.sse_route.is_some();
        let mode = if sse { Mode::Sse } else { Mode::Polling };
        tracing::info!(model = self.model.id, idempotency_key = %self.key, mode = ?mode, "generation started");
        self.state = if sse {
            State::SseCreate(SseCreate {
                payload,
                sse_deadline: earliest(started + config.sse_timeout, deadline),
                retries: 0,
                attempt: Attempting::Due,
            })
        } else {
            State::Creating(Box::pin(polling_phase(
                self.client.clone(),
                self.model.clone(),
                payload,
                self.key.clone(),
                deadline,
            )))
        };
        Ok(Event::Started {
            model: self.model.id,
            idempotency_key: self.key.clone(),
            mode,
        })
    }
}

/// Sends one create attempt (its body attached: JSON bytes shared, or a
/// multipart form rebuilt with files reopened) and sorts its outcome by the
/// money rule. The future owns what it needs, so the lifecycle holds only
/// this one box while the request is in flight.
fn start_attempt(
    client: &Client,
    request: reqwest::RequestBuilder,
    payload: &Payload,
    model: &'static str,
    wait: Duration,
    key: &str,
    what: &'static str,
) -> AttemptFuture {
    let client = client.clone();
    let key = key.to_owned();
    match payload {
        Payload::Json(bytes) => {
            // Sent now: the future holds the pending response, not the request.
            let pending = Payload::with_json(request, bytes.clone()).send();
            Box::pin(async move {
                create_attempt(pending, None, wait, &key, what, &client.inner.config).await
            })
        }
        Payload::Form(body) => {
            let body = std::sync::Arc::clone(body);
            Box::pin(async move {
                let config = &client.inner.config;
                let (request, upload) = Box::pin(multipart::attach(
                    request,
                    &body,
                    model,
                    config.max_upload_bytes,
                ))
                .await?;
                create_attempt(request.send(), upload, wait, &key, what, config).await
            })
        }
    }
}

/// The create on the polling route with its retries, then the generation
/// id: ends with [`Step::Poll`], or with a terminal event when the create's
/// answer is already terminal.
fn polling_phase(
    client: Client,
    model: Target,
    body: Payload,
    key: String,
    deadline: Option<Instant>,
) -> impl Stream<Item = Result<Step, Error>> + Send + 'static {
    async_stream::try_stream! {
        let route = model.create_route.clone().ok_or_else(|| Error::Config(format!("model {} has no create route", model.id)))?;
        let config = &client.inner.config;
        let url = client.route_url(&route, None);
        let mut retries = 0u32;
        let created: Value = loop {
            time_for_create(deadline, retries, "the create")?;
            let request = KeyHeader::new(&key).attach(client.request(Method::POST, url.clone()));
            let wait = bounded(config.request_timeout, deadline);
            match start_attempt(&client, request, &body, model.id, wait, &key, "the create").await? {
                Attempt::Accepted(resp) => {
                    let text = match Box::pin(read_body(resp, config.request_timeout, config.max_body_bytes)).await {
                        Ok(t) => t,
                        Err(e) => Err(Error::Ambiguous { idempotency_key: key.clone(), reason: format!("the create's response could not be read: {e}") })?,
                    };
                    match serde_json::from_str::<Value>(&text) {
                        Ok(v) => break v,
                        Err(e) => Err(Error::Ambiguous { idempotency_key: key.clone(), reason: format!("the create's response is not JSON ({e}): {}", truncate(&text)) })?,
                    }
                }
                Attempt::NotFound(text) => Err(Error::from_response(404, &text, None))?,
                Attempt::Retry(failure) => {
                    let delay = next_retry(config, &mut retries, &failure, None, deadline)?;
                    // The backoff runs from the event, as on the SSE route.
                    let retry_at = Instant::now() + delay;
                    yield Step::Event(Event::Retrying { phase: Phase::Create, attempt: retries, delay, reason: failure.reason, status: failure.status, body: failure.body });
                    tokio::time::sleep_until(retry_at).await;
                }
            }
        };
        let id = status::find_id(&created).ok_or_else(|| Error::Ambiguous {
            idempotency_key: key.clone(),
            reason: format!("the create's response carried no generation id: {}", truncate(&created.to_string())),
        })?;
        tracing::info!(model = model.id, generation_id = %id, "generation created");
        yield Step::Event(Event::Created { generation_id: id.clone() });
        if let Some((_, status)) = status::find_status(&created).filter(|(_, s)| s.is_terminal()) {
            yield Step::Event(terminal_result(Generation::new(Some(id), status, created, Source::Poll), None)?);
            return;
        }
        yield Step::Poll(id);
    }
}

/// A create's body as every attempt sends it.
enum Payload {
    /// JSON, serialised once; each attempt sends a clone of these bytes (a
    /// reference count, not a copy).
    Json(Bytes),
    /// JSON with local files: a multipart form, rebuilt (files reopened)
    /// for each attempt; shared with each attempt's future.
    Form(std::sync::Arc<RequestBody>),
}

impl Payload {
    /// Serialises a JSON body once (its JSON tree is dropped here); keeps a
    /// body with local files for the form.
    fn new(body: RequestBody) -> Result<Self, Error> {
        if body.is_multipart() {
            return Ok(Payload::Form(std::sync::Arc::new(body)));
        }
        let bytes = serde_json::to_vec(body.as_json()).map_err(|e| Error::Serialize {
            message: e.to_string(),
        })?;
        // Exactly as long as the body: the bytes live as long as the create.
        Ok(Payload::Json(Bytes::from(bytes.into_boxed_slice())))
    }

    /// A JSON body and its content type on one attempt.
    fn with_json(request: reqwest::RequestBuilder, bytes: Bytes) -> reqwest::RequestBuilder {
        request
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(bytes)
    }

    /// Sets the body of one attempt, and for a form the progress of its
    /// upload (what [`start_attempt`] does before sending).
    #[cfg(test)]
    async fn attach(
        &self,
        request: reqwest::RequestBuilder,
        model: &str,
        max_upload_bytes: u64,
    ) -> Result<(reqwest::RequestBuilder, Option<multipart::UploadProgress>), Error> {
        match self {
            Payload::Json(bytes) => Ok((Payload::with_json(request, bytes.clone()), None)),
            Payload::Form(body) => {
                Box::pin(multipart::attach(request, body, model, max_upload_bytes)).await
            }
        }
    }
}

/// The idempotency key and its header value for an attempt of a create:
/// each attempt carries the very same key.
struct KeyHeader<'k> {
    key: &'k str,
    /// `None` when the key cannot be a header value; the request then
    /// reports that error as before.
    value: Option<HeaderValue>,
}

impl<'k> KeyHeader<'k> {
    fn new(key: &'k str) -> Self {
        KeyHeader {
            key,
            value: HeaderValue::from_str(key).ok(),
        }
    }

    /// Adds the `Idempotency-Key` header to one attempt.
    fn attach(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.value {
            Some(value) => request.header(
                HeaderName::from_static(IDEMPOTENCY_HEADER_LOWER),
                value.clone(),
            ),
            None => request.header(IDEMPOTENCY_HEADER, self.key),
        }
    }
}

/// [`IDEMPOTENCY_HEADER`] as a static header name (header names are
/// case-insensitive and stored lower-case).
const IDEMPOTENCY_HEADER_LOWER: &str = "idempotency-key";

/// Runs an event stream to its terminal result.
pub(crate) async fn finish(
    stream: impl Stream<Item = Result<Event, Error>>,
) -> Result<Generation, Error> {
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        if let Event::Terminal(generation) = event? {
            return Ok(generation);
        }
    }
    Err(Error::NoTerminalResult)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds one create attempt the way the SSE create does (before sending).
    async fn attempt(payload: &Payload, key: &KeyHeader<'_>) -> reqwest::Request {
        let http = reqwest::Client::new();
        let request = key.attach(http.post("http://127.0.0.1:9/v1/create"));
        let (request, upload) = payload
            .attach(request, "m", 1 << 20)
            .await
            .expect("a JSON body attaches");
        assert!(upload.is_none(), "a JSON body has no upload");
        request.build().expect("a valid request")
    }

    #[tokio::test]
    async fn every_attempt_sends_the_same_body_and_key() {
        let body = RequestBody::json(serde_json::json!({"prompt": "a cat", "seed": 7}));
        let payload = Payload::new(body).expect("JSON serialises");
        let key = KeyHeader::new("key-123");
        let first = attempt(&payload, &key).await;
        let second = attempt(&payload, &key).await;
        for request in [&first, &second] {
            let sent = request.body().and_then(|b| b.as_bytes()).expect("a body");
            let json: Value = serde_json::from_slice(sent).expect("JSON");
            assert_eq!(json, serde_json::json!({"prompt": "a cat", "seed": 7}));
            assert_eq!(request.headers()[IDEMPOTENCY_HEADER], "key-123");
            assert_eq!(
                request.headers()[reqwest::header::CONTENT_TYPE],
                "application/json"
            );
        }
        assert_eq!(
            first.body().and_then(|b| b.as_bytes()),
            second.body().and_then(|b| b.as_bytes())
        );
        // The bytes are shared, not copied, between attempts.
        let Payload::Json(bytes) = &payload else {
            panic!("a JSON payload");
        };
        assert_eq!(
            first.body().and_then(|b| b.as_bytes()).map(<[u8]>::as_ptr),
            Some(bytes.as_ptr())
        );
    }

    /// What each generation in flight holds beside its one request: the
    /// driver is a plain struct (no compiler-built state machine), so its
    /// size is the same in debug and release builds. It was several KiB of
    /// nested `async` state before; this bound keeps it from growing back.
    #[test]
    fn the_driver_stays_small() {
        let size = std::mem::size_of::<Lifecycle>();
        assert!(size <= 320, "Lifecycle is {size} bytes");
        let state = std::mem::size_of::<State>();
        assert!(state <= 160, "State is {state} bytes");
    }

    /// The machine names and one-line texts that logs, the CLI's progress
    /// lines and `--json` events carry: renaming one breaks a user's
    /// parser, so each is pinned here.
    #[test]
    fn events_phases_and_fallback_reasons_read_as_documented() {
        let names: Vec<&str> = [Phase::SseCreate, Phase::Create, Phase::Poll]
            .iter()
            .map(Phase::as_str)
            .collect();
        assert_eq!(names, ["sse_create", "create", "poll"]);
        let reasons = [
            (FallbackReason::StreamEnded, "stream_ended"),
            (
                FallbackReason::StreamError("reset".into()),
                "stream_error: reset",
            ),
            (FallbackReason::SseTimeout, "sse_timeout"),
            (
                FallbackReason::EventTooLarge("70000 bytes".into()),
                "event_too_large: 70000 bytes",
            ),
            (FallbackReason::NoSseRoute, "no_sse_route"),
        ];
        for (reason, text) in reasons {
            assert_eq!(reason.to_string(), text);
            assert!(text.starts_with(reason.as_str()));
        }
        let retrying = Event::Retrying {
            phase: Phase::Poll,
            attempt: 2,
            delay: Duration::from_millis(40),
            reason: "HTTP 503".into(),
            status: Some(503),
            body: None,
        };
        assert_eq!(
            retrying.to_string(),
            "retrying poll (attempt 2) in 40ms: HTTP 503"
        );
        let fallback = Event::FallbackToPolling {
            reason: FallbackReason::SseTimeout,
            generation_id: Some("gen_1".into()),
        };
        assert_eq!(fallback.to_string(), "polling: sse_timeout");
        let poll = Event::Poll {
            generation_id: "gen_1".into(),
            status: None,
            attempt: 3,
        };
        assert_eq!(poll.to_string(), "poll 3 of gen_1");
        assert_eq!(Event::Heartbeat.to_string(), "heartbeat");
    }

    #[tokio::test]
    async fn a_key_that_cannot_be_a_header_still_fails_at_send_as_before() {
        let key = KeyHeader::new("bad\nkey");
        assert!(key.value.is_none());
        let http = reqwest::Client::new();
        let built = key.attach(http.post("http://127.0.0.1:9/")).build();
        assert!(built.is_err(), "reqwest refuses the header value");
    }
}
