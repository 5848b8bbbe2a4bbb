//! `skills-video`: the command-line tool for the skills.video platform.
//!
//! Every seed script is a subcommand: `check-key`, `models`, `inspect`,
//! `generate`, `wait`, `credits`, `explain-error`, plus `demo`, which runs the
//! whole lifecycle against an in-process simulator. See `--help` for the
//! exit-code table.

mod args;
mod batch;
mod commands;
mod download;
mod exit;
mod logging;
mod mcp;
mod output;
mod payload;
mod resolve;
mod run;
mod suggest;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.api_key.clone());
    let out = Output::new(cli.json, cli.api_key.clone());
    let code = match &cli.command {
        Command::CheckKey => commands::check_key::run(&cli, &out),
        Command::Models(a) => commands::models::run(a, &out),
        Command::Inspect(a) => commands::inspect::run(a, &out),
        Command::ExplainError(a) => commands::explain_error::run(a, &out),
        Command::Jobs(a) => commands::jobs::run(&cli, a, &out),
        command => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(async {
                match command {
                    Command::Generate(a) => commands::generate::run(&cli, a, &out).await,
                    Command::Wait(a) => commands::wait::run(&cli, a, &out).await,
                    Command::Credits => commands::credits::run(&cli, &out).await,
                    Command::Demo(a) => commands::demo::run(a, &out).await,
                    Command::Resume(a) => commands::resume::run(&cli, a, &out).await,
                    Command::Batch(a) => commands::batch::run(&cli, a, &out).await,
                    Command::Mcp(a) => commands::mcp::run(&cli, a).await,
                    _ => exit::USAGE,
                }
            }),
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                exit::UNKNOWN
            }
        },
    };
    out.stop_spinner();
    ExitCode::from(code)
}
