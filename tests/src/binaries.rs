//! Where the workspace's built binaries are, for tests that run them as a
//! user would: next to the test's own executable (`target/<profile>/`),
//! which `cargo test --workspace` builds.

use std::path::{Path, PathBuf};

/// `target/<profile>/`, from the running test executable (`.../deps/<test>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

fn existing(path: PathBuf, build: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{} not found: build it with `{build}` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// The `skills-video` CLI: `SKILLS_VIDEO_CLI` if set, else the built one.
pub fn cli() -> PathBuf {
    if let Some(path) = std::env::var_os("SKILLS_VIDEO_CLI") {
        return PathBuf::from(path);
    }
    let name = format!("skills-video{}", std::env::consts::EXE_SUFFIX);
    existing(profile_dir().join(name), "cargo build -p skills-video-cli")
}

/// One of the SDK's examples (`sdk/examples/<name>.rs`), built.
pub fn sdk_example(name: &str) -> PathBuf {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    existing(
        profile_dir().join("examples").join(file),
        "cargo build -p skills-video --examples",
    )
}
