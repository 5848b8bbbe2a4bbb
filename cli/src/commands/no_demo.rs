//! `demo` in a build without the `demo` feature (`--no-default-features`):
//! the simulator it runs is not compiled in, so say how to get it.

use crate::args::DemoArgs;
use crate::exit::{self, CliError};
use crate::output::Output;

/// Explains that this build has no demo.
pub async fn run(_args: &DemoArgs, out: &Output) -> u8 {
    let e = CliError {
        category: "usage".into(),
        message: "this skills-video was built without the demo (the `demo` feature is off)".into(),
        guidance: "Install it with the default features (`cargo install --path cli`) to run the demo, or point SKILLS_VIDEO_BASE_URL at a running simulator (`cargo run -p skills-video-simulator`).".into(),
        code: exit::USAGE,
        generation_id: None,
        extra: Default::default(),
    };
    out.error(&e);
    e.code
}
