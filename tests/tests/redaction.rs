//! The API key never reaches tracing output, `Debug`, `Display` or errors,
//! and the lifecycle's events run inside its span. Alone in its own test
//! binary: tracing caches per-callsite interest process-wide, so a test
//! running in parallel without a subscriber could hide callsites from this
//! one's scoped subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::Client;
use skills_video_tests::matrix::{self, Setup, KEY};

/// A `MakeWriter` that keeps everything written.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_key_never_reaches_logs_debug_or_errors() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![skills_video_simulator::FaultRule::always(
            skills_video_simulator::Fault::DropAfterId,
        )],
        &[matrix::CASE_MODEL],
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let ok = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a fox"))
        .await;
    let wrong = Client::builder()
        .api_key("sk-wrong-secret")
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let err = wrong
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a fox"))
        .await
        .unwrap_err();
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("switching to polling"),
        "tracing captured the lifecycle: {logs}"
    );
    assert!(
        logs.contains("generation{model=\"google/nano-banana-pro\""),
        "lifecycle events run inside the generation span: {logs}"
    );
    let shown = format!("{logs}{client:?}{ok:?}{err}{err:?}{wrong:?}");
    assert!(!shown.contains(KEY), "the key leaked");
    assert!(!shown.contains("sk-wrong-secret"), "the key leaked");
}
