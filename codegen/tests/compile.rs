//! The compile test: each fixture's generated module builds in place of
//! `sdk/src/generated`. The SDK's manifest and hand-written sources are copied
//! into a standalone workspace under `target/codegen-compile-test/`, the
//! fixture's files are written into its `src/generated`, and `cargo check`
//! runs offline against a copy of the workspace's `Cargo.lock`. Warnings that
//! point into the generated module fail the test too.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures, generate_fixture, workspace_root};

/// `key = value` lines of one `[section]` of a manifest (single-line values only).
fn section(manifest: &str, name: &str) -> BTreeMap<String, String> {
    let header = format!("[{name}]");
    let mut out = BTreeMap::new();
    let mut inside = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == header;
            continue;
        }
        if !inside || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once('=') {
            out.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    out
}

/// A workspace dependency value, with relative `path`s made absolute.
fn concrete(value: &str, root: &Path) -> String {
    match value.split_once("path = \"") {
        Some((before, after)) => format!("{before}path = \"{}/{after}", root.display()),
        None => value.to_string(),
    }
}

/// Where `features = [...]` sits in an inline table's text, and the list's items.
fn features_of(table: &str) -> Option<(std::ops::Range<usize>, String)> {
    let start = table.find("features")?;
    let open = start + table[start..].find('[')?;
    let close = open + table[open..].find(']')?;
    Some((start..close + 1, table[open + 1..close].trim().to_string()))
}

/// Merges the extra keys of `{ workspace = true, extra... }` into the workspace value.
fn merge(workspace_value: &str, extra: &str) -> String {
    if extra.is_empty() {
        return workspace_value.to_string();
    }
    match workspace_value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
    {
        Some(inner) => match (features_of(inner), features_of(extra)) {
            (Some((a_at, a)), Some((b_at, b))) => {
                // `features` in both: one list with the workspace's first, then the crate's.
                let merged = format!("features = [{}, {}]", a, b);
                let inner = inner.replace(&inner[a_at.clone()], &merged);
                let rest = extra.replace(&extra[b_at], "");
                let rest = rest.trim().trim_matches(',').trim();
                if rest.is_empty() {
                    format!("{{ {} }}", inner.trim())
                } else {
                    format!("{{ {}, {rest} }}", inner.trim())
                }
            }
            _ => format!("{{ {}, {extra} }}", inner.trim()),
        },
        None => format!("{{ version = {workspace_value}, {extra} }}"),
    }
}

/// The SDK manifest with every `workspace = true` replaced by the workspace's
/// concrete value, and without benches, tests, examples and dev-dependencies.
fn standalone_manifest(sdk_manifest: &str, workspace_manifest: &str, root: &Path) -> String {
    let package = section(workspace_manifest, "workspace.package");
    let deps = section(workspace_manifest, "workspace.dependencies");
    let mut out = String::from("[workspace]\n\n");
    let mut current = String::new();
    for line in sdk_manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            current = trimmed.to_string();
            if matches!(
                current.as_str(),
                "[dev-dependencies]" | "[[bench]]" | "[[test]]" | "[[example]]" | "[lints]"
            ) {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if matches!(
            current.as_str(),
            "[dev-dependencies]" | "[[bench]]" | "[[test]]" | "[[example]]" | "[lints]"
        ) {
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let lookup = |map: &BTreeMap<String, String>, name: &str| {
            map.get(name)
                .unwrap_or_else(|| panic!("`{name}` is not in the workspace manifest"))
                .clone()
        };
        if let Some(name) = key.strip_suffix(".workspace") {
            let table = if current == "[package]" {
                &package
            } else {
                &deps
            };
            let v = concrete(&lookup(table, name), root);
            out.push_str(&format!("{name} = {v}\n"));
        } else if value.starts_with('{') && value.contains("workspace = true") {
            let extra = value
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty() && *p != "workspace = true")
                .collect::<Vec<_>>()
                .join(", ");
            let v = merge(&concrete(&lookup(&deps, key), root), &extra);
            out.push_str(&format!("{key} = {v}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path, skip: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest, skip);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// A fresh standalone copy of the SDK without its generated module.
fn prepare_sdk(root: &Path, base: &Path) -> PathBuf {
    let sdk = base.join("sdk");
    if sdk.exists() {
        std::fs::remove_dir_all(&sdk).unwrap();
    }
    let src = root.join("sdk/src");
    copy_dir(&src, &sdk.join("src"), &src.join("generated"));
    let manifest = standalone_manifest(
        &std::fs::read_to_string(root.join("sdk/Cargo.toml")).unwrap(),
        &std::fs::read_to_string(root.join("Cargo.toml")).unwrap(),
        root,
    );
    std::fs::write(sdk.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), sdk.join("Cargo.lock")).unwrap();
    sdk
}

fn write_generated(sdk: &Path, files: &skills_video_codegen::Files) {
    let dir = sdk.join("src/generated");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn manifest_conversion_resolves_workspace_values() {
    let ws = "[workspace.package]\nedition = \"2021\"\n\n[workspace.dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nurl = \"2\"\nlocal = { path = \"local\" }\n";
    let sdk = "[package]\nname = \"x\"\nedition.workspace = true\n\n[dependencies]\nserde.workspace = true\nurl = { workspace = true, optional = true }\nlocal.workspace = true\nhttpdate = \"1\"\n\n[dev-dependencies]\nfoo = \"1\"\n\n[[bench]]\nname = \"b\"\n";
    let out = standalone_manifest(sdk, ws, Path::new("/r"));
    assert_eq!(
        out,
        "[workspace]\n\n[package]\nname = \"x\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nurl = { version = \"2\", optional = true }\nlocal = { path = \"/r/local\" }\nhttpdate = \"1\"\n\n"
    );
}

#[test]
fn fixture_modules_compile_in_place_of_sdk_generated() {
    let root = workspace_root();
    let base = root.join("target/codegen-compile-test");
    let sdk = prepare_sdk(&root, &base);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut failures = Vec::new();
    for name in &fixtures() {
        write_generated(&sdk, &generate_fixture(name));
        let output = Command::new(&cargo)
            .args(["check", "--offline", "--quiet", "--message-format=short"])
            .current_dir(&sdk)
            .env("CARGO_TARGET_DIR", base.join("target"))
            .output()
            .expect("cargo runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let generated_warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("src/generated") && l.contains("warning"))
            .collect();
        if !output.status.success() {
            failures.push(format!(
                "fixture `{name}` does not compile in place of sdk/src/generated:\n{stderr}"
            ));
        } else if !generated_warnings.is_empty() {
            failures.push(format!(
                "fixture `{name}` compiles with warnings in the generated module:\n{}",
                generated_warnings.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
