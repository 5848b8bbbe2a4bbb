//! The generated files are exactly what `prettyplease` prints: each file's
//! body (below the two header lines) is parsed with `syn` and printed again,
//! and the two texts must be byte-equal. The emitter writes most of the code
//! as text in prettyplease's layout instead of formatting it (issue 18), so
//! this is what keeps that text honest, for the platform specs and every
//! fixture. A model's `MODEL` descriptor (the file's tail, plain data,
//! written by `emit/descriptors.rs`) is left out of the comparison: it keeps
//! prettyplease's layout except that its long lines are not wrapped. It must
//! still parse.

mod common;

use common::{fixtures, generate_fixture, workspace_root};
use skills_video_codegen::Files;

/// The body of a generated file: what follows the preamble and hash line,
/// without a model's descriptor (checked to parse, returned second).
fn body(text: &str) -> (&str, &str) {
    let body = text.split_once("\n\n").map(|(_, b)| b).unwrap_or(text);
    match body.find(DESCRIPTOR) {
        Some(i) => body.split_at(i + 1),
        None => (body, ""),
    }
}

/// The first line of a model's descriptor.
const DESCRIPTOR: &str = "\n/// Routes and field metadata of `";

/// Every file of `files` whose body prettyplease would print differently,
/// with the first differing line of each.
fn misformatted(files: &Files) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        let (body, descriptor) = body(text);
        if let Err(e) = syn::parse_file(descriptor) {
            bad.push(format!("{path}: the descriptor does not parse: {e}"));
        }
        let parsed = match syn::parse_file(body) {
            Ok(f) => f,
            Err(e) => {
                bad.push(format!("{path}: does not parse: {e}"));
                continue;
            }
        };
        let printed = prettyplease::unparse(&parsed);
        if printed != body {
            let line = body
                .lines()
                .zip(printed.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("line {}:\n  emitted: {a}\n  printed: {b}", i + 4))
                .unwrap_or_else(|| "the line counts differ".to_string());
            bad.push(format!("{path}: {line}"));
        }
    }
    bad
}

#[test]
fn the_platform_specs_emit_prettyplease_layout() {
    let root = workspace_root();
    let files = skills_video_codegen::generate(
        &root.join("specs/openapi.json"),
        &root.join("specs/docs.json"),
    )
    .expect("specs generate");
    assert!(files.len() > 10, "{} files", files.len());
    let bad = misformatted(&files);
    assert!(bad.is_empty(), "{} file(s):\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn every_fixture_emits_prettyplease_layout() {
    for name in &fixtures() {
        let bad = misformatted(&generate_fixture(name));
        assert!(
            bad.is_empty(),
            "{name}: {} file(s):\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}

#[test]
fn a_layout_difference_is_caught() {
    // The check itself can fail: a line joined that prettyplease would break.
    let mut files = Files::new();
    files.insert(
        "a.rs".into(),
        "// one\n// two\n\npub fn f(\n    a: i64,\n) {}\n".into(),
    );
    assert_eq!(misformatted(&files).len(), 1);
    files.insert(
        "a.rs".into(),
        "// one\n// two\n\npub fn f(a: i64) {}\n".into(),
    );
    assert_eq!(misformatted(&files), Vec::<String>::new());
}
