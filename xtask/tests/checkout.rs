//! `cargo xtask` works on the checkout it runs in, not the one its binary was
//! built in: a second copy of the specs and generated code (as a CI cache
//! that shares the target directory would have) is checked on its own files.
//! With the compile-time root, the stale copy below would be reported current.

mod common;

#[test]
fn the_check_reads_the_checkout_it_runs_in() {
    let copy = common::checkout();
    let (ok, text) = common::xtask(copy.path(), &["codegen", "--check"]);
    assert!(ok && text.contains("generated code is current"), "{text}");

    // Edit the copy's spec only: its generated code is now stale.
    let spec_path = copy.path().join("specs/openapi.json");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let edited = spec.replacen(
        "\"description\": \"Resolution of the generated image\"",
        "\"description\": \"Edited in the copy\"",
        1,
    );
    assert_ne!(spec, edited, "the edit must change the spec");
    std::fs::write(&spec_path, edited).unwrap();
    let (ok, text) = common::xtask(copy.path(), &["codegen", "--check"]);
    assert!(!ok, "the copy's stale code was reported current:\n{text}");
    assert!(text.contains("stale: "), "{text}");
}
