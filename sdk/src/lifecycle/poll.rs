//! The poll phase: `GET /generation/{id}` until a terminal status, the poll
//! budget or the overall deadline, retrying transient failures inside it.

use reqwest::Method;
use serde_json::Value;
use tokio::time::{sleep, sleep_until, timeout, Instant};

use super::send::{
    earliest, error_response, is_transient_status, next_retry, read_body_typed, BodyError,
    Transient,
};
use super::sse_phase::terminal_result;
use super::{Event, EventStream, Phase, IDEMPOTENCY_HEADER};
use crate::client::Client;
use crate::error::Error;
use crate::generation::{Generation, Source};
use crate::status::{self, Status};

impl Client {
    /// Polls one id until terminal, the poll budget or the deadline.
    pub(crate) fn poll(
        &self,
        id: String,
        idempotency_key: Option<String>,
        deadline: Option<Instant>,
    ) -> EventStream {
        let client = self.clone();
        Box::pin(async_stream::try_stream! {
            let config = client.inner.config.clone();
            let started = Instant::now();
            let poll_deadline = earliest(started + config.poll_timeout, deadline);
            crate::id::check_generation_id(&id)?;
            let url = client.route_url(crate::generated::catalog::POLL_ROUTE, Some(&id));
            let mut attempt = 0u32;
            let mut failures = 0u32;
            let mut last_status = String::from("unknown");
            loop {
                attempt += 1;
                let mut request = client.request(Method::GET, url.clone());
                if let Some(key) = &idempotency_key {
                    request = request.header(IDEMPOTENCY_HEADER, key);
                }
                let wait = config.request_timeout.min(poll_deadline.saturating_duration_since(Instant::now()));
                let failure = match timeout(wait, request.send()).await {
                    Err(_) => Some(Transient::network("poll timed out".to_string())),
                    Ok(Err(e)) => Some(Transient::network(format!("poll failed: {e}"))),
                    Ok(Ok(resp)) if is_transient_status(resp.status()) => Some(Transient::from_response(&resp)),
                    Ok(Ok(resp)) if !resp.status().is_success() => {
                        Err(error_response(resp, config.request_timeout, config.max_body_bytes, Some(id.clone())).await)?
                    }
                    // The body read ends with the poll budget, not a fixed request timeout.
                    Ok(Ok(resp)) => match read_body_typed(resp, config.request_timeout.min(poll_deadline.saturating_duration_since(Instant::now())), config.max_body_bytes).await {
                        // Over the cap: asking again would only read the same oversized answer.
                        Err(BodyError::OverCap(e)) => Err(e)?,
                        Err(BodyError::Read(e)) => Some(Transient::network(format!("poll body: {e}"))),
                        Ok(text) => {
                            let json: Value = serde_json::from_str(&text).map_err(|e| Error::Decode { message: format!("poll response is not JSON: {e}"), body: text.clone() })?;
                            failures = 0;
                            let status = status::find_status(&json).map(|(_, s)| s);
                            if let Some(s) = &status {
                                last_status = s.to_string();
                            }
                            tracing::debug!(generation_id = %id, attempt, status = %last_status, "poll");
                            yield Event::Poll { generation_id: id.clone(), status: status.clone(), attempt };
                            if let Some(s) = status.filter(Status::is_terminal) {
                                yield terminal_result(Generation::new(Some(id.clone()), s, json, Source::Poll), None)?;
                                return;
                            }
                            None
                        }
                    },
                };
                let mut pause = config.poll_interval;
                let mut wake = None;
                if let Some(failure) = failure {
                    pause = next_retry(&config, &mut failures, &failure, Some(&id), None)?;
                    // A retry's backoff runs from its event (Event::Retrying).
                    wake = Some(Instant::now() + pause);
                    yield Event::Retrying { phase: Phase::Poll, attempt: failures, delay: pause, reason: failure.reason, status: failure.status, body: failure.body };
                }
                let remaining = poll_deadline.saturating_duration_since(Instant::now());
                // A wait (a Retry-After included) that would reach the end of the
                // poll budget is not slept: the budget ends now, with the id.
                if remaining.is_zero() || (failures > 0 && pause >= remaining) {
                    Err(Error::Timeout { generation_id: id.clone(), last_status: last_status.clone(), waited: started.elapsed() })?;
                }
                match wake {
                    Some(at) => sleep_until(at.min(poll_deadline)).await,
                    None => sleep(pause.min(remaining)).await,
                }
            }
        })
    }
}
