//! With `http2: true` the simulator speaks cleartext HTTP/2 (prior knowledge)
//! and HTTP/1.1 on the same port, and many SSE streams share one connection.

mod common;

use common::{config, start, KEY};
use skills_video_simulator::SimulatorConfig;

#[tokio::test]
async fn http2_and_http1_share_the_port_and_streams_multiplex() {
    let sim = start(SimulatorConfig {
        http2: true,
        ..config()
    })
    .await;
    let model = sim.models().into_iter().next().expect("a model");
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let url = format!("{}/generation/sse/{model}", sim.base_url());
    let body = serde_json::json!({"prompt": "a cat"});
    let streams: Vec<_> = (0..20)
        .map(|_| h2.post(&url).bearer_auth(KEY).json(&body).send())
        .collect();
    for response in futures::future::join_all(streams).await {
        let response = response.expect("h2 request");
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        let text = response.text().await.unwrap();
        assert!(text.contains("COMPLETED"), "{text}");
    }
    let h1 = reqwest::Client::builder().http1_only().build().unwrap();
    let credits = h1
        .get(format!("{}/credits", sim.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(credits.version(), reqwest::Version::HTTP_11);
    assert_eq!(credits.status(), 200);
    sim.shutdown().await;
}
