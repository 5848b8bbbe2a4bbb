//! An oversized SSE event must not grow the client's memory: the parser
//! stops at its cap and the lifecycle falls back to polling. Its own test
//! binary, so the peak RSS measured is this case's alone.

use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::Source;
use skills_video_simulator::{Fault, FaultRule};
use skills_video_tests::matrix::{self, Setup};

/// Peak resident set size of this process, from /proc (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "measures peak RSS from /proc/self/status (VmHWM), which only Linux has"
)]
async fn a_256_mib_event_against_a_1_mib_cap_keeps_memory_bounded() {
    let event_bytes = 256 * 1024 * 1024;
    let setup = Setup {
        max_event_bytes: 1024 * 1024,
        ..Setup::default()
    };
    let sim = matrix::simulator(
        &setup,
        vec![FaultRule::always(Fault::OversizedEvent {
            bytes: event_bytes,
        })],
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let before = peak_rss().expect("VmHWM from /proc/self/status");
    let generation = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new("a very chatty server"))
        .await
        .expect("recovered by polling");
    assert_eq!(generation.source(), Source::Poll);
    assert_eq!(matrix::create_counts(&sim), (1, 1));
    let after = peak_rss().expect("VmHWM from /proc/self/status");
    let growth = after.saturating_sub(before);
    // Far below the event's size: the cap (1 MiB) plus buffers and the
    // simulator's in-flight chunks, never the 256 MiB event.
    assert!(growth < 64 * 1024 * 1024, "peak RSS grew by {growth} bytes");
}
