//! `check-key`: is an API key configured? Offline.

use serde_json::json;

use crate::args::Cli;
use crate::exit;
use crate::output::Output;

/// First-run guidance.
pub const GUIDANCE: &str = "Open https://skills.video/dashboard/developer and log in, click `Create API Key`, then export it: export SKILLS_VIDEO_API_KEY=\"<YOUR_API_KEY>\" (or pass --api-key). Try everything without a key first: skills-video demo";

/// Runs the command.
pub fn run(cli: &Cli, out: &Output) -> u8 {
    let key = cli.api_key.as_deref().map(str::trim).unwrap_or_default();
    let from_flag = std::env::var("SKILLS_VIDEO_API_KEY")
        .map(|v| v.trim() != key)
        .unwrap_or(true);
    if key.is_empty() {
        out.document(&json!({
            "ok": false,
            "env_var": "SKILLS_VIDEO_API_KEY",
            "message": "SKILLS_VIDEO_API_KEY is not set",
            "api_key_url": skills_video::error::API_KEY_URL,
            "guidance": GUIDANCE,
            "steps": [
                "Open https://skills.video/dashboard/developer and log in",
                "Click `Create API Key`",
                "export SKILLS_VIDEO_API_KEY=\"<YOUR_API_KEY>\"",
            ],
        }));
        return exit::INPUT;
    }
    out.document(&json!({
        "ok": true,
        "env_var": "SKILLS_VIDEO_API_KEY",
        "source": if from_flag { "--api-key" } else { "SKILLS_VIDEO_API_KEY" },
        "key_length": key.chars().count(),
        "message": "an API key is configured (not checked against the platform; run `skills-video credits` to check it)",
    }));
    exit::OK
}
