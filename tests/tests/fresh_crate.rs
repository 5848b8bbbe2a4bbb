//! A new user's first hour: a fresh crate outside the workspace, with only the
//! dependencies the README names, compiles every Rust block of the README and
//! every example of `sdk/examples/` (`cargo check --offline`, against a copy
//! of the workspace's `Cargo.lock`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced blocks of `lang` in a Markdown text, in order.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(tag)) if tag.trim() == lang => current = Some(String::new()),
            (Some(block), Some(_)) => {
                out.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// A README block as a compilable example: rustdoc's hidden `# ` lines are
/// shown, and a snippet without `main` gets an empty one.
fn as_example(block: &str) -> String {
    let mut text: String = block
        .lines()
        .map(|l| match l.trim_start().strip_prefix("# ") {
            Some(rest) => rest.to_string(),
            None if l.trim() == "#" => String::new(),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    if !text.contains("fn main") {
        text = format!("#![allow(dead_code, unused_variables)]\n{text}\n\nfn main() {{}}\n");
    }
    text
}

/// The fresh crate's manifest: the README's `[dependencies]`, the SDK's path
/// made absolute. No profile settings, like the codegen compile test's
/// manifest, so the dependencies checked there are reused here.
fn manifest(readme_toml: &str, root: &Path) -> String {
    let sdk = root.join("sdk").canonicalize().unwrap();
    let deps = readme_toml.replace(
        "path = \"sdk\"",
        &format!("path = {:?}", sdk.display().to_string()),
    );
    format!(
        "[workspace]\n\n[package]\nname = \"fresh-user\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n{deps}"
    )
}

#[test]
fn readme_and_examples_compile_in_a_fresh_crate() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let toml = blocks(&readme, "toml");
    let deps = toml
        .iter()
        .find(|b| b.contains("skills-video"))
        .expect("the README names the SDK dependency in a toml block");
    assert!(deps.trim_start().starts_with("[dependencies]"), "{deps}");

    let base = root.join("target/fresh-crate-test");
    let krate = base.join("fresh-user");
    if krate.exists() {
        std::fs::remove_dir_all(&krate).unwrap();
    }
    let examples = krate.join("examples");
    std::fs::create_dir_all(&examples).unwrap();
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join("src/lib.rs"), "").unwrap();
    std::fs::write(krate.join("Cargo.toml"), manifest(deps, &root)).unwrap();
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();

    let rust = blocks(&readme, "rust");
    assert!(rust.len() >= 2, "the README's Rust blocks: {}", rust.len());
    for (i, block) in rust.iter().enumerate() {
        std::fs::write(examples.join(format!("readme_{i}.rs")), as_example(block)).unwrap();
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("sdk/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            std::fs::copy(&path, examples.join(path.file_name().unwrap())).unwrap();
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(names.len() >= 6, "sdk/examples: {names:?}");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--examples", "--message-format=short"])
        .current_dir(&krate)
        .env(
            "CARGO_TARGET_DIR",
            root.join("target/codegen-compile-test/target"),
        )
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "a README block or an example does not compile in a fresh crate:\n{stderr}"
    );
}
