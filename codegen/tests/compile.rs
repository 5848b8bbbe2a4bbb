//! The compile test: each fixture's generated module builds in place of
//! `sdk/src/generated`. For each fixture, the SDK's manifest and hand-written
//! sources are copied into a crate under
//! `target/codegen-compile-test/fixtures/<fixture>/` (the manifest written
//! from `cargo metadata`, workspace values resolved), the fixture's files are
//! written into its `src/generated`, and `cargo check` runs offline on the
//! workspace of these crates against a copy of the workspace's `Cargo.lock`. Warnings that point into the
//! generated module fail the test too (cargo replays a fresh crate's cached
//! warnings, so they count on a re-run as on the first).
//!
//! Only files whose content changed are written, so when neither the SDK nor
//! the generator changed since the last run, each check is a no-op.

mod common;
#[path = "common/manifest.rs"]
mod manifest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures, generate_fixture, workspace_root};
use manifest::{sdk_package, standalone_manifest, toml_str};

/// Every file under `dir` (relative path → bytes), skipping the directory `skip`.
fn read_tree(dir: &Path, skip: &Path, prefix: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        let rel = prefix.join(path.file_name().unwrap());
        if path.is_dir() {
            read_tree(&path, skip, &rel, out);
        } else {
            out.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

/// Makes `dir` hold exactly `files`: a file is written only when its bytes
/// differ (so an unchanged tree keeps its modification times and cargo's
/// fingerprints stay fresh: the check is then a no-op), and files not in
/// `files` are removed. Returns how many files were written or removed.
fn sync_tree(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> usize {
    let mut changed = 0;
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            changed += 1;
        }
    }
    let mut present = BTreeMap::new();
    if dir.exists() {
        read_tree(dir, &dir.join("target"), Path::new(""), &mut present);
    }
    for rel in present.keys() {
        // Cargo writes the lock file back when it prunes it; the next run
        // restores the workspace's copy.
        if !files.contains_key(rel) && rel != Path::new("Cargo.lock") {
            std::fs::remove_file(dir.join(rel)).unwrap();
            changed += 1;
        }
    }
    changed
}

/// The package name of a fixture's crate. Each fixture is a member of one
/// workspace, so each needs its own name; the library keeps the SDK's crate
/// name (`skills_video`). Distinct names also give each crate its own
/// artifacts in the shared target directory, so an unchanged fixture stays
/// fresh while another one is checked.
fn fixture_package(fixture: &str) -> String {
    format!("skills-video-fixture-{}", fixture.replace('_', "-"))
}

/// The files of the fixtures' workspace: a root manifest listing one member
/// per fixture, the workspace's `Cargo.lock`, and per fixture the SDK's
/// manifest (renamed, see [`fixture_package`]), its hand-written sources and
/// the fixture's generated module in `src/generated`.
fn fixtures_workspace(
    root: &Path,
    manifest: &str,
    generated: &[(String, skills_video_codegen::Files)],
) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let src = root.join("sdk/src");
    let mut sources = BTreeMap::new();
    read_tree(&src, &src.join("generated"), Path::new("src"), &mut sources);
    let members: Vec<String> = generated.iter().map(|(n, _)| toml_str(n)).collect();
    files.insert(
        "Cargo.toml".into(),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        )
        .into_bytes(),
    );
    files.insert(
        "Cargo.lock".into(),
        std::fs::read(root.join("Cargo.lock")).unwrap(),
    );
    for (name, module) in generated {
        let dir = Path::new(name);
        for (rel, bytes) in &sources {
            files.insert(dir.join(rel), bytes.clone());
        }
        for (rel, text) in module {
            files.insert(
                dir.join("src/generated").join(rel),
                text.as_bytes().to_vec(),
            );
        }
        let member = manifest.replacen("[workspace]\n\n", "", 1).replacen(
            &format!("name = {}", toml_str("skills-video")),
            &format!("name = {}", toml_str(&fixture_package(name))),
            1,
        );
        files.insert(
            dir.join("Cargo.toml"),
            format!("{member}\n[lib]\nname = \"skills_video\"\npath = \"src/lib.rs\"\n")
                .into_bytes(),
        );
    }
    files
}

/// `cmd` without the variables cargo sets for the running test (its
/// package's name, version and manifest directory): build scripts such as
/// ring's declare `rerun-if-env-changed` on some of them, so inheriting them
/// would make this test and the fresh-crate test (another package, the same
/// target directory) re-run those scripts and re-check all that depends on them.
fn without_test_env(cmd: &mut Command) -> &mut Command {
    const SET_FOR_TESTS: [&str; 7] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if SET_FOR_TESTS.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn sync_tree_writes_only_what_changed_and_removes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("a.rs"), b"one".to_vec());
    files.insert(PathBuf::from("sub/b.rs"), b"two".to_vec());
    assert_eq!(sync_tree(dir.path(), &files), 2);
    let before = std::fs::metadata(dir.path().join("a.rs"))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::write(dir.path().join("stale.rs"), "old").unwrap();
    files.insert(PathBuf::from("sub/b.rs"), b"three".to_vec());
    assert_eq!(
        sync_tree(dir.path(), &files),
        2,
        "b.rs rewritten, stale.rs removed"
    );
    assert!(!dir.path().join("stale.rs").exists());
    assert_eq!(
        std::fs::read(dir.path().join("sub/b.rs")).unwrap(),
        b"three"
    );
    let after = std::fs::metadata(dir.path().join("a.rs"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "an unchanged file is not touched");
    assert_eq!(sync_tree(dir.path(), &files), 0);
}

#[test]
fn manifest_from_metadata_keeps_features_paths_and_targets() {
    let package = serde_json::json!({
        "name": "x", "version": "0.1.0", "edition": "2021",
        "features": {"ledger": ["dep:rusqlite"]},
        "dependencies": [
            {"name": "serde", "req": "^1", "kind": null, "optional": false,
             "uses_default_features": true, "features": ["derive"], "target": null, "rename": null},
            {"name": "reqwest", "req": "^0.12", "kind": null, "optional": false,
             "uses_default_features": false, "features": [], "target": null, "rename": null},
            {"name": "rusqlite", "req": "^0.37", "kind": null, "optional": true,
             "uses_default_features": true, "features": [], "target": null, "rename": null},
            {"name": "local", "req": "*", "kind": null, "optional": false, "path": "/r/local",
             "uses_default_features": true, "features": [], "target": null, "rename": null},
            {"name": "libc", "req": "^0.2", "kind": null, "optional": false,
             "uses_default_features": true, "features": [], "target": "cfg(unix)", "rename": null},
            {"name": "foo", "req": "^1", "kind": "dev", "optional": false,
             "uses_default_features": true, "features": [], "target": null, "rename": null}
        ]
    });
    assert_eq!(
        standalone_manifest(&package),
        "[workspace]\n\n[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\n\"ledger\" = [\"dep:rusqlite\"]\n\n[dependencies]\nserde = { version = \"^1\", features = [\"derive\"] }\nreqwest = { version = \"^0.12\", default-features = false }\nrusqlite = { version = \"^0.37\", optional = true }\nlocal = { version = \"*\", path = \"/r/local\" }\n\n[target.\"cfg(unix)\".dependencies]\nlibc = { version = \"^0.2\" }\n"
    );
}

#[test]
fn fixture_modules_compile_in_place_of_sdk_generated() {
    let root = workspace_root();
    let base = root.join("target/codegen-compile-test");
    let manifest = standalone_manifest(
        &sdk_package(&root).expect("cargo metadata resolves the skills-video package"),
    );
    let names = fixtures();
    assert!(!names.is_empty(), "no fixture under codegen/tests/fixtures");
    let generated: Vec<(String, skills_video_codegen::Files)> = names
        .iter()
        .map(|n| (n.clone(), generate_fixture(n)))
        .collect();
    // One workspace, one crate per fixture, kept between runs: an unchanged
    // crate is not checked again, and changed ones are checked in parallel.
    let workspace = base.join("fixtures");
    sync_tree(
        &workspace,
        &fixtures_workspace(&root, &manifest, &generated),
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = without_test_env(&mut Command::new(&cargo))
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--offline",
            "--quiet",
            "--message-format=short",
        ])
        .current_dir(&workspace)
        .env("CARGO_TARGET_DIR", base.join("target"))
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut failures = Vec::new();
    for name in &names {
        // Diagnostics name files relative to the workspace root, so by fixture.
        let own: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{name}/"))
                    || l.contains(&format!("`{}`", fixture_package(name)))
            })
            .collect();
        if own
            .iter()
            .any(|l| l.starts_with("error") || l.contains(": error"))
        {
            failures.push(format!(
                "fixture `{name}` does not compile in place of sdk/src/generated:\n{}",
                own.join("\n")
            ));
        } else if own
            .iter()
            .any(|l| l.contains("/src/generated/") && l.contains("warning"))
        {
            failures.push(format!(
                "fixture `{name}` compiles with warnings in the generated module:\n{}",
                own.join("\n")
            ));
        }
    }
    assert!(
        output.status.success() && failures.is_empty(),
        "{}\n\ncargo check of the fixtures' workspace:\n{stderr}",
        failures.join("\n\n")
    );
}
