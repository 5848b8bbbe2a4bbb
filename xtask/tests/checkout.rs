//! `cargo xtask` works on the checkout it runs in, not the one its binary was
//! built in: a second copy of the specs and generated code (as a CI cache
//! that shares the target directory would have) is checked on its own files.
//! With the compile-time root, the stale copy below would be reported current.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the built xtask as cargo would from the copy (`CARGO_MANIFEST_DIR` is
/// set at run time to the running package's directory).
fn check(copy: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["codegen", "--check"])
        .env("CARGO_MANIFEST_DIR", copy.join("xtask"))
        .current_dir(copy)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_check_reads_the_checkout_it_runs_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root.join("specs"), &copy.path().join("specs"));
    copy_dir(
        &root.join("sdk/src/generated"),
        &copy.path().join("sdk/src/generated"),
    );
    std::fs::create_dir_all(copy.path().join("xtask")).unwrap();
    let (ok, text) = check(copy.path());
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
    let (ok, text) = check(copy.path());
    assert!(!ok, "the copy's stale code was reported current:\n{text}");
    assert!(text.contains("stale: "), "{text}");
}
