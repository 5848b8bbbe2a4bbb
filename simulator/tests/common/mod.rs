//! Shared helpers of the simulator's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use skills_video_simulator::{RunningSimulator, Simulator, SimulatorConfig};

/// The key every test simulator requires.
pub const KEY: &str = "test-key";

/// The fixture spec.
pub fn fixture_spec() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini-openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

/// The project's spec, when it exists.
pub fn project_spec() -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/openapi.json");
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("specs/openapi.json is JSON"))
}

/// A config for tests: fixture spec, zero delay, key [`KEY`].
pub fn config() -> SimulatorConfig {
    SimulatorConfig {
        api_key: KEY.to_string(),
        spec: fixture_spec(),
        credits: 100.0,
        ..SimulatorConfig::default()
    }
}

/// Starts a simulator on a free loopback port.
pub async fn start(config: SimulatorConfig) -> RunningSimulator {
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// A client with a generous overall timeout (no test should get near it).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// `POST {base}/generation/{route}` with the test key.
pub fn post(sim: &RunningSimulator, route: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/generation/{route}", sim.base_url()))
        .bearer_auth(KEY)
        .json(body)
}

/// `GET {base}/{path}` with the test key.
pub fn get(sim: &RunningSimulator, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}/{path}", sim.base_url()))
        .bearer_auth(KEY)
}

/// A simple prompt body.
pub fn prompt() -> Value {
    json!({"prompt": "a cat astronaut"})
}

/// Reads a body chunk by chunk until it ends or fails; returns the bytes read
/// and whether the body ended cleanly.
pub async fn read_all(mut resp: reqwest::Response) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => out.extend_from_slice(&chunk),
            Ok(Ok(None)) => return (out, true),
            Ok(Err(_)) => return (out, false),
            Err(_) => panic!(
                "body read timed out; got {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `event:` field, `message` by default.
    pub name: String,
    /// `id:` field.
    pub id: Option<String>,
    /// `data:` lines joined with `\n`.
    pub data: String,
}

impl Event {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

/// A tolerant SSE parser: any line ending, optional BOM, comments skipped,
/// and a pending event dispatched at end of input.
pub fn parse_events(raw: &[u8]) -> Vec<Event> {
    let text = String::from_utf8_lossy(raw);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut events = Vec::new();
    let (mut name, mut id, mut data): (Option<String>, Option<String>, Vec<String>) =
        (None, None, Vec::new());
    let mut flush = |name: &mut Option<String>, id: &mut Option<String>, data: &mut Vec<String>| {
        if !data.is_empty() {
            events.push(Event {
                name: name.take().unwrap_or_else(|| "message".into()),
                id: id.take(),
                data: data.join("\n"),
            });
        }
        *name = None;
        data.clear();
    };
    for line in text.split('\n') {
        if line.is_empty() {
            flush(&mut name, &mut id, &mut data);
        } else if line.starts_with(':') {
            continue;
        } else {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => name = Some(value.to_string()),
                "id" => id = Some(value.to_string()),
                "data" => data.push(value.to_string()),
                _ => {}
            }
        }
    }
    flush(&mut name, &mut id, &mut data);
    events
}

/// Builds a JSON Schema validator for `#/components/schemas/{name}` of an
/// OpenAPI document, with the simulator's converter.
pub fn component_validator(spec: &Value, name: &str) -> jsonschema::Validator {
    let mut defs = serde_json::Map::new();
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (k, v) in schemas {
            defs.insert(k.clone(), skills_video_simulator::spec::convert(v));
        }
    }
    let root = json!({"$ref": format!("#/$defs/{name}"), "$defs": defs});
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .expect("component schema compiles")
}

/// Asserts `value` is valid against a component schema.
pub fn assert_shape(spec: &Value, name: &str, value: &Value) {
    let v = component_validator(spec, name);
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} shape errors: {errors:?}\nvalue: {value:#}"
    );
}
