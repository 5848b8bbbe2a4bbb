//! `generate` and `wait_generation`: the SDK's lifecycle, with progress
//! notifications, a `wait_seconds` budget, downloads and the job ledger.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use skills_video::ledger::Ledger;
use skills_video::{Error, Event, GenerateOptions, Generation, ModelDescriptor};
use tokio_util::sync::CancellationToken;

use crate::commands::jobs::SharedLedger;
use crate::download::{self, DownloadPolicy};
use crate::mcp::errors::ToolError;
use crate::mcp::progress::Progress;
use crate::mcp::server::Shared;
use crate::payload::{self, PayloadInput};

/// How one run ended.
enum Ended {
    /// A terminal success.
    Done(Generation),
    /// `wait_seconds` passed (or the call was cancelled) with the job still going.
    Pending,
    /// An error, FAILED/CANCELED included.
    Failed(Error),
}

/// Checks `input` against `model`'s typed rules (every problem at once;
/// nothing is sent on any), then runs it.
pub async fn generate(
    shared: &Shared,
    model: &'static ModelDescriptor,
    input: &Value,
    wait: Duration,
    download_dir: Option<PathBuf>,
    mut progress: Progress,
    ct: CancellationToken,
) -> Result<Value, ToolError> {
    let Value::Object(_) = input else {
        return Err(ToolError::argument(format!(
            "generate: \"input\" must be an object of {}'s fields, not {}",
            model.id,
            crate::payload::json_kind(input)
        )));
    };
    let text = input.to_string();
    let body = payload::build(
        model,
        &PayloadInput {
            payload: Some(&text),
            ..PayloadInput::default()
        },
    )
    .map_err(|e| {
        let mut t = ToolError::from(e);
        if t.category == "validation" {
            t.guidance = format!(
                "The input does not match {}'s schema. Fix the named fields (describe_model lists every field with its type, allowed values, range and a request template); do not resend the same input. Nothing was sent.",
                model.id
            );
        }
        t
    })?;
    let (client, ledger) = shared.client()?;
    let key = uuid::Uuid::new_v4().to_string();
    let events = client.events_body(
        model,
        body,
        GenerateOptions {
            idempotency_key: Some(key.clone()),
            no_sse: false,
        },
    );
    let events = crate::commands::jobs::note_download_dir(
        events,
        ledger.clone(),
        &key,
        download_dir.as_deref(),
    );
    let ended = drive(events, &mut progress, wait, &ct).await;
    let mut result = finish(
        shared,
        client,
        ledger.as_ref(),
        Some(&key),
        ended,
        &mut progress,
        download_dir.as_deref(),
    )
    .await?;
    result["model"] = json!(model.id);
    Ok(result)
}

/// Polls generation `id` (never creating anything).
pub async fn wait_generation(
    shared: &Shared,
    id: &str,
    wait: Duration,
    download_dir: Option<PathBuf>,
    mut progress: Progress,
    ct: CancellationToken,
) -> Result<Value, ToolError> {
    let (client, ledger) = shared.client()?;
    // The job's ledger row (made for an id the ledger never saw): downloads are recorded under it.
    let key = ledger
        .as_ref()
        .and_then(|l| l.attach(id, client.base_url()).ok());
    progress.generation_id = Some(id.to_string());
    let ended = drive(client.wait_events(id), &mut progress, wait, &ct).await;
    finish(
        shared,
        client,
        ledger.as_ref(),
        key.as_deref(),
        ended,
        &mut progress,
        download_dir.as_deref(),
    )
    .await
}

/// Runs `events` until the terminal result, an error, or `wait` passing
/// once the id is known (before that the create is never abandoned: an
/// id-less stop would leave a job nobody can find).
async fn drive(
    events: impl Stream<Item = Result<Event, Error>>,
    progress: &mut Progress,
    wait: Duration,
    ct: &CancellationToken,
) -> Ended {
    let mut events = std::pin::pin!(events);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let item = if progress.generation_id.is_some() {
            tokio::select! {
                item = events.next() => item,
                _ = tokio::time::sleep_until(deadline) => return Ended::Pending,
                _ = ct.cancelled() => return Ended::Pending,
            }
        } else {
            events.next().await
        };
        match item {
            Some(Ok(Event::Terminal(g))) => {
                progress.on_event(&Event::Terminal(g.clone())).await;
                return Ended::Done(g);
            }
            Some(Ok(event)) => progress.on_event(&event).await,
            Some(Err(e)) => return Ended::Failed(e),
            None => {
                return Ended::Failed(Error::Decode {
                    message: "the lifecycle ended without a terminal result".into(),
                    body: String::new(),
                })
            }
        }
    }
}

/// The tool's answer for how the run ended.
async fn finish(
    shared: &Shared,
    client: &skills_video::Client,
    ledger: Option<&SharedLedger>,
    key: Option<&str>,
    ended: Ended,
    progress: &mut Progress,
    download_dir: Option<&Path>,
) -> Result<Value, ToolError> {
    match ended {
        Ended::Done(g) => {
            let id = g
                .id()
                .map(str::to_string)
                .or(progress.generation_id.clone());
            let urls = g.output_urls();
            let mut skipped = g.skipped_outputs();
            let mut result = json!({
                "ok": true,
                "done": true,
                "status": g.status().as_str(),
                "generation_id": id,
                "idempotency_key": key,
                "outputs": urls,
                "source": g.source().as_str(),
                "fell_back_to_polling": progress.fell_back,
                "usage": g.usage(),
            });
            if let Some(dir) = download_dir {
                let policy = DownloadPolicy {
                    max_bytes: shared.download.max_bytes,
                    allow_private: shared.download.allow_private,
                    base_url: Some(client.base_url().to_string()),
                };
                let saved = save(&urls, dir, &policy, ledger, key).await;
                result["files"] = json!(saved
                    .files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>());
                skipped.extend(saved.refused);
                if let Some(e) = saved.error {
                    result["download_error"] = json!(e);
                    result["download_guidance"] = json!(format!(
                        "The generation succeeded; call wait_generation with id {:?} and a download_dir to download again.",
                        id.as_deref().unwrap_or("ID")
                    ));
                }
            }
            result["skipped_outputs"] = json!(skipped);
            Ok(result)
        }
        Ended::Pending => {
            let id = progress.generation_id.clone().unwrap_or_default();
            Ok(json!({
                "ok": true,
                "done": false,
                "generation_id": id,
                "status": progress.last_status.clone().unwrap_or_else(|| "IN_QUEUE".into()),
                "idempotency_key": key,
                "next": format!("The job is still running. Call wait_generation with id {id:?} to wait for it (do not call generate again: that would create and charge a second job)."),
            }))
        }
        Ended::Failed(Error::Failed {
            generation,
            message,
        }) => {
            let id = generation
                .id()
                .map(str::to_string)
                .or(progress.generation_id.clone());
            let mut t = ToolError::from_sdk(
                &Error::Failed {
                    generation: generation.clone(),
                    message: message.clone(),
                },
                key,
            );
            t.generation_id = id.map(Into::into);
            Err(t
                .with("status", generation.status().as_str())
                .with("usage", json!(generation.usage())))
        }
        Ended::Failed(e) => {
            let mut t = ToolError::from_sdk(&e, key);
            if t.generation_id.is_none() {
                t.generation_id = progress.generation_id.clone().map(Into::into);
            }
            if let Some(s) = &progress.last_status {
                t.extra.entry("last_status").or_insert_with(|| json!(s));
            }
            Err(t)
        }
    }
}

/// What [`save`] did.
#[derive(Default)]
struct Saved {
    files: Vec<PathBuf>,
    refused: Vec<skills_video::SkippedOutput>,
    error: Option<String>,
}

/// Downloads each URL into `dir` and records each file in the ledger under
/// `key` (one URL at a time, so that each file is paired with its URL
/// without the process-wide hook the CLI commands use: calls run concurrently).
async fn save(
    urls: &[String],
    dir: &Path,
    policy: &DownloadPolicy,
    ledger: Option<&SharedLedger>,
    key: Option<&str>,
) -> Saved {
    let mut saved = Saved::default();
    for url in urls {
        let report = download::download_all(std::slice::from_ref(url), dir, "", policy).await;
        saved.refused.extend(report.refused);
        for path in report.files {
            // Absolute, so that an agent (not in the server's directory) finds them.
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            if let (Some(ledger), Some(key)) = (ledger, key) {
                record(ledger, key, url, &path);
            }
            saved.files.push(path);
        }
        if report.error.is_some() {
            saved.error = report.error;
            break;
        }
    }
    saved
}

/// Records a saved file (size, SHA-256) in the ledger.
fn record(ledger: &SharedLedger, key: &str, url: &str, path: &Path) {
    crate::commands::jobs::record_saved_file(&**ledger, key, url, path, None);
}
