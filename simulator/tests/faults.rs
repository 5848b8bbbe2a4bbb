//! Every fault's wire behaviour.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use skills_video_simulator::{Fault, FaultRule, RunningSimulator, SimulatorConfig};

const MODEL: &str = "google/nano-banana-pro";

async fn with_faults(faults: Vec<FaultRule>) -> RunningSimulator {
    start(SimulatorConfig { faults, ..config() }).await
}

async fn sse(sim: &RunningSimulator) -> (u16, Vec<u8>, bool) {
    let resp = post(sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let (raw, clean) = read_all(resp).await;
    (status, raw, clean)
}

async fn poll_status(sim: &RunningSimulator, id: &str) -> Value {
    get(sim, &format!("generation/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

#[tokio::test]
async fn drop_before_event() {
    let sim = with_faults(vec![FaultRule::times(Fault::DropBeforeEvent, 1)]).await;
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let (raw, _) = read_all(resp).await;
    assert!(raw.is_empty(), "{:?}", String::from_utf8_lossy(&raw));
    assert_eq!(sim.job_count(), 1, "the job was accepted");
    assert_eq!(sim.credits(), 99.0, "and charged");
    // Spent: the next stream is normal.
    let (_, raw, _) = sse(&sim).await;
    assert_eq!(parse_events(&raw).len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_after_id() {
    let sim = with_faults(vec![FaultRule::always(Fault::DropAfterId)]).await;
    let (status, raw, clean) = sse(&sim).await;
    assert_eq!(status, 200);
    assert!(clean);
    let events = parse_events(&raw);
    assert_eq!(names(&events), ["queued"]);
    let id = events[0].json()["generation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(poll_status(&sim, &id).await["status"], "COMPLETED");
    sim.shutdown().await;
}

#[tokio::test]
async fn stall_heartbeats() {
    let sim = start(SimulatorConfig {
        faults: vec![FaultRule::always(Fault::StallHeartbeats)],
        heartbeat_interval: Duration::from_millis(10),
        ..config()
    })
    .await;
    let mut resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    let mut raw = Vec::new();
    while raw.windows(12).filter(|w| w == b": heartbeat\n").count() < 3 {
        let chunk = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
            .await
            .expect("heartbeats arrive")
            .unwrap()
            .expect("the stream stays open");
        raw.extend_from_slice(&chunk);
    }
    let events = parse_events(&raw);
    assert_eq!(names(&events), ["queued"]);
    let id = events[0].json()["generation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(poll_status(&sim, &id).await["status"], "COMPLETED");
    drop(resp);
    // Shutdown ends the stalled streams of other clients too.
    let _open = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn create_status_with_retry_after() {
    let sim = with_faults(vec![FaultRule::times(
        Fault::CreateStatus {
            status: 503,
            retry_after_secs: Some(2),
        },
        2,
    )])
    .await;
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    let resp = post(&sim, MODEL, &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 503, "the polling route too");
    assert_eq!(sim.job_count(), 0);
    assert_eq!(sim.credits(), 100.0);
    assert_eq!(
        post(&sim, MODEL, &prompt()).send().await.unwrap().status(),
        200
    );
    assert_eq!(sim.creates(), 3);

    // 429 without Retry-After.
    sim.set_faults(vec![FaultRule::always(Fault::CreateStatus {
        status: 429,
        retry_after_secs: None,
    })]);
    let resp = post(&sim, MODEL, &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn poll_status_fault() {
    let sim = start(config()).await;
    let created: Value = post(&sim, MODEL, &prompt())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    sim.set_faults(vec![FaultRule::times(
        Fault::PollStatus {
            status: 429,
            retry_after_secs: Some(1),
        },
        1,
    )]);
    let resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_first_byte() {
    let sim = with_faults(vec![FaultRule::always(Fault::SlowFirstByte {
        delay_ms: 150,
    })])
    .await;
    let t = Instant::now();
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    let (raw, _) = read_all(resp).await;
    assert_eq!(parse_events(&raw).len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_json() {
    let sim = with_faults(vec![FaultRule::always(Fault::MalformedJson)]).await;
    let (_, raw, _) = sse(&sim).await;
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.starts_with("id: 1\ndata: {not json\n\n"), "{text}");
    let events = parse_events(&raw);
    assert!(serde_json::from_str::<Value>(&events[0].data).is_err());
    assert_eq!(
        names(&events[1..]),
        ["queued", "progress", "progress", "progress", "completed"]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_blank_line() {
    let sim = with_faults(vec![FaultRule::always(Fault::MissingBlankLine)]).await;
    let (_, raw, clean) = sse(&sim).await;
    assert!(clean);
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"), "{text}");
    let last_event = text.rsplit("\n\n").next().unwrap();
    assert!(last_event.starts_with("event: completed\n"), "{last_event}");
    // A tolerant parser still sees it at end of input.
    assert_eq!(
        parse_events(&raw).last().unwrap().json()["status"],
        "COMPLETED"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn crlf_only() {
    let sim = with_faults(vec![FaultRule::always(Fault::CrlfOnly)]).await;
    let (_, raw, _) = sse(&sim).await;
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.contains("\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "no bare LF"
    );
    assert_eq!(
        text.matches('\r').count(),
        text.matches("\r\n").count(),
        "no bare CR"
    );
    assert!(text.ends_with("\r\n\r\n"));
    assert_eq!(parse_events(&raw).len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn cr_only() {
    let sim = with_faults(vec![FaultRule::always(Fault::CrOnly)]).await;
    let (_, raw, _) = sse(&sim).await;
    assert!(!raw.contains(&b'\n'));
    assert!(raw.ends_with(b"\r\r"));
    assert_eq!(parse_events(&raw).len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn bom() {
    let sim = with_faults(vec![FaultRule::always(Fault::Bom)]).await;
    let (_, raw, _) = sse(&sim).await;
    assert!(raw.starts_with(&[0xEF, 0xBB, 0xBF, b'e']));
    assert_eq!(
        raw.windows(3).filter(|w| w == &[0xEF, 0xBB, 0xBF]).count(),
        1
    );
    assert_eq!(parse_events(&raw).len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn multiline_data() {
    let sim = with_faults(vec![FaultRule::always(Fault::MultilineData)]).await;
    let (_, raw, _) = sse(&sim).await;
    let text = String::from_utf8(raw.clone()).unwrap();
    let first_event = text.split("\n\n").next().unwrap();
    assert!(first_event.matches("\ndata: ").count() > 3, "{first_event}");
    let events = parse_events(&raw);
    assert_eq!(events.len(), 5);
    assert_eq!(events[0].json()["status"], "IN_QUEUE");
    assert_eq!(events[4].json()["generation"]["status"], "COMPLETED");
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_status() {
    let sim = with_faults(vec![FaultRule::always(Fault::UnknownStatus)]).await;
    let (_, raw, _) = sse(&sim).await;
    let events = parse_events(&raw);
    let statuses: Vec<Value> = events.iter().map(|e| e.json()["status"].clone()).collect();
    assert_eq!(
        statuses,
        [
            "IN_QUEUE",
            "WARMING_UP",
            "IN_PROGRESS",
            "IN_PROGRESS",
            "IN_PROGRESS",
            "COMPLETED"
        ]
        .map(Value::from)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn oversized_event() {
    let size = 3 * 1024 * 1024 + 17;
    let sim = with_faults(vec![FaultRule::always(Fault::OversizedEvent {
        bytes: size,
    })])
    .await;
    let (_, raw, _) = sse(&sim).await;
    let events = parse_events(&raw);
    assert_eq!(
        names(&events),
        [
            "queued",
            "progress",
            "progress",
            "progress",
            "progress",
            "completed"
        ]
    );
    let big = &events[4];
    assert_eq!(big.data.len(), size);
    assert_eq!(big.json()["status"], "IN_PROGRESS");
    sim.shutdown().await;
}

#[tokio::test]
async fn outcome_failed_and_canceled() {
    let sim = with_faults(vec![FaultRule::times(
        Fault::Outcome {
            status: "FAILED".into(),
        },
        1,
    )])
    .await;
    let (_, raw, _) = sse(&sim).await;
    let events = parse_events(&raw);
    let last = events.last().unwrap();
    assert_eq!(last.name, "failed");
    let v = last.json();
    assert_eq!(v["status"], "FAILED");
    let gen = &v["generation"];
    assert!(gen["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Simulated failure"));
    assert_eq!(gen["output"], Value::Null);
    // The reference's top-level `code` and `message`, next to the nested
    // `error` kept for older clients; usage and input as on success.
    assert_eq!(gen["code"], "simulated_failure");
    assert_eq!(gen["code"], gen["error"]["code"]);
    assert_eq!(gen["message"], gen["error"]["message"]);
    assert_eq!(gen["input"], prompt());
    assert_eq!(gen["usage"]["total"], 1.0);
    let id = v["generation_id"].as_str().unwrap();
    let polled = poll_status(&sim, id).await;
    assert_eq!(polled["status"], "FAILED");
    assert_eq!(polled["code"], "simulated_failure");
    assert!(polled["message"]
        .as_str()
        .unwrap()
        .starts_with("Simulated failure"));

    sim.set_faults(vec![FaultRule::always(Fault::Outcome {
        status: "CANCELED".into(),
    })]);
    let created: Value = post(&sim, MODEL, &prompt())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let polled = poll_status(&sim, created["id"].as_str().unwrap()).await;
    assert_eq!(polled["status"], "CANCELED");
    assert!(polled["error"]["message"].is_string());
    // Top-level `code`/`message` are documented for FAILED only.
    assert!(polled.get("code").is_none() && polled.get("message").is_none());
    assert_eq!(polled["usage"]["total"], 1.0);
    sim.shutdown().await;
}

#[tokio::test]
async fn no_sse_route() {
    let sim = with_faults(vec![FaultRule::always(Fault::NoSseRoute).for_model(MODEL)]).await;
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"message": "Not Found"})
    );
    assert_eq!(
        post(&sim, MODEL, &prompt()).send().await.unwrap().status(),
        200
    );
    // Other models keep their SSE route.
    let resp = post(&sim, "sse/openai/sora-2", &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.job_count(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn reset_mid_body() {
    let sim = with_faults(vec![FaultRule::always(Fault::ResetMidBody)]).await;
    let (status, raw, clean) = sse(&sim).await;
    assert_eq!(status, 200);
    assert!(!clean, "the body must not end cleanly");
    let text = String::from_utf8(raw).unwrap();
    let (first, partial) = text.split_once("\n\n").unwrap();
    assert!(first.starts_with("event: queued\n"));
    assert!(partial.starts_with("event: progress\n"), "{partial}");
    let data = partial.split("data: ").nth(1).expect("part of a data line");
    assert!(!data.is_empty() && !data.contains('\n'), "{partial}");
    sim.shutdown().await;
}

#[tokio::test]
async fn alt_event_shape() {
    let sim = with_faults(vec![FaultRule::always(Fault::AltEventShape)]).await;
    let (_, raw, _) = sse(&sim).await;
    let events = parse_events(&raw);
    assert_eq!(
        names(&events),
        ["pending", "running", "running", "running", "done"]
    );
    for e in &events {
        let v = e.json();
        assert!(v.get("status").is_none() && v.get("generation_id").is_none());
        assert!(v["data"]["task_id"].is_string());
        assert!(v["data"]["state"].is_string());
    }
    assert_eq!(events[4].json()["data"]["state"], "COMPLETED");
    sim.shutdown().await;
}

#[tokio::test]
async fn header_faults() {
    let sim = start(config()).await;
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .header(
            "X-Simulator-Fault",
            r#"[{"kind":"bom"},{"kind":"crlf_only"}]"#,
        )
        .send()
        .await
        .unwrap();
    let (raw, _) = read_all(resp).await;
    assert!(raw.starts_with("\u{FEFF}event: queued\r\n".as_bytes()));
    let resp = post(&sim, MODEL, &prompt())
        .header(
            "X-Simulator-Fault",
            r#"{"kind":"create_status","status":500}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let resp = post(&sim, MODEL, &prompt())
        .header("X-Simulator-Fault", "{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Header faults are per request: nothing remains.
    let (_, raw, _) = sse(&sim).await;
    assert!(raw.starts_with(b"event: queued\n"));
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoint_sets_faults() {
    let sim = start(config()).await;
    let resp = get(&sim, "_simulator/faults").send().await.unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
    let resp = client()
        .post(format!("{}/_simulator/faults", sim.base_url()))
        .bearer_auth(KEY)
        .json(&json!([{"fault": {"kind": "drop_after_id"}, "model": MODEL, "times": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sim.faults().len(), 1);
    let (_, raw, _) = sse(&sim).await;
    assert_eq!(parse_events(&raw).len(), 1);
    assert!(sim.faults().is_empty(), "spent");
    let (_, raw, _) = sse(&sim).await;
    assert_eq!(parse_events(&raw).len(), 5);
    let resp = client()
        .post(format!("{}/_simulator/faults", sim.base_url()))
        .bearer_auth(KEY)
        .json(&json!({"not": "an array"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn rejected_requests_do_not_spend_fault_budget() {
    let sim = with_faults(vec![FaultRule::times(Fault::DropAfterId, 1)]).await;
    // A 422 does not spend the stream fault.
    let resp = post(&sim, &format!("sse/{MODEL}"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let (_, raw, _) = sse(&sim).await;
    assert_eq!(parse_events(&raw).len(), 1);
    sim.shutdown().await;
}
