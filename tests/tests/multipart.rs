//! Local files as inputs, end to end: an image-to-video request with a local
//! PNG goes out as `multipart/form-data` through the SDK and through the CLI
//! binary, the simulator parses, validates and logs it, and the generation
//! completes; faults on a multipart create behave as on a JSON one (a dropped
//! stream is recovered by polling without a second upload; a 503 re-sends the
//! whole form with the same idempotency key).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use skills_video::catalog::MODELS;
use skills_video::model::ModelDescriptor;
use skills_video::{Category, FieldKind, GenerateOptions, Media, RequestBody, Source};
use skills_video_simulator::{
    Fault, FaultRule, RecordedRequest, RouteKind, RunningSimulator, EMBEDDED_SPEC,
};
use skills_video_tests::matrix::{self, Setup, KEY};

/// The property names of a model's request schema in the simulator's spec.
fn simulator_properties(model: &str) -> Vec<String> {
    static SPEC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let spec =
        SPEC.get_or_init(|| serde_json::from_str(EMBEDDED_SPEC).expect("the embedded spec parses"));
    let op = spec
        .pointer(&format!(
            "/paths/{}/post",
            format!("/generation/{model}")
                .replace('~', "~0")
                .replace('/', "~1")
        ))
        .cloned()
        .unwrap_or(Value::Null);
    let mut schema = op
        .pointer("/requestBody/content/application~1json/schema")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        schema = spec
            .pointer(&r.replacen('#', "", 1))
            .cloned()
            .unwrap_or(Value::Null);
    }
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The field's preference as an image input: `first_frame_url`, then
/// `image_url`, then any other `*image*`/`*frame*` URL field.
fn image_field_rank(name: &str) -> Option<u8> {
    match name {
        "first_frame_url" => Some(0),
        "image_url" => Some(1),
        n if n.contains("frame") || n.contains("image") => Some(2),
        _ => None,
    }
}

/// A video model with SSE and polling routes, a single `format: uri` image
/// field, and nothing else required but `prompt`; found by its fields, not by
/// name (the specs are refreshed independently), and known to the simulator.
fn image_to_video_model() -> (&'static ModelDescriptor, &'static str) {
    let mut best: Option<(u8, &'static ModelDescriptor, &'static str)> = None;
    for model in MODELS.iter().copied() {
        if model.category != Category::Videos
            || model.sse_route.is_none()
            || model.create_route.is_none()
        {
            continue;
        }
        let sim_props = simulator_properties(model.id);
        for field in model.fields {
            let Some(rank) = image_field_rank(field.name) else {
                continue;
            };
            let usable = field.kind == FieldKind::String
                && field.format == Some("uri")
                && sim_props.iter().any(|p| p == field.name)
                && model
                    .fields
                    .iter()
                    .filter(|f| f.required)
                    .all(|f| f.name == "prompt" || f.name == field.name);
            if usable && best.is_none_or(|(r, _, _)| rank < r) {
                best = Some((rank, model, field.name));
            }
        }
    }
    let (_, model, field) =
        best.expect("a video model with an image URL field (image_url, first_frame_url, ...)");
    (model, field)
}

/// The models these tests generate with (the two above): the simulator
/// serves only these, so it starts in milliseconds.
fn served() -> [&'static str; 2] {
    [image_to_video_model().0.id, image_array_model().0.id]
}

/// An image model whose `*image_urls` array field takes several images, with
/// nothing else required but `prompt`.
fn image_array_model() -> (&'static ModelDescriptor, &'static str) {
    MODELS
        .iter()
        .copied()
        .filter(|m| m.category == Category::Images && m.sse_route.is_some())
        .find_map(|m| {
            let field = m.fields.iter().find(|f| {
                f.kind == FieldKind::Array
                    && f.name.ends_with("image_urls")
                    && simulator_properties(m.id).iter().any(|p| p == f.name)
            })?;
            m.fields
                .iter()
                .filter(|f| f.required)
                .all(|f| f.name == "prompt")
                .then_some((m, field.name))
        })
        .expect("an image model with an image_urls array field")
}

/// A small valid PNG in `dir`, and its SHA-256.
fn write_png(dir: &Path, name: &str) -> (PathBuf, String) {
    let bytes = skills_video_simulator::files::png_bytes(&format!("input/{name}"));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, format!("{:x}", Sha256::digest(&bytes)))
}

fn creates(sim: &RunningSimulator) -> Vec<RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| matches!(r.kind, RouteKind::CreateSse | RouteKind::CreatePoll))
        .collect()
}

/// Exactly one create, multipart, whose only file part is the PNG under `field`.
fn assert_one_multipart_create(sim: &RunningSimulator, field: &str, file_name: &str, sha: &str) {
    let creates = creates(sim);
    assert_eq!(creates.len(), 1, "{creates:#?}");
    let create = &creates[0];
    assert!(create.multipart, "{create:#?}");
    assert_eq!(create.status, 200, "{create:#?}");
    assert_eq!(create.files.len(), 1, "{create:#?}");
    let file = &create.files[0];
    assert_eq!(file.field, field);
    assert_eq!(file.file_name, file_name);
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(file.sha256, sha);
}

#[tokio::test]
async fn image_to_video_with_a_local_png_through_the_sdk() {
    let (model, field) = image_to_video_model();
    let dir = tempfile::tempdir().unwrap();
    let (png, sha) = write_png(dir.path(), "first frame.png");
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, Vec::new(), &served()).await;
    let client = matrix::client(&sim, &setup);

    let body = RequestBody::json(json!({"prompt": "the lighthouse wakes up"})).with_file(
        field,
        Media::file(&png),
        false,
    );
    let generation = client
        .generate_body(model, body, GenerateOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{} with a local {field}: {e}", model.id));
    assert!(generation.is_success());
    assert_eq!(generation.source(), Source::Sse);
    assert!(
        generation.output_urls()[0].ends_with(".mp4"),
        "{:?}",
        generation.output_urls()
    );
    assert_one_multipart_create(&sim, field, "first frame.png", &sha);
}

#[tokio::test]
async fn an_array_field_mixes_files_and_urls_through_the_sdk() {
    let (model, field) = image_array_model();
    let dir = tempfile::tempdir().unwrap();
    let (png, sha) = write_png(dir.path(), "ref.png");
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, Vec::new(), &served()).await;
    let client = matrix::client(&sim, &setup);

    let body =
        RequestBody::json(json!({"prompt": "two cats", field: ["https://example.com/a.png"]}))
            .with_file(field, Media::file(&png), true);
    client
        .generate_body(model, body, GenerateOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", model.id));
    assert_one_multipart_create(&sim, field, "ref.png", &sha);
}

#[tokio::test]
async fn a_missing_file_is_a_validation_error_before_any_request() {
    let (model, field) = image_to_video_model();
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, Vec::new(), &served()).await;
    let client = matrix::client(&sim, &setup);
    let body = RequestBody::json(json!({"prompt": "p"})).with_file(
        field,
        Media::file("/nonexistent/frame.png"),
        false,
    );
    let err = client
        .generate_body(model, body, GenerateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.category(), skills_video::ErrorCategory::Validation);
    let text = err.to_string();
    assert!(
        text.contains(field) && text.contains("/nonexistent/frame.png"),
        "{text}"
    );
    assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
}

#[tokio::test]
async fn a_dropped_stream_after_the_id_is_polled_without_a_second_upload() {
    let (model, field) = image_to_video_model();
    let dir = tempfile::tempdir().unwrap();
    let (png, sha) = write_png(dir.path(), "frame.png");
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![FaultRule::always(Fault::DropAfterId)],
        &served(),
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let body = RequestBody::json(json!({"prompt": "p"})).with_file(field, Media::file(&png), false);
    let generation = client
        .generate_body(model, body, GenerateOptions::default())
        .await
        .expect("the result arrives by polling");
    assert_eq!(generation.source(), Source::Poll);
    assert_one_multipart_create(&sim, field, "frame.png", &sha);
    assert!(sim.requests().iter().any(|r| r.kind == RouteKind::Poll));
}

#[tokio::test]
async fn a_retried_create_resends_the_whole_form_with_the_same_key() {
    let (model, field) = image_to_video_model();
    let dir = tempfile::tempdir().unwrap();
    let (png, sha) = write_png(dir.path(), "frame.png");
    let setup = Setup::default();
    let sim = matrix::simulator_serving(
        &setup,
        vec![FaultRule::times(
            Fault::CreateStatus {
                status: 503,
                retry_after_secs: None,
            },
            2,
        )],
        &served(),
    )
    .await;
    let client = matrix::client(&sim, &setup);
    let body = RequestBody::json(json!({"prompt": "p"})).with_file(field, Media::file(&png), false);
    client
        .generate_body(model, body, GenerateOptions::default())
        .await
        .expect("success after two 503s");
    let creates = creates(&sim);
    assert_eq!(
        creates.iter().map(|c| c.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert!(creates.iter().all(|c| c.multipart));
    // The 503s are answered before the body is read; the accepted create
    // carried the whole file again.
    assert_eq!(creates[2].files.len(), 1);
    assert_eq!(creates[2].files[0].sha256, sha);
    let keys: Vec<_> = creates.iter().map(|c| c.idempotency_key.clone()).collect();
    assert!(
        keys[0].is_some() && keys.iter().all(|k| k == &keys[0]),
        "{keys:?}"
    );
}

fn cli_binary() -> PathBuf {
    skills_video_tests::binaries::cli()
}

async fn run_cli(sim: &RunningSimulator, args: Vec<String>) -> (i32, String, String) {
    let bin = cli_binary();
    let base = sim.base_url();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(bin)
            .env_remove("SKILLS_VIDEO_API_KEY")
            .env_remove("SKILLS_VIDEO_BASE_URL")
            // The job ledger in a temp state dir, never the real home.
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("skills-video-tests-state"),
            )
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .args([
                "--base-url",
                &base,
                "--api-key",
                KEY,
                "--json",
                "--max-retries",
                "1",
            ])
            .args(&args)
            .output()
            .expect("the CLI runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_to_video_with_a_local_png_through_the_cli() {
    let (model, field) = image_to_video_model();
    let dir = tempfile::tempdir().unwrap();
    let (png, sha) = write_png(dir.path(), "frame.png");
    let setup = Setup::default();
    let sim = matrix::simulator_serving(&setup, Vec::new(), &served()).await;
    let args = vec![
        "generate".to_string(),
        model.id.to_string(),
        "--prompt".into(),
        "the lighthouse wakes up".into(),
        "--set".into(),
        format!("{field}=@{}", png.display()),
        "--poll-interval".into(),
        "0.05".into(),
    ];
    let (code, stdout, stderr) = run_cli(&sim, args).await;
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(last["event"], "terminal", "{stdout}");
    assert_eq!(last["ok"], true, "{stdout}");
    assert_one_multipart_create(&sim, field, "frame.png", &sha);

    // A missing file: exit 22 naming the field and the path; nothing sent.
    let missing = dir.path().join("missing.png");
    let args = vec![
        "generate".to_string(),
        model.id.to_string(),
        "--prompt".into(),
        "p".into(),
        "--set".into(),
        format!("{field}=@{}", missing.display()),
    ];
    let (code, stdout, stderr) = run_cli(&sim, args).await;
    assert_eq!(code, 22, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let shown = format!("{stdout}{stderr}");
    assert!(
        shown.contains(field) && shown.contains("missing.png"),
        "{shown}"
    );
    assert_eq!(creates(&sim).len(), 1, "the missing file sent nothing");
}
