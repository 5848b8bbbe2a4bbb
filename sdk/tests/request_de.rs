//! A request struct's `Deserialize` comes from the runtime's `read_fields!`,
//! not from `#[derive(Deserialize)]` (issue 18, compile time). It must read
//! exactly as the derive with `deny_unknown_fields` did: here a copy of two
//! generated structs with the derive is the oracle, and every payload of a
//! set (valid ones, and one of each error serde can report) must give the
//! same value, or the same error text with the same line and column, through
//! `serde_json::from_str`. `path_oracle.rs` checks the field paths.

#![cfg(all(feature = "images", feature = "videos"))]

use serde::Deserialize;
use skills_video::models::google_nano_banana_pro::{
    AspectRatio, GoogleNanoBananaProRequest, OutputFormat, Resolution,
};
use skills_video::models::kling_ai_kling_v2_6::KlingAiKlingV2_6TextImageToVideo;
use skills_video::Media;

/// A value enum read as its `Deserialize` read it before the shared
/// `ChoiceSeed`: the text, then `FromStr` (whose error is serde's custom one).
#[derive(Debug)]
#[allow(dead_code)]
struct ByText<E>(E);

impl<'de, E: std::str::FromStr<Err = skills_video::validation::UnknownValue>> Deserialize<'de>
    for ByText<E>
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map(ByText).map_err(serde::de::Error::custom)
    }
}

/// `GoogleNanoBananaProRequest` as the generator wrote it before, with the
/// derive (and its enums read through their text).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DerivedNanoBananaPro {
    prompt: String,
    #[serde(default)]
    image_urls: Option<Vec<Media>>,
    #[serde(default)]
    num_images: Option<i64>,
    #[serde(default)]
    aspect_ratio: Option<ByText<AspectRatio>>,
    #[serde(default)]
    resolution: Option<ByText<Resolution>>,
    #[serde(default)]
    output_format: Option<ByText<OutputFormat>>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    enable_web_search: Option<bool>,
}

/// Payloads of every kind: valid, and one per serde error.
const PAYLOADS: &[&str] = &[
    r#"{"prompt": "a fox"}"#,
    r#"{"prompt": "a fox", "aspect_ratio": "16:9", "num_images": 2, "seed": null}"#,
    r#"{"prompt": "a fox", "image_urls": ["https://e.com/a.png"], "enable_web_search": true}"#,
    r#"{"prompt": "a fox", "output_format": "png", "resolution": "4K", "image_urls": null}"#,
    // Missing, unknown, duplicate.
    r#"{}"#,
    r#"{"aspect_ratio": "1:1"}"#,
    r#"{"prompt": "a fox", "colour": "red"}"#,
    r#"{"colour": "red", "prompt": "a fox"}"#,
    r#"{"prompt": "a fox", "prompt": "a hen"}"#,
    r#"{"prompt": "a fox", "seed": 1, "seed": 2}"#,
    // Wrong types and values, at the top level and inside items.
    r#"{"prompt": 5}"#,
    r#"{"prompt": "a fox", "num_images": "two"}"#,
    r#"{"prompt": "a fox", "num_images": 2.5}"#,
    r#"{"prompt": "a fox", "aspect_ratio": "2:1"}"#,
    r#"{"prompt": "a fox", "aspect_ratio": 5}"#,
    r#"{"prompt": "a fox", "aspect_ratio": ["16:9"]}"#,
    r#"{"prompt": "a fox", "resolution": "4k"}"#,
    r#"{"prompt": "a fox", "output_format": null, "resolution": "2K"}"#,
    r#"{"prompt": "a fox", "image_urls": "https://e.com/a.png"}"#,
    r#"{"prompt": "a fox", "image_urls": ["https://e.com/a.png", 5]}"#,
    r#"{"prompt": "a fox", "enable_web_search": "yes"}"#,
    // Not an object (an array: see `an_array_is_not_a_request`).
    r#""a fox""#,
    r#"null"#,
    r#"5"#,
    // Broken JSON.
    r#"{"prompt": "a fox""#,
    r#"{"prompt": "a fox",}"#,
];

/// The outcome: nothing, or the error's text with its line and column.
fn outcome<T: for<'de> Deserialize<'de> + std::fmt::Debug>(payload: &str) -> Result<(), String> {
    serde_json::from_str::<T>(payload)
        .map(|_| ())
        .map_err(|e| format!("{e} (line {}, column {})", e.line(), e.column()))
}

/// An unknown enum text is reported at the text's closing quote, where the
/// shared reader looks it up; the derive parsed it after the read, one
/// column later. The same error otherwise: compare without that column.
fn same_but_unknown_value_column(ours: &str, derived: &str) -> bool {
    let strip = |s: &str| s.split(" at line ").next().unwrap_or(s).to_string();
    let column = |s: &str| {
        s.rsplit("column ")
            .next()
            .and_then(|c| c.trim_end_matches(')').parse::<i64>().ok())
    };
    ours.starts_with("unknown value ")
        && strip(ours) == strip(derived)
        && matches!((column(ours), column(derived)), (Some(a), Some(b)) if b - a == 1)
}

#[test]
fn every_payload_reads_as_the_derive_read_it() {
    let mut errors = 0;
    for payload in PAYLOADS {
        let ours = outcome::<GoogleNanoBananaProRequest>(payload);
        let derived = outcome::<DerivedNanoBananaPro>(payload)
            .map_err(|e| e.replace("DerivedNanoBananaPro", "GoogleNanoBananaProRequest"));
        match (&ours, &derived) {
            (Err(a), Err(b)) if same_but_unknown_value_column(a, b) => {}
            _ => assert_eq!(ours, derived, "payload {payload}"),
        }
        errors += ours.is_err() as usize;
        // A payload that reads is read as given: written back, it is the
        // payload without its `null` members (unset fields are not written).
        if ours.is_ok() {
            let read: GoogleNanoBananaProRequest = serde_json::from_str(payload).unwrap();
            let mut given: serde_json::Value = serde_json::from_str(payload).unwrap();
            given.as_object_mut().unwrap().retain(|_, v| !v.is_null());
            assert_eq!(
                serde_json::to_value(&read).unwrap(),
                given,
                "payload {payload}"
            );
        }
    }
    // The set exercises errors, not only successes.
    assert!(errors >= 15, "{errors} errors");
}

/// The one documented difference: the derive also read a struct from a
/// positional array; a request is a JSON object only.
#[test]
fn an_array_is_not_a_request() {
    for payload in [r#"[]"#, r#"["a fox"]"#] {
        let error = outcome::<GoogleNanoBananaProRequest>(payload).unwrap_err();
        assert!(
            error.starts_with("invalid type: sequence, expected struct GoogleNanoBananaProRequest"),
            "{error}"
        );
    }
}

#[test]
fn the_value_read_is_the_value_written() {
    let request = GoogleNanoBananaProRequest::new("a fox")
        .aspect_ratio(AspectRatio::V16_9)
        .num_images(2)
        .image_urls(vec![Media::from("https://e.com/a.png")]);
    let text = serde_json::to_string(&request).unwrap();
    let back: GoogleNanoBananaProRequest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, request);
    // A null optional field reads as unset, as the derive read it.
    let nulls: GoogleNanoBananaProRequest =
        serde_json::from_str(r#"{"prompt": "a fox", "seed": null, "image_urls": null}"#).unwrap();
    assert_eq!(nulls, GoogleNanoBananaProRequest::new("a fox"));
}

/// An open struct (the spec allows more fields than it names) keeps the
/// members it does not name in `extra`, as the derive's `flatten` did.
#[test]
fn an_open_struct_keeps_unnamed_members() {
    let payload = r#"{"prompt": "a fox", "camera": {"pan": 2}, "duration": 5}"#;
    let read: KlingAiKlingV2_6TextImageToVideo = serde_json::from_str(payload).unwrap();
    assert_eq!(read.prompt, "a fox");
    assert_eq!(read.duration, Some(5.0));
    assert_eq!(read.extra.len(), 1);
    assert_eq!(read.extra["camera"], serde_json::json!({"pan": 2}));
    let written = serde_json::to_value(&read).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"prompt": "a fox", "camera": {"pan": 2}, "duration": 5.0})
    );
    let twice = serde_json::from_str::<KlingAiKlingV2_6TextImageToVideo>(
        r#"{"prompt": "a fox", "prompt": "a hen"}"#,
    )
    .unwrap_err();
    assert!(
        twice.to_string().starts_with("duplicate field `prompt`"),
        "{twice}"
    );
}
