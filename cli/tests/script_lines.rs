//! `skills-video --json generate` as a drop-in for the platform's
//! `create_and_wait` helper script: for each scenario the lines are checked,
//! one by one, against the script's format written out below (event names,
//! order, the keys the script prints with their JSON types, Python's
//! spacing, and the shape of `terminal.response`).

mod common;

use std::time::Duration;

use common::{bin, run, Sim};
use serde_json::Value;
use skills_video_simulator::{Fault, FaultRule};

/// The script's format, as the platform reference states it
/// (`../shared/reference/platform-api.md`, "The reference helper scripts").
/// [`SCRIPT_KEYS`] is this text as a table.
#[allow(dead_code)]
const SCRIPT_FORMAT: &str = r#"
create_and_wait: prints one JSON object per line: start, sse_open, sse_event (with
sse_event_name, generation_id, status, status_key, terminal, payload), sse_stream_ended,
sse_http_error, sse_timeout, sse_connect_error, fallback_polling_start,
fallback_polling_end, and last terminal (source sse or poll, ok, generation_id, response)
or error. Exit 0 on success, 10 on a terminal failure, 1 on a missing key or bad
arguments, 3 when the stream ended without an id (nothing to poll).
Keys per line, as the script prints them:
  start {url, mode: "sse_then_poll_fallback"}
  sse_open {http_status, url}
  sse_event as above
  sse_stream_ended {generation_id, message}
  sse_http_error {http_status, message, payload: the body parsed as JSON, else text}
  sse_timeout and sse_connect_error {message, generation_id}
  fallback_polling_start {generation_id, command}
  the poller's own lines (poll, with http_status), ending with its terminal
  then fallback_polling_end {generation_id, exit_code}
  terminal over SSE {source: "sse", ok, generation_id,
                     response: the last event's parsed payload as received}
  error {error, message, ...}
Lines are Python's default JSON spacing ({"event": "start", "url": ...}) with
non-ASCII kept.
"#;

/// A JSON type the script may print for a key.
#[derive(Debug, Clone, Copy)]
enum T {
    Str,
    StrOrNull,
    Int,
    IntOrNull,
    Bool,
    Object,
    /// Any JSON (a payload: the body as JSON, else text).
    Any,
}

fn has_type(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::StrOrNull => v.is_string() || v.is_null(),
        T::Int => v.is_u64() || v.is_i64(),
        T::IntOrNull => v.is_u64() || v.is_i64() || v.is_null(),
        T::Bool => v.is_boolean(),
        T::Object => v.is_object(),
        T::Any => true,
    }
}

/// [`SCRIPT_FORMAT`] as a table: every event the script prints and the keys
/// it puts in it.
const SCRIPT_KEYS: &[(&str, &[(&str, T)])] = &[
    ("start", &[("url", T::Str), ("mode", T::Str)]),
    ("sse_open", &[("http_status", T::Int), ("url", T::Str)]),
    (
        "sse_event",
        &[
            ("sse_event_name", T::Str),
            ("generation_id", T::StrOrNull),
            ("status", T::StrOrNull),
            ("status_key", T::StrOrNull),
            ("terminal", T::Bool),
            ("payload", T::Any),
        ],
    ),
    (
        "sse_stream_ended",
        &[("generation_id", T::StrOrNull), ("message", T::Str)],
    ),
    (
        "sse_http_error",
        &[
            ("http_status", T::Int),
            ("message", T::Str),
            ("payload", T::Any),
        ],
    ),
    (
        "sse_timeout",
        &[("message", T::Str), ("generation_id", T::StrOrNull)],
    ),
    (
        "sse_connect_error",
        &[("message", T::Str), ("generation_id", T::StrOrNull)],
    ),
    (
        "fallback_polling_start",
        &[("generation_id", T::Str), ("command", T::Str)],
    ),
    ("poll", &[("http_status", T::IntOrNull)]),
    (
        "fallback_polling_end",
        &[("generation_id", T::StrOrNull), ("exit_code", T::Int)],
    ),
    (
        "terminal",
        &[
            ("source", T::Str),
            ("ok", T::Bool),
            ("generation_id", T::StrOrNull),
            ("response", T::Object),
        ],
    ),
    ("error", &[("error", T::Str), ("message", T::Str)]),
];

/// Python's `json.dumps(value, ensure_ascii=False)`, written independently
/// of the CLI's formatter: `", "` between items, `": "` after keys.
fn py_dumps(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), py_dumps(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(py_dumps).collect();
            format!("[{}]", items.join(", "))
        }
        other => serde_json::to_string(other).unwrap(),
    }
}

/// Checks every line against the script's format and the event sequence
/// against `pattern` (`name`, `name+` one or more, `name*` any number).
/// Returns the parsed lines.
fn check(r: &common::Run, pattern: &[&str]) -> Vec<Value> {
    let raw: Vec<&str> = r.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!raw.is_empty(), "no output; stderr: {}", r.stderr);
    let mut lines = Vec::new();
    for line in &raw {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        // Spacing: exactly what Python's json.dumps prints for the same object.
        assert_eq!(*line, py_dumps(&v), "not Python's spacing");
        assert!(line.starts_with(r#"{"event": ""#), "{line}");
        let event = v["event"].as_str().expect("event name");
        let keys = SCRIPT_KEYS
            .iter()
            .find(|(name, _)| *name == event)
            .unwrap_or_else(|| panic!("an event the script never prints: {line}"))
            .1;
        for (key, t) in keys {
            let value = v
                .get(*key)
                .unwrap_or_else(|| panic!("{event} lacks the script's key {key:?}: {line}"));
            assert!(has_type(value, *t), "{event}.{key} is not {t:?}: {line}");
        }
        lines.push(v);
    }
    // Order.
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    let mut i = 0;
    for step in pattern {
        let (name, min, many) = match (step.strip_suffix('+'), step.strip_suffix('*')) {
            (Some(n), _) => (n, 1, true),
            (_, Some(n)) => (n, 0, true),
            _ => (*step, 1, false),
        };
        let mut n = 0;
        while i < events.len() && events[i] == name && (many || n == 0) {
            i += 1;
            n += 1;
        }
        assert!(
            n >= min,
            "expected {step} at line {i}: {events:?}\n{}",
            r.stdout
        );
    }
    assert_eq!(i, events.len(), "extra lines after {pattern:?}: {events:?}");
    // The script's fixed values, and one outcome, last.
    assert_eq!(lines[0]["mode"], "sse_then_poll_fallback");
    let outcomes = events
        .iter()
        .filter(|e| matches!(**e, "terminal" | "error"))
        .count();
    assert_eq!(outcomes, 1, "{events:?}");
    lines
}

fn generate(sim: &Sim, model: &str, extra: &[&str]) -> common::Run {
    let mut c = sim.cmd();
    c.args(["--json", "generate", model, "--poll-interval", "0.1"]);
    c.args(extra);
    run(&mut c)
}

const MODEL: &str = "bytedance/seedream-4.5";

#[test]
fn happy_path_is_the_scripts_sse_run() {
    let sim = Sim::new();
    let r = generate(&sim, MODEL, &["--prompt", "café ☕ au lait"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = check(&r, &["start", "sse_open", "sse_event+", "terminal"]);
    // Non-ASCII kept as is (the prompt comes back in the generation's input).
    assert!(r.stdout.contains("café ☕ au lait") && !r.stdout.contains("\\u00e9"));
    let start = &lines[0];
    assert!(start["url"]
        .as_str()
        .unwrap()
        .ends_with("/generation/sse/bytedance/seedream-4.5"));
    assert_eq!(start["cli_mode"], "sse");
    assert_eq!(lines[1]["url"], start["url"]);
    // terminal.response: the last event's payload exactly as received, the
    // generation object beside it.
    let last_event = &lines[lines.len() - 2];
    let terminal = &lines[lines.len() - 1];
    assert_eq!(terminal["source"], "sse");
    assert_eq!(terminal["ok"], true);
    assert_eq!(terminal["response"], last_event["payload"]);
    let response = &terminal["response"];
    assert_eq!(response["generation_id"], terminal["generation_id"]);
    assert_eq!(response["status"], "COMPLETED");
    let url = response["generation"]["output"]["images"][0]["url"]
        .as_str()
        .expect(".response.generation.output.images[0].url");
    assert_eq!(terminal["generation"], response["generation"]);
    assert_eq!(terminal["outputs"][0], url);
    assert_eq!(sim.creates(), 1);
}

#[test]
fn drop_after_the_id_falls_back_with_a_working_wait_command() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(150));
    sim.faults(vec![FaultRule::always(Fault::DropAfterId)]);
    let r = generate(&sim, MODEL, &["--prompt", "x"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = check(
        &r,
        &[
            "start",
            "sse_open",
            "sse_event+",
            "sse_stream_ended",
            "fallback_polling_start",
            "poll+",
            "fallback_polling_end",
            "terminal",
        ],
    );
    let find = |name: &str| lines.iter().find(|l| l["event"] == name).unwrap().clone();
    let id = find("sse_event")["generation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(find("sse_stream_ended")["generation_id"], id.as_str());
    assert_eq!(find("poll")["http_status"], 200);
    assert_eq!(find("fallback_polling_end")["exit_code"], 0);
    let terminal = lines.last().unwrap();
    assert_eq!(terminal["source"], "poll");
    assert_eq!(terminal["response"]["id"], id.as_str());
    assert_eq!(sim.creates(), 1, "a fall-back never creates again");
    // The command is the equivalent `skills-video wait`: run it.
    let command = find("fallback_polling_start")["command"]
        .as_str()
        .unwrap()
        .to_string();
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        &words[..3],
        ["skills-video", "wait", id.as_str()],
        "{command}"
    );
    assert!(
        command.contains("--timeout 900 --interval 0.1"),
        "{command}"
    );
    let waited = run(bin()
        .env("SKILLS_VIDEO_API_KEY", common::KEY)
        .arg("--json")
        .args(&words[1..]));
    assert_eq!(waited.code, 0, "{command}: {}", waited.stdout);
    assert_eq!(waited.last()["generation_id"], id.as_str());
}

#[test]
fn wrong_key_is_an_sse_http_error_with_the_body_as_payload() {
    let sim = Sim::new();
    let r = run(bin()
        .args(["--json", "generate", MODEL, "--prompt", "x", "--base-url"])
        .arg(sim.sim.base_url())
        .args(["--api-key", "sk-wrong-key"]));
    assert_eq!(r.code, 21, "{}", r.stdout);
    let lines = check(&r, &["start", "sse_http_error", "error"]);
    assert_eq!(lines[1]["http_status"], 401);
    assert!(lines[1]["payload"]["message"].is_string(), "{}", lines[1]);
}

/// A retried 503 on the SSE create is an `sse_http_error` line whose
/// `payload` is the server's body, as the script prints it.
#[test]
fn a_retried_503_carries_its_body_as_payload() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::times(
        Fault::CreateStatus {
            status: 503,
            retry_after_secs: Some(0),
        },
        1,
    )]);
    let r = generate(&sim, MODEL, &["--prompt", "x"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let retried = r
        .lines()
        .into_iter()
        .find(|l| l["event"] == "sse_http_error")
        .expect("an sse_http_error line for the 503");
    assert_eq!(retried["http_status"], 503);
    assert_eq!(retried["retrying"], true);
    assert!(retried["payload"]["message"].is_string(), "{retried}");
}

#[test]
fn no_credits_is_an_sse_http_error_then_the_error() {
    let sim = Sim::with(|c| c.credits = 0.0);
    let r = generate(&sim, MODEL, &["--prompt", "x"]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    let lines = check(&r, &["start", "sse_http_error", "error"]);
    assert_eq!(lines[1]["http_status"], 402);
    assert!(lines[1]["payload"].is_object(), "{}", lines[1]);
    assert_eq!(lines[2]["error"], "insufficient_credits");
}

#[test]
fn an_invalid_value_is_refused_after_start() {
    let sim = Sim::new();
    let r = generate(&sim, MODEL, &["--prompt", "x", "--set", "aspect_ratio=7:5"]);
    assert_eq!(r.code, 22, "{}", r.stdout);
    let lines = check(&r, &["start", "error"]);
    assert_eq!(lines[1]["error"], "validation");
    assert_eq!(sim.creates(), 0);
}

#[test]
fn an_unknown_model_is_refused_after_start() {
    let sim = Sim::new();
    let r = generate(&sim, "acme/brand-new-model", &["--prompt", "x"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let lines = check(&r, &["start", "error"]);
    assert!(lines[0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/generation/sse/acme/brand-new-model"));
    assert_eq!(sim.creates(), 0);
}

#[test]
fn sse_timeout_then_polling() {
    let sim = Sim::with(|c| c.heartbeat_interval = Duration::from_millis(100));
    sim.faults(vec![FaultRule::always(Fault::StallHeartbeats)]);
    let r = generate(&sim, MODEL, &["--prompt", "x", "--sse-timeout", "1"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    check(
        &r,
        &[
            "start",
            "sse_open",
            "sse_event*",
            "sse_timeout",
            "fallback_polling_start",
            "poll+",
            "fallback_polling_end",
            "terminal",
        ],
    );
    assert_eq!(sim.creates(), 1);
}

#[test]
fn connect_error_then_the_error() {
    // A port with nothing listening: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = run(bin()
        .args([
            "--json",
            "generate",
            MODEL,
            "--prompt",
            "x",
            "--max-retries",
            "0",
        ])
        .args(["--api-key", common::KEY, "--base-url"])
        .arg(format!("http://127.0.0.1:{port}/api/v1")));
    assert_eq!(r.code, 24, "{}", r.stdout);
    let lines = check(&r, &["start", "sse_connect_error", "error"]);
    assert_eq!(lines[2]["error"], "transient");
}

#[test]
fn raw_sends_any_model_unchecked_with_one_create() {
    let sim = Sim::with(|c| c.extra_models = vec!["acme/brand-new-model".into()]);
    let r = generate(
        &sim,
        "acme/brand-new-model",
        &["--raw", "--payload", r#"{"prompt":"x"}"#],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let lines = check(&r, &["start", "sse_open", "sse_event+", "terminal"]);
    assert!(r.stderr.contains("nothing was validated"), "{}", r.stderr);
    assert_eq!(lines[0]["raw"], true);
    assert_eq!(lines[0]["model"], "acme/brand-new-model");
    assert!(lines[0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/generation/sse/acme/brand-new-model"));
    let terminal = lines.last().unwrap();
    assert_eq!(terminal["ok"], true);
    assert_eq!(terminal["response"]["generation"]["input"]["prompt"], "x");
    assert_eq!(sim.creates(), 1, "exactly one create");

    // An endpoint path names the same model.
    let r = generate(
        &sim,
        "POST /generation/acme/brand-new-model",
        &["--raw", "--prompt", "y", "--no-sse"],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.lines()[0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/generation/acme/brand-new-model"));
    assert_eq!(sim.creates(), 2);

    // Without --raw the error says how to use it, and nothing is sent.
    let r = generate(
        &sim,
        "acme/brand-new-model",
        &["--payload", r#"{"prompt":"x"}"#],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let message = r.last()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("--raw")
            && message.contains("skills-video generate acme/brand-new-model --raw --payload"),
        "{message}"
    );
    assert_eq!(sim.creates(), 2);

    // A path that is not plain segments is refused before anything is sent.
    let r = generate(&sim, "acme/../credits", &["--raw", "--prompt", "x"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    check(&r, &["start", "error"]);
    assert_eq!(sim.creates(), 2);
}

#[test]
fn raw_to_a_model_the_platform_lacks_is_not_found() {
    let sim = Sim::new();
    let r = generate(&sim, "acme/nothing-here", &["--raw", "--prompt", "x"]);
    assert_eq!(r.code, 23, "{}", r.stdout);
    // The SSE route's 404 sends it to the polling route, which answers 404 too.
    check(&r, &["start", "sse_http_error", "error"]);
    // Two create requests (SSE, then polling), both answered 404: no job.
    assert_eq!(sim.creates(), 2);
}
