//! Snapshot tests: the generated module of each fixture spec, every file under
//! a header, compared with the committed snapshot in `tests/snapshots/`.
//! Review a change with `INSTA_UPDATE=always cargo test -p skills-video-codegen`
//! and `git diff codegen/tests/snapshots`.

mod common;

use common::{concat, fixtures, generate_fixture};

fn snapshot(name: &str) {
    let files = generate_fixture(name);
    insta::assert_snapshot!(name, concat(&files));
}

#[test]
fn constructs() {
    snapshot("constructs");
}

#[test]
fn awkward_names() {
    snapshot("awkward_names");
}

#[test]
fn model_scoped() {
    snapshot("model_scoped");
}

/// A request with workflows (`oneOf` + `discriminator`) and open objects.
#[test]
fn workflows() {
    snapshot("workflows");
}

/// Every fixture folder has a snapshot test above (whose snapshot file
/// exists), so a new fixture cannot go unchecked.
#[test]
fn every_fixture_has_a_snapshot_test() {
    let tests = include_str!("snapshots.rs");
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let names = fixtures();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        assert!(
            tests.contains(&format!("snapshot(\"{name}\")")),
            "fixture {name} has no snapshot test"
        );
        let file = snapshots.join(format!("snapshots__{name}.snap"));
        assert!(file.is_file(), "{} is missing", file.display());
    }
}

#[test]
fn every_file_starts_with_the_preamble_and_ends_with_a_newline() {
    for name in &fixtures() {
        for (path, text) in generate_fixture(name) {
            assert!(
                text.starts_with(skills_video_codegen::emit::PREAMBLE),
                "{name}/{path} lacks the preamble"
            );
            assert!(text.ends_with('\n'), "{name}/{path} lacks a final newline");
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for name in &fixtures() {
        let first = generate_fixture(name);
        let second = generate_fixture(name);
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            second.keys().collect::<Vec<_>>(),
            "{name}: same files"
        );
        for (path, text) in &first {
            assert_eq!(
                text.as_bytes(),
                second[path].as_bytes(),
                "{name}/{path}: same bytes"
            );
        }
    }
}

#[test]
fn generation_of_the_platform_specs_is_deterministic() {
    let root = common::workspace_root();
    let (openapi, docs) = (
        root.join("specs/openapi.json"),
        root.join("specs/docs.json"),
    );
    let first = skills_video_codegen::generate(&openapi, &docs).expect("specs generate");
    let second = skills_video_codegen::generate(&openapi, &docs).expect("specs generate");
    assert_eq!(first, second);
}

#[test]
fn generation_from_reparsed_json_is_byte_identical() {
    // Loading from values (as a tool embedding the generator would) gives the
    // same bytes as loading from files.
    for name in &fixtures() {
        let dir = common::fixture_dir(name);
        let read = |f: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
        };
        let specs = skills_video_codegen::load::from_values(
            read("openapi.json"),
            read("docs.json"),
            &dir.join("openapi.json"),
        )
        .unwrap();
        let (files, _) = skills_video_codegen::generate_from_specs(&specs).unwrap();
        assert_eq!(files, generate_fixture(name), "{name}");
    }
}
