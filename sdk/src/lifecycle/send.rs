//! Sending one request and sorting its outcome: the transient rule, retry
//! waits inside the caller's budget, the money rule for creates, and capped
//! body reads. Every request of the lifecycle (create, poll, credits) goes
//! through these.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use tokio::time::{timeout, Instant};

use crate::client::Config;
use crate::error::Error;
use crate::multipart;
use crate::retry::parse_retry_after;

/// A failure that is safe to repeat.
pub(crate) struct Transient {
    pub(crate) status: Option<u16>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) reason: String,
    /// The answer's body, when one was read (a create's 429/5xx).
    pub(crate) body: Option<String>,
}

impl Transient {
    pub(crate) fn network(reason: String) -> Self {
        Transient {
            status: None,
            retry_after: None,
            reason,
            body: None,
        }
    }

    pub(crate) fn from_response(resp: &reqwest::Response) -> Self {
        Transient {
            status: Some(resp.status().as_u16()),
            retry_after: retry_after(resp),
            reason: format!("HTTP {}", resp.status()),
            body: None,
        }
    }
}

/// What one create request came to.
pub(crate) enum Attempt {
    /// The platform answered 2xx: the job exists.
    Accepted(reqwest::Response),
    /// The route answered 404 (for an SSE route: the model has none); the body.
    NotFound(String),
    /// The platform cannot have accepted it: safe to send again.
    Retry(Transient),
}

/// Runs one create (`pending`: what `RequestBuilder::send` returned, so the
/// caller holds the response future, not the request) and sorts the
/// outcome by the money rule: connect errors
/// (never sent), failures while a multipart upload was still incomplete (the
/// platform never had the whole body) and 429/5xx answers may be retried; a
/// timeout or a failure after sending may have created the job, so it is
/// [`Error::Ambiguous`]; any other error status is final.
pub(crate) async fn create_attempt(
    pending: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
    upload: Option<multipart::UploadProgress>,
    wait: Duration,
    key: &str,
    what: &str,
    config: &Config,
) -> Result<Attempt, Error> {
    let ambiguous = |reason: String| Error::Ambiguous {
        idempotency_key: key.to_string(),
        reason,
    };
    match timeout(wait, pending).await {
        Err(_) => Err(ambiguous(format!("{what} got no response in time"))),
        Ok(Err(e)) if e.is_connect() => Ok(Attempt::Retry(Transient::network(format!(
            "connect error: {e}"
        )))),
        Ok(Err(e)) if upload.as_ref().is_some_and(|u| !u.is_complete()) => {
            Ok(Attempt::Retry(Transient::network(format!(
                "the upload was cut before the whole body was sent: {e}"
            ))))
        }
        Ok(Err(e)) => Err(ambiguous(format!(
            "{what} failed after it may have been sent: {e}"
        ))),
        Ok(Ok(resp)) if resp.status().is_success() => Ok(Attempt::Accepted(resp)),
        Ok(Ok(resp)) if is_transient_status(resp.status()) => {
            // The body says why (a rate-limit message, an outage notice):
            // read a little of it, briefly, for the caller's record.
            // The body reads below are boxed: they are the rare branches,
            // and inline they would make every create's future (held by
            // each in-flight create) several times larger.
            let mut failure = Transient::from_response(&resp);
            let limit = config.request_timeout.min(RETRY_BODY_WAIT);
            failure.body = Box::pin(read_body(
                resp,
                limit,
                config.max_body_bytes.min(RETRY_BODY_BYTES),
            ))
            .await
            .ok();
            Ok(Attempt::Retry(failure))
        }
        Ok(Ok(resp)) if resp.status() == StatusCode::NOT_FOUND => Ok(Attempt::NotFound(
            Box::pin(read_body(
                resp,
                config.request_timeout,
                config.max_body_bytes,
            ))
            .await
            .unwrap_or_default(),
        )),
        Ok(Ok(resp)) => Err(Box::pin(error_response(
            resp,
            config.request_timeout,
            config.max_body_bytes,
            None,
        ))
        .await),
    }
}

/// How long, and how much, of a retried create's 429/5xx body is read.
const RETRY_BODY_WAIT: Duration = Duration::from_secs(2);
const RETRY_BODY_BYTES: usize = 64 * 1024;

/// The least time a create needs to be worth sending: enough to get the
/// answer that says whether the job exists. With less left, sending would
/// only make the create ambiguous, so it is not sent.
pub(crate) const ANSWER_WINDOW: Duration = Duration::from_millis(500);

/// Counts one more retry and returns the wait before it, or the transient
/// error once the policy's retries are spent, or once the wait (a
/// `Retry-After` included) would not leave [`ANSWER_WINDOW`] before
/// `phase_end`: a wait that overruns the caller's budget is never slept.
pub(crate) fn next_retry(
    config: &Config,
    retries: &mut u32,
    failure: &Transient,
    generation_id: Option<&str>,
    phase_end: Option<Instant>,
) -> Result<Duration, Error> {
    *retries += 1;
    let spent = |message: String| Error::Transient {
        attempts: *retries,
        status: failure.status,
        message,
        generation_id: generation_id.map(str::to_string),
    };
    if *retries > config.retry.max_retries {
        return Err(spent(failure.reason.clone()));
    }
    let delay = config.retry.delay(*retries - 1, failure.retry_after);
    if let Some(end) = phase_end {
        let left = end.saturating_duration_since(Instant::now());
        if delay.saturating_add(ANSWER_WINDOW) > left {
            let asked = match failure.retry_after {
                Some(ra) => format!("the server asked to wait {ra:?} (Retry-After)"),
                None => format!("the next try would wait {delay:?}"),
            };
            return Err(spent(format!(
                "{}; {asked}, more than the {left:?} left in the budget, so it was not retried",
                failure.reason
            )));
        }
    }
    Ok(delay)
}

/// Refuses to send a create when less than [`ANSWER_WINDOW`] is left before
/// `phase_end`: nothing has been sent, so this is a plain transient failure,
/// never an ambiguous create.
pub(crate) fn time_for_create(
    phase_end: Option<Instant>,
    attempts: u32,
    what: &str,
) -> Result<(), Error> {
    match phase_end {
        Some(end) if end.saturating_duration_since(Instant::now()) < ANSWER_WINDOW => {
            Err(Error::Transient {
                attempts,
                status: None,
                message: format!("too little of the budget is left to send {what} and read its answer; it was not sent"),
                generation_id: None,
            })
        }
        _ => Ok(()),
    }
}

/// The transient rule, in one place: 429 or any 5xx may be tried again.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// The typed error for a non-success answer, with its body (best effort, capped).
pub(crate) async fn error_response(
    resp: reqwest::Response,
    limit: Duration,
    max_bytes: usize,
    generation_id: Option<String>,
) -> Error {
    let status = resp.status().as_u16();
    let body = read_body(resp, limit, max_bytes).await.unwrap_or_default();
    Error::from_response(status, &body, generation_id)
}

/// Why [`read_body_typed`] gave no body: the kind is a type, not a wording,
/// so a caller's check of it cannot break when a message changes.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is larger than the cap (declared, or as read): asking again
    /// would only read the same oversized answer.
    OverCap(Error),
    /// Reading failed or timed out: worth another try.
    Read(Error),
}

impl BodyError {
    /// The error a caller reports, whatever the kind.
    pub(crate) fn into_error(self) -> Error {
        match self {
            BodyError::OverCap(e) | BodyError::Read(e) => e,
        }
    }
}

/// Reads a whole (JSON) body within `limit`, never buffering more than
/// `max_bytes`: a declared `Content-Length` over the cap is refused before
/// reading, and a body that grows past it is dropped at the cap.
pub(crate) async fn read_body(
    resp: reqwest::Response,
    limit: Duration,
    max_bytes: usize,
) -> Result<String, Error> {
    read_body_typed(resp, limit, max_bytes)
        .await
        .map_err(BodyError::into_error)
}

/// [`read_body`], telling an over-cap body apart from a failed read.
pub(crate) async fn read_body_typed(
    resp: reqwest::Response,
    limit: Duration,
    max_bytes: usize,
) -> Result<String, BodyError> {
    let over = |len: u64| {
        BodyError::OverCap(Error::Decode {
            message: format!(
                "the response body is at least {len} bytes, over the {max_bytes}-byte cap \
                 (raise it with ClientBuilder::max_body_bytes)"
            ),
            body: String::new(),
        })
    };
    if let Some(len) = resp.content_length() {
        if len > max_bytes as u64 {
            return Err(over(len));
        }
    }
    let read = async {
        let mut buf: Vec<u8> = Vec::new();
        let mut chunks = resp.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| {
                BodyError::Read(Error::Decode {
                    message: format!("reading the body failed: {e}"),
                    body: String::new(),
                })
            })?;
            if buf.len() + chunk.len() > max_bytes {
                return Err(over((buf.len() + chunk.len()) as u64));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match timeout(limit, read).await {
        Ok(result) => result,
        Err(_) => Err(BodyError::Read(Error::Decode {
            message: "reading the body timed out".into(),
            body: String::new(),
        })),
    }
}

pub(crate) fn earliest(a: Instant, b: Option<Instant>) -> Instant {
    b.map_or(a, |b| a.min(b))
}

pub(crate) fn bounded(d: Duration, deadline: Option<Instant>) -> Duration {
    deadline.map_or(d, |dl| d.min(dl.saturating_duration_since(Instant::now())))
}

pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::RetryPolicy;
    use crate::ErrorCategory;

    fn config(max_retries: u32) -> Config {
        Config {
            retry: RetryPolicy {
                max_retries,
                initial_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(40),
                max_retry_after: Duration::from_secs(120),
                jitter: false,
            },
            ..Config::default()
        }
    }

    fn failure(retry_after: Option<Duration>) -> Transient {
        Transient {
            status: Some(429),
            retry_after,
            reason: "HTTP 429 Too Many Requests".into(),
            body: None,
        }
    }

    #[test]
    fn the_transient_rule_is_429_or_5xx() {
        for code in [429, 500, 502, 503, 504, 599] {
            assert!(
                is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [200, 400, 401, 402, 404, 409, 422, 428, 430] {
            assert!(
                !is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn retries_stop_when_the_policy_is_spent() {
        let config = config(2);
        let mut retries = 0;
        assert!(next_retry(&config, &mut retries, &failure(None), None, None).is_ok());
        assert!(next_retry(&config, &mut retries, &failure(None), None, None).is_ok());
        let e = next_retry(&config, &mut retries, &failure(None), Some("gen_1"), None).unwrap_err();
        match e {
            Error::Transient {
                attempts,
                status,
                generation_id,
                ..
            } => {
                assert_eq!((attempts, status), (3, Some(429)));
                assert_eq!(generation_id.as_deref(), Some("gen_1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_retry_after_past_the_budget_is_not_slept_and_says_so() {
        let config = config(5);
        let mut retries = 0;
        let end = Instant::now() + Duration::from_secs(5);
        let e = next_retry(
            &config,
            &mut retries,
            &failure(Some(Duration::from_secs(60))),
            None,
            Some(end),
        )
        .unwrap_err();
        assert_eq!(e.category(), ErrorCategory::Transient);
        let text = e.to_string();
        assert!(
            text.contains("Retry-After") && text.contains("60s"),
            "{text}"
        );
        // Inside the budget the server's wait is honoured.
        let mut retries = 0;
        let wait = next_retry(
            &config,
            &mut retries,
            &failure(Some(Duration::from_secs(2))),
            None,
            Some(end),
        )
        .unwrap();
        assert_eq!(wait, Duration::from_secs(2));
    }

    #[tokio::test]
    async fn no_create_is_sent_without_time_to_read_its_answer() {
        assert!(time_for_create(None, 0, "the create").is_ok());
        assert!(time_for_create(
            Some(Instant::now() + Duration::from_secs(5)),
            0,
            "the create"
        )
        .is_ok());
        let e = time_for_create(
            Some(Instant::now() + Duration::from_millis(100)),
            2,
            "the SSE create",
        )
        .unwrap_err();
        match e {
            Error::Transient {
                attempts, message, ..
            } => {
                assert_eq!(attempts, 2);
                assert!(
                    message.contains("the SSE create") && message.contains("not sent"),
                    "{message}"
                );
            }
            other => panic!("not ambiguous, a plain transient failure: {other:?}"),
        }
    }

    fn response(body: &'static str, declared: Option<&str>) -> reqwest::Response {
        let mut builder = http::Response::builder().status(200);
        if let Some(len) = declared {
            builder = builder.header("content-length", len);
        }
        let resp = builder.body(body).expect("a valid response");
        reqwest::Response::from(resp)
    }

    #[tokio::test]
    async fn an_over_cap_body_is_told_apart_by_its_type() {
        let limit = Duration::from_secs(5);
        // Declared over the cap: refused before reading.
        let e = read_body_typed(response("0123456789", Some("10")), limit, 8).await;
        assert!(
            matches!(e, Err(BodyError::OverCap(Error::Decode { .. }))),
            "{e:?}"
        );
        // Undeclared, grows past the cap while read.
        let e = read_body_typed(response("0123456789", None), limit, 8).await;
        let Err(BodyError::OverCap(err)) = e else {
            panic!("expected OverCap, got {e:?}");
        };
        // The message is for people; the kind above is what callers check.
        assert!(err.to_string().contains("max_body_bytes"), "{err}");
        // Within the cap: the body.
        let ok = read_body_typed(response("01234567", None), limit, 8).await;
        assert_eq!(ok.ok().as_deref(), Some("01234567"));
        // `read_body` gives the same error, untyped.
        let plain = read_body(response("0123456789", None), limit, 8).await;
        assert!(matches!(plain, Err(Error::Decode { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_times_out_is_a_read_error_not_over_cap() {
        let never = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
        let resp = reqwest::Response::from(
            http::Response::builder()
                .status(200)
                .body(reqwest::Body::wrap_stream(never))
                .expect("a valid response"),
        );
        let e = read_body_typed(resp, Duration::from_millis(10), 8).await;
        let Err(BodyError::Read(err)) = e else {
            panic!("expected a read error, got {e:?}");
        };
        assert!(err.to_string().contains("timed out"), "{err}");
    }
}
