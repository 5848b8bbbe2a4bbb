//! A new user's first hour: a fresh crate outside the workspace, with only the
//! dependencies the README names, compiles every Rust block of the README and
//! every example of `sdk/examples/` (`cargo check --offline`, against a copy
//! of the workspace's `Cargo.lock`). The crate lives under
//! `target/fresh-crate-test/` and is only rewritten where its content
//! changed, so a re-run with nothing changed checks nothing again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Makes `dir` hold exactly `files` (relative path → bytes) outside its
/// `target/`: a file is written only when its bytes differ, so cargo's
/// fingerprints of an unchanged crate stay fresh; other files are removed
/// (a README block or an example that is gone is not checked again). The
/// lock file cargo writes back is left for the next run to restore.
fn sync_dir(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
    for sub in ["src", "examples"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = Path::new(sub).join(path.file_name().unwrap());
            if !files.contains_key(&rel) {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
}

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

    // The crate is kept between runs and a file is written only when its
    // content changed: unchanged, the check below is a no-op.
    let krate = root.join("target/fresh-crate-test/fresh-user");
    let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    files.insert("src/lib.rs".into(), Vec::new());
    files.insert("Cargo.toml".into(), manifest(deps, &root).into_bytes());
    files.insert(
        "Cargo.lock".into(),
        std::fs::read(root.join("Cargo.lock")).unwrap(),
    );

    let rust = blocks(&readme, "rust");
    assert!(rust.len() >= 2, "the README's Rust blocks: {}", rust.len());
    for (i, block) in rust.iter().enumerate() {
        files.insert(
            format!("examples/readme_{i}.rs").into(),
            as_example(block).into_bytes(),
        );
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("sdk/examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            files.insert(
                Path::new("examples").join(path.file_name().unwrap()),
                std::fs::read(&path).unwrap(),
            );
            names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(names.len() >= 6, "sdk/examples: {names:?}");
    sync_dir(&krate, &files);

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // Not the variables cargo sets for this test (its package's name,
    // version and manifest directory): build scripts such as ring's watch
    // some of them, and the codegen compile test, another package, shares
    // this target directory; inherited, each would re-check the other's
    // dependencies.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
        ]
        .iter()
        .any(|p| key.starts_with(p))
        {
            command.env_remove(key);
        }
    }
    let output = command
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
