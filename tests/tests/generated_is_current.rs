//! The committed `sdk/src/generated` equals a fresh generation from `specs/`
//! (the rust-analyzer pattern: `cargo test` fails on stale output too), and
//! every docs.json model has a generated struct and function.

use std::path::PathBuf;

use skills_video_tests::docs::category_pages;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn committed_generated_code_is_current() {
    let files = skills_video_codegen::generate(
        &root().join("specs/openapi.json"),
        &root().join("specs/docs.json"),
    )
    .expect("the specs generate");
    let report =
        skills_video_codegen::write::sync(&root().join("sdk/src/generated"), &files, true).unwrap();
    assert!(
        report.is_clean(),
        "run `cargo xtask codegen` and commit: {report:?}"
    );
}

#[test]
fn every_docs_model_has_a_generated_struct_and_function() {
    let docs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("specs/docs.json")).unwrap())
            .unwrap();
    let pages: Vec<String> = ["Images", "Videos"]
        .iter()
        .flat_map(|c| category_pages(&docs, c))
        .filter_map(|p| p.strip_prefix("POST /generation/").map(str::to_string))
        .collect();
    assert!(!pages.is_empty());
    let catalog: Vec<&str> = skills_video::catalog::MODELS.iter().map(|m| m.id).collect();
    assert_eq!(catalog, pages, "catalog order and content follow docs.json");
    // The client methods live in images.rs and videos.rs.
    let functions = ["images.rs", "videos.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(root().join("sdk/src/generated").join(f)).unwrap())
        .collect::<String>();
    for model in skills_video::catalog::MODELS {
        let module = skills_video_codegen::naming::snake_name(model.id, "m_");
        assert!(
            functions.contains(&format!("pub async fn {module}(")),
            "no function for {}",
            model.id
        );
        assert!(
            root()
                .join(format!("sdk/src/generated/models/{module}.rs"))
                .exists(),
            "no module for {}",
            model.id
        );
    }
}
