//! The credit balance (`GET /credits`), read with the same transient rule,
//! retry waits and body cap as every other request.

use reqwest::Method;
use serde_json::Value;
use tokio::time::{sleep, timeout};

use crate::client::Client;
use crate::error::Error;
use crate::lifecycle::send::{
    error_response, is_transient_status, next_retry, read_body, Transient,
};

/// The account's balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Credits {
    /// The balance, read tolerantly from `credits`, `balance` or `remaining` (top level or under `data`).
    pub balance: Option<f64>,
    /// The raw JSON.
    pub raw: Value,
}

impl Credits {
    /// Reads a `GET /credits` body.
    pub fn from_body(raw: Value) -> Self {
        let pick = |v: &Value| {
            ["credits", "balance", "remaining", "remaining_credits"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_f64))
        };
        let balance = pick(&raw).or_else(|| raw.get("data").and_then(pick));
        Credits { balance, raw }
    }
}

impl Client {
    /// The credit balance.
    pub async fn credits(&self) -> Result<crate::credits::Credits, Error> {
        let url = self.route_url("/credits", None);
        let config = &self.inner.config;
        let mut failures = 0;
        loop {
            let sent = timeout(
                config.request_timeout,
                self.request(Method::GET, url.clone()).send(),
            )
            .await;
            let failure = match sent {
                Ok(Ok(resp)) if resp.status().is_success() => {
                    let body =
                        read_body(resp, config.request_timeout, config.max_body_bytes).await?;
                    let json = serde_json::from_str(&body).map_err(|e| Error::Decode {
                        message: e.to_string(),
                        body,
                    })?;
                    return Ok(crate::credits::Credits::from_body(json));
                }
                Ok(Ok(resp)) if is_transient_status(resp.status()) => {
                    Transient::from_response(&resp)
                }
                Ok(Ok(resp)) => {
                    return Err(error_response(
                        resp,
                        config.request_timeout,
                        config.max_body_bytes,
                        None,
                    )
                    .await);
                }
                Ok(Err(e)) => Transient::network(e.to_string()),
                Err(_) => Transient::network("request timed out".to_string()),
            };
            sleep(next_retry(config, &mut failures, &failure, None, None)?).await;
        }
    }
}
