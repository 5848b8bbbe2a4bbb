//! The shipped binary depends on the simulator only through the `demo`
//! feature: without default features, neither axum nor jsonschema (the
//! simulator's server and schema validator) is in its dependency tree.

use std::process::Command;

/// `cargo tree -p skills-video-cli` with these edge kinds and features, one
/// package per line.
fn deps(edges: &str, features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "skills-video-cli",
            "-e",
            edges,
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

fn normal_deps(features: &[&str]) -> String {
    deps("normal", features)
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
    // Not even to test or build it: the tree with every edge kind (the
    // command issue 12 names) has neither axum nor jsonschema.
    let every_edge = deps("all", &["--no-default-features"]);
    for name in ["axum ", "jsonschema "] {
        assert!(
            !every_edge.lines().any(|l| l.starts_with(name)),
            "{name} in the tree without default features:\n{every_edge}"
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
