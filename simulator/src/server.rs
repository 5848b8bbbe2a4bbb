//! The HTTP server: routing, handlers, the request log hook and start/stop.
//!
//! Routing is done by hand on the path (model ids have a variable number of
//! segments), inside one axum fallback handler that also records every
//! request in the log.
//!
//! Besides the routes listed in the crate docs, `GET
//! /api/v1/_simulator/stats` answers `{"fault_body_bytes": N}`: the bytes of
//! poll bodies produced so far by [`Fault::HugePollBody`],
//! [`Fault::EndlessPollBody`] and [`Fault::SlowPollBody`], counted as each
//! chunk is handed to the connection (so a test can tell a client that
//! refused a body up front from one that read some of it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::config::SimulatorConfig;
use crate::faults::{self, Fault, FaultPlan, FaultRule, Selected, Stage};
use crate::files;
use crate::jobs::{Job, JobStore, NewJob, Outcome, Timeline};
use crate::log::{classify, RecordedRequest, RequestLog, RouteKind, UploadRecord};
use crate::multipart::{self, FormError};
use crate::spec::{Category, SpecIndex};
use crate::sse::{EventStream, StreamOptions};

/// Largest accepted request body.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The recharge page named in 402 messages.
pub const RECHARGE_URL: &str = "https://skills.video/dashboard";

/// State shared by every request.
pub(crate) struct Shared {
    api_key: String,
    heartbeat_interval: Duration,
    timeline: Timeline,
    spec: SpecIndex,
    store: Mutex<JobStore>,
    faults: Mutex<FaultPlan>,
    log: Mutex<RequestLog>,
    max_upload_bytes: u64,
    bound: SocketAddr,
    shutdown: watch::Receiver<bool>,
    /// Bytes of poll-body fault bodies handed to connections so far.
    fault_body_bytes: AtomicU64,
    /// When the simulator started: the origin of `received_us`.
    started: std::time::Instant,
}

/// Locks a mutex, recovering the data of a poisoned one (a panicking request
/// must not take the whole simulator down).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).all()
    }

    pub(crate) fn creates(&self) -> usize {
        lock(&self.log).creates()
    }

    pub(crate) fn set_faults(&self, rules: Vec<FaultRule>) {
        lock(&self.faults).replace(rules);
    }

    pub(crate) fn faults(&self) -> Vec<FaultRule> {
        lock(&self.faults).rules()
    }

    pub(crate) fn credits(&self) -> f64 {
        lock(&self.store).credits()
    }

    pub(crate) fn job_count(&self) -> usize {
        lock(&self.store).len()
    }

    pub(crate) fn model_ids(&self) -> Vec<String> {
        self.spec.model_ids()
    }
}

/// The parts of a started server.
pub(crate) struct Started {
    pub shared: Arc<Shared>,
    pub addr: SocketAddr,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Binds `addr` and serves the simulator until `stop` is set or dropped.
pub(crate) async fn start(config: SimulatorConfig, addr: SocketAddr) -> anyhow::Result<Started> {
    use axum::serve::ListenerExt;

    raise_fd_limit();
    let spec = SpecIndex::load(
        &crate::config::with_extra_models(&config.spec, &config.extra_models),
        &config.docs,
    )
    .context("loading the OpenAPI document")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        api_key: config.api_key,
        heartbeat_interval: config.heartbeat_interval,
        timeline: Timeline {
            step_delay: config.step_delay,
            progress_steps: config.progress_steps,
        },
        spec,
        store: Mutex::new(JobStore::new(
            config.max_jobs,
            config.credits,
            config.cost_per_generation,
        )),
        faults: Mutex::new(FaultPlan::new(config.faults)),
        log: Mutex::new(RequestLog::default()),
        max_upload_bytes: config.max_upload_bytes,
        bound,
        shutdown: stop_rx.clone(),
        fault_body_bytes: AtomicU64::new(0),
        started: std::time::Instant::now(),
    });
    // Bodies are capped by hand (JSON at MAX_BODY, multipart at
    // max_upload_bytes), not by axum's 2 MB extractor default.
    let app = Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(shared.clone());
    let http2 = config.http2;
    let listener = listener.tap_io(|tcp| {
        // Small SSE writes must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
    });
    let mut signal = stop_rx;
    let task = if http2 {
        tokio::spawn(serve_http2(listener, app, signal))
    } else {
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await
        })
    };
    Ok(Started {
        shared,
        addr: bound,
        stop,
        task,
    })
}

/// Serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge) with a high
/// concurrent-stream limit; stops accepting and drops every connection when
/// `stop` turns true.
async fn serve_http2<L>(
    mut listener: L,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Io = tokio::net::TcpStream>,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tower::Service;

    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let app = app.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| app.clone().call(request));
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http2().max_concurrent_streams(100_000);
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
    Ok(())
}

/// Raises the soft open-file limit to the hard one (best effort), so that
/// thousands of concurrent streams do not run out of descriptors.
fn raise_fd_limit() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

/// A `{"message": ...}` response.
fn message(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "message": msg.into() }))).into_response()
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not Found")
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The one handler: dispatches, then records the request.
async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let received_us = u64::try_from(shared.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let (kind, mut model) = classify(method.as_str(), &path);
    let idempotency_key = header_str(req.headers(), "idempotency-key").map(str::to_string);
    let multipart = matches!(kind, RouteKind::CreateSse | RouteKind::CreatePoll)
        && multipart::is_multipart(req.headers());
    let (mut response, job_model) = dispatch(&shared, kind.clone(), req).await;
    if model.is_none() {
        model = job_model;
    }
    let upload = response.extensions_mut().remove::<UploadRecord>();
    let close = response
        .extensions_mut()
        .remove::<CloseBeforeAnswer>()
        .is_some();
    lock(&shared.log).push(RecordedRequest {
        method: method.to_string(),
        path,
        kind,
        model,
        idempotency_key,
        status: response.status().as_u16(),
        multipart,
        files: upload.map(|u| u.files).unwrap_or_default(),
        received_us,
        closed_before_answer: close,
    });
    if close {
        close_connection();
    }
    response
}

/// Marks a create's response as never to be sent (the
/// [`Fault::CloseBeforeAnswer`] fault): [`handle`] logs the request, then
/// closes the connection instead of answering.
#[derive(Debug, Clone, Copy)]
struct CloseBeforeAnswer;

/// Ends the connection this request came on, with no answer: unwinds the
/// task that serves it (hyper's, for HTTP/1.1 the whole connection; for
/// HTTP/2 its stream), which drops the socket as a crashed server would.
/// `resume_unwind` skips the panic hook, so nothing is printed; the task's
/// runtime catches the unwind, and the rest of the simulator goes on.
fn close_connection() -> ! {
    std::panic::resume_unwind(Box::new(
        "the CloseBeforeAnswer fault closed the connection",
    ))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Routes a request; returns the response and, for polls and files, the
/// model of the job addressed.
async fn dispatch(
    shared: &Arc<Shared>,
    kind: RouteKind,
    req: Request,
) -> (Response, Option<String>) {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return (not_found(), None);
    };
    let method = req.method().clone();
    if kind == RouteKind::File {
        if method != Method::GET && method != Method::HEAD {
            return (method_not_allowed(), None);
        }
        return serve_file(shared, rest);
    }
    if !authorized(req.headers(), &shared.api_key) {
        let mut resp = message(StatusCode::UNAUTHORIZED, "Invalid or missing API key");
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return (drain_then(shared, req, resp).await, None);
    }
    match kind {
        RouteKind::CreateSse | RouteKind::CreatePoll => {
            let sse = kind == RouteKind::CreateSse;
            let model = rest
                .strip_prefix("generation/")
                .map(|m| m.strip_prefix("sse/").filter(|_| sse).unwrap_or(m))
                .unwrap_or_default()
                .to_string();
            (create(shared, sse, &model, req).await, None)
        }
        RouteKind::Poll => {
            let id = rest.strip_prefix("generation/").unwrap_or_default();
            poll(shared, id, req.headers())
        }
        RouteKind::Credits => (
            json_response(StatusCode::OK, json!({ "credits": shared.credits() })),
            None,
        ),
        RouteKind::Control => (control(shared, rest, req).await, None),
        RouteKind::File | RouteKind::Other => {
            if rest.starts_with("generation/") || rest == "credits" {
                (method_not_allowed(), None)
            } else {
                (not_found(), None)
            }
        }
    }
}

fn method_not_allowed() -> Response {
    message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    let Some(value) = header_str(headers, "authorization") else {
        return false;
    };
    let value = value.trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && token.trim() == key
}

/// The faults named by the `X-Simulator-Fault` header.
fn header_faults(headers: &HeaderMap) -> Result<Vec<Fault>, Box<Response>> {
    match headers.get("x-simulator-fault") {
        None => Ok(Vec::new()),
        Some(v) => {
            let text = v.to_str().map_err(|_| {
                Box::new(message(
                    StatusCode::BAD_REQUEST,
                    "Invalid X-Simulator-Fault header: not ASCII",
                ))
            })?;
            faults::parse_header(text).map_err(|e| {
                Box::new(message(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid X-Simulator-Fault header: {e}"),
                ))
            })
        }
    }
}

/// The faults of `stage` for this request: from the plan (spending budget)
/// and from the header.
fn select(shared: &Shared, stage: Stage, model: Option<&str>, from_header: &[Fault]) -> Selected {
    let mut selected = Selected::default();
    selected.extend(lock(&shared.faults).take(stage, model));
    selected.extend(from_header.iter().filter(|f| f.stage() == stage).cloned());
    selected
}

/// The answer of a `CreateStatus` / `PollStatus` fault.
fn status_fault(status: u16, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let msg = match status {
        401 => "Invalid or missing API key".to_string(),
        402 => format!("Insufficient credits: simulated. Please recharge at {RECHARGE_URL}"),
        404 => "Not Found".to_string(),
        429 => "Too many requests (simulated); retry later".to_string(),
        500..=599 => format!("Simulated server error ({status})"),
        _ => format!("Simulated error ({status})"),
    };
    let mut resp = message(code, msg);
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Base of output file URLs: `http://<Host or bound addr>/api/v1/files`.
fn files_base(shared: &Shared, headers: &HeaderMap) -> String {
    format!("{}/files", api_base(shared, headers))
}

/// The API base as the client addressed it: `http://<Host or bound addr>/api/v1`.
fn api_base(shared: &Shared, headers: &HeaderMap) -> String {
    let host = header_str(headers, "host")
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| display_addr(shared.bound));
    format!("http://{host}/api/v1")
}

/// The bound address, with an unspecified IP shown as loopback.
pub(crate) fn display_addr(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr.to_string()
}

/// The number of outputs a request asks for (`num_images`, `n`, ...), 1..=8.
fn requested_outputs(body: &Value) -> u32 {
    [
        "num_images",
        "number_of_images",
        "num_outputs",
        "num_videos",
        "n",
    ]
    .iter()
    .find_map(|k| body.get(*k).and_then(Value::as_u64))
    .map_or(1, |n| n.clamp(1, 8) as u32)
}

/// A create; a multipart one carries its [`UploadRecord`] in the response's
/// extensions for the log.
async fn create(shared: &Arc<Shared>, sse: bool, model: &str, req: Request) -> Response {
    let mut upload = None;
    let mut response = create_inner(shared, sse, model, req, &mut upload).await;
    if let Some(record) = upload {
        response.extensions_mut().insert(record);
    }
    response
}

async fn create_inner(
    shared: &Arc<Shared>,
    sse: bool,
    model: &str,
    req: Request,
    upload: &mut Option<UploadRecord>,
) -> Response {
    let Some(route) = shared.spec.get(model) else {
        let resp = message(StatusCode::NOT_FOUND, format!("Model not found: {model}"));
        return drain_then(shared, req, resp).await;
    };
    if (sse && !route.has_sse) || (!sse && !route.has_poll) {
        return drain_then(shared, req, not_found()).await;
    }
    let header_faults = match header_faults(req.headers()) {
        Ok(f) => f,
        Err(resp) => return drain_then(shared, req, *resp).await,
    };
    let rejected = select(shared, Stage::CreateReject, Some(model), &header_faults);
    if let Some(resp) = rejected.find(|f| match f {
        Fault::CreateStatus {
            status,
            retry_after_secs,
        } => Some(status_fault(*status, *retry_after_secs)),
        Fault::RetryAfterValue { status, value } => {
            let mut resp = status_fault(*status, None);
            if let Ok(v) = HeaderValue::from_str(value) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(resp)
        }
        _ => None,
    }) {
        return drain_then(shared, req, resp).await;
    }
    if sse
        && select(shared, Stage::SseRoute, Some(model), &header_faults)
            .has(|f| matches!(f, Fault::NoSseRoute))
    {
        return drain_then(shared, req, not_found()).await;
    }
    let headers = req.headers().clone();
    let body: Value = if multipart::is_multipart(req.headers()) {
        let uploads = format!("{}/uploads", api_base(shared, &headers));
        let (form, result) =
            multipart::read_form(req, route.kinds(), shared.max_upload_bytes, &uploads).await;
        *upload = Some(UploadRecord { files: form.files });
        match result {
            Ok(()) => Value::Object(form.json),
            Err(FormError::TooLarge(msg)) => return message(StatusCode::PAYLOAD_TOO_LARGE, msg),
            Err(FormError::Bad(msg)) => return message(StatusCode::BAD_REQUEST, msg),
        }
    } else {
        let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
            Ok(b) => b,
            Err(e) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    format!("Could not read the request body: {e}"),
                )
            }
        };
        match parse_body(&body) {
            Ok(v) => v,
            Err(resp) => return *resp,
        }
    };
    if let Err(violations) = route.validate(&body) {
        let detail: Vec<Value> = violations.iter().map(|v| v.to_json()).collect();
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": detail }),
        );
    }
    let key = header_str(&headers, "idempotency-key")
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let mut close = false;
    let job = {
        let mut store = lock(&shared.store);
        match store.replay(key.as_deref()) {
            Some(job) => job,
            None => {
                if let Err((balance, cost)) = store.can_afford() {
                    return message(
                        StatusCode::PAYMENT_REQUIRED,
                        format!(
                            "Insufficient credits: this generation costs {cost} credits and the balance is {balance}. Please recharge at {RECHARGE_URL}"
                        ),
                    );
                }
                let accept = select(shared, Stage::Accept, Some(model), &header_faults);
                let outcome = accept
                    .find(|f| match f {
                        Fault::Outcome { status } => Some(Outcome::from_status(status)),
                        _ => None,
                    })
                    .unwrap_or_else(|| Outcome::Success("COMPLETED".to_string()));
                close = accept.has(|f| matches!(f, Fault::CloseBeforeAnswer));
                store.insert(NewJob {
                    model: model.to_string(),
                    category: route.category,
                    outcome,
                    outputs: requested_outputs(&body),
                    idempotency_key: key,
                    input: body,
                    non_http_outputs: accept.has(|f| matches!(f, Fault::NonHttpOutputs)),
                })
            }
        }
    };
    if close || !sse {
        let mut resp = json_response(StatusCode::OK, job.create_response());
        if close {
            // Accepted and charged; the answer is never sent (see `handle`).
            resp.extensions_mut().insert(CloseBeforeAnswer);
        }
        return resp;
    }
    let stream_faults = select(shared, Stage::Stream, Some(model), &header_faults);
    if let Some(ms) = stream_faults.find(|f| match f {
        Fault::SlowFirstByte { delay_ms } => Some(*delay_ms),
        _ => None,
    }) {
        let mut stop = shared.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    sse_response(shared, &job, &stream_faults, &headers)
}

/// Reads and discards a request's body (up to the larger of the JSON and
/// upload caps) before an early answer, as a front proxy's lingering close
/// does: closing a socket with an upload still arriving would reset the
/// connection, and the client might never see the answer.
async fn drain_then(shared: &Shared, req: Request, response: Response) -> Response {
    use futures::StreamExt;
    let limit = shared.max_upload_bytes.max(MAX_BODY as u64);
    let mut seen: u64 = 0;
    let mut body = req.into_body().into_data_stream();
    while let Some(Ok(chunk)) = body.next().await {
        seen += chunk.len() as u64;
        if seen > limit {
            break;
        }
    }
    response
}

fn parse_body(body: &Bytes) -> Result<Value, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Box::new(json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"loc": ["body"], "msg": "Field required", "type": "missing"}]}),
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(message(
            StatusCode::BAD_REQUEST,
            format!("Invalid JSON body: {e}"),
        ))
    })
}

fn sse_response(
    shared: &Arc<Shared>,
    job: &Arc<Job>,
    faults: &Selected,
    headers: &HeaderMap,
) -> Response {
    let opts = StreamOptions::from_faults(faults);
    let stream = EventStream::plan(
        job,
        shared.timeline,
        &files_base(shared, headers),
        &opts,
        shared.heartbeat_interval,
        shared.shutdown.clone(),
    );
    let built = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-accel-buffering", "no")
        .header("x-generation-id", job.id.as_str())
        .body(Body::from_stream(stream.into_stream()));
    built.unwrap_or_else(|e| {
        message(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Could not build the event stream: {e}"),
        )
    })
}

fn poll(shared: &Arc<Shared>, id: &str, headers: &HeaderMap) -> (Response, Option<String>) {
    let header_faults = match header_faults(headers) {
        Ok(f) => f,
        Err(resp) => return (*resp, None),
    };
    let job = lock(&shared.store).get(id);
    let model = job.as_ref().map(|j| j.model.clone());
    let selected = select(shared, Stage::Poll, model.as_deref(), &header_faults);
    if let Some(resp) = selected.find(|f| match f {
        Fault::PollStatus {
            status,
            retry_after_secs,
        } => Some(status_fault(*status, *retry_after_secs)),
        _ => None,
    }) {
        return (resp, model);
    }
    let Some(job) = job else {
        return (
            message(StatusCode::NOT_FOUND, format!("Generation not found: {id}")),
            None,
        );
    };
    let tl = shared.timeline;
    let step = tl.step_at(job.created, std::time::Instant::now());
    let body = job.response_at(&tl, step, &files_base(shared, headers));
    let body_faults = select(shared, Stage::PollBody, model.as_deref(), &header_faults);
    if let Some(resp) = body_faults.find(|f| fault_body(shared, f, &body)) {
        return (resp, model);
    }
    (json_response(StatusCode::OK, body), model)
}

/// The `200` answer of a poll-body fault for the poll answer `json`, or
/// `None` for another fault.
fn fault_body(shared: &Arc<Shared>, fault: &Fault, json: &Value) -> Option<Response> {
    let json = Bytes::from(serde_json::to_vec(json).unwrap_or_default());
    let (pad, drip, declared) = match fault {
        Fault::HugePollBody { bytes } => {
            let pad = bytes.saturating_sub(json.len() as u64);
            (pad, None, Some(pad + json.len() as u64))
        }
        Fault::EndlessPollBody => (faults::ENDLESS_BODY_BYTES, None, None),
        Fault::SlowPollBody { delay_ms } => (
            0,
            Some(Duration::from_millis(*delay_ms)),
            Some(json.len() as u64),
        ),
        _ => return None,
    };
    let body = FaultBody {
        shared: shared.clone(),
        pad,
        json,
        drip,
        shutdown: shared.shutdown.clone(),
    };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(len) = declared {
        // hyper keeps a Content-Length set here for a streamed body.
        builder = builder.header(header::CONTENT_LENGTH, len);
    }
    Some(
        builder
            .body(Body::from_stream(body.into_stream()))
            .unwrap_or_else(|e| {
                message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Could not build the body: {e}"),
                )
            }),
    )
}

/// A poll-body fault's body: `pad` spaces, then `json`; with `drip`, one
/// byte per pause. Chunks are produced only as the connection takes them,
/// so a client that goes away stops it at the next failed write; shutdown
/// ends it early.
struct FaultBody {
    shared: Arc<Shared>,
    pad: u64,
    json: Bytes,
    drip: Option<Duration>,
    shutdown: watch::Receiver<bool>,
}

impl FaultBody {
    fn into_stream(self) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures::stream::unfold(self, |mut b| async move {
            let chunk = b.next_chunk().await?;
            b.shared
                .fault_body_bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            Some((Ok(chunk), b))
        })
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        static SPACES: [u8; 65536] = [b' '; 65536];
        if *self.shutdown.borrow() || (self.pad == 0 && self.json.is_empty()) {
            return None;
        }
        let most = match self.drip {
            Some(pause) => {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = self.shutdown.wait_for(|stop| *stop) => return None,
                }
                1
            }
            None => SPACES.len(),
        };
        if self.pad > 0 {
            let n = self.pad.min(most as u64) as usize;
            self.pad -= n as u64;
            return Some(Bytes::from_static(&SPACES[..n]));
        }
        let n = self.json.len().min(most);
        Some(self.json.split_to(n))
    }
}

fn serve_file(shared: &Arc<Shared>, rest: &str) -> (Response, Option<String>) {
    let mut parts = rest.splitn(3, '/').skip(1);
    let (Some(id), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return (not_found(), None);
    };
    if id.is_empty() || name.contains('/') {
        return (not_found(), None);
    }
    let model = lock(&shared.store).get(id).map(|j| j.model.clone());
    let (bytes, content_type) = if name.ends_with(".png") {
        (
            files::png_bytes(&format!("{id}/{name}")),
            files::PNG_CONTENT_TYPE,
        )
    } else if name.ends_with(".mp4") {
        (files::mp4_bytes(), files::MP4_CONTENT_TYPE)
    } else {
        return (not_found(), model);
    };
    let resp = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response();
    (resp, model)
}

async fn control(shared: &Arc<Shared>, rest: &str, req: Request) -> Response {
    let method = req.method().clone();
    match (rest.trim_end_matches('/'), method) {
        ("_simulator/faults", Method::GET) => json_response(
            StatusCode::OK,
            serde_json::to_value(shared.faults()).unwrap_or(Value::Null),
        ),
        ("_simulator/faults", Method::POST) | ("_simulator/faults", Method::PUT) => {
            let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
                Ok(b) => b,
                Err(e) => {
                    return message(
                        StatusCode::BAD_REQUEST,
                        format!("Could not read the body: {e}"),
                    )
                }
            };
            match serde_json::from_slice::<Vec<FaultRule>>(&body) {
                Ok(rules) => {
                    let count = rules.len();
                    shared.set_faults(rules);
                    json_response(StatusCode::OK, json!({ "ok": true, "rules": count }))
                }
                Err(e) => message(
                    StatusCode::BAD_REQUEST,
                    format!("Expected a JSON array of fault rules: {e}"),
                ),
            }
        }
        ("_simulator/stats", Method::GET) => json_response(
            StatusCode::OK,
            json!({ "fault_body_bytes": shared.fault_body_bytes.load(Ordering::Relaxed) }),
        ),
        ("_simulator/requests", Method::GET) => json_response(
            StatusCode::OK,
            serde_json::to_value(shared.requests()).unwrap_or(Value::Null),
        ),
        ("_simulator/models", Method::GET) => {
            let models: Vec<Value> = shared
                .model_ids()
                .into_iter()
                .filter_map(|id| {
                    let route = shared.spec.get(&id)?;
                    Some(json!({
                        "model": id,
                        "category": match route.category {
                            Category::Image => "image",
                            Category::Video => "video",
                        },
                        "sse": route.has_sse,
                        "polling": route.has_poll,
                    }))
                })
                .collect();
            json_response(StatusCode::OK, Value::Array(models))
        }
        (
            "_simulator/faults" | "_simulator/requests" | "_simulator/models" | "_simulator/stats",
            _,
        ) => method_not_allowed(),
        _ => not_found(),
    }
}
