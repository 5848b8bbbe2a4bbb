//! `skills-video mcp` driven over stdio by an MCP client (rmcp's client
//! feature) against the simulator on 127.0.0.1: the six tools and their
//! schemas, every tool called, progress during `generate`, a mid-stream
//! drop that still completes with one create, invalid input (every bad
//! field named, nothing sent), unknown models (closest names), no key (the
//! first-run guidance), 100 concurrent `generate` calls from one client,
//! and `--per-model-tools` (one tool per SDK function whose schema accepts
//! the model's template and rejects `{}` where fields are required).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Sim, KEY};
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam, Tool};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};
use skills_video::ledger::{JobFilter, JobState, Ledger, SqliteLedger};
use skills_video_simulator::spec::json_schema_errors;
use skills_video_simulator::{Fault, FaultRule};
use tokio::io::AsyncReadExt;

/// The six tools every agent can rely on.
const SIX: [&str; 6] = [
    "list_models",
    "describe_model",
    "generate",
    "wait_generation",
    "get_credits",
    "explain_error",
];

/// A client that keeps every progress notification.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(params);
    }
}

/// A running `skills-video mcp` with its client and its stderr so far.
struct Server {
    client: RunningService<RoleClient, Recorder>,
    recorder: Recorder,
    stderr: Arc<Mutex<String>>,
    /// From spawning the process to the answer of the first `tools/list`.
    started_to_tools: Duration,
    tools: Vec<Tool>,
    _state: tempfile::TempDir,
}

/// Starts the binary (`mcp` plus `extra`), pointed at `base_url` when given,
/// with `key` in the environment when given, and lists its tools.
async fn start(base_url: Option<&str>, key: Option<&str>, extra: &[&str]) -> Server {
    let state = common::tempdir();
    let bin = env!("CARGO_BIN_EXE_skills-video");
    let cmd = tokio::process::Command::new(bin).configure(|c| {
        c.env_remove("SKILLS_VIDEO_API_KEY")
            .env_remove("SKILLS_VIDEO_BASE_URL")
            .env_remove("SKILLS_VIDEO_LEDGER")
            .env_remove("RUST_LOG")
            .env("XDG_STATE_HOME", state.path())
            .env("NO_COLOR", "1")
            // Logs on (stderr), so that the redaction of the key is checked there too.
            .arg("-v")
            .arg("mcp")
            .args(["--poll-interval", "0.2"])
            .args(extra);
        if let Some(url) = base_url {
            c.env("SKILLS_VIDEO_BASE_URL", url);
        }
        if let Some(k) = key {
            c.env("SKILLS_VIDEO_API_KEY", k);
        }
    });
    let t0 = Instant::now();
    let (transport, stderr_pipe) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(mut pipe) = stderr_pipe {
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let recorder = Recorder::default();
    let client = recorder.clone().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    let started_to_tools = t0.elapsed();
    Server {
        client,
        recorder,
        stderr,
        started_to_tools,
        tools,
        _state: state,
    }
}

impl Server {
    async fn call(&self, name: &str, args: Value) -> CallToolResult {
        call(self.client.peer(), name, args).await
    }

    /// Asserts the key appears in nothing the server wrote to stderr.
    fn assert_no_key_in_logs(&self) {
        let logs = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        assert!(!logs.contains(KEY), "the key is in the server's stderr");
    }

    /// Calls each of `tools` (a paid one, with valid arguments): each must
    /// fail with `category`, and its guidance say every one of `parts`.
    async fn assert_paid_tools_refused(&self, tools: &[&str], category: &str, parts: &[&str]) {
        for &tool in tools {
            let args = match tool {
                "generate" => json!({"model": "google/nano-banana-pro", "input": nano_input()}),
                "wait_generation" => json!({"id": "gen_123"}),
                _ => json!({}),
            };
            let r = self.call(tool, args).await;
            assert!(is_error(&r), "{tool}");
            let e = body(&r);
            assert_eq!(e["category"], category, "{tool}: {e}");
            let guidance = e["guidance"].as_str().unwrap();
            for part in parts {
                assert!(
                    guidance.contains(part),
                    "{tool}: {part:?} missing: {guidance}"
                );
            }
        }
    }

    async fn stop(self) {
        self.assert_no_key_in_logs();
        let _ = self.client.cancel().await;
    }
}

async fn call(peer: &rmcp::Peer<RoleClient>, name: &str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = args.as_object().cloned();
    let result = peer.call_tool(params).await.unwrap();
    let text = serde_json::to_string(&result).unwrap();
    assert!(!text.contains(KEY), "the key is in a tool result: {text}");
    result
}

/// The structured content of a result.
fn body(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A valid request for google/nano-banana-pro.
fn nano_input() -> Value {
    json!({"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9"})
}

#[test]
fn six_tools_every_tool_called_progress_errors_and_no_key_leak() {
    let sim = Sim::new();
    let base = sim.sim.base_url();
    let out = common::tempdir();
    runtime().block_on(async {
        let server = start(Some(&base), Some(KEY), &[]).await;
        println!(
            "figure: spawn + initialize + tools/list = {:.1} ms",
            server.started_to_tools.as_secs_f64() * 1000.0
        );
        // tools/list: exactly the six, each with an object JSON Schema.
        let names: Vec<&str> = server.tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, SIX);
        for t in &server.tools {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
            assert!(t.input_schema["properties"].is_object(), "{}", t.name);
            assert!(t.description.as_deref().is_some_and(|d| d.len() > 20));
        }
        let generate_tool = &server.tools[2];
        assert_eq!(generate_tool.input_schema["required"], json!(["model", "input"]));
        // The waiting and saving arguments of both lifecycle tools: typed and bounded.
        for t in [&server.tools[2], &server.tools[3]] {
            let props = &t.input_schema["properties"];
            assert_eq!(props["wait_seconds"]["type"], "number", "{}", t.name);
            assert_eq!(props["wait_seconds"]["minimum"], 0, "{}", t.name);
            assert_eq!(props["wait_seconds"]["maximum"], 3600.0, "{}", t.name);
            assert_eq!(props["download_dir"]["type"], "string", "{}", t.name);
            assert!(props["download_dir"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("never overwritten")));
        }

        // list_models.
        let r = server.call("list_models", json!({"category": "videos"})).await;
        assert!(!is_error(&r));
        let models = body(&r)["models"].as_array().cloned().unwrap();
        assert!(!models.is_empty());
        for m in &models {
            assert_eq!(m["category"], "videos");
            for k in ["provider", "model", "title", "description"] {
                assert!(m[k].is_string(), "{k}: {m}");
            }
        }
        let all = body(&server.call("list_models", json!({})).await)["count"].clone();
        assert!(all.as_u64().unwrap() > models.len() as u64);

        // describe_model: fields and the seed-rule template.
        let r = server
            .call("describe_model", json!({"model": "google/nano-banana-pro"}))
            .await;
        assert!(!is_error(&r));
        let doc = body(&r);
        let aspect = doc["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "aspect_ratio")
            .cloned()
            .unwrap();
        assert!(aspect["allowed_values"].as_array().unwrap().contains(&json!("16:9")));
        assert_eq!(doc["request_template"]["aspect_ratio"], "auto");
        assert_eq!(doc["sdk_function"], "google_nano_banana_pro");

        // generate: the template as given, downloaded; progress notifications arrive.
        let before = server.recorder.progress.lock().unwrap().len();
        let r = server
            .call(
                "generate",
                json!({
                    "model": "google/nano-banana-pro",
                    "input": doc["request_template"],
                    "download_dir": out.path(),
                }),
            )
            .await;
        let g = body(&r);
        assert!(!is_error(&r), "{g}");
        assert_eq!(g["done"], true);
        assert_eq!(g["status"], "COMPLETED");
        let id = g["generation_id"].as_str().unwrap().to_string();
        assert!(!g["outputs"].as_array().unwrap().is_empty());
        let files = g["files"].as_array().unwrap();
        assert!(!files.is_empty(), "{g}");
        for f in files {
            assert!(Path::new(f.as_str().unwrap()).is_file(), "{f}");
        }
        assert!(g["idempotency_key"].is_string());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let progress: Vec<ProgressNotificationParam> =
            server.recorder.progress.lock().unwrap()[before..].to_vec();
        assert!(progress.len() >= 3, "{progress:?}");
        assert!(
            progress
                .iter()
                .any(|p| p.message.as_deref().is_some_and(|m| m.contains("IN_PROGRESS"))),
            "{progress:?}"
        );
        assert!(progress
            .iter()
            .any(|p| p.message.as_deref().is_some_and(|m| m.contains(&id))));
        // Per token, no progress value twice (the server sends them strictly
        // increasing; the client may record concurrent notifications out of
        // order), within (0, 100], ending at 100 with the terminal status.
        let mut by_token: HashMap<String, Vec<f64>> = HashMap::new();
        for p in &progress {
            assert_eq!(p.total, Some(100.0));
            by_token
                .entry(format!("{:?}", p.progress_token))
                .or_default()
                .push(p.progress);
        }
        for values in by_token.values_mut() {
            values.sort_by(f64::total_cmp);
            assert!(values.windows(2).all(|w| w[1] > w[0]), "{values:?}");
            assert!(values[0] > 0.0 && values.last() == Some(&100.0), "{values:?}");
        }
        assert_eq!(sim.creates(), 1);

        // The job went through the ledger (an agent that crashes can `resume`),
        // with its saved files recorded under the call's idempotency key.
        let ledger_path = server._state.path().join("skills-video/ledger.sqlite3");
        let ledger = SqliteLedger::open(&ledger_path).unwrap();
        let jobs = ledger.jobs(JobFilter::All).unwrap();
        let job = jobs
            .iter()
            .find(|j| j.generation_id.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not in the ledger"));
        assert_eq!(job.state, JobState::Terminal);
        assert_eq!(job.idempotency_key, g["idempotency_key"].as_str().unwrap());
        assert_eq!(job.outputs.len(), files.len());

        // wait_generation: the same job, no create.
        let r = server
            .call("wait_generation", json!({"id": id, "wait_seconds": 30}))
            .await;
        assert!(!is_error(&r), "{}", body(&r));
        assert_eq!(body(&r)["status"], "COMPLETED");
        assert_eq!(body(&r)["generation_id"], id.as_str());

        // A blank id is a missing one: an argument error, and nothing is polled.
        let requests = sim.sim.requests().len();
        let r = server
            .call("wait_generation", json!({"id": "   "}))
            .await;
        assert!(is_error(&r), "{}", body(&r));
        assert_eq!(body(&r)["category"], "invalid_arguments", "{}", body(&r));
        assert!(
            body(&r)["message"].as_str().unwrap().contains("\"id\" is required"),
            "{}",
            body(&r)
        );
        assert_eq!(sim.sim.requests().len(), requests, "nothing reached the platform");

        // wait_seconds 0: the id and the last status at once, then wait_generation finishes it.
        let r = server
            .call(
                "generate",
                json!({"model": "google/nano-banana-pro", "input": nano_input(), "wait_seconds": 0}),
            )
            .await;
        let pending = body(&r);
        assert!(!is_error(&r), "{pending}");
        assert_eq!(pending["done"], false, "{pending}");
        let pending_id = pending["generation_id"].as_str().unwrap().to_string();
        assert!(pending["next"].as_str().unwrap().contains("wait_generation"));
        let r = server
            .call("wait_generation", json!({"id": pending_id}))
            .await;
        assert_eq!(body(&r)["status"], "COMPLETED", "{}", body(&r));
        assert_eq!(sim.creates(), 2);

        // get_credits.
        let r = server.call("get_credits", json!({})).await;
        assert!(!is_error(&r), "{}", body(&r));
        assert!(body(&r)["credits"].is_number(), "{}", body(&r));

        // explain_error.
        let r = server
            .call(
                "explain_error",
                json!({"status": 402, "body": {"message": "Insufficient credits"}}),
            )
            .await;
        assert!(!is_error(&r));
        assert_eq!(body(&r)["category"], "insufficient_credits");
        assert!(body(&r)["guidance"].is_string());

        // Invalid input: one tool error naming every bad field; nothing sent.
        let r = server
            .call(
                "generate",
                json!({"model": "google/nano-banana-pro", "input": {
                    "aspect_ratio": "7:5", "num_images": 99, "colour": "red"
                }}),
            )
            .await;
        assert!(is_error(&r));
        let e = body(&r);
        assert_eq!(e["category"], "validation", "{e}");
        let fields: BTreeSet<String> = e["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap().to_string())
            .collect();
        for f in ["aspect_ratio", "num_images", "colour", "prompt"] {
            assert!(fields.contains(f), "{f} not named: {e}");
            assert!(e["message"].as_str().unwrap().contains(f), "{e}");
        }
        for v in e["violations"].as_array().unwrap() {
            assert!(v["rule"].is_string(), "{v}");
        }
        // The agent's guidance: where the fields are described, and not to resend.
        let guidance = e["guidance"].as_str().unwrap();
        for part in ["Nothing was sent", "describe_model", "do not resend"] {
            assert!(guidance.contains(part), "{part:?} missing: {e}");
        }
        assert_eq!(sim.creates(), 2, "an invalid input must not be sent");

        // Unknown model: the closest names.
        let r = server
            .call(
                "generate",
                json!({"model": "google/nano-banana-prp", "input": nano_input()}),
            )
            .await;
        assert!(is_error(&r));
        let e = body(&r);
        assert_eq!(e["category"], "unknown_model");
        assert!(e["suggestions"]
            .as_array()
            .unwrap()
            .contains(&json!("google/nano-banana-pro")));
        let r = server
            .call("describe_model", json!({"model": "bytedance/seedream-4.6"}))
            .await;
        assert!(is_error(&r));
        assert!(body(&r)["message"].as_str().unwrap().contains("bytedance/seedream-4.5"));

        // Bad arguments are tool errors naming them (not protocol errors).
        let r = server
            .call("generate", json!({"modle": "google/nano-banana-pro", "input": {}}))
            .await;
        assert!(is_error(&r));
        assert!(body(&r)["message"].as_str().unwrap().contains("\"model\""));
        let r = server.call("explain_error", json!({"status": "teapot"})).await;
        assert!(is_error(&r));
        assert_eq!(body(&r)["category"], "invalid_arguments");
        assert_eq!(sim.creates(), 2);

        // The platform's own errors keep their category: an unknown id is not_found.
        let r = server
            .call("wait_generation", json!({"id": "no-such-generation"}))
            .await;
        assert!(is_error(&r));
        assert_eq!(body(&r)["category"], "not_found", "{}", body(&r));
        assert!(body(&r)["guidance"].is_string());

        // A FAILED job is an error result with the id.
        sim.faults(vec![FaultRule::times(
            Fault::Outcome {
                status: "FAILED".into(),
            },
            1,
        )]);
        let r = server
            .call("generate", json!({"model": "google/nano-banana-pro", "input": nano_input()}))
            .await;
        assert!(is_error(&r));
        let e = body(&r);
        assert_eq!(e["category"], "failed", "{e}");
        assert!(e["generation_id"].is_string(), "{e}");
        assert!(e["idempotency_key"].is_string(), "{e}");
        assert_eq!(e["status"], "FAILED");
        server.stop().await;
    });
}

#[test]
fn a_mid_stream_drop_still_completes_with_one_create() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(150));
    sim.faults(vec![FaultRule::always(Fault::DropAfterId)]);
    let base = sim.sim.base_url();
    runtime().block_on(async {
        let server = start(Some(&base), Some(KEY), &["--per-model-tools"]).await;
        let r = server
            .call(
                "generate",
                json!({"model": "google/nano-banana-pro", "input": nano_input()}),
            )
            .await;
        let g = body(&r);
        assert!(!is_error(&r), "{g}");
        assert_eq!(g["status"], "COMPLETED");
        assert_eq!(g["fell_back_to_polling"], true, "{g}");
        assert_eq!(g["source"], "poll");
        assert_eq!(sim.creates(), 1, "a dropped stream must never create again");
        // The per-model tool runs the same lifecycle, with its arguments as the request.
        let r = server
            .call(
                "google_nano_banana_pro",
                json!({"prompt": "a dropped stream, again"}),
            )
            .await;
        let g = body(&r);
        assert!(!is_error(&r), "{g}");
        assert_eq!(g["status"], "COMPLETED");
        assert_eq!(g["model"], "google/nano-banana-pro");
        assert_eq!(g["fell_back_to_polling"], true, "{g}");
        assert_eq!(sim.creates(), 2);
        server.stop().await;
    });
}

#[test]
fn without_a_key_the_catalog_works_and_paid_tools_give_the_guidance() {
    let sim = Sim::new();
    let base = sim.sim.base_url();
    runtime().block_on(async {
        let server = start(Some(&base), None, &[]).await;
        assert_eq!(server.tools.len(), 6);
        // The server says who it is, that it has tools, and the one rule an
        // agent must keep: never generate twice for one job.
        let info = server.client.peer_info().expect("the initialize answer");
        let implementation = info.server_info.as_ref().expect("server_info");
        assert_eq!(implementation.name, "skills-video");
        assert_eq!(implementation.version, env!("CARGO_PKG_VERSION"));
        assert!(info.capabilities.tools.is_some());
        let instructions = info.instructions.as_deref().unwrap_or_default();
        assert!(
            instructions.contains("Never call generate twice for one job")
                && instructions.contains("wait_generation"),
            "{instructions}"
        );
        let r = server.call("list_models", json!({})).await;
        assert!(!is_error(&r));
        let r = server
            .call("describe_model", json!({"model": "google/nano-banana-pro"}))
            .await;
        assert!(!is_error(&r));
        server
            .assert_paid_tools_refused(
                &["generate", "get_credits", "wait_generation"],
                "missing_api_key",
                &[
                    "SKILLS_VIDEO_API_KEY",
                    "https://skills.video/dashboard/developer",
                ],
            )
            .await;
        assert_eq!(sim.creates(), 0);
        server.stop().await;
    });
}

#[test]
fn a_wrong_key_is_an_auth_error_and_is_never_echoed() {
    let sim = Sim::new();
    let base = sim.sim.base_url();
    let wrong = "sk-wrong-key-7e1d0c";
    runtime().block_on(async {
        let server = start(Some(&base), Some(wrong), &[]).await;
        for (tool, args) in [
            ("get_credits", json!({})),
            (
                "generate",
                json!({"model": "google/nano-banana-pro", "input": nano_input()}),
            ),
        ] {
            let r = server.call(tool, args).await;
            assert!(is_error(&r), "{tool}");
            assert_eq!(body(&r)["category"], "auth", "{tool}: {}", body(&r));
            let text = serde_json::to_string(&r).unwrap();
            assert!(!text.contains(wrong), "{text}");
        }
        let logs = server.stderr.lock().unwrap().clone();
        assert!(!logs.contains(wrong), "the key is in the server's stderr");
        // One create reached the platform and was refused (401 is not retried); no job.
        assert_eq!(sim.creates(), 1);
        assert_eq!(sim.sim.job_count(), 0);
        server.stop().await;
    });
}

/// A ledger that cannot be opened starts no paid job: a job without a
/// record could be lost. The catalog still answers; every paid tool says
/// why and what to do, and nothing reaches the platform.
#[test]
fn a_ledger_that_cannot_be_opened_starts_no_paid_job() {
    let sim = Sim::new();
    let base = sim.sim.base_url();
    let dir = common::tempdir();
    // A path below a regular file: no ledger can be created there.
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, b"x").unwrap();
    let ledger = blocker.join("ledger.sqlite3");
    runtime().block_on(async {
        let server = start(
            Some(&base),
            Some(KEY),
            &["--ledger", ledger.to_str().unwrap()],
        )
        .await;
        let r = server.call("list_models", json!({})).await;
        assert!(!is_error(&r), "{}", body(&r));
        server
            .assert_paid_tools_refused(
                &["generate", "wait_generation"],
                "ledger",
                &["no paid job is started", "--no-ledger"],
            )
            .await;
        assert_eq!(sim.creates(), 0);
        assert_eq!(sim.sim.job_count(), 0);
        server.stop().await;
    });
}

#[test]
fn one_client_holds_a_hundred_concurrent_generates() {
    let sim = Sim::new();
    let base = sim.sim.base_url();
    runtime().block_on(async {
        let server = start(Some(&base), Some(KEY), &[]).await;
        let t0 = Instant::now();
        let calls = (0..100).map(|i| {
            let peer = server.client.peer().clone();
            tokio::spawn(async move {
                call(
                    &peer,
                    "generate",
                    json!({"model": "google/nano-banana-pro", "input": {"prompt": format!("frame {i}")}}),
                )
                .await
            })
        });
        let results = futures::future::join_all(calls).await;
        let elapsed = t0.elapsed();
        let mut ids = BTreeSet::new();
        for r in results {
            let r = r.unwrap();
            let g = body(&r);
            assert!(!is_error(&r), "{g}");
            assert_eq!(g["status"], "COMPLETED", "{g}");
            ids.insert(g["generation_id"].as_str().unwrap().to_string());
        }
        assert_eq!(ids.len(), 100);
        assert_eq!(sim.creates(), 100);
        println!(
            "figure: 100 concurrent generate calls over one stdio session: {:.2} s",
            elapsed.as_secs_f64()
        );
        server.stop().await;
    });
}

/// The SDK's model functions, read from the generated code.
fn sdk_functions() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/src/generated");
    let mut names = BTreeSet::new();
    for file in ["images.rs", "videos.rs"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("pub async fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
    }
    names
}

/// Whether a schema requires some field (at its root or in every variant).
fn requires_fields(schema: &Value) -> bool {
    if schema["required"].as_array().is_some_and(|r| !r.is_empty()) {
        return true;
    }
    match schema["oneOf"].as_array() {
        Some(variants) if !variants.is_empty() => variants.iter().all(requires_fields),
        _ => false,
    }
}

#[test]
fn per_model_tools_are_the_sdk_functions_with_the_spec_schemas() {
    runtime().block_on(async {
        let server = start(None, None, &["--per-model-tools"]).await;
        println!(
            "figure: spawn + initialize + tools/list with --per-model-tools = {:.1} ms ({} tools)",
            server.started_to_tools.as_secs_f64() * 1000.0,
            server.tools.len()
        );
        let names: Vec<&str> = server.tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names[..6], SIX);
        let per_model: BTreeSet<String> = names[6..].iter().map(|s| s.to_string()).collect();
        let functions = sdk_functions();
        assert_eq!(per_model, functions, "one tool per SDK model function");
        let catalog = body(&server.call("list_models", json!({})).await);
        let models = catalog["models"].as_array().unwrap();
        assert_eq!(server.tools.len() - 6, models.len());
        let mut rejected_empty = 0;
        for m in models {
            let id = m["model"].as_str().unwrap();
            let function = m["sdk_function"].as_str().unwrap();
            let tool = server
                .tools
                .iter()
                .find(|t| t.name == function)
                .unwrap_or_else(|| panic!("no tool for {id}"));
            let schema = Value::Object((*tool.input_schema).clone());
            assert_eq!(schema["type"], "object", "{id}");
            let check = |instance: &Value| {
                json_schema_errors(&schema, instance)
                    .unwrap_or_else(|e| panic!("{id}: the schema does not compile: {e}"))
            };
            let doc = body(&server.call("describe_model", json!({"model": id})).await);
            let template = &doc["request_template"];
            let errors = check(template);
            assert!(
                errors.is_empty(),
                "{id}: the template {template} is refused: {errors:?}"
            );
            if requires_fields(&schema) {
                assert!(!check(&json!({})).is_empty(), "{id} accepts {{}}");
                rejected_empty += 1;
            }
        }
        assert!(rejected_empty > 0);
        // A per-model tool runs generate: without a key, the guidance (after its own check).
        let r = server
            .call("google_nano_banana_pro", json!({"prompt": "a cat"}))
            .await;
        assert!(is_error(&r));
        assert_eq!(body(&r)["category"], "missing_api_key");
        let r = server
            .call("google_nano_banana_pro", json!({"promt": "a cat"}))
            .await;
        assert!(is_error(&r));
        assert_eq!(body(&r)["category"], "validation");
        server.stop().await;
    });
}

/// Kills the `--http` server when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn streamable_http_on_loopback_serves_the_same_tools() {
    use std::io::BufRead;
    let sim = Sim::new();
    let state = common::tempdir();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_skills-video"))
        .env_remove("SKILLS_VIDEO_LEDGER")
        .env("XDG_STATE_HOME", state.path())
        .env("SKILLS_VIDEO_BASE_URL", sim.sim.base_url())
        .env("SKILLS_VIDEO_API_KEY", KEY)
        .args(["mcp", "--http", "127.0.0.1:0", "--poll-interval", "0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = KillOnDrop(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    runtime().block_on(async {
        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
        let recorder = Recorder::default();
        let client = recorder.clone().serve(transport).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, SIX);
        let r = call(
            client.peer(),
            "generate",
            json!({"model": "google/nano-banana-pro", "input": nano_input()}),
        )
        .await;
        assert!(!is_error(&r), "{}", body(&r));
        assert_eq!(body(&r)["status"], "COMPLETED");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!recorder.progress.lock().unwrap().is_empty());
        assert_eq!(sim.creates(), 1);
        let _ = client.cancel().await;
    });
}

#[test]
fn http_refuses_a_non_loopback_address_without_allow_remote() {
    let r = common::run(common::bin().args(["mcp", "--http", "0.0.0.0:0"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--allow-remote"), "{}", r.stderr);
}
