//! The simulator's normal behaviour over real HTTP.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use skills_video_simulator::{RouteKind, SimulatorConfig};

const IMAGE_MODEL: &str = "google/nano-banana-pro";
const VIDEO_MODEL: &str = "openai/sora-2";

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header decodes");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG frame decodes");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[tokio::test]
async fn happy_path_sse() {
    let sim = start(config()).await;
    let resp = post(&sim, &format!("sse/{IMAGE_MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let (raw, clean) = read_all(resp).await;
    assert!(clean);
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.ends_with("\n\n"), "{text}");
    assert!(!text.contains('\r'));
    let events = parse_events(&raw);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["queued", "progress", "progress", "progress", "completed"]
    );
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    // Every data is one line of JSON.
    for line in text.lines().filter(|l| l.starts_with("data: ")) {
        serde_json::from_str::<Value>(&line[6..]).unwrap();
    }
    let first = events[0].json();
    let id = first["generation_id"].as_str().unwrap().to_string();
    uuid::Uuid::parse_str(&id).unwrap();
    assert_eq!(first["status"], "IN_QUEUE");
    let progress: Vec<f64> = events[1..4]
        .iter()
        .map(|e| e.json()["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, [0.33, 0.67, 1.0]);
    for e in &events[1..4] {
        assert_eq!(e.json()["status"], "IN_PROGRESS");
        assert_eq!(e.json()["generation_id"], id.as_str());
    }
    let last = events[4].json();
    assert_eq!(last["status"], "COMPLETED");
    let gen = &last["generation"];
    assert_eq!(gen["id"], id.as_str());
    assert_eq!(gen["status"], "COMPLETED");
    assert_eq!(gen["model"], IMAGE_MODEL);
    assert_eq!(gen["input"], prompt(), "the request body as received");
    assert_eq!(
        gen["usage"],
        json!({"total": 1.0, "subscription": 1.0, "permanent": 0.0})
    );
    assert!(gen.get("code").is_none() && gen.get("message").is_none());
    assert_eq!(gen["output"]["videos"], json!([]));
    let image = &gen["output"]["images"][0];
    let url = image["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/files/{id}/output.png", sim.base_url()),
        "absolute URL from the Host header"
    );
    assert_eq!(image["content_type"], "image/png");
    assert_eq!(image["width"], 64);
    // The file needs no auth, and decodes.
    let file = client().get(url).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "image/png");
    let bytes = file.bytes().await.unwrap();
    assert_eq!(image["file_size"].as_u64().unwrap(), bytes.len() as u64);
    let (w, h, pixels) = decode_png(&bytes);
    assert_eq!((w, h), (64, 64));
    assert_eq!(pixels.len(), 64 * 64 * 3);
    assert!(
        pixels.iter().any(|&p| p != pixels[0]),
        "a gradient, not flat"
    );
    // Charged once; the job is stored and pollable.
    assert_eq!(sim.credits(), 99.0);
    assert_eq!(sim.job_count(), 1);
    let polled: Value = get(&sim, &format!("generation/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled, *gen);
    sim.shutdown().await;
}

#[tokio::test]
async fn polling_path_video() {
    let sim = start(config()).await;
    let resp = post(
        &sim,
        VIDEO_MODEL,
        &json!({"prompt": "waves", "duration": 8}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["status"], "IN_QUEUE");
    assert_eq!(created["model"], VIDEO_MODEL);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["input"], json!({"prompt": "waves", "duration": 8}));
    assert_eq!(created["usage"]["total"], 1.0);
    let id = created["id"].as_str().unwrap();
    let gen: Value = get(&sim, &format!("generation/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gen["status"], "COMPLETED");
    assert_eq!(gen["progress"], 1.0);
    assert_eq!(gen["error"], Value::Null);
    assert_eq!(gen["input"], created["input"]);
    assert_eq!(gen["usage"], created["usage"]);
    assert_eq!(gen["output"]["images"], json!([]));
    let video = &gen["output"]["videos"][0];
    assert_eq!(video["content_type"], "video/mp4");
    assert_eq!(video["duration"], 5.0);
    let url = video["url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/files/{id}/output.mp4")));
    let bytes = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_eq!(video["file_size"].as_u64().unwrap(), bytes.len() as u64);
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_jobs_are_queued_and_heartbeat() {
    let sim = start(SimulatorConfig {
        step_delay: Duration::from_secs(3600),
        heartbeat_interval: Duration::from_millis(20),
        ..config()
    })
    .await;
    let created: Value = post(&sim, IMAGE_MODEL, &prompt())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gen: Value = get(
        &sim,
        &format!("generation/{}", created["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(gen["status"], "IN_QUEUE");
    assert_eq!(gen["progress"], 0.0);
    assert_eq!(gen["output"], Value::Null);

    let mut resp = post(&sim, &format!("sse/{IMAGE_MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    let mut raw = Vec::new();
    while raw.windows(12).filter(|w| w == b": heartbeat\n").count() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(30), resp.chunk())
            .await
            .expect("heartbeats arrive")
            .unwrap()
            .expect("stream stays open");
        raw.extend_from_slice(&chunk);
    }
    let events = parse_events(&raw);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "queued");
    drop(resp);
    sim.shutdown().await;
}

#[tokio::test]
async fn unauthorized() {
    let sim = start(config()).await;
    let c = client();
    let base = sim.base_url();
    for req in [
        c.post(format!("{base}/generation/sse/{IMAGE_MODEL}"))
            .json(&prompt()),
        c.post(format!("{base}/generation/{IMAGE_MODEL}"))
            .bearer_auth("wrong")
            .json(&prompt()),
        c.get(format!("{base}/credits")),
        c.get(format!("{base}/generation/abc")).bearer_auth("wrong"),
        c.get(format!("{base}/_simulator/requests")),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body, json!({"message": "Invalid or missing API key"}));
    }
    assert_eq!(sim.job_count(), 0);
    assert_eq!(sim.creates(), 2, "rejected creates still count");
    assert!(sim.requests().iter().all(|r| r.status == 401));
    sim.shutdown().await;
}

#[tokio::test]
async fn insufficient_credits_402() {
    let sim = start(SimulatorConfig {
        credits: 2.0,
        ..config()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            post(&sim, IMAGE_MODEL, &prompt())
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let resp = post(&sim, &format!("sse/{IMAGE_MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 402);
    let body: Value = resp.json().await.unwrap();
    let msg = body["message"].as_str().unwrap();
    assert!(msg.starts_with("Insufficient credits: "), "{msg}");
    assert!(
        msg.contains("recharge at https://skills.video/dashboard"),
        "{msg}"
    );
    let credits: Value = get(&sim, "credits")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(credits, json!({"credits": 0.0}));
    assert_eq!(sim.job_count(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn not_found() {
    let sim = start(config()).await;
    let resp = post(&sim, "sse/acme/nope", &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Model not found: acme/nope");
    let resp = post(&sim, "acme/nope/v2", &prompt()).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    // Unknown id.
    let resp = get(&sim, "generation/00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    // A polling-only model has no SSE route.
    let body = json!({"image_url": "https://example.com/a.png"});
    let resp = post(&sim, "sse/topaz/upscale/image", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"message": "Not Found"})
    );
    assert_eq!(
        post(&sim, "topaz/upscale/image", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Unknown routes.
    assert_eq!(
        get(&sim, "nothing/here").send().await.unwrap().status(),
        404
    );
    assert_eq!(sim.job_count(), 1);
    sim.shutdown().await;
}

async fn detail(
    sim: &skills_video_simulator::RunningSimulator,
    route: &str,
    body: Value,
) -> Vec<Value> {
    let resp = post(sim, route, &body).send().await.unwrap();
    assert_eq!(resp.status(), 422, "{route} {body}");
    let v: Value = resp.json().await.unwrap();
    v["detail"].as_array().expect("detail array").clone()
}

#[tokio::test]
async fn validation_422() {
    let sim = start(config()).await;
    let d = detail(&sim, &format!("sse/{IMAGE_MODEL}"), json!({})).await;
    assert_eq!(
        d,
        vec![json!({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"})]
    );

    let d = detail(&sim, IMAGE_MODEL, json!({"prompt": 5})).await;
    assert_eq!(d[0]["loc"], json!(["body", "prompt"]));
    assert_eq!(d[0]["type"], "string_type");

    let d = detail(&sim, IMAGE_MODEL, json!({"prompt": "x", "num_images": 9})).await;
    assert_eq!(d[0]["loc"], json!(["body", "num_images"]));
    assert_eq!(d[0]["type"], "less_than_equal");

    let d = detail(&sim, IMAGE_MODEL, json!({"prompt": ""})).await;
    assert_eq!(d[0]["type"], "string_too_short");

    let d = detail(
        &sim,
        IMAGE_MODEL,
        json!({"prompt": "x", "aspect_ratio": "7:5"}),
    )
    .await;
    assert_eq!(d[0]["loc"], json!(["body", "aspect_ratio"]));

    let d = detail(
        &sim,
        IMAGE_MODEL,
        json!({"prompt": "x", "output_format": "gif"}),
    )
    .await;
    assert_eq!(d[0]["loc"], json!(["body", "output_format"]));

    let d = detail(
        &sim,
        IMAGE_MODEL,
        json!({"prompt": "x", "image_urls": ["ok", "not a uri"]}),
    )
    .await;
    assert_eq!(d[0]["loc"], json!(["body", "image_urls", 0]));

    let d = detail(
        &sim,
        "kling-ai/v3/image",
        json!({"prompt": "x", "reference": {"subject_id": "BAD"}}),
    )
    .await;
    assert_eq!(d[0]["loc"], json!(["body", "reference"]));

    let d = detail(
        &sim,
        "lightricks/ltx-2.3/extend-video",
        json!({
            "prompt": "x", "video_url": "https://example.com/v.mp4", "bogus": 1
        }),
    )
    .await;
    assert_eq!(
        d[0],
        json!({"loc": ["body", "bogus"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"})
    );

    let d = detail(&sim, "lightricks/ltx-2.3/extend-video", json!({
        "prompt": "x", "video_url": "https://example.com/v.mp4", "keyframes": [{"image_url": "https://example.com/k.png"}]
    }))
    .await;
    assert_eq!(d[0]["loc"], json!(["body", "keyframes", 0, "frame"]));

    // Accepted: nullable nulls, unknown extras where allowed, refs and oneOf.
    for (route, body) in [
        (
            IMAGE_MODEL,
            json!({"prompt": "x", "seed": null, "image_urls": null, "extra_field": true}),
        ),
        (
            IMAGE_MODEL,
            json!({"prompt": "x", "output_format": "webp", "resolution": "4K", "aspect_ratio": "16:9"}),
        ),
        (
            "kling-ai/v3/image",
            json!({"prompt": "x", "reference": {"subject_id": "subj_abc1"}, "guidance_scale": 1}),
        ),
        (
            "lightricks/ltx-2.3/extend-video",
            json!({"prompt": "x", "video_url": "https://example.com/v.mp4", "keyframes": [{"image_url": "https://example.com/k.png", "frame": 3}]}),
        ),
        (
            VIDEO_MODEL,
            json!({"prompt": "x", "duration": 12, "image_url": null}),
        ),
    ] {
        let resp = post(&sim, route, &body).send().await.unwrap();
        assert_eq!(
            resp.status(),
            200,
            "{route} {body}: {}",
            resp.text().await.unwrap()
        );
    }
    assert_eq!(sim.job_count(), 5);
    assert_eq!(sim.credits(), 95.0);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_json_400() {
    let sim = start(config()).await;
    let resp = client()
        .post(format!("{}/generation/sse/{IMAGE_MODEL}", sim.base_url()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{\"prompt\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON body"));
    assert_eq!(sim.job_count(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_dedupes() {
    let sim = start(config()).await;
    let first: Value = post(&sim, IMAGE_MODEL, &prompt())
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The repeat over SSE streams the same job.
    let resp = post(&sim, &format!("sse/{IMAGE_MODEL}"), &prompt())
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap();
    let (raw, _) = read_all(resp).await;
    let events = parse_events(&raw);
    assert_eq!(events[0].json()["generation_id"], first["id"]);
    let again: Value = post(&sim, IMAGE_MODEL, &prompt())
        .header("Idempotency-Key", "key-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], first["id"]);
    let other: Value = post(&sim, IMAGE_MODEL, &prompt())
        .header("Idempotency-Key", "key-2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other["id"], first["id"]);
    assert_eq!(sim.job_count(), 2);
    assert_eq!(sim.credits(), 98.0);
    assert_eq!(sim.creates(), 4);
    let keys: Vec<Option<String>> = sim
        .requests()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        [Some("key-1"), Some("key-1"), Some("key-1"), Some("key-2")].map(|k| k.map(String::from))
    );
    sim.shutdown().await;
}

/// `usage` is what the balance lost for the job: the same in the create
/// response, every SSE generation body and every poll, and unchanged (with no
/// new charge) when an Idempotency-Key replays the job.
#[tokio::test]
async fn usage_matches_the_charge_and_input_echoes_the_body() {
    let sim = start(SimulatorConfig {
        cost_per_generation: 2.5,
        ..config()
    })
    .await;
    let body = json!({"prompt": "a fox", "num_images": 2, "extra": {"nested": [1, "x"]}});
    let expected = json!({"total": 2.5, "subscription": 2.5, "permanent": 0.0});
    let created: Value = post(&sim, IMAGE_MODEL, &body)
        .header("Idempotency-Key", "usage-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["input"], body);
    assert_eq!(created["usage"], expected);
    assert_eq!(sim.credits(), 100.0 - 2.5);
    let id = created["id"].as_str().unwrap();
    let polled: Value = get(&sim, &format!("generation/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["input"], body);
    assert_eq!(polled["usage"], expected);
    // A replay streams the same job and charges nothing more.
    let resp = post(&sim, &format!("sse/{IMAGE_MODEL}"), &body)
        .header("Idempotency-Key", "usage-1")
        .send()
        .await
        .unwrap();
    let (raw, _) = read_all(resp).await;
    let events = parse_events(&raw);
    let gen = &events.last().unwrap().json()["generation"];
    assert_eq!(gen["id"], id);
    assert_eq!(gen["input"], body);
    assert_eq!(gen["usage"], expected);
    assert_eq!(sim.credits(), 100.0 - 2.5);
    // A second job is charged again, and reports its own input.
    let other = json!({"prompt": "a wolf"});
    let second: Value = post(&sim, IMAGE_MODEL, &other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["input"], other);
    assert_eq!(second["usage"], expected);
    let balance: Value = get(&sim, "credits")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(balance, json!({"credits": 95.0}));
    sim.shutdown().await;
}

#[tokio::test]
async fn request_log() {
    let sim = start(config()).await;
    let created: Value = post(&sim, IMAGE_MODEL, &prompt())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    get(&sim, &format!("generation/{id}")).send().await.unwrap();
    get(&sim, "credits").send().await.unwrap();
    post(&sim, IMAGE_MODEL, &json!({})).send().await.unwrap();
    let resp = post(&sim, &format!("sse/{VIDEO_MODEL}"), &prompt())
        .send()
        .await
        .unwrap();
    read_all(resp).await;
    client()
        .get(format!("{}/files/{id}/output.png", sim.base_url()))
        .send()
        .await
        .unwrap();
    get(&sim, "nope").send().await.unwrap();

    let log = sim.requests();
    let summary: Vec<(String, RouteKind, Option<String>, u16)> = log
        .iter()
        .map(|r| (r.method.clone(), r.kind.clone(), r.model.clone(), r.status))
        .collect();
    let m = |s: &str| Some(s.to_string());
    assert_eq!(
        summary,
        vec![
            ("POST".into(), RouteKind::CreatePoll, m(IMAGE_MODEL), 200),
            ("GET".into(), RouteKind::Poll, m(IMAGE_MODEL), 200),
            ("GET".into(), RouteKind::Credits, None, 200),
            ("POST".into(), RouteKind::CreatePoll, m(IMAGE_MODEL), 422),
            ("POST".into(), RouteKind::CreateSse, m(VIDEO_MODEL), 200),
            ("GET".into(), RouteKind::File, m(IMAGE_MODEL), 200),
            ("GET".into(), RouteKind::Other, None, 404),
        ]
    );
    assert_eq!(log[4].path, format!("/api/v1/generation/sse/{VIDEO_MODEL}"));
    assert_eq!(sim.creates(), 3);

    // The same log over HTTP.
    let over_http: Vec<Value> = get(&sim, "_simulator/requests")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http.len(), 7);
    assert_eq!(over_http[0]["kind"], "CreatePoll");
    assert_eq!(over_http[0]["model"], IMAGE_MODEL);
    assert_eq!(over_http[3]["status"], 422);
    sim.shutdown().await;
}

#[tokio::test]
async fn job_store_is_bounded() {
    let sim = start(SimulatorConfig {
        max_jobs: 3,
        ..config()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let v: Value = post(&sim, IMAGE_MODEL, &prompt())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(sim.job_count(), 3);
    assert_eq!(
        get(&sim, &format!("generation/{}", ids[0]))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        get(&sim, &format!("generation/{}", ids[4]))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn many_concurrent_sse_generations() {
    let sim = start(SimulatorConfig {
        credits: 1e9,
        ..config()
    })
    .await;
    let c = client();
    let url = format!("{}/generation/sse/{IMAGE_MODEL}", sim.base_url());
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let c = c.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let resp = c
                    .post(url)
                    .bearer_auth(KEY)
                    .json(&prompt())
                    .send()
                    .await
                    .unwrap();
                let (raw, clean) = read_all(resp).await;
                assert!(clean);
                let events = parse_events(&raw);
                assert_eq!(events.last().unwrap().name, "completed");
                events[0].json()["generation_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 200, "unique ids");
    assert_eq!(sim.job_count(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn shapes_match_the_spec_and_the_project_spec_loads() {
    let fixture = fixture_spec();
    let specs: Vec<Value> = std::iter::once(fixture).chain(project_spec()).collect();
    for spec in specs {
        let is_project = spec
            .pointer("/components/schemas/GenerationEvent")
            .is_some();
        let sim = start(SimulatorConfig {
            spec: spec.clone(),
            ..config()
        })
        .await;
        // Create (poll route) and the poll response.
        let created: Value = post(&sim, IMAGE_MODEL, &prompt())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_shape(&spec, "CreateGenerationResponse", &created);
        let polled: Value = get(
            &sim,
            &format!("generation/{}", created["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_shape(&spec, "GenerationResponse", &polled);
        let credits: Value = get(&sim, "credits")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_shape(&spec, "CreditsResponse", &credits);
        let err: Value = get(&sim, "generation/nope")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_shape(&spec, "ErrorResponse", &err);
        // SSE events.
        let resp = post(&sim, &format!("sse/{VIDEO_MODEL}"), &prompt())
            .send()
            .await
            .unwrap();
        let (raw, _) = read_all(resp).await;
        let events = parse_events(&raw);
        assert_eq!(events.len(), 5);
        if is_project {
            for e in &events {
                assert_shape(&spec, "GenerationEvent", &e.json());
            }
            let v: Value = post(&sim, IMAGE_MODEL, &json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_shape(&spec, "ValidationError", &v);
        }
        sim.shutdown().await;
    }
}

/// A minimal valid body for a request schema: required fields only, each its
/// default, first allowed value, or a placeholder by type.
fn template(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if let Some(d) = schema.get("default") {
        return d.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(e) = schema.get("enum").and_then(|e| e.get(0)) {
        return e.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema.get(key).and_then(|a| a.get(0)) {
            return template(spec, first);
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None => {
            let mut out = serde_json::Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in required {
                let prop = &schema["properties"][name];
                out.insert(name.to_string(), template(spec, prop));
            }
            Value::Object(out)
        }
        Some("string") => {
            if schema.get("format").and_then(Value::as_str) == Some("uri") {
                json!("https://example.com/input.png")
            } else {
                json!("a small red fox in the snow")
            }
        }
        Some("integer") | Some("number") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("boolean") => json!(false),
        Some("array") => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            Value::Array((0..n).map(|_| template(spec, &schema["items"])).collect())
        }
        _ => Value::Null,
    }
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .map(|s| resolve(spec, s))
            .unwrap_or(schema),
        None => schema,
    }
}

#[tokio::test]
async fn every_model_of_the_project_spec_accepts_a_template_request() {
    let Some(spec) = project_spec() else {
        eprintln!("specs/openapi.json not present; skipped");
        return;
    };
    let sim = start(SimulatorConfig {
        spec: spec.clone(),
        credits: 1e6,
        ..config()
    })
    .await;
    let models = sim.models();
    assert!(models.len() >= 50, "{} models", models.len());
    assert!(models.contains(&"lightricks/ltx-2.3/extend-video".to_string()));
    assert!(models.contains(&"kling-ai/v3/image".to_string()));
    let paths = spec["paths"].as_object().unwrap();
    let mut failures = Vec::new();
    for model in &models {
        let op = &paths[&format!("/generation/{model}")]["post"];
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let body = template(&spec, schema);
        let video = op["tags"][0] == "Videos";
        let resp = post(&sim, &format!("sse/{model}"), &body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        if status != 200 {
            failures.push(format!(
                "{model}: {status} {} for {body}",
                resp.text().await.unwrap()
            ));
            continue;
        }
        let (raw, _) = read_all(resp).await;
        let events = parse_events(&raw);
        let gen = &events.last().unwrap().json()["generation"];
        let key = if video { "videos" } else { "images" };
        assert!(
            gen["output"][key].as_array().map(Vec::len).unwrap_or(0) >= 1,
            "{model}"
        );
        // An empty body is a 422 wherever something is required.
        let required = resolve(&spec, schema)
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty());
        if required {
            let resp = post(&sim, model, &json!({})).send().await.unwrap();
            assert_eq!(resp.status(), 422, "{model}");
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn binary_prints_its_address_first() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_skills-video-simulator"))
        .args(["--api-key", "bin-key", "--delay-ms", "0", "--credits", "7"])
        .env_remove("SKILLS_VIDEO_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "{base}"
    );
    let credits: Value = client()
        .get(format!("{base}/credits"))
        .bearer_auth("bin-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(credits, json!({"credits": 7.0}));
    child.kill().unwrap();
    child.wait().unwrap();
}
