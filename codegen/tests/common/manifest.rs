//! A standalone `Cargo.toml` for the SDK's library from what `cargo
//! metadata` resolves for it: shared by the codegen compile test
//! (`codegen/tests/compile.rs`) and the progenitor comparison
//! (`benches/vs-progenitor/src/compile.rs`, its own workspace, which
//! includes this file by path), so both build the SDK the same way.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The SDK's package as `cargo metadata` resolves it (workspace values
/// filled in), from the workspace at `root`.
pub fn sdk_package(root: &Path) -> Result<Value, String> {
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
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let metadata: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    metadata["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "skills-video"))
        .cloned()
        .ok_or_else(|| "no skills-video package".to_string())
}

/// A TOML string (JSON string escaping is valid TOML basic-string escaping).
pub fn toml_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// A JSON array of strings as a TOML array (`[]` for anything else).
fn toml_list(strings: &Value) -> String {
    let items: Vec<String> = strings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(toml_str)
        .collect();
    format!("[{}]", items.join(", "))
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
    let features = toml_list(&dep["features"]);
    if features != "[]" {
        fields.push(format!("features = {features}"));
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
pub fn standalone_manifest(package: &Value) -> String {
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
            out.push_str(&format!("{} = {}\n", toml_str(name), toml_list(enables)));
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
