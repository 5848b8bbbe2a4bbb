//! Helpers shared by the codegen integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use skills_video_codegen::{catalog, convert, ir::Ir, load, Files};

/// The fixture specs: every directory under `tests/fixtures`, sorted.
pub fn fixtures() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `codegen/tests/fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen sits inside the workspace")
        .to_path_buf()
}

/// Generates the module of a fixture from its files.
pub fn generate_fixture(name: &str) -> Files {
    let dir = fixture_dir(name);
    skills_video_codegen::generate(&dir.join("openapi.json"), &dir.join("docs.json"))
        .unwrap_or_else(|e| panic!("fixture `{name}` generates: {e}"))
}

/// Loads a fixture and converts it to the IR.
pub fn fixture_ir(name: &str) -> Ir {
    let dir = fixture_dir(name);
    let specs = load::load(&dir.join("openapi.json"), &dir.join("docs.json"))
        .unwrap_or_else(|e| panic!("fixture `{name}` loads: {e}"));
    let catalog = catalog::build(&specs.openapi, &specs.docs)
        .unwrap_or_else(|e| panic!("fixture `{name}` has a catalog: {e}"));
    convert::build(&specs.openapi, &specs.openapi_json, &catalog)
        .unwrap_or_else(|e| panic!("fixture `{name}` converts: {e}"))
}

/// Every generated file, in path order, each under a header naming it.
pub fn concat(files: &Files) -> String {
    let mut out = String::new();
    for (path, text) in files {
        out.push_str(&format!("// ===== {path} =====\n"));
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
