//! The client: configuration, authentication, URL building, and the entry
//! points (`generate`, `events`, `wait`, `credits`, `images()`, `videos()`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::error::Error;
use crate::multipart::DEFAULT_MAX_UPLOAD_BYTES;

/// Default cap on a JSON body read whole: JSON answers are kilobytes; 8 MiB is plenty.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
use crate::retry::RetryPolicy;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// The platform's API base.
pub const DEFAULT_BASE_URL: &str = "https://open.skills.video/api/v1";
/// The variable holding the API key.
pub const API_KEY_ENV: &str = "SKILLS_VIDEO_API_KEY";
/// The variable that overrides the API base.
pub const BASE_URL_ENV: &str = "SKILLS_VIDEO_BASE_URL";

/// An API key that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Timeouts, budgets and limits of a client.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP/TLS connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Timeout of one non-streaming request: a poll, a polling create, credits (default 20 s).
    pub request_timeout: Duration,
    /// Budget of the whole SSE phase, from sending the create to a terminal
    /// event (default 120 s); heartbeats do not extend it. When it passes, the
    /// job is polled by id.
    pub sse_timeout: Duration,
    /// Budget of the polling phase (default 900 s).
    pub poll_timeout: Duration,
    /// Wait between polls (default 3 s).
    pub poll_interval: Duration,
    /// Optional bound on a whole job, stream and poll phases together.
    pub deadline: Option<Duration>,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Cap on one SSE event (default 16 MiB).
    pub max_event_bytes: usize,
    /// Cap on one uploaded local file (default 512 MiB); a larger file is a
    /// validation error before any request is sent.
    pub max_upload_bytes: u64,
    /// Cap on one JSON body read whole: a poll answer, a polling create's
    /// answer, credits, an error body (default 8 MiB). Reading stops at the
    /// cap with `Error::Decode`, never buffering past it.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(20),
            sse_timeout: Duration::from_secs(120),
            poll_timeout: Duration::from_secs(900),
            poll_interval: Duration::from_secs(3),
            deadline: None,
            retry: RetryPolicy::default(),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) key: ApiKey,
    /// `Bearer <key>`, built once and shared by every request (a clone is a
    /// reference count, not a new string); `None` when the key cannot be a
    /// header value, so each request reports that error as it always did.
    pub(crate) auth: Option<reqwest::header::HeaderValue>,
    pub(crate) config: Config,
    /// The job ledger, when one was given (feature `ledger`).
    #[cfg(feature = "ledger")]
    pub(crate) ledger: Option<Arc<dyn crate::ledger::Ledger>>,
}

/// A client for the platform. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("api_key", &self.inner.key)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Client {
    /// A client from `SKILLS_VIDEO_API_KEY` and, if set, `SKILLS_VIDEO_BASE_URL`.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().build()
    }

    /// A builder; unset values come from the environment, then the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API base every route is joined to.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The job ledger, if the client has one (feature `ledger`).
    #[cfg(feature = "ledger")]
    pub fn ledger(&self) -> Option<&Arc<dyn crate::ledger::Ledger>> {
        self.inner.ledger.as_ref()
    }

    /// The client's configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The image models, one async function each.
    pub fn images(&self) -> Images<'_> {
        Images { client: self }
    }

    /// The video models, one async function each.
    pub fn videos(&self) -> Videos<'_> {
        Videos { client: self }
    }

    /// The URL of a route relative to the API base; `{...}` placeholders are
    /// filled with `id`, percent-encoded as one path segment. The base's own
    /// path (e.g. `/api/v1`) is always kept.
    pub fn route_url(&self, route: &str, id: Option<&str>) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            for part in route.split('/').filter(|p| !p.is_empty()) {
                if part.starts_with('{') && part.ends_with('}') {
                    segments.push(id.unwrap_or_default());
                } else {
                    segments.push(part);
                }
            }
        }
        url
    }

    pub(crate) fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let request = self.inner.http.request(method, url);
        match &self.inner.auth {
            Some(auth) => request.header(reqwest::header::AUTHORIZATION, auth.clone()),
            None => request.bearer_auth(self.inner.key.expose()),
        }
    }
}

/// The `Authorization` value for `key`, marked sensitive (kept out of
/// debug output and HTTP/2 header compression tables), or `None` when the
/// key holds bytes a header cannot carry.
fn bearer(key: &ApiKey) -> Option<reqwest::header::HeaderValue> {
    let value = bytes::Bytes::from(format!("Bearer {}", key.expose()));
    let mut value = reqwest::header::HeaderValue::from_maybe_shared(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The image models (`client.images()`); one generated async function per model.
#[derive(Debug, Clone, Copy)]
pub struct Images<'c> {
    client: &'c Client,
}

impl<'c> Images<'c> {
    /// The client behind it.
    pub fn client(&self) -> &'c Client {
        self.client
    }
}

/// The video models (`client.videos()`); one generated async function per model.
#[derive(Debug, Clone, Copy)]
pub struct Videos<'c> {
    client: &'c Client,
}

impl<'c> Videos<'c> {
    /// The client behind it.
    pub fn client(&self) -> &'c Client {
        self.client
    }
}

/// Builds a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    base_url: Option<String>,
    config: Config,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
    allow_insecure_http: bool,
    #[cfg(feature = "ledger")]
    ledger: Option<Arc<dyn crate::ledger::Ledger>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key (else `SKILLS_VIDEO_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The API base (else `SKILLS_VIDEO_BASE_URL`, else the platform's).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Timeout of one non-streaming request.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.config.request_timeout = d;
        self
    }

    /// Budget of the SSE phase.
    pub fn sse_timeout(mut self, d: Duration) -> Self {
        self.config.sse_timeout = d;
        self
    }

    /// Budget of the polling phase.
    pub fn poll_timeout(mut self, d: Duration) -> Self {
        self.config.poll_timeout = d;
        self
    }

    /// Wait between polls.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.config.poll_interval = d;
        self
    }

    /// One bound on a whole job (stream and poll phases together).
    pub fn deadline(mut self, d: Duration) -> Self {
        self.config.deadline = Some(d);
        self
    }

    /// The retry policy for transient failures.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Cap on one SSE event's size.
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.config.max_event_bytes = bytes;
        self
    }

    /// Cap on one uploaded local file (default 512 MiB): a larger file is an
    /// [`Error::InvalidRequest`] naming the field and path, before any request.
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.config.max_upload_bytes = bytes;
        self
    }

    /// Cap on a JSON body read whole (poll, credits, error bodies; default 8 MiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Use this `reqwest::Client` (its own timeouts and TLS settings apply).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Allow a plain `http://` base URL on a non-loopback host. The key then
    /// travels in clear text: only for trusted networks.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Journal every generation to this ledger (feature `ledger`): the
    /// intent before the create (a failed intent write stops the create with
    /// [`Error::Ledger`]), the id, status changes, the result. Enables
    /// [`Client::resume`]. Without one, nothing is journaled.
    #[cfg(feature = "ledger")]
    pub fn ledger(mut self, ledger: impl crate::ledger::Ledger) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    /// [`ledger`](Self::ledger) with a ledger already shared.
    #[cfg(feature = "ledger")]
    pub fn ledger_shared(mut self, ledger: Arc<dyn crate::ledger::Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Builds the client, checking the key and the base URL.
    pub fn build(self) -> Result<Client, Error> {
        let key = match self.api_key {
            Some(k) => k,
            None => std::env::var(API_KEY_ENV)
                .ok()
                .map(ApiKey::new)
                .ok_or(Error::MissingApiKey)?,
        };
        if key.expose().trim().is_empty() {
            return Err(Error::MissingApiKey);
        }
        let base_text = self
            .base_url
            .or_else(|| {
                std::env::var(BASE_URL_ENV)
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let base = Url::parse(base_text.trim()).map_err(|e| {
            Error::Config(format!("base URL {base_text:?} is not a valid absolute URL ({e}); expected e.g. {DEFAULT_BASE_URL}"))
        })?;
        match base.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&base) => {}
            "http" => {
                return Err(Error::Config(format!(
                    "refusing plain http:// base URL {base} for a non-loopback host: the API key would travel in clear text; use https:// or call allow_insecure_http(true)"
                )))
            }
            other => return Err(Error::Config(format!("base URL scheme {other:?} is not http(s)"))),
        }
        if self.config.max_event_bytes == 0 {
            return Err(Error::Config(
                "max_event_bytes must be greater than zero".into(),
            ));
        }
        let http =
            match self.http {
                Some(http) => http,
                None => reqwest::Client::builder()
                    .connect_timeout(self.config.connect_timeout)
                    .user_agent(self.user_agent.unwrap_or_else(|| {
                        format!("skills-video-rust/{}", env!("CARGO_PKG_VERSION"))
                    }))
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
            };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth: bearer(&key),
                key,
                config: self.config,
                #[cfg(feature = "ledger")]
                ledger: self.ledger,
            }),
        })
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Result<Client, Error> {
        Client::builder()
            .api_key("sk-secret-123")
            .base_url(base)
            .build()
    }

    #[test]
    fn path_prefix_is_kept() {
        let c = client("https://example.com/proxy/api/v1/").unwrap();
        assert_eq!(
            c.route_url("/generation/sse/google/nano-banana-pro", None)
                .as_str(),
            "https://example.com/proxy/api/v1/generation/sse/google/nano-banana-pro"
        );
        assert_eq!(
            c.route_url("/generation/{id}", Some("a/b c")).as_str(),
            "https://example.com/proxy/api/v1/generation/a%2Fb%20c"
        );
    }

    #[test]
    fn insecure_http_needs_loopback_or_opt_in() {
        assert!(client("http://127.0.0.1:9/api/v1").is_ok());
        assert!(client("http://localhost:9/api/v1").is_ok());
        let err = client("http://example.com/api/v1").unwrap_err();
        assert!(err.to_string().contains("clear text"));
        assert!(Client::builder()
            .api_key("k")
            .base_url("http://example.com/api/v1")
            .allow_insecure_http(true)
            .build()
            .is_ok());
        assert!(client("not a url").is_err());
    }

    #[test]
    fn key_is_redacted() {
        let c = client("https://example.com/api/v1").unwrap();
        let shown = format!("{c:?} {:?} {}", c.inner.key, c.inner.key);
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn missing_key_explains_how_to_get_one() {
        let err = Client::builder().api_key("  ").build().unwrap_err();
        assert!(matches!(err, Error::MissingApiKey));
        assert!(err
            .to_string()
            .contains("https://skills.video/dashboard/developer"));
        assert!(err.to_string().contains("SKILLS_VIDEO_API_KEY"));
    }
}
