//! Errors printed by the CLI name its flags and environment variables, never
//! the SDK's methods (`ClientBuilder::api_key`, `wait("ID")`, ...).

mod common;

use std::time::Duration;

use common::{bin, run, Sim};

/// SDK API spellings a CLI user must never be told about.
const SDK_NAMES: &[&str] = &[
    "ClientBuilder",
    "Client::",
    "allow_insecure_http",
    "wait(\"",
    "::",
];

fn assert_cli_wording(r: &common::Run) {
    for text in [&r.stdout, &r.stderr] {
        for name in SDK_NAMES {
            assert!(!text.contains(name), "{name} printed:\n{text}");
        }
    }
}

#[test]
fn the_missing_key_message_names_the_flag_and_the_variable() {
    for json in [true, false] {
        let mut c = bin();
        if json {
            c.arg("--json");
        }
        let r = run(c.args(["generate", "bytedance/seedream-4.5", "--prompt", "x"]));
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert_cli_wording(&r);
        let text = if json {
            r.last()["message"].as_str().unwrap().to_string()
        } else {
            r.stderr.clone()
        };
        assert!(
            text.contains("SKILLS_VIDEO_API_KEY") && text.contains("--api-key"),
            "{text}"
        );
    }
}

#[test]
fn a_plain_http_base_url_names_the_base_url_flag() {
    let r = run(bin().args([
        "--json",
        "credits",
        "--api-key",
        "sk-x",
        "--base-url",
        "http://example.com/api/v1",
    ]));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_cli_wording(&r);
    assert!(r.last()["message"].as_str().unwrap().contains("--base-url"));
}

#[test]
fn a_poll_timeout_names_the_wait_command() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_secs(30));
    for json in [true, false] {
        let mut c = sim.cmd();
        if json {
            c.arg("--json");
        }
        let r = run(c.args([
            "generate",
            "bytedance/seedream-4.5",
            "--prompt",
            "x",
            "--no-sse",
            "--poll-timeout",
            "0.3",
            "--poll-interval",
            "0.1",
        ]));
        assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
        assert_cli_wording(&r);
        assert!(
            format!("{}{}", r.stdout, r.stderr).contains("resume with `skills-video wait "),
            "{}{}",
            r.stdout,
            r.stderr
        );
    }
}
