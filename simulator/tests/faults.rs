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
async fn close_before_answer() {
    let sim = with_faults(vec![FaultRule::times(Fault::CloseBeforeAnswer, 2)]).await;
    for route in [format!("sse/{MODEL}"), MODEL.to_string()] {
        let sent = post(&sim, &route, &prompt()).send().await;
        let err = sent.expect_err("no answer, only a closed connection");
        assert!(!err.is_connect(), "the request was sent: {err}");
    }
    assert_eq!(sim.job_count(), 2, "both jobs were accepted");
    assert_eq!(sim.credits(), 98.0, "and charged");
    let log = sim.requests();
    assert!(log
        .iter()
        .all(|r| r.closed_before_answer && r.status == 200));
    // Spent, and the server still serves: the next create is answered.
    let (status, raw, _) = sse(&sim).await;
    assert_eq!((status, parse_events(&raw).len()), (200, 5));
    assert!(!sim.requests()[2].closed_before_answer);
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

/// Creates a job on the polling route and returns its id.
async fn create_job(sim: &RunningSimulator) -> String {
    let created: Value = post(sim, MODEL, &prompt())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

/// The bytes of poll-body fault bodies the simulator has produced so far.
async fn fault_body_bytes(sim: &RunningSimulator) -> u64 {
    let stats: Value = get(sim, "_simulator/stats")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["fault_body_bytes"].as_u64().unwrap()
}

/// Waits until the fault-body byte count stops moving (the body's writer
/// stopped), and returns it; panics if it is still growing after 5 s.
async fn settled_fault_body_bytes(sim: &RunningSimulator) -> u64 {
    let started = Instant::now();
    let mut last = fault_body_bytes(sim).await;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = fault_body_bytes(sim).await;
        if now == last {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the fault body is still being written ({now} bytes) after the client left"
        );
        last = now;
    }
}

/// Reads at most `limit` bytes of a body (a chunk at a time), then drops it.
async fn read_prefix(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await {
            Ok(Ok(Some(chunk))) => out.extend_from_slice(&chunk),
            Ok(_) => break,
            Err(_) => panic!("no body chunk within 10 s"),
        }
    }
    out
}

#[tokio::test]
async fn huge_poll_body_declares_its_length_and_stops_when_the_client_leaves() {
    let sim = start(config()).await;
    let id = create_job(&sim).await;
    sim.set_faults(vec![FaultRule::times(
        Fault::HugePollBody { bytes: 1 << 30 },
        1,
    )]);
    let resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(1 << 30));
    assert_eq!(resp.headers()["content-type"], "application/json");
    let prefix = read_prefix(resp, 256 * 1024).await;
    assert!(prefix.len() >= 256 * 1024);
    assert!(prefix.iter().all(|b| *b == b' '), "filler is spaces");
    // The client went away: the writer stops at the first failed write,
    // far short of the declared gigabyte.
    let sent = settled_fault_body_bytes(&sim).await;
    assert!(
        sent < 64 * 1024 * 1024,
        "{sent} bytes written after the client left"
    );
    assert!(sim.faults().is_empty(), "spent");
    // The next poll is an ordinary answer.
    assert_eq!(poll_status(&sim, &id).await["status"], "COMPLETED");
    sim.shutdown().await;
}

#[tokio::test]
async fn huge_poll_body_read_to_the_end_is_spaces_then_the_job() {
    let sim = start(config()).await;
    let id = create_job(&sim).await;
    let fault = r#"{"kind":"huge_poll_body","bytes":300000}"#;
    let resp = get(&sim, &format!("generation/{id}"))
        .header("X-Simulator-Fault", fault)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.content_length(), Some(300_000));
    let (raw, clean) = read_all(resp).await;
    assert!(clean);
    assert_eq!(raw.len(), 300_000);
    let v: Value = serde_json::from_slice(&raw).expect("whitespace, then JSON");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "COMPLETED");
    assert_eq!(fault_body_bytes(&sim).await, 300_000);
    // Smaller than the JSON: the JSON alone, with its length.
    let resp = get(&sim, &format!("generation/{id}"))
        .header(
            "X-Simulator-Fault",
            r#"{"kind":"huge_poll_body","bytes":10}"#,
        )
        .send()
        .await
        .unwrap();
    let declared = resp.content_length().unwrap();
    let (raw, clean) = read_all(resp).await;
    assert!(clean && raw.len() as u64 == declared && declared > 10);
    assert_eq!(
        serde_json::from_slice::<Value>(&raw).unwrap()["id"],
        id.as_str()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn endless_poll_body_is_chunked_and_stops_when_the_client_leaves() {
    let sim = start(config()).await;
    let id = create_job(&sim).await;
    sim.set_faults(vec![FaultRule::always(Fault::EndlessPollBody)]);
    let resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), None);
    assert_eq!(resp.headers()["transfer-encoding"], "chunked");
    let prefix = read_prefix(resp, 2 * 1024 * 1024).await;
    assert!(prefix.len() >= 2 * 1024 * 1024);
    assert!(prefix.iter().all(|b| *b == b' '));
    let sent = settled_fault_body_bytes(&sim).await;
    assert!(
        sent < skills_video_simulator::faults::ENDLESS_BODY_BYTES / 4,
        "{sent} bytes written after the client left"
    );
    // Unknown ids are still 404: the body faults answer only known jobs.
    let resp = get(&sim, "generation/no-such-job").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_poll_body_sends_headers_at_once_then_drips() {
    let sim = start(config()).await;
    let id = create_job(&sim).await;
    sim.set_faults(vec![FaultRule::times(
        Fault::SlowPollBody { delay_ms: 20 },
        1,
    )]);
    let t = Instant::now();
    let mut resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "headers at once");
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length().expect("the true length");
    assert!(declared > 100);
    let mut got = Vec::new();
    while got.len() < 5 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        got.extend_from_slice(&chunk);
    }
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "one byte per 20 ms"
    );
    assert!(got.starts_with(b"{"));
    drop(resp);
    // The drip stops soon after the client left.
    let sent = settled_fault_body_bytes(&sim).await;
    assert!(sent < declared, "{sent} of {declared}");
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_poll_body_ends_on_shutdown() {
    let sim = start(config()).await;
    let id = create_job(&sim).await;
    sim.set_faults(vec![FaultRule::always(Fault::SlowPollBody {
        delay_ms: 60_000,
    })]);
    let resp = get(&sim, &format!("generation/{id}")).send().await.unwrap();
    let t = Instant::now();
    let reader = tokio::spawn(read_all(resp));
    sim.shutdown().await;
    let (raw, clean) = reader.await.unwrap();
    assert!(raw.is_empty() && !clean, "cut, not completed");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn retry_after_value_is_sent_verbatim_before_acceptance() {
    let values = [
        "1e300",
        "-5",
        "0.2",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT",
    ];
    let sim = start(config()).await;
    for value in values {
        sim.set_faults(vec![FaultRule::times(
            Fault::RetryAfterValue {
                status: 429,
                value: value.into(),
            },
            1,
        )]);
        let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], value);
        assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    }
    // The polling route too, with another status.
    sim.set_faults(vec![FaultRule::times(
        Fault::RetryAfterValue {
            status: 503,
            value: "0.2".into(),
        },
        1,
    )]);
    let resp = post(&sim, MODEL, &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "0.2");
    assert_eq!(sim.job_count(), 0, "never accepted");
    assert_eq!(sim.credits(), 100.0);
    // A value that cannot be a header is left out; the status stays.
    sim.set_faults(vec![FaultRule::times(
        Fault::RetryAfterValue {
            status: 429,
            value: "5\n6".into(),
        },
        1,
    )]);
    let resp = post(&sim, MODEL, &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn id_changes_mid_stream() {
    let sim = with_faults(vec![FaultRule::always(Fault::IdChangesMidStream)]).await;
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    let header_id = resp.headers()["x-generation-id"]
        .to_str()
        .unwrap()
        .to_string();
    let (raw, clean) = read_all(resp).await;
    assert!(clean);
    let events = parse_events(&raw);
    assert_eq!(events.len(), 5);
    let ids: Vec<String> = events
        .iter()
        .map(|e| e.json()["generation_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids[0], header_id, "the first event names the job");
    let later = &ids[1];
    assert_ne!(later, &header_id);
    assert!(ids[1..].iter().all(|id| id == later), "{ids:?}");
    let terminal = events[4].json();
    assert_eq!(terminal["generation"]["id"], later.as_str());
    // Only the first id is a job.
    assert_eq!(poll_status(&sim, &header_id).await["status"], "COMPLETED");
    let resp = get(&sim, &format!("generation/{later}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(sim.job_count(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_id_names_the_first_event_then_the_stream_ends() {
    for bad in ["..", ".", "gen\u{7}1", ""] {
        let sim = with_faults(vec![FaultRule::always(Fault::BadId { id: bad.into() })]).await;
        let (status, raw, clean) = sse(&sim).await;
        assert_eq!(status, 200);
        assert!(clean);
        let events = parse_events(&raw);
        assert_eq!(names(&events), ["queued"], "{bad:?}");
        assert_eq!(events[0].json()["generation_id"], bad);
        assert_eq!(sim.job_count(), 1, "accepted");
        assert_eq!(sim.credits(), 99.0, "and charged");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn non_http_outputs_come_first_in_polls_and_in_the_stream() {
    let sim = with_faults(vec![FaultRule::times(Fault::NonHttpOutputs, 1)]).await;
    let urls = |v: &Value| -> Vec<String> {
        v["output"]["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["url"].as_str().unwrap().to_string())
            .collect()
    };
    let id = create_job(&sim).await;
    let polled = urls(&poll_status(&sim, &id).await);
    assert_eq!(polled.len(), 3);
    assert_eq!(
        polled[..2],
        ["file:///etc/passwd", "ftp://example.com/a.png"]
    );
    assert!(polled[2].starts_with("http://") && polled[2].ends_with(".png"));
    // Spent on that job: the next job is ordinary, over SSE too.
    let (_, raw, _) = sse(&sim).await;
    let events = parse_events(&raw);
    assert_eq!(urls(&events[4].json()["generation"]).len(), 1);
    // Set per request, the SSE terminal event carries them as well.
    let resp = post(&sim, &format!("sse/{MODEL}"), &prompt())
        .header("X-Simulator-Fault", r#"{"kind":"non_http_outputs"}"#)
        .send()
        .await
        .unwrap();
    let (raw, _) = read_all(resp).await;
    let events = parse_events(&raw);
    let streamed = urls(&events[4].json()["generation"]);
    assert_eq!(
        streamed[..2],
        ["file:///etc/passwd", "ftp://example.com/a.png"]
    );
    assert_eq!(streamed.len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn stats_route() {
    let sim = start(config()).await;
    assert_eq!(fault_body_bytes(&sim).await, 0);
    let resp = client()
        .post(format!("{}/_simulator/stats", sim.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    sim.shutdown().await;
}
