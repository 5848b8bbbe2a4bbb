//! `generate`: build the typed request, run the lifecycle, print the events.

use skills_video::GenerateOptions;

use crate::args::{Cli, GenerateArgs};
use crate::commands::{client, download_policy, Timeouts};
use crate::output::Output;
use crate::payload::{self, PayloadInput};
use crate::resolve::resolve_model;
use crate::run::{drive, RunOptions};

/// Runs the command.
pub async fn run(cli: &Cli, args: &GenerateArgs, out: &Output) -> u8 {
    // Everything offline first: a bad model or payload never costs a request.
    let model = match resolve_model(&args.model) {
        Ok(m) => m,
        Err(e) => {
            out.error(&e);
            return e.code;
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
            out.error(&e);
            return e.code;
        }
    };
    let client = match client(
        cli,
        Timeouts {
            sse: Some(args.sse_timeout),
            poll: Some(args.poll_timeout),
            interval: Some(args.poll_interval),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    tracing::debug!(model = model.id, base_url = client.base_url(), "generate");
    // JSON, or multipart/form-data when a --set named a local file (@PATH).
    let events = client.events_body(
        model,
        body,
        GenerateOptions {
            idempotency_key: args.idempotency_key.clone(),
            no_sse: args.no_sse,
        },
    );
    let outcome = drive(
        out,
        events,
        &RunOptions {
            out_dir: args.out.as_deref(),
            sse_timeout_secs: Some(args.sse_timeout.as_secs_f64()),
            file_prefix: None,
            download: download_policy(&client, &args.download),
        },
    )
    .await;
    outcome.code
}
