//! The workspace's `rust-version` is a promise to users: every crate we ship
//! builds on it. It is only true if no locked dependency needs a newer Rust,
//! so this compares it with every package `cargo metadata` resolves (the
//! lockfile's versions) and fails, naming the package, when one needs more.

use std::process::Command;

use serde_json::Value;

/// `1.88` / `1.89.0` as comparable numbers (missing parts are 0).
fn parse(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn no_locked_dependency_needs_a_newer_rust_than_the_workspace_promises() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("a package list");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let promised = packages
        .iter()
        .find(|p| p["name"] == "skills-video")
        .and_then(|p| p["rust_version"].as_str())
        .expect("the SDK declares a rust-version");
    let mut too_new = Vec::new();
    for p in packages {
        let id = p["id"].as_str().unwrap_or_default();
        if let Some(needs) = p["rust_version"].as_str() {
            if parse(needs) > parse(promised) {
                too_new.push(format!("{} {} needs {needs}", p["name"], p["version"]));
            }
        }
        if members.contains(&id) {
            assert_eq!(
                p["rust_version"].as_str(),
                Some(promised),
                "{} declares another rust-version than the workspace",
                p["name"]
            );
        }
    }
    assert!(
        too_new.is_empty(),
        "the workspace promises Rust {promised}, but locked dependencies need more (raise `rust-version` in Cargo.toml or pin older versions): {}",
        too_new.join(", ")
    );
}

#[test]
fn versions_compare_by_number() {
    assert!(parse("1.89.0") > parse("1.88"));
    assert!(parse("1.100") > parse("1.99.9"));
    assert_eq!(parse("1.85"), parse("1.85.0"));
}
