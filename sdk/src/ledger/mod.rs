//! The job ledger (feature `ledger`): a durable journal of every generation,
//! so that no paid job is lost to a crash.
//!
//! A generation is journaled at each step, keyed by its idempotency key:
//! - *intent* (key, model, request body as JSON, base URL, created-at),
//!   committed and synced **before** the create is sent;
//! - the *id*, as soon as it arrives (the first id wins, never overwritten);
//! - *status* changes and the *terminal* result (status, response JSON,
//!   output URLs, usage);
//! - *outputs* downloaded (URL, path, size, SHA-256).
//!
//! The API key is never stored. [`SqliteLedger`] is the embedded default;
//! `PostgresLedger` (feature `postgres`) keeps the same journal in
//! PostgreSQL, with a work queue that batch workers share;
//! give one to [`ClientBuilder::ledger`](crate::ClientBuilder::ledger) and
//! `generate`, `events` and `wait` journal automatically;
//! [`Client::resume`](crate::Client::resume) re-attaches what is unfinished.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

mod journal;
#[cfg(feature = "postgres")]
mod postgres;
mod resume;
mod sqlite;

#[cfg(feature = "postgres")]
pub use self::postgres::{
    is_postgres_url, redact_url, Claim, PostgresLedger, QueueState, CLAIM_SQL, PG_SCHEMA_VERSION,
};
pub(crate) use journal::{journal_generation, journal_wait, IntentParts};
pub use resume::{check_outputs, OutputProblem, ResumeOptions, ResumeOutcome};
pub use sqlite::{SqliteLedger, SCHEMA_VERSION};

/// Where a generation stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Intent recorded (with or without an id): not finished.
    Pending,
    /// The create may have been accepted but no id arrived: resubmit only
    /// with the same idempotency key.
    Ambiguous,
    /// The platform refused the create (4xx, or transient failures that the
    /// money rule says cannot have created anything): nothing was charged.
    Rejected,
    /// A terminal status (COMPLETED, FAILED, CANCELED) was recorded.
    Terminal,
}

impl JobState {
    /// `pending`, `ambiguous`, `rejected` or `terminal`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Ambiguous => "ambiguous",
            JobState::Rejected => "rejected",
            JobState::Terminal => "terminal",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<JobState> {
        Some(match s {
            "pending" => JobState::Pending,
            "ambiguous" => JobState::Ambiguous,
            "rejected" => JobState::Rejected,
            "terminal" => JobState::Terminal,
            _ => return None,
        })
    }

    /// Pending or ambiguous: `resume` has work to do.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, JobState::Pending | JobState::Ambiguous)
    }
}

/// The intent of a generation, written before its create is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    /// The idempotency key sent with every create attempt (the row's key).
    pub idempotency_key: String,
    /// The model id (`google/nano-banana-pro`).
    pub model: String,
    /// The request body as JSON (local files appear as their paths).
    pub request: Value,
    /// Whether the body had local files (sent as multipart).
    pub multipart: bool,
    /// The API base the create goes to.
    pub base_url: String,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// The terminal result of a generation.
#[derive(Debug, Clone, PartialEq)]
pub struct TerminalRecord {
    /// `COMPLETED`, `FAILED`, `CANCELED`, ...
    pub status: String,
    /// The response JSON.
    pub response: Value,
    /// The output URLs.
    pub output_urls: Vec<String>,
    /// The usage object, if the platform sent one.
    pub usage: Option<Value>,
}

impl TerminalRecord {
    /// What the ledger keeps of a terminal generation: its status, the
    /// response, the output URLs and the usage object (absent when the
    /// platform sent none or `null`).
    pub fn of(g: &crate::generation::Generation) -> TerminalRecord {
        TerminalRecord {
            status: g.status().to_string(),
            response: g.raw().clone(),
            output_urls: g.output_urls(),
            usage: g.raw().get("usage").cloned().filter(|u| !u.is_null()),
        }
    }
}

/// One downloaded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    /// The URL it came from.
    pub url: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

impl OutputRecord {
    /// The record of a file saved at `path` from `url`. The path is made
    /// canonical (kept as given when that fails), so a later resume finds
    /// the file from any working directory. `digest` is the size and
    /// SHA-256 when the writer computed them while writing; `None` reads
    /// the file back to compute them.
    pub fn for_saved_file(
        url: &str,
        path: &std::path::Path,
        digest: Option<(u64, String)>,
    ) -> std::io::Result<OutputRecord> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let (size, sha256) = match digest {
            Some(d) => d,
            None => sha256_file(&path)?,
        };
        Ok(OutputRecord {
            url: url.to_string(),
            path,
            size,
            sha256,
        })
    }
}

/// One generation as the ledger holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The idempotency key.
    pub idempotency_key: String,
    /// The model id (absent for a job only ever seen through `wait(id)`).
    pub model: Option<String>,
    /// The request body (absent as for `model`).
    pub request: Option<Value>,
    /// Whether the body had local files.
    pub multipart: bool,
    /// The API base.
    pub base_url: String,
    /// Unix milliseconds of the intent.
    pub created_at_ms: i64,
    /// Unix milliseconds of the last change.
    pub updated_at_ms: i64,
    /// The generation id, once known.
    pub generation_id: Option<String>,
    /// Where it stands.
    pub state: JobState,
    /// The last status seen (`intent` before any).
    pub status: String,
    /// The terminal response, if any.
    pub response: Option<Value>,
    /// The output URLs of the terminal response.
    pub output_urls: Vec<String>,
    /// The usage, if any.
    pub usage: Option<Value>,
    /// The last error, if any.
    pub error: Option<String>,
    /// Where the caller means to download the outputs, if it said so.
    pub download_dir: Option<PathBuf>,
    /// The outputs downloaded.
    pub outputs: Vec<OutputRecord>,
}

/// A ledger failure. Opening never overwrites a file that is not a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LedgerError {
    /// The file exists but is not a skills-video ledger (another SQLite
    /// database, or not SQLite at all). It was not touched.
    NotALedger {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// The ledger was written by a newer version of this SDK.
    FutureSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The ledger (or its directory) cannot be written.
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        detail: String,
    },
    /// Any other SQLite or file-system failure.
    Storage {
        /// What was being done.
        op: &'static str,
        /// The underlying error.
        detail: String,
    },
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::NotALedger { path, detail } => write!(
                f,
                "{} is not a skills-video ledger ({detail}); it was left untouched: move it away or pass another ledger path",
                path.display()
            ),
            LedgerError::FutureSchema { path, found, supported } => write!(
                f,
                "the ledger {} has schema version {found}, newer than this build's {supported}: upgrade skills-video (the file was left untouched)",
                path.display()
            ),
            LedgerError::ReadOnly { path, detail } => write!(
                f,
                "the ledger {} cannot be written ({detail}): fix its permissions, pass another ledger path, or run without a ledger",
                path.display()
            ),
            LedgerError::Storage { op, detail } => write!(f, "ledger {op} failed: {detail}"),
        }
    }
}

impl std::error::Error for LedgerError {}

/// Which jobs [`Ledger::jobs`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobFilter {
    /// Every job, newest first.
    #[default]
    All,
    /// Pending and ambiguous ones only.
    Unfinished,
}

/// A durable journal of generations. Implementations must make
/// [`record_intent`](Self::record_intent) durable before returning: the
/// create is sent only after it returns `Ok`.
pub trait Ledger: Send + Sync + 'static {
    /// Records the intent of a generation (before its create). Recording an
    /// intent again under the same key (a re-send) keeps the row, its id and
    /// its outputs, and marks it pending unless it is terminal.
    fn record_intent(&self, intent: &Intent) -> Result<(), LedgerError>;
    /// Records the generation id; the first id wins. Returns the id kept.
    fn record_id(&self, key: &str, generation_id: &str) -> Result<String, LedgerError>;
    /// Records a status change (a no-op when unchanged).
    fn record_status(&self, key: &str, status: &str) -> Result<(), LedgerError>;
    /// Records the terminal result.
    fn record_terminal(&self, key: &str, terminal: &TerminalRecord) -> Result<(), LedgerError>;
    /// Records a state without a terminal result (ambiguous, rejected) and the error.
    fn record_state(
        &self,
        key: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<(), LedgerError>;
    /// Records the last error while keeping the state (e.g. a poll budget ran out).
    fn record_error(&self, key: &str, error: &str) -> Result<(), LedgerError>;
    /// Records a downloaded output (replacing an earlier record for the same URL).
    fn record_output(&self, key: &str, output: &OutputRecord) -> Result<(), LedgerError>;
    /// Notes that the caller downloads every output into `dir` (so `resume`
    /// reports outputs never downloaded). The default does nothing.
    fn record_download_dir(&self, key: &str, dir: &std::path::Path) -> Result<(), LedgerError> {
        let _ = (key, dir);
        Ok(())
    }
    /// The key of the job with this id, creating a row (key = the id) for an
    /// id the ledger has never seen (a `wait(id)` from elsewhere).
    fn attach(&self, generation_id: &str, base_url: &str) -> Result<String, LedgerError>;
    /// The jobs, newest first.
    fn jobs(&self, filter: JobFilter) -> Result<Vec<JobRecord>, LedgerError>;
    /// One job by idempotency key or generation id.
    fn find(&self, key_or_id: &str) -> Result<Option<JobRecord>, LedgerError>;
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The SHA-256 of a file, lower-case hex, and its size.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex(&hasher.finalize())))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
