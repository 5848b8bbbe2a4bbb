//! A client written from `shared/reference/platform-api.md` alone, with no
//! knowledge of the simulator or the SDK: POST the SSE route, read events
//! line by line, find the status and id under the listed keys, poll by id
//! when needed, and download the output. It must get a terminal result and a
//! real PNG from the simulator's default behaviour.

use serde_json::Value;
use skills_video_simulator::{Fault, FaultRule};
use skills_video_tests::matrix::{self, Setup, KEY};

const STATUS_KEYS: &[&str] = &[
    "status",
    "state",
    "queue_state",
    "queueState",
    "prediction_status",
    "predictionStatus",
];
const ID_KEYS: &[&str] = &[
    "generation_id",
    "generationId",
    "prediction_id",
    "predictionId",
    "task_id",
    "taskId",
    "id",
];
const TERMINAL: &[&str] = &["COMPLETED", "SUCCEEDED", "FAILED", "CANCELED", "CANCELLED"];

fn first_string(v: &Value, keys: &[&str]) -> Option<String> {
    match v {
        Value::Object(m) => keys
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string))
            .or_else(|| m.values().find_map(|c| first_string(c, keys))),
        Value::Array(a) => a.iter().find_map(|c| first_string(c, keys)),
        _ => None,
    }
}

fn first_url(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| m.values().find_map(first_url)),
        Value::Array(a) => a.iter().find_map(first_url),
        _ => None,
    }
}

/// Runs the reference lifecycle; returns (terminal status, source, body).
async fn reference_generate(base: &str) -> (String, &'static str, Value) {
    let http = reqwest::Client::new();
    let mut response = http
        .post(format!("{base}/generation/sse/google/nano-banana-pro"))
        .bearer_auth(KEY)
        .header("Accept", "text/event-stream")
        .json(
            &serde_json::json!({"prompt": "Minimal product photo of a matte black coffee grinder"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    let mut id: Option<String> = None;
    let mut data = Vec::new();
    // Read the stream, dispatching an event on each blank line.
    while let Ok(Some(chunk)) = response.chunk().await {
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(pos) = text.find('\n') {
            let line: String = text.drain(..=pos).collect();
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(d) = line.strip_prefix("data:") {
                data.push(d.trim_start().to_string());
            } else if line.is_empty() && !data.is_empty() {
                let payload: Value = serde_json::from_str(&data.join("\n")).unwrap_or(Value::Null);
                data.clear();
                if id.is_none() {
                    id = first_string(&payload, ID_KEYS);
                }
                if let Some(status) = first_string(&payload, STATUS_KEYS) {
                    if TERMINAL.contains(&status.to_uppercase().as_str()) {
                        return (status, "sse", payload);
                    }
                }
            }
        }
    }
    // The stream ended early: poll by id.
    let id = id.expect("an id before the stream ended");
    for _ in 0..200 {
        let body: Value = http
            .get(format!("{base}/generation/{id}"))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(status) = first_string(&body, STATUS_KEYS) {
            if TERMINAL.contains(&status.to_uppercase().as_str()) {
                return (status, "poll", body);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no terminal status");
}

async fn check(faults: Vec<FaultRule>, expected_source: &str) {
    let sim = matrix::simulator_serving(&Setup::default(), faults, &[matrix::CASE_MODEL]).await;
    let (status, source, body) = reference_generate(&sim.base_url()).await;
    assert_eq!(status, "COMPLETED");
    assert_eq!(source, expected_source);
    let url = first_url(&body).expect("an output url");
    let png = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a real PNG");
    assert!(png.len() > 100);
}

#[tokio::test]
async fn reference_client_gets_a_terminal_result_and_a_png_over_sse() {
    check(vec![], "sse").await;
}

#[tokio::test]
async fn reference_client_recovers_by_polling_after_a_drop() {
    check(vec![FaultRule::always(Fault::DropAfterId)], "poll").await;
}
