//! One shape for validation errors: `--payload`, `--payload-file` and
//! `--set` report each violation the same way (field path, rule, allowed
//! values or range, did-you-mean), all at once, with exit 22 and nothing sent.

mod common;

use common::{run, Sim};
use serde_json::Value;

const MODEL: &str = "bytedance/seedream-4.5";

fn generate(sim: &Sim, model: &str, extra: &[&str]) -> common::Run {
    let mut c = sim.cmd();
    c.args(["--json", "generate", model]);
    c.args(extra);
    run(&mut c)
}

/// The error line's violations, by field.
fn violations(r: &common::Run) -> Vec<Value> {
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.events(), ["start", "error"], "{}", r.stdout);
    let last = r.last();
    assert_eq!(last["error"], "validation");
    last["violations"].as_array().expect("violations").clone()
}

fn by_field<'a>(vs: &'a [Value], field: &str) -> &'a Value {
    vs.iter()
        .find(|v| v["field"] == field)
        .unwrap_or_else(|| panic!("no violation for {field}: {vs:?}"))
}

#[test]
fn a_payload_reports_every_problem_at_once() {
    let sim = Sim::new();
    let payload = r#"{"aspect_ratio": "7:5", "n": 99, "promt": "x"}"#;
    let r = generate(&sim, MODEL, &["--payload", payload]);
    let vs = violations(&r);
    assert_eq!(vs.len(), 3, "{vs:?}");
    // Allowed values.
    let ratio = by_field(&vs, "aspect_ratio");
    assert_eq!(ratio["rule"], "allowed_values");
    assert!(ratio["allowed_values"]
        .as_array()
        .unwrap()
        .contains(&Value::from("16:9")));
    assert!(ratio["message"].as_str().unwrap().contains("\"7:5\""));
    // Range.
    let n = by_field(&vs, "n");
    assert_eq!(n["rule"], "maximum");
    assert_eq!(
        (n["minimum"].clone(), n["maximum"].clone()),
        (1.into(), 4.into())
    );
    // Did you mean.
    let typo = by_field(&vs, "promt");
    assert_eq!(typo["rule"], "unknown_field");
    assert_eq!(typo["suggestions"][0], "prompt");
    assert!(typo["message"]
        .as_str()
        .unwrap()
        .contains("did you mean \"prompt\""));
    assert_eq!(sim.creates(), 0, "nothing sent");

    // The same from a file.
    let dir = common::tempdir();
    let path = dir.path().join("p.json");
    std::fs::write(&path, payload).unwrap();
    let from_file = generate(&sim, MODEL, &["--payload-file", path.to_str().unwrap()]);
    assert_eq!(violations(&from_file), vs);

    // Human output lists them one per line.
    let human = run(sim.cmd().args(["generate", MODEL, "--payload", payload]));
    assert_eq!(human.code, 22);
    for needle in [
        "\n  - invalid value \"7:5\"",
        "\n  - field \"n\"",
        "did you mean \"prompt\"",
    ] {
        assert!(human.stderr.contains(needle), "{needle}: {}", human.stderr);
    }
    assert_eq!(sim.creates(), 0);
}

#[test]
fn set_and_payload_word_a_violation_the_same_way() {
    let sim = Sim::new();
    let by_set = violations(&generate(
        &sim,
        MODEL,
        &[
            "--prompt",
            "x",
            "--set",
            "aspect_ratio=7:5",
            "--set",
            "n=99",
            "--set",
            "promt=x",
        ],
    ));
    let by_payload = violations(&generate(
        &sim,
        MODEL,
        &[
            "--payload",
            r#"{"prompt": "x", "aspect_ratio": "7:5", "n": 99, "promt": "x"}"#,
        ],
    ));
    assert_eq!(by_set.len(), 3, "{by_set:?}");
    for field in ["aspect_ratio", "n", "promt"] {
        assert_eq!(
            by_field(&by_set, field),
            by_field(&by_payload, field),
            "{field}"
        );
    }
    assert_eq!(sim.creates(), 0);
}

#[test]
fn nested_fields_are_named_by_path_and_index() {
    let sim = Sim::new();
    let payload = r#"{"prompt": "x", "video_url": "https://example.com/v.mp4", "elements": [
        {"frontal_image_url": "https://example.com/0.png"},
        {"frontal_image_url": 5},
        {"frontal_image_url": "https://example.com/2.png", "refrence_image_urls": []},
        {"frontal_image_url": "not a url"}]}"#;
    let vs = violations(&generate(&sim, "kling-ai/o1/edit", &["--payload", payload]));
    let fields: Vec<(&str, &str)> = vs
        .iter()
        .map(|v| (v["field"].as_str().unwrap(), v["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("elements[1].frontal_image_url", "type"),
            ("elements[2].refrence_image_urls", "unknown_field"),
            ("elements[3].frontal_image_url", "uri"),
        ]
    );
    assert_eq!(vs[1]["suggestions"][0], "reference_image_urls");
    // The fields that object takes, as serde named them.
    let message = vs[1]["message"].as_str().unwrap();
    assert!(
        message.contains("Fields there: ") && message.contains("frontal_image_url"),
        "{message}"
    );
    assert_eq!(sim.creates(), 0);
}
