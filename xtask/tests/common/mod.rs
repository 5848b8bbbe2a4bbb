//! A second checkout for xtask's tests: the specs and generated code copied
//! into a temporary directory, and the built xtask run there as cargo would.

use std::path::Path;
use std::process::Command;

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
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

/// A temporary checkout holding `specs/` and `sdk/src/generated`.
pub fn checkout() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&root.join("specs"), &copy.path().join("specs"));
    copy_dir(
        &root.join("sdk/src/generated"),
        &copy.path().join("sdk/src/generated"),
    );
    std::fs::create_dir_all(copy.path().join("xtask")).unwrap();
    copy
}

/// Runs the built xtask in `copy` (cargo sets `CARGO_MANIFEST_DIR` at run time
/// to the running package's directory); returns (success, stdout + stderr).
pub fn xtask(copy: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
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
