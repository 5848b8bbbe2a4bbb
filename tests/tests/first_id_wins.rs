//! The first generation id a stream names is the job that was created and
//! charged: a later, different id (a confused proxy, a server bug) is
//! reported as `Event::IdConflict` and never replaces it in the result.
//! Remove the first-id rule from `terminal_result` and the result carries the
//! later id, failing this test.

use futures::StreamExt;
use serde_json::json;
use skills_video::{Client, Event, GenerateOptions};
use tokio::io::AsyncWriteExt;

/// An SSE create answered with three events: the first names `gen_A`, the
/// next two `gen_B` (the last one terminal).
async fn switching_server() -> std::net::SocketAddr {
    skills_video_tests::canned::serve(|mut socket, _| async move {
        let events = [
            json!({"generation_id": "gen_A", "status": "IN_QUEUE"}),
            json!({"generation_id": "gen_B", "status": "IN_PROGRESS", "progress": 0.5}),
            json!({"generation_id": "gen_B", "status": "COMPLETED",
                   "generation": {"id": "gen_B", "status": "COMPLETED",
                                  "output": {"images": [{"url": "https://example.com/a.png"}]}}}),
        ];
        let mut body = String::new();
        for e in events {
            body.push_str(&format!("data: {e}\n\n"));
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
    })
    .await
}

#[tokio::test]
async fn a_later_different_id_is_reported_and_never_replaces_the_first() {
    let addr = switching_server().await;
    let client = Client::builder()
        .api_key("k")
        .base_url(format!("http://{addr}/api/v1"))
        .build()
        .unwrap();
    let model = skills_video::model::find_model("bytedance/seedream-4.5").expect("in the catalog");
    let events: Vec<_> = client
        .events_json(
            model,
            json!({"prompt": "a fox"}),
            GenerateOptions::default(),
        )
        .collect()
        .await;
    let conflicts: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::IdConflict { kept, ignored }) => Some((kept.clone(), ignored.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        conflicts,
        [("gen_A".to_string(), "gen_B".to_string())],
        "reported once"
    );
    match events.last() {
        Some(Ok(Event::Terminal(generation))) => {
            assert_eq!(generation.id(), Some("gen_A"));
            assert_eq!(generation.output_urls(), ["https://example.com/a.png"]);
        }
        other => panic!("expected a terminal result, got {other:?}"),
    }
}
