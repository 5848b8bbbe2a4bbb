//! `generate`: build the typed request, run the lifecycle, print the events.

use skills_video::model::{find_model, model_id_of};
use skills_video::GenerateOptions;

use crate::args::{Cli, GenerateArgs};
use crate::commands::{download_policy, Timeouts};
use crate::output::Output;
use crate::payload::{self, PayloadInput};
use crate::resolve::resolve_model;
use crate::run::{drive_with, refuse, shell_quote, RunOptions, ScriptInfo};

/// Runs the command.
pub async fn run(cli: &Cli, args: &GenerateArgs, out: &Output) -> u8 {
    let base = base_url(cli);
    let mut info = ScriptInfo {
        model: args.model.clone(),
        cli_mode: if args.no_sse { "polling" } else { "sse" },
        wait_flags: wait_flags(cli, args),
        ..ScriptInfo::default()
    };
    if args.raw {
        return run_raw(cli, args, out, info, &base).await;
    }
    // Everything offline first: a bad model or payload never costs a request,
    // and a refusal still prints `start` before its `error`.
    let model = match resolve_model(&args.model) {
        Ok(m) => m,
        Err(e) => {
            // Where the script would have posted.
            let route = format!("/generation/sse/{}", model_id_of(&args.model));
            info.start_url = Some(route_url(&base, &route));
            refuse(out, &info, &e);
            return e.code;
        }
    };
    info.model = model.id.to_string();
    info.sse_url = model.sse_route.map(|r| route_url(&base, r));
    info.start_url = match (args.no_sse, model.sse_route) {
        (false, Some(_)) => info.sse_url.clone(),
        _ => {
            info.cli_mode = "polling";
            model.create_route.map(|r| route_url(&base, r))
        }
    };
    let input = PayloadInput {
        payload: args.payload.as_deref(),
        payload_file: args.payload_file.as_deref(),
        prompt: args.prompt.as_deref(),
        sets: &args.set,
    };
    let body = match payload::build(model, &input) {
        Ok(b) => b,
        Err(e) => {
            refuse(out, &info, &e);
            return e.code;
        }
    };
    // ledger hook (issue 15): the client journals to the ledger (unless --no-ledger).
    let (client, ledger) = match crate::commands::client_with_ledger(cli, timeouts(args)) {
        Ok(c) => c,
        Err(e) => {
            refuse(out, &info, &e);
            return e.code;
        }
    };
    tracing::debug!(model = model.id, base_url = client.base_url(), "generate");
    // ledger hook (issue 15): a key known up front, downloads recorded under
    // it, and one line when an earlier run left generations unfinished.
    let key = args
        .idempotency_key
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ledger_key = std::sync::Arc::new(std::sync::Mutex::new(Some(key.clone())));
    if let Some(ledger) = &ledger {
        if let Some(note) = crate::commands::jobs::unfinished_note(ledger, client.base_url()) {
            out.note(&note);
        }
        crate::commands::jobs::record_downloads(ledger, ledger_key);
    }
    // JSON, or multipart/form-data when a --set named a local file (@PATH).
    let events = client.events_body(
        model,
        body,
        GenerateOptions {
            idempotency_key: Some(key.clone()),
            no_sse: args.no_sse,
        },
    );
    let events =
        crate::commands::jobs::note_download_dir(events, ledger, &key, args.out.as_deref());
    let outcome = drive_with(out, events, &run_options(args, &client), &info).await;
    outcome.code
}

/// What `--raw` prints before anything is sent.
const RAW_WARNING: &str =
    "--raw: the request is sent as given; nothing was validated against a schema (the platform's own check answers 422)";

/// `--raw`: the payload as given, to the model path's routes (the catalog's
/// when it lists the model), on the same lifecycle.
async fn run_raw(
    cli: &Cli,
    args: &GenerateArgs,
    out: &Output,
    mut info: ScriptInfo,
    base: &str,
) -> u8 {
    let id = model_id_of(&args.model).to_string();
    let (sse_route, create_route) = match find_model(&args.model) {
        Some(m) => (
            m.sse_route.map(str::to_string),
            m.create_route.map(str::to_string),
        ),
        None => (
            Some(format!("/generation/sse/{id}")),
            Some(format!("/generation/{id}")),
        ),
    };
    info.model = id;
    info.sse_url = sse_route.as_deref().map(|r| route_url(base, r));
    info.start_url = match (args.no_sse, &info.sse_url) {
        (false, Some(url)) => Some(url.clone()),
        _ => {
            info.cli_mode = "polling";
            create_route.as_deref().map(|r| route_url(base, r))
        }
    };
    info.warning = Some(RAW_WARNING);
    eprintln!("warning: {RAW_WARNING}");
    let input = PayloadInput {
        payload: args.payload.as_deref(),
        payload_file: args.payload_file.as_deref(),
        prompt: args.prompt.as_deref(),
        sets: &args.set,
    };
    let body = match payload::build_raw(&input) {
        Ok(b) => b,
        Err(e) => {
            refuse(out, &info, &e);
            return e.code;
        }
    };
    // The plain client: raw runs are not journaled to the ledger.
    let client = match crate::commands::client(cli, timeouts(args)) {
        Ok(c) => c,
        Err(e) => {
            refuse(out, &info, &e);
            return e.code;
        }
    };
    // An invalid model path is refused by the SDK before anything is sent.
    let events = client.events_raw_body(
        &args.model,
        body,
        GenerateOptions {
            idempotency_key: args.idempotency_key.clone(),
            no_sse: args.no_sse,
        },
    );
    let outcome = drive_with(out, events, &run_options(args, &client), &info).await;
    outcome.code
}

/// The base URL the client will use (`--base-url`, `SKILLS_VIDEO_BASE_URL`, else the platform's).
/// How the lines and downloads of a `generate` run are shaped (typed and `--raw` alike).
fn run_options<'a>(args: &'a GenerateArgs, client: &skills_video::Client) -> RunOptions<'a> {
    RunOptions {
        out_dir: args.out.as_deref(),
        sse_timeout_secs: Some(args.sse_timeout.as_secs_f64()),
        file_prefix: None,
        download: download_policy(client, &args.download),
    }
}

fn base_url(cli: &Cli) -> String {
    cli.base_url
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .unwrap_or(skills_video::client::DEFAULT_BASE_URL)
        .to_string()
}

/// `route` under `base`, as the SDK joins them (the base's own path kept).
fn route_url(base: &str, route: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.pop_if_empty();
                for part in route.split('/').filter(|p| !p.is_empty()) {
                    segments.push(part);
                }
            }
            url.to_string()
        }
        Err(_) => format!("{}{route}", base.trim_end_matches('/')),
    }
}

/// The flags that make `skills-video wait ID` resume this run as it would
/// have continued: its poll budget and interval, `--out`, and a non-default base URL.
fn wait_flags(cli: &Cli, args: &GenerateArgs) -> String {
    let mut flags = format!(
        " --timeout {} --interval {}",
        args.poll_timeout.as_secs_f64(),
        args.poll_interval.as_secs_f64()
    );
    if let Some(dir) = &args.out {
        flags.push_str(&format!(
            " --out {}",
            shell_quote(&dir.display().to_string())
        ));
        if args.download.allow_private_downloads {
            flags.push_str(" --allow-private-downloads");
        }
    }
    if let Some(base) = cli.base_url.as_deref().filter(|b| !b.trim().is_empty()) {
        flags.push_str(&format!(" --base-url {}", shell_quote(base.trim())));
    }
    flags
}

/// The client's budgets from `--sse-timeout`, `--poll-timeout` and `--poll-interval`.
fn timeouts(args: &GenerateArgs) -> Timeouts {
    Timeouts {
        sse: Some(args.sse_timeout),
        poll: Some(args.poll_timeout),
        interval: Some(args.poll_interval),
    }
}
