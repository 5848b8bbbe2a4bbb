//! `batch JOBS.jsonl --out DIR`: check every line, then run the jobs under
//! `--concurrency`, `--max-rps` and `--max-streams`, resumably (the ledger),
//! and write `DIR/results.jsonl` and a summary. See `crate::batch`.

use serde_json::{json, Value};

use crate::args::{BatchArgs, Cli};
use crate::batch::input::{self, InputError};
use crate::batch::job_key;
use crate::batch::progress::Progress;
use crate::batch::results::{self, Counts, Status};
use crate::batch::runner::{self, RunConfig, Stop};
use crate::batch::scheduler::PollConfig;
use crate::batch::workers::Worker;
use crate::commands::{client, client_with_ledger, download_policy, Timeouts};
use crate::exit::{self, CliError};
use crate::output::Output;
use crate::run::shell_quote;

/// The longest interval between two polls of a job.
const MAX_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// Polls in progress at once in the scheduler.
const MAX_PARALLEL_POLLS: usize = 64;

/// Runs the command.
pub async fn run(cli: &Cli, args: &BatchArgs, out: &Output) -> u8 {
    // Everything offline first: a bad file never costs a request.
    let batch = match input::read(&args.file, args.max_line_bytes) {
        Ok(b) => b,
        Err(e) => {
            let e = input_error(&args.file, e);
            out.error(&e);
            return e.code;
        }
    };
    let timeouts = Timeouts {
        sse: Some(args.sse_timeout),
        poll: Some(args.timeout),
        interval: Some(args.poll_interval),
    };
    let (sdk, ledger) = match client_with_ledger(cli, timeouts) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    // Scheduled polls are journaled by the batch itself (terminal results only).
    let poll_client = match client(cli, timeouts) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        let e = CliError::input(format!("cannot create --out {}: {e}", args.out.display()));
        out.error(&e);
        return e.code;
    }
    // Absolute, so results.jsonl and the ledger name the same paths on every run.
    let out_dir = std::fs::canonicalize(&args.out).unwrap_or_else(|_| args.out.clone());
    crate::batch::files::clean_stale_staging(&out_dir);
    let resume_command = resume_command(cli, args);
    let ledger_path = ledger.as_ref().map(|l| l.path().display().to_string());
    out.line(&json!({
        "event": "batch_start", "file": args.file.display().to_string(),
        "batch_id": batch.batch_id, "content_sha256": batch.content_sha256,
        "jobs": batch.jobs.len(), "out": args.out.display().to_string(), "ledger": ledger_path,
    }));
    if ledger.is_none() {
        out.note("note: --no-ledger: this batch cannot be resumed after a crash (a re-run sends every create again, with the same idempotency keys)");
    }
    out.note(&format!(
        "batch {}: {} job(s), batch id {}",
        args.file.display(),
        batch.jobs.len(),
        &batch.batch_id[..16]
    ));
    // A zero interval would poll in a tight loop.
    let poll_interval = args.poll_interval.max(std::time::Duration::from_millis(10));
    let max_interval = (poll_interval * 10)
        .min(MAX_POLL_INTERVAL)
        .max(poll_interval);
    let cfg = RunConfig {
        concurrency: args.concurrency.max(1) as usize,
        max_streams: args.max_streams,
        poll: PollConfig {
            interval: poll_interval,
            max_interval,
            timeout: args.timeout,
            max_parallel: MAX_PARALLEL_POLLS,
        },
        max_rps: args.max_rps,
        out_dir: out_dir.clone(),
        download: download_policy(&sdk, &args.download),
        retry_ambiguous: args.retry_ambiguous,
    };
    let worker = if args.worker {
        let Some(l) = ledger.clone().filter(|l| l.postgres().is_some()) else {
            let e = CliError::input(
                "--worker shares the batch through a PostgreSQL ledger: pass --ledger postgres://USER@HOST/DB (the same for every worker)",
            );
            out.error(&e);
            return e.code;
        };
        // At least a second, so that a renewal (every third) is not a busy loop.
        let lease = args.lease.max(std::time::Duration::from_secs(1));
        match tokio::task::block_in_place(|| Worker::join(l, &batch, lease)) {
            Ok(w) => {
                out.note(&format!(
                    "worker {}: sharing the batch through the ledger (lease {:.0} s)",
                    w.owner(),
                    lease.as_secs_f64()
                ));
                Some(w)
            }
            Err(e) => {
                let e = CliError::input(format!(
                    "the batch queue cannot be joined, so nothing was sent: {e}"
                ))
                .with("ledger_error", e);
                out.error(&e);
                return e.code;
            }
        }
    } else {
        None
    };
    let mut progress = Progress::new(out, batch.jobs.len());
    let report = runner::run(&batch, sdk, poll_client, ledger, cfg, &mut progress, worker).await;
    progress.finish();
    drop(progress);
    // The staging folder of the downloads, when no other run uses it.
    let _ = std::fs::remove_dir(out_dir.join(crate::batch::files::STAGING));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let e = CliError::input(format!(
                "the ledger cannot be read, so nothing was sent: {e}"
            ))
            .with("ledger_error", e);
            out.error(&e);
            return e.code;
        }
    };
    let mut counts = Counts::default();
    for r in &report.results {
        counts.add(r);
    }
    let lines = report.results.iter().zip(&batch.jobs).map(|(r, j)| {
        r.to_json(
            j.line,
            &j.name,
            j.model.id,
            &job_key(&batch.batch_id, j.line),
        )
    });
    let results_path = match results::write(&args.out, lines) {
        Ok(p) => Some(p),
        Err(e) => {
            out.note(&format!(
                "error: cannot write {}: {e}",
                args.out.join(results::RESULTS_FILE).display()
            ));
            None
        }
    };
    let download_failed = report
        .results
        .iter()
        .any(|r| r.status == Status::Completed && r.error.is_some());
    let code = match &report.stop {
        Some(Stop::Auth(_)) => exit::AUTH,
        Some(Stop::Credits(_)) => exit::CREDITS,
        None if counts.of(Status::Ambiguous) > 0 => exit::AMBIGUOUS,
        None if counts.of(Status::Pending) > 0 => exit::TIMEOUT,
        None if counts.of(Status::Failed) + counts.of(Status::Rejected) > 0 => exit::FAILED,
        None if download_failed || results_path.is_none() => exit::TRANSIENT,
        None => exit::OK,
    };
    let total = batch.jobs.len();
    let unfinished = counts.of(Status::Queued)
        + counts.of(Status::Pending)
        + counts.of(Status::Rejected)
        + usize::from(download_failed);
    let secs = report.elapsed.as_secs_f64();
    let done_now = total - counts.earlier;
    out.line(&json!({
        "event": "batch_end", "file": args.file.display().to_string(), "batch_id": batch.batch_id,
        "jobs": total, "counts": counts.to_json(), "from_earlier_run": counts.earlier,
        "creates": report.creates, "attached": report.attached, "resent": report.resent,
        "peak_in_flight": report.peak_in_flight, "throttled": report.throttled,
        "elapsed_secs": (secs * 1000.0).round() / 1000.0,
        "results_file": results_path.as_ref().map(|p| p.display().to_string()),
        "stopped": report.stop.as_ref().map(|s| match s { Stop::Credits(_) => "credits", Stop::Auth(_) => "auth" }),
        "stop_message": report.stop.as_ref().map(|s| match s { Stop::Credits(m) | Stop::Auth(m) => m.clone() }),
        "resume_command": (unfinished > 0 || code != exit::OK).then(|| resume_command.clone()),
        "exit_code": code,
    }));
    let elsewhere = if args.worker {
        "other workers or an earlier run"
    } else {
        "an earlier run"
    };
    let mut text = if counts.earlier == total {
        format!(
            "batch {}: all {total} job(s) were already finished by {}; nothing was sent",
            args.file.display(),
            elsewhere
        )
    } else {
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| counts.of(**s) > 0)
            .map(|s| format!("{} {}", counts.of(*s), s.as_str()))
            .collect();
        format!(
            "batch {}: {total} job(s): {}{}\n  creates sent {} · re-attached {} · peak in flight {} · 429 pauses {} · {secs:.1} s ({:.1} jobs/s)",
            args.file.display(),
            parts.join(", "),
            if counts.earlier > 0 {
                format!(" ({} finished by {elsewhere})", counts.earlier)
            } else {
                String::new()
            },
            report.creates,
            report.attached,
            report.peak_in_flight,
            report.throttled,
            done_now as f64 / secs.max(0.001),
        )
    };
    if let Some(p) = &results_path {
        text.push_str(&format!("\n  results: {}", p.display()));
    }
    match &report.stop {
        Some(Stop::Credits(m)) => text.push_str(&format!(
            "\n  stopped by insufficient credits (402): {} job(s) not sent ({m}).\n  Recharge (`skills-video credits` shows the balance), then run the same command to continue: {resume_command}",
            counts.of(Status::Queued)
        )),
        Some(Stop::Auth(m)) => text.push_str(&format!(
            "\n  stopped: authentication failed ({m}).\n  Fix the key (SKILLS_VIDEO_API_KEY or --api-key), then run the same command to continue: {resume_command}"
        )),
        None => {}
    }
    if counts.of(Status::Ambiguous) > 0 {
        text.push_str(&format!(
            "\n  {} ambiguous job(s): their create may have been accepted but no id arrived; they were not re-sent. `{resume_command} --retry-ambiguous` re-sends them with their own idempotency keys",
            counts.of(Status::Ambiguous)
        ));
    }
    if report.stop.is_none() && unfinished > 0 {
        text.push_str(&format!(
            "\n  {unfinished} job(s) unfinished: run the same command again to continue: {resume_command}"
        ));
    }
    out.summary(&text);
    code
}

/// `skills-video batch FILE --out DIR` with the flags that matter to resume.
fn resume_command(cli: &Cli, args: &BatchArgs) -> String {
    let mut cmd = format!(
        "skills-video batch {} --out {}",
        shell_quote(&args.file.display().to_string()),
        shell_quote(&args.out.display().to_string())
    );
    if let Some(base) = cli.base_url.as_deref().filter(|b| !b.trim().is_empty()) {
        cmd.push_str(&format!(" --base-url {}", shell_quote(base.trim())));
    }
    if let Some(l) = &cli.ledger {
        let l = l.display().to_string();
        let l = if skills_video::ledger::is_postgres_url(&l) {
            skills_video::ledger::redact_url(&l)
        } else {
            l
        };
        cmd.push_str(&format!(" --ledger {}", shell_quote(&l)));
    }
    if args.worker {
        cmd.push_str(" --worker");
    }
    cmd
}

/// The error of a refused batch file: every bad line, with its number.
fn input_error(path: &std::path::Path, e: InputError) -> CliError {
    let file = path.display();
    match e {
        InputError::Io(m) => CliError::input(m),
        InputError::Empty { lines } => CliError::input(format!(
            "{file} has no job ({lines} line(s), none with a job): one JSON object a line, {{\"model\": \"...\", \"input\": {{...}}, \"name\": \"...\"}}"
        )),
        InputError::Invalid {
            problems,
            total,
            bad_lines,
            lines,
        } => {
            let all_validation = problems.iter().all(|p| p.kind == "validation");
            let mut message = format!(
                "{file} has {bad_lines} invalid line(s) of {lines} ({total} problem(s)); nothing was sent"
            );
            if total > problems.len() {
                message.push_str(&format!(" (the first {} are listed)", problems.len()));
            }
            let first: Vec<String> = problems
                .iter()
                .take(3)
                .map(|p| format!("line {}: {}", p.line, p.message))
                .collect();
            message.push_str(&format!(": {}", first.join("; ")));
            let items: Vec<Value> = problems
                .iter()
                .map(|p| {
                    let mut v = p.to_json();
                    if let Some(o) = v.as_object_mut() {
                        o.remove("event");
                    }
                    v["message"] = json!(format!("line {}: {}", p.line, p.message));
                    v
                })
                .collect();
            let mut e = if all_validation {
                CliError::validation(message)
            } else {
                CliError::input(message)
            };
            e.guidance = "Fix the lines listed and run the command again; nothing was sent.".into();
            e.with("violations", items)
                .with("bad_lines", bad_lines)
                .with("problems", total)
                .with("sent", 0)
        }
    }
}
