//! The `skills-video` binary against the in-process simulator: every
//! subcommand, every exit code, the JSON lines, `--out`, and the key's secrecy.

mod common;

use std::time::Duration;

use common::{bin, decode_png, run, Sim, KEY};
use serde_json::Value;
use skills_video_simulator::{Fault, FaultRule};

const MODEL: &str = "google/nano-banana-pro";

fn generate(sim: &Sim, extra: &[&str]) -> common::Run {
    let mut c = sim.cmd();
    c.args([
        "--json",
        "generate",
        MODEL,
        "--prompt",
        "a cat",
        "--poll-interval",
        "0.1",
    ]);
    c.args(extra);
    run(&mut c)
}

// ---- check-key, models, inspect, explain-error (offline) ----

#[test]
fn check_key_reports_set_and_missing() {
    let r = run(bin().args(["check-key", "--api-key", KEY]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], true);

    let r = run(bin().args(["--json", "check-key"]));
    assert_eq!(r.code, 1);
    let v = r.last();
    assert_eq!(v["ok"], false);
    assert!(v["guidance"]
        .as_str()
        .unwrap()
        .contains("https://skills.video/dashboard/developer"));

    let r = run(bin().arg("check-key").env("SKILLS_VIDEO_API_KEY", KEY));
    assert_eq!(r.code, 0);
}

#[test]
fn models_lists_the_catalog() {
    let r = run(bin().args(["--json", "models", "--category", "images"]));
    assert_eq!(r.code, 0);
    let lines = r.lines();
    assert!(lines.len() >= 20, "{}", lines.len());
    assert!(lines.iter().all(|l| l["category"] == "images"));
    let nano = lines.iter().find(|l| l["model"] == MODEL).unwrap();
    assert_eq!(
        nano["sse_endpoint"],
        "POST /generation/sse/google/nano-banana-pro"
    );
    assert_eq!(
        nano["polling_endpoint"],
        "POST /generation/google/nano-banana-pro"
    );
    assert_eq!(nano["default_result_mode"], "sse");

    let all = run(bin().args(["--json", "models"])).lines().len();
    let videos = run(bin().args(["--json", "models", "--category", "videos"]))
        .lines()
        .len();
    assert_eq!(all, lines.len() + videos);

    let human = run(bin().args(["models"]));
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains("google/nano-banana-pro"));
}

#[test]
fn inspect_prints_the_seed_fields_and_template() {
    for spelling in [
        "google/nano-banana-pro",
        "/generation/google/nano-banana-pro",
        "POST /generation/sse/google/nano-banana-pro",
        "/v1/generation/sse/google/nano-banana-pro",
    ] {
        let r = run(bin().args(["--json", "inspect", spelling, "--template"]));
        assert_eq!(r.code, 0, "{spelling}: {}", r.stderr);
        let v = r.last();
        for key in [
            "endpoint",
            "default_result_mode",
            "default_create_endpoint",
            "sse_create_endpoint",
            "polling_create_endpoint",
            "summary",
            "server_url",
            "request_schema",
            "fields",
            "prediction_status_values",
            "queue_status_values",
            "sse_subscribe_endpoint",
            "poll_endpoint",
            "error_status_codes",
            "request_template",
        ] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
        assert_eq!(v["model"], MODEL);
        assert_eq!(v["request_template"]["aspect_ratio"], "auto");
        assert!(v["request_template"]["prompt"].is_string());
        let field = &v["fields"][0];
        for key in [
            "name",
            "required",
            "type",
            "description",
            "default",
            "allowed_values",
        ] {
            assert!(field.get(key).is_some(), "field.{key} missing");
        }
    }
    let r = run(bin().args(["inspect", MODEL]));
    assert!(!r.stdout.contains("request_template"));

    let r = run(bin().args(["--json", "inspect", "google/nano-banana-prp"]));
    assert_eq!(r.code, 1);
    let v = r.last();
    assert_eq!(v["event"], "error");
    assert!(v["suggestions"]
        .as_array()
        .unwrap()
        .contains(&Value::from(MODEL)));
}

#[test]
fn explain_error_classifies_with_exit_codes() {
    let cases: &[(&str, &str, &str, i32)] = &[
        (
            "402",
            r#"{"message":"Insufficient credits"}"#,
            "insufficient_credits",
            20,
        ),
        (
            "400",
            r#"{"error":{"message":"please top up"}}"#,
            "insufficient_credits",
            20,
        ),
        (
            "401",
            r#"{"message":"Invalid or missing API key"}"#,
            "auth",
            21,
        ),
        (
            "422",
            r#"{"detail":[{"loc":["body","seed"],"msg":"bad","type":"x"}]}"#,
            "validation",
            22,
        ),
        ("404", "Not Found", "not_found", 23),
        ("503", "upstream", "transient", 24),
        ("400", "bad request", "unknown", 25),
    ];
    for (status, body, category, code) in cases {
        let r = run(bin().args(["explain-error", "--status", status, "--body", body]));
        assert_eq!(r.code, *code, "{status} {body}");
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["category"], *category);
        assert_eq!(v["should_retry"], *category == "transient");
        for key in ["message", "guidance", "credits_check_command", "recharge"] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
    let dir = common::tempdir();
    let path = dir.path().join("body.json");
    std::fs::write(&path, r#"{"message":"not enough credits"}"#).unwrap();
    let r = run(bin()
        .args(["--json", "explain-error", "--status", "400", "--body-file"])
        .arg(&path));
    assert_eq!(r.code, 20);
    assert_eq!(
        r.last()["recharge"]["dashboard_url"],
        "https://skills.video/dashboard"
    );
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_codes() {
    let r = run(bin().args(["generate"]));
    assert_eq!(r.code, 2);
    let r = run(bin().args(["--no-such-flag", "models"]));
    assert_eq!(r.code, 2);
    let r = run(bin().args(["generate", MODEL, "--poll-interval", "-1"]));
    assert_eq!(r.code, 2);
    let r = run(bin().arg("--help"));
    assert_eq!(r.code, 0);
    for needle in [
        "Exit codes",
        " 3 ",
        " 4 ",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
    ] {
        assert!(r.stdout.contains(needle), "{needle}");
    }
}

// ---- generate ----

#[test]
fn generate_over_sse_succeeds() {
    let sim = Sim::new();
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let events = r.events();
    assert_eq!(&events[..2], ["start", "sse_open"]);
    assert!(events[2..events.len() - 1].iter().all(|e| e == "sse_event"));
    let last = r.last();
    assert_eq!(last["event"], "terminal");
    assert_eq!(last["source"], "sse");
    assert_eq!(last["ok"], true);
    assert_eq!(last["status"], "COMPLETED");
    assert!(last["generation_id"].is_string());
    let sse_event = &r.lines()[2];
    for key in [
        "sse_event_name",
        "generation_id",
        "status",
        "status_key",
        "terminal",
        "payload",
    ] {
        assert!(sse_event.get(key).is_some(), "{key}");
    }
    assert_eq!(sim.creates(), 1);

    // Human output: summary on stdout.
    let human = run(sim.cmd().args([
        "generate",
        MODEL,
        "--prompt",
        "a dog",
        "--set",
        "num_images=2",
    ]));
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.contains("COMPLETED"), "{}", human.stdout);
}

#[test]
fn fallback_run_prints_the_seed_line_sequence() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(150));
    sim.faults(vec![FaultRule::always(Fault::DropAfterId)]);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let mut events = r.events();
    events.dedup();
    assert_eq!(
        events,
        [
            "start",
            "sse_open",
            "sse_event",
            "sse_stream_ended",
            "fallback_polling_start",
            "poll",
            "fallback_polling_end",
            "terminal"
        ],
        "{}",
        r.stdout
    );
    let lines = r.lines();
    let id = lines[2]["generation_id"].as_str().unwrap().to_string();
    assert_eq!(lines[3]["generation_id"], id.as_str());
    assert_eq!(lines[4]["generation_id"], id.as_str());
    let last = r.last();
    assert_eq!(last["source"], "poll");
    assert_eq!(last["ok"], true);
    assert_eq!(last["generation_id"], id.as_str());
    assert_eq!(sim.creates(), 1, "a fall-back must never create again");
}

#[test]
fn sse_timeout_falls_back_to_polling() {
    let sim = Sim::with(|c| c.heartbeat_interval = Duration::from_millis(100));
    sim.faults(vec![FaultRule::always(Fault::StallHeartbeats)]);
    let r = generate(&sim, &["--sse-timeout", "1"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let events = r.events();
    assert!(events.contains(&"sse_timeout".to_string()), "{events:?}");
    assert!(events.contains(&"fallback_polling_start".to_string()));
    assert_eq!(r.last()["source"], "poll");
    assert_eq!(sim.creates(), 1);
}

#[test]
fn no_sse_route_is_reported_then_polled() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::always(Fault::NoSseRoute)]);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let events = r.events();
    assert_eq!(
        &events[..3],
        ["start", "sse_http_error", "fallback_polling_start"]
    );
    assert_eq!(r.last()["source"], "poll");

    // --no-sse creates on the polling route directly.
    let sim = Sim::new();
    let r = generate(&sim, &["--no-sse"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.lines()[0]["mode"], "sse_then_poll_fallback");
    assert_eq!(r.lines()[0]["cli_mode"], "polling");
    assert!(!r.events().contains(&"sse_open".to_string()));
    assert_eq!(r.last()["source"], "poll");
}

#[test]
fn terminal_failure_exits_10() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::always(Fault::Outcome {
        status: "FAILED".into(),
    })]);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 10, "{}", r.stdout);
    let last = r.last();
    assert_eq!(last["event"], "terminal");
    assert_eq!(last["ok"], false);
    assert_eq!(last["status"], "FAILED");
    assert_eq!(r.events().iter().filter(|e| *e == "terminal").count(), 1);

    sim.faults(vec![FaultRule::always(Fault::Outcome {
        status: "CANCELED".into(),
    })]);
    let r = run(sim.cmd().args(["generate", MODEL, "--prompt", "x"]));
    assert_eq!(r.code, 10);
    assert!(r.stdout.contains("CANCELED"));
}

#[test]
fn set_errors_are_caught_before_any_request() {
    let sim = Sim::new();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["--set", "num_images=two"], 22, "num_images"),
        (&["--set", "enable_web_search=perhaps"], 22, "boolean"),
        (&["--set", "aspect_ratio=7:5"], 22, "16:9"),
        (&["--set", "aspect_ration=16:9"], 22, "aspect_ratio"),
        (&["--set", "num_images=99"], 22, "num_images"),
        (&["--set", "no_equals_sign"], 1, "NAME=VALUE"),
        (&["--payload", "[1,2]"], 1, "JSON object"),
        (&["--payload", "{not json"], 1, "not valid JSON"),
        (&["--payload", r#"{"colour":"red"}"#], 22, "colour"),
    ];
    for (args, code, needle) in cases {
        let r = generate(&sim, args);
        assert_eq!(r.code, *code, "{args:?}: {}", r.stdout);
        let last = r.last();
        assert_eq!(last["event"], "error");
        assert!(
            last["message"].as_str().unwrap().contains(needle),
            "{args:?}: {}",
            last["message"]
        );
        assert_eq!(
            r.events(),
            ["start", "error"],
            "nothing but start and the error: {}",
            r.stdout
        );
    }
    // Human mode names the field too.
    let r = run(sim
        .cmd()
        .args(["generate", MODEL, "--prompt", "x", "--set", "resolution=8K"]));
    assert_eq!(r.code, 22);
    assert!(
        r.stderr.contains("resolution") && r.stderr.contains("4K"),
        "{}",
        r.stderr
    );
    // Unknown model.
    let r = run(sim.cmd().args([
        "--json",
        "generate",
        "google/nano-banana-prro",
        "--prompt",
        "x",
    ]));
    assert_eq!(r.code, 1);
    assert_eq!(sim.creates(), 0, "no create may be sent for invalid input");

    // A payload file works.
    let dir = common::tempdir();
    let path = dir.path().join("p.json");
    std::fs::write(&path, r#"{"prompt":"from a file","resolution":"2K"}"#).unwrap();
    let r = run(sim
        .cmd()
        .args([
            "--json",
            "generate",
            MODEL,
            "--poll-interval",
            "0.1",
            "--payload-file",
        ])
        .arg(&path));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn missing_key_exits_1_without_a_request() {
    let sim = Sim::new();
    let r = run(bin()
        .args(["--json", "generate", MODEL, "--prompt", "x", "--base-url"])
        .arg(sim.sim.base_url()));
    assert_eq!(r.code, 1);
    let last = r.last();
    assert_eq!(last["event"], "error");
    assert!(last["guidance"]
        .as_str()
        .unwrap()
        .contains("SKILLS_VIDEO_API_KEY"));
    assert_eq!(sim.creates(), 0);
}

#[test]
fn dropped_before_any_id_exits_3_with_the_idempotency_key() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::always(Fault::DropBeforeEvent)]);
    let r = generate(&sim, &["--idempotency-key", "idem-123"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let last = r.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["error"], "ambiguous");
    assert_eq!(last["idempotency_key"], "idem-123");
    assert_eq!(sim.creates(), 1, "never created twice");
}

#[test]
fn poll_budget_exhausted_exits_4_with_the_resume_command() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_secs(30));
    let r = generate(&sim, &["--no-sse", "--poll-timeout", "0.5"]);
    assert_eq!(r.code, 4, "{}", r.stdout);
    let last = r.last();
    assert_eq!(last["error"], "timeout");
    let id = last["generation_id"].as_str().unwrap();
    assert_eq!(last["resume_command"], format!("skills-video wait {id}"));

    let r = run(sim
        .cmd()
        .args(["wait", id, "--timeout", "0.3", "--interval", "0.1"]));
    assert_eq!(r.code, 4);
    assert!(
        r.stderr.contains(&format!("skills-video wait {id}")),
        "{}",
        r.stderr
    );
}

#[test]
fn insufficient_credits_exit_20_after_an_sse_http_error_line() {
    let sim = Sim::with(|c| c.credits = 0.0);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert_eq!(r.events(), ["start", "sse_http_error", "error"]);
    let last = r.last();
    assert_eq!(last["error"], "insufficient_credits");
    assert!(last["guidance"]
        .as_str()
        .unwrap()
        .contains("https://skills.video/dashboard"));
    assert_eq!(r.lines()[1]["http_status"], 402);
}

#[test]
fn wrong_key_exits_21() {
    let sim = Sim::new();
    let wrong = "sk-wrong-key-XYZZY-777";
    let out = bin()
        .args(["--json", "-vv", "credits", "--base-url"])
        .arg(sim.sim.base_url())
        .arg("--api-key")
        .arg(wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(21));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(wrong), "{all}");
    assert!(all.contains("\"error\": \"auth\""), "{all}");

    let out = bin()
        .args(["generate", MODEL, "--prompt", "x", "--base-url"])
        .arg(sim.sim.base_url())
        .env("SKILLS_VIDEO_API_KEY", wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(21));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(wrong));
}

#[test]
fn not_found_exits_23() {
    let sim = Sim::new();
    let r = run(sim
        .cmd()
        .args(["--json", "wait", "no-such-generation", "--interval", "0.1"]));
    assert_eq!(r.code, 23, "{}", r.stdout);
    assert_eq!(r.last()["error"], "not_found");
}

#[test]
fn transient_after_retries_exits_24() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::always(Fault::CreateStatus {
        status: 503,
        retry_after_secs: None,
    })]);
    let r = generate(&sim, &["--max-retries", "1"]);
    assert_eq!(r.code, 24, "{}", r.stdout);
    let events = r.events();
    assert_eq!(
        events,
        ["start", "sse_http_error", "sse_http_error", "error"]
    );
    assert_eq!(r.lines()[1]["retrying"], true);
    assert_eq!(r.last()["error"], "transient");
    assert_eq!(sim.creates(), 2, "a 503 is retried (nothing was accepted)");
}

#[test]
fn unknown_error_exits_25() {
    let sim = Sim::new();
    sim.faults(vec![FaultRule::always(Fault::CreateStatus {
        status: 400,
        retry_after_secs: None,
    })]);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 25, "{}", r.stdout);
    assert_eq!(r.last()["error"], "unknown");
    assert_eq!(sim.creates(), 1, "a 4xx is never retried");
}

// ---- wait, credits ----

#[test]
fn wait_polls_an_id_to_terminal_and_downloads() {
    let sim = Sim::new();
    let r = generate(&sim, &["--no-sse"]);
    let id = r.last()["generation_id"].as_str().unwrap().to_string();
    let dir = common::tempdir();
    let r = run(sim
        .cmd()
        .args([
            "--json",
            "wait",
            &id,
            "--interval",
            "0.1",
            "--timeout",
            "30",
            "--out",
        ])
        .arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.events().first().map(String::as_str), Some("start"));
    let last = r.last();
    assert_eq!(last["event"], "terminal");
    assert_eq!(last["source"], "poll");
    assert_eq!(last["generation_id"], id.as_str());
    let file = last["files"][0].as_str().unwrap();
    assert_eq!(decode_png(std::path::Path::new(file)), (64, 64));

    let human = run(sim.cmd().args(["wait", &id]));
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains(&id));
}

/// `terminal.usage` is what the simulator charged, and the balance seen by
/// `credits` drops by exactly that; `wait` reports the same usage without a
/// new charge, and the human summaries print it.
#[test]
fn terminal_usage_matches_the_charge_and_the_balance_drop() {
    let sim = Sim::with(|c| {
        c.credits = 100.0;
        c.cost_per_generation = 20.0;
    });
    let balance = |sim: &Sim| {
        let r = run(sim.cmd().args(["--json", "credits"]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.last()["credits"].as_f64().unwrap()
    };
    let before = balance(&sim);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let last = r.last();
    assert_eq!(last["event"], "terminal");
    let usage = &last["usage"];
    assert_eq!(usage["total"], 20.0, "{last}");
    assert_eq!(usage["subscription"], 20.0);
    assert_eq!(usage["permanent"], 0.0);
    let after = balance(&sim);
    assert_eq!(before - after, usage["total"].as_f64().unwrap());

    // Resuming by id reports the same charge and costs nothing.
    let id = last["generation_id"].as_str().unwrap().to_string();
    let r = run(sim.cmd().args(["--json", "wait", &id, "--interval", "0.1"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.last()["usage"], *usage);
    assert_eq!(balance(&sim), after);

    // Human summaries, for success and for failure.
    let human = run(sim.cmd().args(["wait", &id]));
    assert!(
        human
            .stdout
            .contains("credits charged: 20 (subscription 20, permanent 0)"),
        "{}",
        human.stdout
    );
    sim.faults(vec![FaultRule::always(Fault::Outcome {
        status: "FAILED".into(),
    })]);
    let r = generate(&sim, &[]);
    assert_eq!(r.code, 10, "{}", r.stdout);
    assert_eq!(r.last()["usage"]["total"], 20.0);
    let human = run(sim.cmd().args(["generate", MODEL, "--prompt", "x"]));
    assert_eq!(human.code, 10);
    assert!(
        human.stdout.contains("credits charged: 20"),
        "{}",
        human.stdout
    );
    assert_eq!(balance(&sim), after - 40.0);
}

#[test]
fn credits_shows_the_balance() {
    let sim = Sim::with(|c| c.credits = 42.0);
    let r = run(sim.cmd().args(["--json", "credits"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.last()["credits"], 42.0);
    let r = run(sim.cmd().arg("credits"));
    assert!(r.stdout.contains("42"));
}

// ---- --out, secrecy, demo ----

#[test]
fn out_never_overwrites_and_leaves_no_partial_file() {
    let sim = Sim::new();
    let dir = common::tempdir();
    let mut paths = Vec::new();
    for _ in 0..2 {
        let mut c = sim.cmd();
        c.args(["--json", "generate", MODEL, "--prompt", "x", "--out"])
            .arg(dir.path());
        let r = run(&mut c);
        assert_eq!(r.code, 0, "{}", r.stdout);
        paths.push(r.last()["files"][0].as_str().unwrap().to_string());
    }
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            std::path::Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["output.png", "output-1.png"]);
    for p in &paths {
        decode_png(std::path::Path::new(p));
        assert!(std::path::Path::new(p).starts_with(dir.path()));
    }
    let mut listing: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        ["output-1.png", "output.png"],
        "no temporary file remains"
    );
}

#[test]
fn the_key_never_appears_even_when_verbose() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(100));
    sim.faults(vec![FaultRule::times(Fault::DropAfterId, 1)]);
    for verbosity in ["-v", "-vv"] {
        for json in [true, false] {
            let mut c = sim.cmd();
            c.arg(verbosity);
            if json {
                c.arg("--json");
            }
            c.args(["generate", MODEL, "--prompt", "x", "--poll-interval", "0.1"]);
            let r = run(&mut c); // `run` asserts the key is absent
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(!r.stderr.is_empty(), "-v writes tracing to stderr");
        }
        let r = run(sim.cmd().args([verbosity, "credits"]));
        assert_eq!(r.code, 0);
        let r = run(sim.cmd().args([verbosity, "check-key"]));
        assert_eq!(r.code, 0);
        // Even with RUST_LOG asking for everything.
        let r = run(sim
            .cmd()
            .env("RUST_LOG", "trace")
            .args([verbosity, "credits"]));
        assert_eq!(r.code, 0);
    }
}

#[test]
fn demo_runs_offline_and_saves_two_images() {
    let dir = common::tempdir();
    let r = run(bin().current_dir(dir.path()).arg("demo"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("delivered by sse"), "{}", r.stdout);
    assert!(r.stdout.contains("delivered by poll"), "{}", r.stdout);
    let out = dir.path().join("skills-video-demo");
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert_eq!(decode_png(f), (64, 64));
    }

    let r = run(bin().current_dir(dir.path()).args(["--json", "demo"]));
    assert_eq!(r.code, 0);
    let last = r.last();
    assert_eq!(last["event"], "demo");
    assert_eq!(last["ok"], true);
    let runs = last["runs"].as_array().unwrap();
    assert_eq!(runs[0]["source"], "sse");
    assert_eq!(runs[1]["source"], "poll");
    for run in runs {
        assert_eq!(run["create_requests"], 1);
    }
    // Run twice: four files, none overwritten.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4);
}
