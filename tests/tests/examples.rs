//! The SDK's examples (`sdk/examples/`) run against the simulator and do what
//! they say. `cargo test --workspace` builds them (cargo builds examples for
//! tests); with `-p skills-video-tests` alone, run
//! `cargo build -p skills-video --examples` first.

use std::path::PathBuf;
use std::process::Command;

use futures::StreamExt;
use skills_video::models::BytedanceSeedream4_5Request;
use skills_video::Event;
use skills_video_tests::matrix::{self, Setup, KEY};

fn example(name: &str) -> PathBuf {
    skills_video_tests::binaries::sdk_example(name)
}

/// Runs an example against `base_url`; returns (success, stdout).
fn run(name: &str, base_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(example(name))
        .args(args)
        .env("SKILLS_VIDEO_API_KEY", KEY)
        .env("SKILLS_VIDEO_BASE_URL", base_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_runs_against_the_simulator() {
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![],
        &["bytedance/seedream-4.5", "kling-ai/v3/video"],
    )
    .await;
    let base = sim.base_url();

    let (_, out) = run("quickstart", &base, &[]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("image http")).count(),
        2,
        "{out}"
    );
    assert!(out.contains("credits charged: "), "{out}");

    let (_, out) = run("events", &base, &[]);
    assert!(out.lines().any(|l| l.starts_with("created ")), "{out}");
    assert!(
        out.lines().last().is_some_and(|l| l.ends_with("COMPLETED")),
        "{out}"
    );

    let (_, out) = run("errors", &base, &[]);
    assert!(out.starts_with("validation: fix the request"), "{out}");
    assert!(out.contains("  n: "), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("photo.png");
    std::fs::write(&png, skills_video_simulator::files::png_bytes("photo")).unwrap();
    let (_, out) = run("animate_local_image", &base, &[png.to_str().unwrap()]);
    assert!(out.starts_with("video http"), "{out}");

    let (_, out) = run("concurrent", &base, &[]);
    assert!(out.contains("6 done, 0 failed"), "{out}");

    // resume: an id created here, waited for by the example.
    let client = matrix::client(&sim, &setup);
    let mut events = client.events(BytedanceSeedream4_5Request::new("a fox"));
    let id = loop {
        match events.next().await {
            Some(Ok(Event::Created { generation_id })) => break generation_id,
            Some(Ok(_)) => continue,
            other => panic!("no id: {other:?}"),
        }
    };
    drop(events);
    let (_, out) = run("resume", &base, &[&id]);
    assert!(out.starts_with(&format!("{id} COMPLETED")), "{out}");
}
