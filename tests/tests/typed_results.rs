//! Typed results against the simulator: images and videos come with their
//! URL, content type, size and duration as the response gives them; events
//! carry their progress and print as one readable line.

use futures::StreamExt;
use skills_video::models::{BytedanceSeedream4_5Request, KlingAiV3VideoRequest};
use skills_video::Event;
use skills_video_tests::matrix::{self, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_videos_are_typed_and_events_carry_progress() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![],
        &["bytedance/seedream-4.5", "kling-ai/v3/video"],
    )
    .await;
    let client = matrix::client(&sim, &setup);

    let image = client
        .images()
        .bytedance_seedream_4_5(BytedanceSeedream4_5Request::new("a fox"))
        .await
        .unwrap();
    let images = image.images();
    assert!(!images.is_empty(), "{:?}", image.raw());
    let first = &images[0];
    assert_eq!(
        Some(first.url.as_str()),
        image.output_urls().first().map(String::as_str)
    );
    assert_eq!(first.content_type.as_deref(), Some("image/png"));
    assert!(
        first.width.unwrap_or(0) > 0 && first.height.unwrap_or(0) > 0,
        "{first:?}"
    );
    assert!(image.videos().is_empty());

    let events: Vec<Event> = client
        .events(KlingAiV3VideoRequest::new("waves"))
        .map(|e| e.unwrap())
        .collect()
        .await;
    let progress: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => m.progress,
            _ => None,
        })
        .collect();
    assert!(!progress.is_empty(), "no event carried progress");
    assert!(
        progress.iter().all(|p| (0.0..=1.0).contains(p)),
        "{progress:?}"
    );
    for e in &events {
        let line = e.to_string();
        assert!(
            !line.is_empty() && !line.contains('\n') && line.len() < 200,
            "{line:?}"
        );
    }
    let Some(Event::Terminal(video)) = events.last() else {
        panic!("no terminal event: {events:?}")
    };
    let videos = video.videos();
    assert!(!videos.is_empty(), "{:?}", video.raw());
    assert!(videos[0].duration.unwrap_or(0.0) > 0.0, "{:?}", videos[0]);
    assert_eq!(videos[0].content_type.as_deref(), Some("video/mp4"));
}
