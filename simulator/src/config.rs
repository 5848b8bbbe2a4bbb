//! The simulator's configuration.

use std::time::Duration;

use crate::faults::FaultRule;

/// The OpenAPI document compiled into the simulator and used by
/// [`SimulatorConfig::default`].
pub const EMBEDDED_SPEC: &str = include_str!("../../specs/openapi.json");

/// The docs.json compiled into the simulator: it says which models are
/// images and which are videos, as it does for the generator.
pub const EMBEDDED_DOCS: &str = include_str!("../../specs/docs.json");

/// How a [`Simulator`](crate::Simulator) behaves.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Bearer key required on every `/api/v1` route except `/api/v1/files/...`
    /// (otherwise `401 {"message":"Invalid or missing API key"}`).
    pub api_key: String,
    /// Starting balance. Each accepted create costs
    /// [`cost_per_generation`](Self::cost_per_generation); when the balance is
    /// insufficient the create is answered `402`.
    pub credits: f64,
    /// Price of one accepted generation (default 1.0).
    pub cost_per_generation: f64,
    /// Time between job state steps (default zero: jobs complete at once, while
    /// SSE streams still carry every event).
    pub step_delay: Duration,
    /// Number of `IN_PROGRESS` progress events (default 3).
    pub progress_steps: u32,
    /// The OpenAPI document whose `POST /generation/...` operations define the
    /// models and their request schemas (default: [`EMBEDDED_SPEC`]).
    pub spec: serde_json::Value,
    /// The Mintlify docs.json whose `Images`/`Videos` groups give each model
    /// its category (default: [`EMBEDDED_DOCS`]); a model it does not list
    /// takes the category from its operation's `Images`/`Videos` tag, else images.
    pub docs: serde_json::Value,
    /// The initial fault plan.
    pub faults: Vec<FaultRule>,
    /// Bound of the in-memory job store (default 100,000). Past it the oldest
    /// job is evicted; as every job has the same timeline, the oldest one is
    /// also the first to have finished.
    pub max_jobs: usize,
    /// Interval of SSE `: heartbeat` comments while a stream waits
    /// (default 15 s).
    pub heartbeat_interval: Duration,
    /// Also accept HTTP/2 over cleartext (prior knowledge), up to 100,000
    /// concurrent streams per connection, so one client connection can carry
    /// many generations (the in-flight memory benchmark). Off by default:
    /// then axum serves HTTP/1.1 with graceful shutdown.
    pub http2: bool,
    /// Cap on a `multipart/form-data` create body, files included (default
    /// 512 MiB); past it the create is answered `413`.
    pub max_upload_bytes: u64,
    /// Models served besides those of [`spec`](Self::spec), by id
    /// (`acme/brand-new-model`): each gets the SSE and the polling create
    /// route and a permissive request schema (any JSON object), like a
    /// model the platform added after the SDK's catalog was generated.
    pub extra_models: Vec<String>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            api_key: "sk-simulator".to_string(),
            credits: 1000.0,
            cost_per_generation: 1.0,
            step_delay: Duration::ZERO,
            progress_steps: 3,
            spec: embedded_spec(),
            docs: serde_json::from_str(EMBEDDED_DOCS).unwrap_or(serde_json::Value::Null),
            faults: Vec::new(),
            max_jobs: 100_000,
            heartbeat_interval: Duration::from_secs(15),
            http2: false,
            max_upload_bytes: 512 * 1024 * 1024,
            extra_models: Vec::new(),
        }
    }
}

/// The parsed [`EMBEDDED_SPEC`].
pub fn embedded_spec() -> serde_json::Value {
    // The embedded document is checked by the test suite; an unparsable one
    // yields an empty spec (no models) rather than a panic.
    serde_json::from_str(EMBEDDED_SPEC).unwrap_or(serde_json::Value::Null)
}

/// The [`EMBEDDED_SPEC`] cut down to the create routes of `models` (both the
/// SSE and the polling route of each; every other path is removed, the
/// components are kept). A simulator compiles one request validator per
/// model when it starts (each with only the components it reaches), about
/// half a second for the whole catalog in a loaded debug build: a test that
/// generates with one or two models starts its simulator on this spec in
/// milliseconds. Any other model is then unknown to the
/// simulator (`404`), so a test that strays from its list fails loudly.
pub fn embedded_spec_serving(models: &[&str]) -> serde_json::Value {
    let mut spec = embedded_spec();
    if let Some(paths) = spec
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        paths.retain(|path, _| {
            skills_video_routes::route::parse(path).is_some_and(|(id, _)| models.contains(&id))
        });
    }
    spec
}

/// `spec` with the routes of every id of `extra` added: `POST
/// /generation/{id}` and `POST /generation/sse/{id}`, tagged `Images`, whose
/// request schema accepts any JSON object. `spec` itself is returned
/// (borrowed) when there is none.
pub(crate) fn with_extra_models<'a>(
    spec: &'a serde_json::Value,
    extra: &[String],
) -> std::borrow::Cow<'a, serde_json::Value> {
    if extra.is_empty() {
        return std::borrow::Cow::Borrowed(spec);
    }
    let mut spec = spec.clone();
    if !spec.get("paths").is_some_and(serde_json::Value::is_object) {
        spec["paths"] = serde_json::json!({});
    }
    for id in extra {
        let id = id.trim_matches('/');
        let op = serde_json::json!({"post": {
            "tags": ["Images"],
            "summary": format!("{id} (an extra model of the simulator)"),
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object"}
            }}},
        }});
        spec["paths"][format!("/generation/{id}")] = op.clone();
        spec["paths"][format!("/generation/sse/{id}")] = op;
    }
    std::borrow::Cow::Owned(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_serving_one_model_keeps_both_of_its_routes_and_nothing_else() {
        let full = embedded_spec();
        let spec = embedded_spec_serving(&["google/nano-banana-pro"]);
        let paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            [
                "/generation/google/nano-banana-pro",
                "/generation/sse/google/nano-banana-pro"
            ],
        );
        assert_eq!(
            spec["paths"]["/generation/google/nano-banana-pro"],
            full["paths"]["/generation/google/nano-banana-pro"]
        );
        assert_eq!(spec["components"], full["components"]);
        assert!(embedded_spec_serving(&[])
            .get("paths")
            .unwrap()
            .as_object()
            .unwrap()
            .is_empty());
    }
}
