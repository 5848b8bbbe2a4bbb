//! The command line, parsed with clap derive.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODE_HELP;

/// `skills-video`: generate images and videos on skills.video from the shell.
#[derive(Debug, Parser)]
#[command(name = "skills-video", version, about, long_about = None, after_help = EXIT_CODE_HELP)]
pub struct Cli {
    /// The API base URL.
    #[arg(
        long,
        global = true,
        env = "SKILLS_VIDEO_BASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub base_url: Option<String>,

    /// The API key (never echoed; prefer the environment variable).
    #[arg(
        long,
        global = true,
        env = "SKILLS_VIDEO_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,

    /// Machine output: one JSON object per line on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Tracing to stderr (-v debug, -vv trace); the key is always redacted.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Retries of transient failures (429, 5xx, network) before giving up.
    #[arg(long, global = true, value_name = "N", default_value_t = 5)]
    pub max_retries: u32,

    /// Largest JSON answer (poll, credits, error) read, e.g. `8MiB` (the SDK's default);
    /// a larger one is refused before or while reading.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_body_size)]
    pub max_body_bytes: Option<usize>,

    /// Largest single SSE event read, e.g. `1MiB` (the SDK's default); a larger one ends
    /// the stream phase and the job is polled by id.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_body_size)]
    pub max_event_bytes: Option<usize>,

    /// Largest local file (`--set NAME=@PATH`) uploaded, e.g. `512MiB`; a larger one is
    /// refused before any request.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    pub max_upload_bytes: Option<u64>,

    /// The job ledger (SQLite) every generation is journaled to; default
    /// `$XDG_STATE_HOME/skills-video/ledger.sqlite3` (else `~/.local/state/...`).
    #[arg(long, global = true, value_name = "PATH", env = "SKILLS_VIDEO_LEDGER")]
    pub ledger: Option<PathBuf>,

    /// Journal nothing (no ledger: a crash can lose a generation's id).
    #[arg(long, global = true, conflicts_with = "ledger")]
    pub no_ledger: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one per seed script.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that an API key is configured (offline); prints first-run guidance when it is not.
    CheckKey,
    /// List the models of the catalog with their routes.
    Models(ModelsArgs),
    /// Show a model's request schema, fields and routes (and a request template).
    Inspect(InspectArgs),
    /// Create a generation over SSE (polling as the fall-back) and wait for its terminal result.
    Generate(GenerateArgs),
    /// Poll an existing generation id to its terminal result.
    Wait(WaitArgs),
    /// Show the credit balance.
    Credits,
    /// Classify an HTTP error (always JSON); the exit code follows the category.
    ExplainError(ExplainErrorArgs),
    /// Run the whole lifecycle against an in-process simulator: no key, no network.
    Demo(DemoArgs),
    /// List the generations of the ledger (`jobs show KEY|ID` for one).
    Jobs(JobsArgs),
    /// Finish every unfinished generation of the ledger and repair missing or corrupt outputs.
    Resume(ResumeArgs),
    /// Run every job of a JSON Lines file (checked first), resumable, with outputs in DIR.
    Batch(BatchArgs),
    /// Serve the platform as MCP tools for AI agents (stdio, or Streamable HTTP with --http).
    Mcp(McpArgs),
}

/// `mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve Streamable HTTP at ADDR (path `/mcp`) instead of stdio; a loopback address
    /// unless --allow-remote.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8765")]
    pub http: Option<String>,
    /// Let --http listen on a non-loopback address (the server has no authentication of its own).
    #[arg(long, requires = "http")]
    pub allow_remote: bool,
    /// Also list one tool per model, named by its SDK function name, whose input schema is
    /// that model's request schema from the spec.
    #[arg(long)]
    pub per_model_tools: bool,
    /// Default `wait_seconds` of `generate` and `wait_generation`.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_secs)]
    pub wait: Duration,
    /// Budget of the stream phase of each generation in seconds.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_secs)]
    pub sse_timeout: Duration,
    /// Budget of the polling phase of each generation in seconds.
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_secs)]
    pub poll_timeout: Duration,
    /// Wait between polls in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_secs)]
    pub poll_interval: Duration,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// `jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only unfinished generations (pending, ambiguous).
    #[arg(long)]
    pub pending: bool,
    #[command(subcommand)]
    pub show: Option<JobsCommand>,
}

/// `jobs show`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// One generation, by idempotency key or generation id.
    Show {
        /// The idempotency key or the generation id.
        key_or_id: String,
    },
}

/// `resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Download outputs not yet downloaded into DIR (recorded files that are
    /// missing or corrupt are downloaded again where they were).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Re-send generations whose create may have been accepted but whose id
    /// never arrived, with their own idempotency key (safe where the
    /// platform deduplicates by key).
    #[arg(long)]
    pub retry_ambiguous: bool,
    /// Polling budget per generation in seconds.
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_secs)]
    pub timeout: Duration,
    /// Wait between polls in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_secs)]
    pub interval: Duration,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The jobs: JSON Lines, one `{"model": "...", "input": {...}, "name": "..."}` a line
    /// (`name` optional). Every line is checked before anything is sent.
    #[arg(value_name = "JOBS.jsonl")]
    pub file: PathBuf,
    /// Where the outputs (named after each job's name) and `results.jsonl` go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Jobs in flight at once (creating, waiting or downloading).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub concurrency: u32,
    /// Requests per second, creates and polls together, for the whole batch (unlimited when
    /// unset). A 429 pauses the whole batch for its Retry-After.
    #[arg(long, value_name = "R", value_parser = parse_rps)]
    pub max_rps: Option<f64>,
    /// Jobs holding an SSE stream at once; beyond it jobs are created on the polling route
    /// and wait in one shared poll scheduler (ids are cheap, streams are not).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_streams: usize,
    /// First wait between polls of a job in seconds; it grows with the job's age (x1.5 a
    /// poll, up to ten times this, at most 30 s).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_secs)]
    pub poll_interval: Duration,
    /// Budget of each job from its create to its terminal status, in seconds (a job past
    /// it stays resumable by id).
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_secs)]
    pub timeout: Duration,
    /// Budget of a job's stream phase in seconds (then it is polled by id).
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_secs)]
    pub sse_timeout: Duration,
    /// Re-send jobs of an earlier run whose create may have been accepted but whose id never
    /// arrived, with their own idempotency key (safe where the platform deduplicates by key).
    #[arg(long)]
    pub retry_ambiguous: bool,
    /// Longest line of the batch file, e.g. `1MiB`; a longer line is reported, never read whole.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_line_bytes: u64,
    /// Share the batch with other `--worker` processes (on this machine or others) through
    /// a PostgreSQL ledger (`--ledger postgres://...`): each claims lines under a lease, and
    /// the lines of a worker that dies are taken over when its lease runs out.
    #[arg(long)]
    pub worker: bool,
    /// With --worker: how long a claimed line stays this worker's without a renewal (renewed
    /// every third of it while the worker lives), in seconds.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_secs, requires = "worker")]
    pub lease: Duration,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// Parses `--max-rps`: a positive number of requests per second.
pub fn parse_rps(text: &str) -> Result<f64, String> {
    let r: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of requests per second"))?;
    if !r.is_finite() || r <= 0.0 || r > 1e6 {
        return Err(format!(
            "{text:?} must be a positive number of requests per second (at most 1000000)"
        ));
    }
    Ok(r)
}

/// Model category filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CategoryFilter {
    /// Image models.
    Images,
    /// Video models.
    Videos,
    /// Every model.
    All,
}

/// `models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Which models to list.
    #[arg(long, value_enum, default_value_t = CategoryFilter::All)]
    pub category: CategoryFilter,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The model: `google/nano-banana-pro`, `/generation/google/nano-banana-pro`,
    /// `POST /generation/sse/google/nano-banana-pro` or a `/v1/...` form.
    pub model: String,
    /// Add `request_template`: required fields and optional fields with a default.
    #[arg(long, alias = "include-template")]
    pub template: bool,
}

/// `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The model (any accepted spelling; see `inspect`).
    pub model: String,
    /// The prompt (sets the `prompt` field).
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,
    /// A field value, parsed by the field's type (repeatable), e.g. `--set aspect_ratio=16:9`.
    ///
    /// `NAME=@PATH` sends a local file (curl's convention; the request becomes
    /// multipart/form-data), e.g. `--set image_url=@./photo.png`. Repeating
    /// `--set` for an array field appends, so `--set image_urls=@a.png --set
    /// image_urls=https://example.com/b.png` mixes a file and a URL. Write `@@`
    /// or `\@` for a literal leading `@`. A missing file is exit 22.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The request as a JSON object (`--set` and `--prompt` apply on top).
    #[arg(long, value_name = "JSON", conflicts_with = "payload_file")]
    pub payload: Option<String>,
    /// The request as a JSON file.
    #[arg(long, value_name = "PATH")]
    pub payload_file: Option<PathBuf>,
    /// Budget of the whole stream phase in seconds; heartbeats do not extend it.
    /// When it passes without a terminal event the job is polled by id.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_secs)]
    pub sse_timeout: Duration,
    /// Budget of the polling phase in seconds.
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_secs)]
    pub poll_timeout: Duration,
    /// Wait between polls in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_secs)]
    pub poll_interval: Duration,
    /// Create on the polling route, then poll (no stream).
    #[arg(long)]
    pub no_sse: bool,
    /// Download every output URL into DIR (never overwriting a file).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub download: DownloadArgs,
    /// The Idempotency-Key of the create (a new UUID when unset); reuse it to resubmit safely.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Send the request as given, with no client-side checks, to MODEL's routes: for a
    /// model the built-in catalog does not list yet (`provider/model` or an endpoint
    /// path such as `/generation/acme/new-model`), or to skip a listed model's typed
    /// checks. `--set NAME=VALUE` takes VALUE as JSON when it parses, else as text.
    #[arg(long)]
    pub raw: bool,
}

/// `wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The generation id.
    pub generation_id: String,
    /// Polling budget in seconds.
    #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_secs)]
    pub timeout: Duration,
    /// Wait between polls in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_secs)]
    pub interval: Duration,
    /// Download every output URL into DIR (never overwriting a file).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub download: DownloadArgs,
}

/// How `--out` downloads are bounded (`generate`, `wait`).
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Largest file `--out` saves, e.g. `4GiB`, `512MiB`, `10MB` or plain bytes. A larger
    /// declared Content-Length is refused before reading; a body that passes it is stopped
    /// and nothing is saved.
    #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
    pub max_download_bytes: u64,
    /// Let `--out` download from loopback, link-local (cloud metadata) and private-network
    /// addresses. Without it they are refused and reported, unless the base URL is such an
    /// address itself (a local simulator).
    #[arg(long)]
    pub allow_private_downloads: bool,
}

/// `explain-error`.
#[derive(Debug, Args)]
pub struct ExplainErrorArgs {
    /// The HTTP status.
    #[arg(long, value_name = "N")]
    pub status: u16,
    /// The raw error body (JSON or text).
    #[arg(long, value_name = "RAW", conflicts_with = "body_file")]
    pub body: Option<String>,
    /// A file holding the raw error body.
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to download the two outputs.
    #[arg(long, value_name = "DIR", default_value = "skills-video-demo")]
    pub out: PathBuf,
}

/// Parses a number of seconds (fractions allowed, not negative).
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("{text:?} must be a non-negative number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a size: plain bytes, or a number with a unit: `KiB`, `MiB`,
/// `GiB`, `TiB` (and `K`, `M`, `G`, `T`) are powers of 1024; `KB`, `MB`,
/// `GB`, `TB` powers of 1000; `B` is bytes. Case-insensitive; fractions
/// allowed with a unit (`1.5GiB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim());
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use bytes, or KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ))
        }
    };
    let bad = || format!("{text:?} is not a size (e.g. 4GiB, 512MiB, 1000000)");
    if number.is_empty() {
        return Err(bad());
    }
    if let Ok(n) = number.parse::<u64>() {
        return n
            .checked_mul(multiplier)
            .ok_or_else(|| format!("{text:?} is too large"));
    }
    let x: f64 = number.parse().map_err(|_| bad())?;
    let bytes = (x * multiplier as f64).round();
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    Ok(bytes as u64)
}

/// [`parse_size`] for an in-memory cap (at least one byte).
pub fn parse_body_size(text: &str) -> Result<usize, String> {
    let n = parse_size(text)?;
    if n == 0 {
        return Err(format!("{text:?}: the cap must be at least one byte"));
    }
    usize::try_from(n).map_err(|_| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("512 mib").unwrap(), 512 << 20);
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("1.5KiB").unwrap(), 1536);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("7b").unwrap(), 7);
        for bad in [
            "",
            "GiB",
            "-1",
            "1 XB",
            "1.2.3M",
            "99999999999999999999",
            "99999999TiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_body_size("0").is_err());
        assert_eq!(parse_body_size("8MiB").unwrap(), 8 << 20);
        let cli = Cli::try_parse_from(["skills-video", "wait", "id"]).unwrap();
        match cli.command {
            Command::Wait(w) => {
                assert_eq!(w.download.max_download_bytes, 4 << 30);
                assert!(!w.download.allow_private_downloads);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seconds_accept_fractions() {
        assert_eq!(parse_secs("0.25").unwrap(), Duration::from_millis(250));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("x").is_err());
    }
}
