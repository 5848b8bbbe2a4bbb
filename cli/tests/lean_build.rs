//! The shipped binary depends on the simulator only through the `demo`
//! feature: without default features, neither axum nor jsonschema (the
//! simulator's server and schema validator) is in its dependency tree.

use std::process::Command;

fn normal_deps(features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "skills-video-cli",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .args(features)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn without_the_demo_there_is_no_simulator_axum_or_jsonschema() {
    let lean = normal_deps(&["--no-default-features"]);
    for name in ["skills-video-simulator", "axum ", "jsonschema "] {
        assert!(
            !lean.lines().any(|l| l.starts_with(name)),
            "{name} in the lean build:\n{lean}"
        );
    }
    // The default build has the demo, so the check above is not vacuous.
    let full = normal_deps(&[]);
    assert!(
        full.lines()
            .any(|l| l.starts_with("skills-video-simulator")),
        "{full}"
    );
}
