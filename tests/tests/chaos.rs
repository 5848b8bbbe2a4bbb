//! The crash test (a smaller run than `cargo xtask chaos`): the CLI killed
//! with SIGKILL at random moments, then `resume`; 0 duplicate accepted
//! creates, 0 lost generations, 0 corrupt or missing outputs. The seed is
//! printed; `CHAOS_SEED=N` replays one.
//!
//! The rules it checks are each pinned by a deterministic test too
//! (`sdk/tests/ledger.rs`, `cli/tests/ledger.rs`): here the kill moments
//! depend on timing, so a broken rule shows up only when a kill lands in its
//! window (the figures print which windows were hit).

use skills_video_tests::chaos::{run, ChaosConfig};

#[test]
fn sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing() {
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 % 1_000_000)
                .unwrap_or(7)
        });
    let mut config = ChaosConfig::new(skills_video_tests::binaries::cli(), seed);
    config.generations = 16;
    config.kills = 6;
    config.resume_kills = 1;
    config.time_limit = std::time::Duration::from_secs(120);
    println!("chaos seed {seed} (replay with CHAOS_SEED={seed})");
    let report = run(&config).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", report.render());
    assert!(report.total_kills() >= 6, "{}", report.render());
    assert!(report.ok(), "{}", report.render());
}
