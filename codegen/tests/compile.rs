//! The compile test: each fixture's generated module builds in place of
//! `sdk/src/generated`. The SDK's manifest and hand-written sources are copied
//! into a standalone workspace under `target/codegen-compile-test/` (the
//! manifest written from `cargo metadata`, workspace values resolved), the
//! fixture's files are written into its `src/generated`, and `cargo check`
//! runs offline against a copy of the workspace's `Cargo.lock`. Warnings that
//! point into the generated module fail the test too.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::{fixtures, generate_fixture, workspace_root};

/// The SDK's package as `cargo metadata` resolves it (workspace values filled in).
fn sdk_package(root: &Path) -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    metadata["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "skills-video"))
        .cloned()
        .expect("the workspace has the skills-video package")
}

/// A TOML string (JSON string escaping is valid TOML basic-string escaping).
fn toml_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// One dependency of `cargo metadata` as an inline TOML table.
fn dependency(dep: &Value) -> String {
    let mut fields = vec![format!(
        "version = {}",
        toml_str(dep["req"].as_str().unwrap_or("*"))
    )];
    if let Some(path) = dep["path"].as_str() {
        fields.push(format!("path = {}", toml_str(path)));
    }
    if let Some(package) = dep["rename"].as_str().and(dep["name"].as_str()) {
        fields.push(format!("package = {}", toml_str(package)));
    }
    if dep["uses_default_features"] == false {
        fields.push("default-features = false".into());
    }
    let features: Vec<String> = dep["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(toml_str)
        .collect();
    if !features.is_empty() {
        fields.push(format!("features = [{}]", features.join(", ")));
    }
    if dep["optional"] == true {
        fields.push("optional = true".into());
    }
    let name = dep["rename"]
        .as_str()
        .or(dep["name"].as_str())
        .unwrap_or_default();
    format!("{name} = {{ {} }}\n", fields.join(", "))
}

/// A standalone manifest for the SDK's library from its resolved metadata:
/// its features and normal dependencies (per target where they have one),
/// without benches, tests, examples and dev-dependencies.
fn standalone_manifest(package: &Value) -> String {
    let mut out = String::from("[workspace]\n\n[package]\n");
    for key in ["name", "version", "edition"] {
        out.push_str(&format!(
            "{key} = {}\n",
            toml_str(package[key].as_str().unwrap_or_default())
        ));
    }
    out.push_str("\n[features]\n");
    if let Some(features) = package["features"].as_object() {
        for (name, enables) in features {
            let list: Vec<String> = enables
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(toml_str)
                .collect();
            out.push_str(&format!("{} = [{}]\n", toml_str(name), list.join(", ")));
        }
    }
    let mut by_target: BTreeMap<String, String> = BTreeMap::new();
    for dep in package["dependencies"].as_array().into_iter().flatten() {
        if !dep["kind"].is_null() {
            continue; // dev- and build-dependencies are not the library's
        }
        let table = match dep["target"].as_str() {
            Some(target) => format!("[target.{}.dependencies]", toml_str(target)),
            None => "[dependencies]".to_string(),
        };
        by_target
            .entry(table)
            .or_default()
            .push_str(&dependency(dep));
    }
    for (table, deps) in by_target {
        out.push_str(&format!("\n{table}\n{deps}"));
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
    let manifest = standalone_manifest(&sdk_package(root));
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
