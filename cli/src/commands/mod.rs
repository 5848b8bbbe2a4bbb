//! One module per subcommand; shared client construction.

pub mod batch;
pub mod check_key;
pub mod credits;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(not(feature = "demo"))]
#[path = "no_demo.rs"]
pub mod demo;
pub mod explain_error;
pub mod generate;
pub mod inspect;
pub mod jobs;
pub mod mcp;
pub mod models;
pub mod resume;
pub mod wait;

use std::time::Duration;

use skills_video::{Client, Error, RetryPolicy};

use crate::args::{Cli, DownloadArgs};
use crate::download::DownloadPolicy;
use crate::exit::CliError;

/// Timeouts of a client built for one command.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timeouts {
    /// SSE phase budget.
    pub sse: Option<Duration>,
    /// Poll phase budget.
    pub poll: Option<Duration>,
    /// Wait between polls.
    pub interval: Option<Duration>,
}

/// A client from the global options (key and base URL from flags or the environment).
pub fn client(cli: &Cli, timeouts: Timeouts) -> Result<Client, CliError> {
    builder(cli, timeouts)?
        .build()
        .map_err(|e| CliError::from(&e))
}

/// [`client`] journaling to the ledger (unless `--no-ledger`): the ledger is
/// opened first, and a ledger that cannot be opened stops the command
/// before any request.
pub fn client_with_ledger(
    cli: &Cli,
    timeouts: Timeouts,
) -> Result<(Client, Option<jobs::SharedLedger>), CliError> {
    let ledger = jobs::open_ledger(cli)?;
    let mut b = builder(cli, timeouts)?;
    if let Some(l) = &ledger {
        b = b.ledger_shared(l.clone());
    }
    let client = b.build().map_err(|e| CliError::from(&e))?;
    Ok((client, ledger))
}

fn builder(cli: &Cli, timeouts: Timeouts) -> Result<skills_video::ClientBuilder, CliError> {
    let key = cli
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| CliError::from(&Error::MissingApiKey))?;
    let mut builder = Client::builder()
        .api_key(key)
        .retry_policy(RetryPolicy {
            max_retries: cli.max_retries,
            ..RetryPolicy::default()
        })
        .user_agent(format!("skills-video-cli/{}", env!("CARGO_PKG_VERSION")));
    if let Some(base) = cli.base_url.as_deref().filter(|b| !b.trim().is_empty()) {
        builder = builder.base_url(base);
    } else {
        builder = builder.base_url(skills_video::client::DEFAULT_BASE_URL);
    }
    if let Some(bytes) = cli.max_body_bytes {
        builder = builder.max_body_bytes(bytes);
    }
    if let Some(bytes) = cli.max_event_bytes {
        builder = builder.max_event_bytes(bytes);
    }
    if let Some(bytes) = cli.max_upload_bytes {
        builder = builder.max_upload_bytes(bytes);
    }
    if let Some(d) = timeouts.sse {
        builder = builder.sse_timeout(d);
    }
    if let Some(d) = timeouts.poll {
        builder = builder.poll_timeout(d);
    }
    if let Some(d) = timeouts.interval {
        builder = builder.poll_interval(d);
    }
    Ok(builder)
}

/// How `--out` downloads of a command run against `client` are bounded.
pub fn download_policy(client: &Client, args: &DownloadArgs) -> DownloadPolicy {
    DownloadPolicy {
        max_bytes: args.max_download_bytes,
        allow_private: args.allow_private_downloads,
        base_url: Some(client.base_url().to_string()),
    }
}
