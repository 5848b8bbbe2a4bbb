//! `wait`: poll one generation id to its terminal result.

use serde_json::json;

use crate::args::{Cli, WaitArgs};
use crate::commands::{download_policy, Timeouts};
use crate::exit::CliError;
use crate::output::Output;
use crate::run::{drive, RunOptions};

/// Runs the command.
pub async fn run(cli: &Cli, args: &WaitArgs, out: &Output) -> u8 {
    let id = args.generation_id.trim();
    if id.is_empty() {
        let e = CliError::input("the generation id is empty");
        out.error(&e);
        return e.code;
    }
    // ledger hook (issue 15): the wait is journaled (unless --no-ledger).
    let (client, ledger) = match crate::commands::client_with_ledger(
        cli,
        Timeouts {
            sse: None,
            poll: Some(args.timeout),
            interval: Some(args.interval),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    if let Some(ledger) = &ledger {
        use skills_video::ledger::Ledger;
        // The job's row (made for an id the ledger never saw): downloads are recorded under it.
        if let Ok(key) = ledger.attach(id, client.base_url()) {
            let current = std::sync::Arc::new(std::sync::Mutex::new(Some(key)));
            crate::commands::jobs::record_downloads(ledger, current);
        }
    }
    out.line(&json!({"event": "start", "mode": "poll", "generation_id": id}));
    out.note(&format!("waiting for generation {id}"));
    let outcome = drive(
        out,
        client.wait_events(id),
        &RunOptions {
            out_dir: args.out.as_deref(),
            sse_timeout_secs: None,
            file_prefix: None,
            download: download_policy(&client, &args.download),
        },
    )
    .await;
    outcome.code
}
