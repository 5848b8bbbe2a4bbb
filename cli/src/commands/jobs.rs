//! The job ledger in the CLI: where it lives, opening it, recording
//! downloads, and `skills-video jobs [--pending] [--json]` / `jobs show KEY|ID`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use skills_video::ledger::{
    is_postgres_url, Intent, JobFilter, JobRecord, JobState, Ledger, LedgerError, OutputRecord,
    PostgresLedger, SqliteLedger, TerminalRecord,
};

use crate::args::{Cli, JobsArgs, JobsCommand};
use crate::download;
use crate::exit::{self, CliError};
use crate::output::Output;

/// The ledger as the commands share it.
pub type SharedLedger = Arc<CliLedger>;

/// The ledger of a run: the SQLite file (the default), or PostgreSQL when
/// `--ledger` is a `postgres://` URL (batches shared by `--worker`s).
#[derive(Debug)]
pub enum CliLedger {
    /// `--ledger PATH` (or the default path).
    Sqlite(SqliteLedger),
    /// `--ledger postgres://...`.
    Postgres(PostgresLedger),
}

impl CliLedger {
    /// The file, or the PostgreSQL URL (password redacted), for messages.
    pub fn path(&self) -> &Path {
        match self {
            CliLedger::Sqlite(l) => l.path(),
            CliLedger::Postgres(l) => Path::new(l.url()),
        }
    }

    /// The PostgreSQL ledger, if this is one (`batch --worker` needs it).
    pub fn postgres(&self) -> Option<&PostgresLedger> {
        match self {
            CliLedger::Postgres(l) => Some(l),
            CliLedger::Sqlite(_) => None,
        }
    }

    fn inner(&self) -> &dyn Ledger {
        match self {
            CliLedger::Sqlite(l) => l,
            CliLedger::Postgres(l) => l,
        }
    }
}

impl Ledger for CliLedger {
    fn record_intent(&self, intent: &Intent) -> Result<(), LedgerError> {
        self.inner().record_intent(intent)
    }
    fn record_id(&self, key: &str, generation_id: &str) -> Result<String, LedgerError> {
        self.inner().record_id(key, generation_id)
    }
    fn record_status(&self, key: &str, status: &str) -> Result<(), LedgerError> {
        self.inner().record_status(key, status)
    }
    fn record_terminal(&self, key: &str, terminal: &TerminalRecord) -> Result<(), LedgerError> {
        self.inner().record_terminal(key, terminal)
    }
    fn record_state(
        &self,
        key: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        self.inner().record_state(key, state, error)
    }
    fn record_error(&self, key: &str, error: &str) -> Result<(), LedgerError> {
        self.inner().record_error(key, error)
    }
    fn record_output(&self, key: &str, output: &OutputRecord) -> Result<(), LedgerError> {
        self.inner().record_output(key, output)
    }
    fn record_download_dir(&self, key: &str, dir: &Path) -> Result<(), LedgerError> {
        self.inner().record_download_dir(key, dir)
    }
    fn attach(&self, generation_id: &str, base_url: &str) -> Result<String, LedgerError> {
        self.inner().attach(generation_id, base_url)
    }
    fn jobs(&self, filter: JobFilter) -> Result<Vec<JobRecord>, LedgerError> {
        self.inner().jobs(filter)
    }
    fn find(&self, key_or_id: &str) -> Result<Option<JobRecord>, LedgerError> {
        self.inner().find(key_or_id)
    }
}

/// `$XDG_STATE_HOME/skills-video/ledger.sqlite3`, else
/// `~/.local/state/skills-video/ledger.sqlite3`.
pub fn default_ledger_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| !h.as_os_str().is_empty())
                .map(|h| h.join(".local").join("state"))
        })?;
    Some(state.join("skills-video").join("ledger.sqlite3"))
}

/// The ledger path of this run, or `None` with `--no-ledger`.
pub fn ledger_path(cli: &Cli) -> Result<Option<PathBuf>, CliError> {
    if cli.no_ledger {
        return Ok(None);
    }
    match &cli.ledger {
        Some(p) => Ok(Some(p.clone())),
        None => default_ledger_path().map(Some).ok_or_else(|| {
            CliError::input("no ledger path: neither XDG_STATE_HOME nor HOME is set; pass --ledger PATH or --no-ledger")
        }),
    }
}

fn ledger_error(e: impl std::fmt::Display) -> CliError {
    CliError::input(format!("{e}")).with("ledger_error", json!(e.to_string()))
}

/// Opens (creating) the ledger for a command that journals; `None` with `--no-ledger`.
pub fn open_ledger(cli: &Cli) -> Result<Option<SharedLedger>, CliError> {
    let Some(path) = ledger_path(cli)? else {
        return Ok(None);
    };
    if let Some(url) = path.to_str().filter(|p| is_postgres_url(p)) {
        return PostgresLedger::connect(url)
            .map(|l| Some(Arc::new(CliLedger::Postgres(l))))
            .map_err(ledger_error);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return Err(ledger_error(format!(
                "the ledger {} cannot be written (cannot create {}: {e}): pass --ledger PATH or --no-ledger",
                path.display(),
                dir.display()
            )));
        }
    }
    SqliteLedger::open(&path)
        .map(|l| Some(Arc::new(CliLedger::Sqlite(l))))
        .map_err(ledger_error)
}

/// Records every file `--out` saves under the idempotency key in `current`.
pub fn record_downloads(ledger: &SharedLedger, current: Arc<Mutex<Option<String>>>) {
    let ledger = ledger.clone();
    download::set_saved_hook(Some(Box::new(move |url: &str, path: &Path| {
        let Some(key) = current.lock().unwrap_or_else(|e| e.into_inner()).clone() else {
            return;
        };
        record_saved_file(&*ledger, &key, url, path, None);
    })));
}

/// Records a file saved from `url` at `path` under `key` (`digest`: the
/// size and SHA-256 when the writer computed them; `None` reads the file
/// back). A failure is logged, never fatal: the file is on disk, and
/// `resume` checks saved files again.
pub fn record_saved_file(
    ledger: &dyn Ledger,
    key: &str,
    url: &str,
    path: &Path,
    digest: Option<(u64, String)>,
) {
    match OutputRecord::for_saved_file(url, path, digest) {
        Ok(record) => {
            if let Err(e) = ledger.record_output(key, &record) {
                tracing::warn!(error = %e, "the download could not be recorded in the ledger");
            }
        }
        Err(e) => tracing::warn!(error = %e, "the saved file could not be hashed"),
    }
}

/// One line, when the ledger holds unfinished generations for `base_url`.
pub fn unfinished_note(ledger: &SharedLedger, base_url: &str) -> Option<String> {
    let jobs = ledger.jobs(JobFilter::Unfinished).ok()?;
    let n = jobs
        .iter()
        .filter(|j| j.base_url.trim_end_matches('/') == base_url.trim_end_matches('/'))
        .count();
    (n > 0).then(|| {
        format!(
            "note: {n} unfinished generation(s) in the ledger {} (from an interrupted run): `skills-video resume --out DIR` finishes them, `skills-video jobs --pending` lists them",
            ledger.path().display()
        )
    })
}

fn age(ms: i64) -> String {
    let secs = (skills_video_now_ms() - ms).max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn skills_video_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A record as JSON (`jobs --json`, `jobs show`).
pub fn record_json(r: &JobRecord) -> Value {
    json!({
        "idempotency_key": r.idempotency_key,
        "model": r.model,
        "generation_id": r.generation_id,
        "state": r.state.as_str(),
        "status": r.status,
        "base_url": r.base_url,
        "created_at_ms": r.created_at_ms,
        "updated_at_ms": r.updated_at_ms,
        "request": r.request,
        "output_urls": r.output_urls,
        "usage": r.usage,
        "error": r.error,
        "outputs": r.outputs.iter().map(|o| json!({
            "url": o.url, "path": o.path.display().to_string(), "size": o.size, "sha256": o.sha256,
        })).collect::<Vec<_>>(),
    })
}

/// Runs `jobs`.
pub fn run(cli: &Cli, args: &JobsArgs, out: &Output) -> u8 {
    let path = match ledger_path(cli) {
        Ok(Some(p)) => p,
        Ok(None) => {
            let e = CliError::input("--no-ledger: there is no ledger to list");
            out.error(&e);
            return e.code;
        }
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    let postgres = path.to_str().is_some_and(is_postgres_url);
    if !postgres && !path.exists() {
        if let Some(JobsCommand::Show { key_or_id }) = &args.show {
            let e = CliError::input(format!(
                "no generation {key_or_id}: the ledger {} does not exist yet",
                path.display()
            ));
            out.error(&e);
            return e.code;
        }
        if out.is_json() {
            return exit::OK;
        }
        out.summary(&format!("no generations yet (ledger {})", path.display()));
        return exit::OK;
    }
    // Read-write when possible (a WAL ledger is best read with its -shm), else read-only.
    let opened = if postgres {
        PostgresLedger::connect(&path.to_string_lossy()).map(CliLedger::Postgres)
    } else {
        SqliteLedger::open(&path)
            .or_else(|_| SqliteLedger::open_read_only(&path))
            .map(CliLedger::Sqlite)
    };
    let ledger = match opened {
        Ok(l) => l,
        Err(e) => {
            let e = ledger_error(e);
            out.error(&e);
            return e.code;
        }
    };
    if let Some(JobsCommand::Show { key_or_id }) = &args.show {
        return match ledger.find(key_or_id) {
            Ok(Some(r)) => {
                out.document(&record_json(&r));
                exit::OK
            }
            Ok(None) => {
                let e = CliError::input(format!(
                    "no generation with idempotency key or id {key_or_id} in {}",
                    ledger.path().display()
                ));
                out.error(&e);
                e.code
            }
            Err(e) => {
                let e = ledger_error(e);
                out.error(&e);
                e.code
            }
        };
    }
    let filter = if args.pending {
        JobFilter::Unfinished
    } else {
        JobFilter::All
    };
    let jobs = match ledger.jobs(filter) {
        Ok(j) => j,
        Err(e) => {
            let e = ledger_error(e);
            out.error(&e);
            return e.code;
        }
    };
    if out.is_json() {
        for j in &jobs {
            out.line(&record_json(j));
        }
        return exit::OK;
    }
    let mut text = format!(
        "{:<36}  {:<28}  {:<36}  {:<10}  {:<11}  {:>5}  outputs",
        "key", "model", "id", "state", "status", "age"
    );
    for j in &jobs {
        text.push_str(&format!(
            "\n{:<36}  {:<28}  {:<36}  {:<10}  {:<11}  {:>5}  {}/{}",
            j.idempotency_key,
            j.model.as_deref().unwrap_or("-"),
            j.generation_id.as_deref().unwrap_or("-"),
            j.state.as_str(),
            j.status,
            age(j.created_at_ms),
            j.outputs.len(),
            j.output_urls.len()
        ));
    }
    if jobs.is_empty() {
        text = format!(
            "no {}generations in {}",
            if args.pending { "unfinished " } else { "" },
            ledger.path().display()
        );
    }
    out.summary(&text);
    exit::OK
}

/// Passes the events on; when the intent has been journaled (`Started`),
/// notes the `--out` directory in the ledger, so that `resume` downloads
/// what a crash left undownloaded.
pub fn note_download_dir<S>(
    events: S,
    ledger: Option<SharedLedger>,
    key: &str,
    dir: Option<&Path>,
) -> impl futures::Stream<Item = S::Item>
where
    S: futures::Stream<Item = Result<skills_video::Event, skills_video::Error>>,
{
    use futures::StreamExt;
    let key = key.to_string();
    let dir = dir.map(|d| {
        std::fs::canonicalize(d).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|c| c.join(d))
                .unwrap_or_else(|_| d.to_path_buf())
        })
    });
    events.inspect(move |e| {
        if let (Ok(skills_video::Event::Started { .. }), Some(l), Some(d)) = (e, &ledger, &dir) {
            if let Err(e) = l.record_download_dir(&key, d) {
                tracing::warn!(error = %e, "the download directory could not be recorded");
            }
        }
    })
}
