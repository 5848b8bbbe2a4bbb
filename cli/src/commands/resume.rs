//! `resume`: finish every unfinished generation of the ledger (polling by
//! id: no create), report (or, with `--retry-ambiguous`, re-send with the
//! same idempotency key) those whose id never arrived, and download outputs
//! that are missing, corrupt, or were never downloaded.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use serde_json::json;
use skills_video::ledger::{JobRecord, ResumeOptions, ResumeOutcome};

use crate::args::{Cli, ResumeArgs};
use crate::commands::jobs::record_downloads;
use crate::commands::{client_with_ledger, download_policy, Timeouts};
use crate::download::{self, DownloadPolicy};
use crate::exit::{self, CliError};
use crate::output::Output;

struct Downloader<'a> {
    current: Arc<Mutex<Option<String>>>,
    policy: DownloadPolicy,
    out: &'a Output,
    error: Option<String>,
    saved: usize,
}

impl Downloader<'_> {
    /// Downloads `urls` of the job `key` into `dir`, recording each file.
    async fn fetch(&mut self, key: &str, urls: &[String], dir: &Path) -> Vec<PathBuf> {
        if urls.is_empty() {
            return Vec::new();
        }
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(key.to_string());
        let report = download::download_all(urls, dir, "", &self.policy).await;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Some(e) = report.error {
            self.out.note(&format!("download failed for {key}: {e}"));
            self.error.get_or_insert(e);
        }
        self.saved += report.files.len();
        report.files
    }
}

fn http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Runs the command.
pub async fn run(cli: &Cli, args: &ResumeArgs, out: &Output) -> u8 {
    let timeouts = Timeouts {
        sse: None,
        poll: Some(args.timeout),
        interval: Some(args.interval),
    };
    let (client, ledger) = match client_with_ledger(cli, timeouts) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    let Some(ledger) = ledger else {
        let e = CliError::input("--no-ledger: there is no ledger to resume from");
        out.error(&e);
        return e.code;
    };
    let current = Arc::new(Mutex::new(None));
    record_downloads(&ledger, current.clone());
    let mut dl = Downloader {
        current,
        policy: download_policy(&client, &args.download),
        out,
        error: None,
        saved: 0,
    };
    let options = ResumeOptions {
        retry_ambiguous: args.retry_ambiguous,
        expect_downloads: false,
        concurrency: 4,
    };
    let (mut completed, mut failed, mut ambiguous, mut repaired) = (0usize, 0usize, 0usize, 0usize);
    let mut code = exit::OK;
    let mut outcomes = Box::pin(client.resume_with(options));
    while let Some(item) = outcomes.next().await {
        let outcome = match item {
            Ok(o) => o,
            Err(e) => {
                let e = CliError::from(&e);
                out.error(&e);
                return e.code;
            }
        };
        let dir_of = |r: &JobRecord| args.out.clone().or_else(|| r.download_dir.clone());
        match outcome {
            ResumeOutcome::Completed {
                record,
                generation,
                resent,
            } => {
                completed += 1;
                let wanted: Vec<String> = generation
                    .output_urls()
                    .into_iter()
                    .filter(|u| http(u) && !record.outputs.iter().any(|o| &o.url == u))
                    .collect();
                let files = match dir_of(&record) {
                    Some(dir) => dl.fetch(&record.idempotency_key, &wanted, &dir).await,
                    None => Vec::new(),
                };
                out.line(&json!({
                    "event": "resumed", "outcome": "completed", "resent": resent,
                    "idempotency_key": record.idempotency_key, "generation_id": generation.id(),
                    "status": generation.status().as_str(), "outputs": generation.output_urls(),
                    "files": files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                }));
                out.note(&format!(
                    "completed {} ({}){}",
                    generation.id().unwrap_or("?"),
                    record.model.as_deref().unwrap_or("?"),
                    if resent {
                        ", re-sent with its idempotency key"
                    } else {
                        ""
                    }
                ));
            }
            ResumeOutcome::Failed {
                record,
                error,
                resent,
            } => {
                failed += 1;
                let e = CliError::from(&error);
                if code == exit::OK {
                    code = e.code;
                }
                out.line(&json!({
                    "event": "resumed", "outcome": "failed", "resent": resent,
                    "idempotency_key": record.idempotency_key, "generation_id": record.generation_id,
                    "error": e.category, "message": e.message,
                }));
                out.note(&format!(
                    "failed {}: {}",
                    record
                        .generation_id
                        .as_deref()
                        .unwrap_or(&record.idempotency_key),
                    e.message
                ));
            }
            ResumeOutcome::Ambiguous { record } => {
                ambiguous += 1;
                if code == exit::OK {
                    code = exit::AMBIGUOUS;
                }
                out.line(&json!({
                    "event": "resumed", "outcome": "ambiguous",
                    "idempotency_key": record.idempotency_key, "model": record.model,
                }));
                out.note(&format!(
                    "ambiguous {} ({}): the create may have been accepted but no id arrived; not re-sent. `skills-video resume --retry-ambiguous` re-sends it with the same idempotency key",
                    record.idempotency_key,
                    record.model.as_deref().unwrap_or("?")
                ));
            }
            ResumeOutcome::OutputsNeedRepair { record, problems } => {
                let mut files = Vec::new();
                for p in &problems {
                    let dir = p
                        .recorded
                        .as_ref()
                        .and_then(|o| o.path.parent().map(Path::to_path_buf))
                        .or_else(|| dir_of(&record));
                    match dir {
                        Some(dir) => {
                            let got = dl
                                .fetch(&record.idempotency_key, std::slice::from_ref(&p.url), &dir)
                                .await;
                            files.extend(got);
                        }
                        None => out.note(&format!(
                            "{} of {}: {} (pass --out DIR to download it)",
                            p.url, record.idempotency_key, p.reason
                        )),
                    }
                }
                repaired += files.len();
                out.line(&json!({
                    "event": "repaired", "idempotency_key": record.idempotency_key,
                    "generation_id": record.generation_id,
                    "problems": problems.iter().map(|p| json!({"url": p.url, "reason": p.reason})).collect::<Vec<_>>(),
                    "files": files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                }));
            }
            _ => {}
        }
    }
    download::set_saved_hook(None);
    if let Some(e) = &dl.error {
        if code == exit::OK {
            code = exit::TRANSIENT;
        }
        out.note(&format!(
            "some downloads failed ({e}); run `skills-video resume` again"
        ));
    }
    out.line(&json!({
        "event": "resume_end", "completed": completed, "failed": failed, "ambiguous": ambiguous,
        "repaired_outputs": repaired, "downloaded": dl.saved, "exit_code": code,
    }));
    out.summary(&format!(
        "resume: {completed} completed, {failed} failed, {ambiguous} ambiguous, {repaired} output(s) repaired, {} file(s) downloaded",
        dl.saved
    ));
    code
}
