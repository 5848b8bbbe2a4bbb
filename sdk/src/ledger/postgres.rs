//! [`PostgresLedger`] (feature `postgres`): the same ledger on PostgreSQL,
//! plus the work queue of a batch that many worker processes share.
//!
//! - The journal: the tables and rules of [`SqliteLedger`](super::SqliteLedger)
//!   (`generations`, `outputs`), every write one transaction; PostgreSQL's
//!   default `synchronous_commit=on` makes a COMMIT durable before it
//!   returns, so the intent is on disk before the create is sent.
//! - The work queue, `batch_jobs` (batch id, line, idempotency key, state
//!   `queued` / `claimed` / `done`, owner, `epoch`, `leased_until`):
//!   - [`enqueue_batch`](PostgresLedger::enqueue_batch) inserts a batch's
//!     lines once (`ON CONFLICT DO NOTHING`: every worker may call it);
//!   - [`claim`](PostgresLedger::claim) takes up to `n` lines that are
//!     queued or whose lease has run out, with
//!     `SELECT ... FOR UPDATE SKIP LOCKED` inside one `UPDATE`: two
//!     claimers never get the same line; each claim bumps the line's
//!     `epoch` and sets `leased_until` from the database's clock;
//!   - [`renew`](PostgresLedger::renew) extends the leases of a live
//!     worker; a killed worker's leases run out and its lines are claimed
//!     again;
//!   - [`complete`](PostgresLedger::complete) and
//!     [`release`](PostgresLedger::release) only act while the claim is
//!     still the worker's (owner and epoch).
//! - The fence: while this ledger holds a claim on a line, recording the
//!   intent of that line's key checks, in the same transaction (and under
//!   the row's lock), that the claim is still current. A worker whose lease
//!   was taken over can therefore never send the create: either its intent
//!   committed first (and the new owner finds it: attach by id, or
//!   ambiguous), or the takeover did (and the intent fails, nothing sent).
//!
//! The sync `postgres` client runs its own runtime, which must not block
//! inside a tokio runtime: the connection lives on a thread of its own and
//! each call is handed to it (the caller blocks, as with SQLite).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::{
    now_ms, Intent, JobFilter, JobRecord, JobState, Ledger, LedgerError, OutputRecord,
    TerminalRecord,
};

/// Append-only: index + 1 is the schema version. Never edit or reorder an entry.
const MIGRATIONS: &[&str] = &[
    // 1: generations, outputs and the batch work queue.
    "CREATE TABLE generations (
        idempotency_key TEXT PRIMARY KEY NOT NULL,
        model TEXT,
        request_json TEXT,
        multipart BOOLEAN NOT NULL DEFAULT false,
        base_url TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        generation_id TEXT,
        id_at BIGINT,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        response_json TEXT,
        output_urls TEXT,
        usage_json TEXT,
        error TEXT,
        download_dir TEXT,
        seq BIGSERIAL
    );
    CREATE INDEX generations_by_id ON generations(generation_id);
    CREATE INDEX generations_by_state ON generations(state);
    CREATE TABLE outputs (
        idempotency_key TEXT NOT NULL REFERENCES generations(idempotency_key) ON DELETE CASCADE,
        url TEXT NOT NULL,
        path TEXT NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        recorded_at BIGINT NOT NULL,
        seq BIGSERIAL,
        PRIMARY KEY (idempotency_key, url)
    );
    CREATE TABLE batch_jobs (
        batch_id TEXT NOT NULL,
        line BIGINT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'queued',
        owner TEXT,
        epoch BIGINT NOT NULL DEFAULT 0,
        leased_until TIMESTAMPTZ,
        PRIMARY KEY (batch_id, line)
    );
    CREATE INDEX batch_jobs_by_state ON batch_jobs(batch_id, state, line);",
];

/// The schema version this build writes.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// An advisory lock key ("SVLG") serializing migrations.
const MIGRATION_LOCK: i64 = 0x5356_4c47;

/// The claim query: one `UPDATE` over the lines a `SELECT ... FOR UPDATE
/// SKIP LOCKED` picked (queued, or claimed with a lease run out), in line
/// order. `$1` batch, `$2` owner, `$3` lease in ms, `$4` how many.
pub const CLAIM_SQL: &str = "UPDATE batch_jobs AS b
    SET state = 'claimed', owner = $2, epoch = b.epoch + 1,
        leased_until = now() + $3::bigint * interval '1 millisecond'
    FROM (SELECT batch_id, line FROM batch_jobs
          WHERE batch_id = $1
            AND (state = 'queued' OR (state = 'claimed' AND leased_until < now()))
          ORDER BY line
          LIMIT $4
          FOR UPDATE SKIP LOCKED) AS c
    WHERE b.batch_id = c.batch_id AND b.line = c.line
    RETURNING b.line, b.idempotency_key, b.epoch";

/// One line claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The line of the batch file (1-based).
    pub line: u64,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// The claim's epoch: later writes of the claim check it.
    pub epoch: i64,
}

/// Where a batch's work queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueState {
    /// Lines in the queue.
    pub total: u64,
    /// Lines not done (queued or claimed).
    pub unfinished: u64,
    /// Lines claimed under a lease that has not run out.
    pub leased: u64,
}

type Task = Box<dyn FnOnce(&mut Option<postgres::Client>) + Send>;

/// The ledger on PostgreSQL. One connection on its own thread; cheap to
/// share behind an `Arc`.
pub struct PostgresLedger {
    tasks: Mutex<mpsc::Sender<Task>>,
    display: String,
    /// Key → (owner, epoch) of the lines this process holds claims on.
    fences: Mutex<HashMap<String, (String, i64)>>,
}

impl std::fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLedger")
            .field("url", &self.display)
            .finish()
    }
}

fn storage(op: &'static str) -> impl Fn(postgres::Error) -> LedgerError {
    move |e| LedgerError::Storage {
        op,
        detail: pg_detail(&e),
    }
}

fn pg_detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// The URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "postgres://(unparsable URL)".to_string(),
    }
}

/// Whether `s` names a PostgreSQL ledger (`postgres://` or `postgresql://`).
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl PostgresLedger {
    /// Connects (without TLS) and creates or migrates the schema. A
    /// database whose `generations` table is not a ledger's, or a newer
    /// schema, is refused and left untouched.
    pub fn connect(url: &str) -> Result<PostgresLedger, LedgerError> {
        let display = redact_url(url);
        let config: postgres::Config =
            url.parse()
                .map_err(|e: postgres::Error| LedgerError::Storage {
                    op: "open",
                    detail: format!("{display} is not a usable PostgreSQL URL: {e}"),
                })?;
        let (tx, rx) = mpsc::channel::<Task>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), LedgerError>>();
        let path = PathBuf::from(&display);
        let thread_config = config.clone();
        std::thread::Builder::new()
            .name("skills-video-ledger-pg".into())
            .spawn(move || {
                let mut client = match thread_config.connect(postgres::NoTls) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(LedgerError::Storage {
                            op: "open",
                            detail: pg_detail(&e),
                        }));
                        return;
                    }
                };
                let _ = ready_tx.send(migrate(&mut client, &path));
                let mut client = Some(client);
                while let Ok(task) = rx.recv() {
                    // A lost connection is made again for the next call.
                    if client.as_ref().is_none_or(|c| c.is_closed()) {
                        client = thread_config.connect(postgres::NoTls).ok();
                    }
                    task(&mut client);
                }
            })
            .map_err(|e| LedgerError::Storage {
                op: "open",
                detail: e.to_string(),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(PostgresLedger {
                tasks: Mutex::new(tx),
                display,
                fences: Mutex::new(HashMap::new()),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LedgerError::Storage {
                op: "open",
                detail: "the PostgreSQL connection thread ended".into(),
            }),
        }
    }

    /// The URL, password redacted.
    pub fn url(&self) -> &str {
        &self.display
    }

    /// Runs `f` on the connection thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, LedgerError> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let task: Task = Box::new(move |client| {
            let r = match client {
                Some(c) => f(c),
                None => Err(LedgerError::Storage {
                    op,
                    detail: "no connection to PostgreSQL".into(),
                }),
            };
            let _ = reply_tx.send(r);
        });
        let sent = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(task);
        if sent.is_err() {
            return Err(LedgerError::Storage {
                op,
                detail: "the PostgreSQL connection thread ended".into(),
            });
        }
        reply_rx.recv().unwrap_or_else(|_| {
            Err(LedgerError::Storage {
                op,
                detail: "the PostgreSQL connection thread ended".into(),
            })
        })
    }

    fn fence(&self, key: &str) -> Option<(String, i64)> {
        self.fences
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn set_fence(&self, key: &str, fence: Option<(String, i64)>) {
        let mut fences = self.fences.lock().unwrap_or_else(|p| p.into_inner());
        match fence {
            Some(f) => fences.insert(key.to_string(), f),
            None => fences.remove(key),
        };
    }

    /// Inserts the lines of a batch into its work queue, once: lines
    /// already there are left as they are. Returns how many were new.
    pub fn enqueue_batch(
        &self,
        batch_id: &str,
        lines: &[(u64, String)],
    ) -> Result<u64, LedgerError> {
        let batch_id = batch_id.to_string();
        let nums: Vec<i64> = lines.iter().map(|(l, _)| *l as i64).collect();
        let keys: Vec<String> = lines.iter().map(|(_, k)| k.clone()).collect();
        self.call("enqueue", move |c| {
            c.execute(
                "INSERT INTO batch_jobs (batch_id, line, idempotency_key)
                 SELECT $1, l, k FROM unnest($2::bigint[], $3::text[]) AS t(l, k)
                 ON CONFLICT DO NOTHING",
                &[&batch_id, &nums, &keys],
            )
            .map_err(storage("enqueue"))
        })
    }

    /// Puts back in the queue the done lines of a batch whose generation is
    /// unfinished (pending, ambiguous) or was refused: a new run of the
    /// batch plans them again (attach by id, report, or create).
    pub fn reopen_unfinished(&self, batch_id: &str) -> Result<u64, LedgerError> {
        let batch_id = batch_id.to_string();
        self.call("reopen", move |c| {
            c.execute(
                "UPDATE batch_jobs AS b SET state = 'queued', owner = NULL, leased_until = NULL
                 WHERE b.batch_id = $1 AND b.state = 'done'
                   AND EXISTS (SELECT 1 FROM generations g
                               WHERE g.idempotency_key = b.idempotency_key
                                 AND g.state IN ('pending', 'ambiguous', 'rejected'))",
                &[&batch_id],
            )
            .map_err(storage("reopen"))
        })
    }

    /// Claims up to `n` lines of the batch for `owner` under a lease of
    /// `lease` (see [`CLAIM_SQL`]). While a claim is held, this ledger
    /// fences the intent of its key.
    pub fn claim(
        &self,
        batch_id: &str,
        owner: &str,
        n: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, LedgerError> {
        let (batch_id, owner_s) = (batch_id.to_string(), owner.to_string());
        let lease_ms = lease.as_millis() as i64;
        let n = n as i64;
        let mut claims = self.call("claim", move |c| {
            let rows = c
                .query(CLAIM_SQL, &[&batch_id, &owner_s, &lease_ms, &n])
                .map_err(storage("claim"))?;
            Ok(rows
                .iter()
                .map(|r| Claim {
                    line: r.get::<_, i64>(0) as u64,
                    idempotency_key: r.get(1),
                    epoch: r.get(2),
                })
                .collect::<Vec<_>>())
        })?;
        claims.sort_by_key(|c| c.line);
        for c in &claims {
            self.set_fence(&c.idempotency_key, Some((owner.to_string(), c.epoch)));
        }
        Ok(claims)
    }

    /// Extends the leases of every line `owner` holds in the batch; returns
    /// how many.
    pub fn renew(&self, batch_id: &str, owner: &str, lease: Duration) -> Result<u64, LedgerError> {
        let (batch_id, owner) = (batch_id.to_string(), owner.to_string());
        let lease_ms = lease.as_millis() as i64;
        self.call("renew", move |c| {
            c.execute(
                "UPDATE batch_jobs SET leased_until = now() + $3::bigint * interval '1 millisecond'
                 WHERE batch_id = $1 AND owner = $2 AND state = 'claimed'",
                &[&batch_id, &owner, &lease_ms],
            )
            .map_err(storage("renew"))
        })
    }

    fn end_claim(
        &self,
        op: &'static str,
        to: &'static str,
        batch_id: &str,
        owner: &str,
        claim: &Claim,
    ) -> Result<bool, LedgerError> {
        let (batch_id, owner_s) = (batch_id.to_string(), owner.to_string());
        let (line, epoch) = (claim.line as i64, claim.epoch);
        let n = self.call(op, move |c| {
            let sql = if to == "done" {
                "UPDATE batch_jobs SET state = 'done', leased_until = NULL
                 WHERE batch_id = $1 AND line = $2 AND owner = $3 AND epoch = $4 AND state = 'claimed'"
            } else {
                "UPDATE batch_jobs SET state = 'queued', owner = NULL, leased_until = NULL
                 WHERE batch_id = $1 AND line = $2 AND owner = $3 AND epoch = $4 AND state = 'claimed'"
            };
            c.execute(sql, &[&batch_id, &line, &owner_s, &epoch])
                .map_err(storage(op))
        })?;
        self.set_fence(&claim.idempotency_key, None);
        Ok(n == 1)
    }

    /// Marks a claimed line done, if the claim is still `owner`'s (false:
    /// it was taken over).
    pub fn complete(
        &self,
        batch_id: &str,
        owner: &str,
        claim: &Claim,
    ) -> Result<bool, LedgerError> {
        self.end_claim("complete", "done", batch_id, owner, claim)
    }

    /// Gives a claimed line back to the queue (never started), if the claim
    /// is still `owner`'s.
    pub fn release(&self, batch_id: &str, owner: &str, claim: &Claim) -> Result<bool, LedgerError> {
        self.end_claim("release", "queued", batch_id, owner, claim)
    }

    /// Where the batch's queue stands.
    pub fn queue_state(&self, batch_id: &str) -> Result<QueueState, LedgerError> {
        let batch_id = batch_id.to_string();
        self.call("queue", move |c| {
            let r = c
                .query_one(
                    "SELECT count(*),
                            count(*) FILTER (WHERE state <> 'done'),
                            count(*) FILTER (WHERE state = 'claimed' AND leased_until >= now())
                     FROM batch_jobs WHERE batch_id = $1",
                    &[&batch_id],
                )
                .map_err(storage("queue"))?;
            Ok(QueueState {
                total: r.get::<_, i64>(0) as u64,
                unfinished: r.get::<_, i64>(1) as u64,
                leased: r.get::<_, i64>(2) as u64,
            })
        })
    }
}

fn migrate(client: &mut postgres::Client, path: &std::path::Path) -> Result<(), LedgerError> {
    let classify = storage("migrate");
    let mut tx = client.transaction().map_err(&classify)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(&classify)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS skills_video_ledger (version BIGINT NOT NULL)")
        .map_err(&classify)?;
    let version: i64 = tx
        .query_opt("SELECT max(version) FROM skills_video_ledger", &[])
        .map_err(&classify)?
        .and_then(|r| r.get::<_, Option<i64>>(0))
        .unwrap_or(0);
    if version > PG_SCHEMA_VERSION {
        return Err(LedgerError::FutureSchema {
            path: path.to_path_buf(),
            found: version,
            supported: PG_SCHEMA_VERSION,
        });
    }
    if version == 0 {
        let taken: Option<String> = tx
            .query_one("SELECT to_regclass('generations')::text", &[])
            .map_err(&classify)?
            .get(0);
        if taken.is_some() {
            return Err(LedgerError::NotALedger {
                path: path.to_path_buf(),
                detail:
                    "the database has a `generations` table that is not a skills-video ledger's"
                        .into(),
            });
        }
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).map_err(&classify)?;
        tx.execute("DELETE FROM skills_video_ledger", &[])
            .map_err(&classify)?;
        tx.execute(
            "INSERT INTO skills_video_ledger (version) VALUES ($1)",
            &[&((i + 1) as i64)],
        )
        .map_err(&classify)?;
    }
    tx.commit().map_err(&classify)
}

const SELECT: &str =
    "SELECT idempotency_key, model, request_json, multipart, base_url, created_at, updated_at,
    generation_id, state, status, response_json, output_urls, usage_json, error, download_dir FROM generations";

fn parse_json(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn row_to_record(r: &postgres::Row) -> JobRecord {
    let state: String = r.get(8);
    let urls: Option<String> = r.get(11);
    JobRecord {
        idempotency_key: r.get(0),
        model: r.get(1),
        request: parse_json(r.get(2)),
        multipart: r.get(3),
        base_url: r.get(4),
        created_at_ms: r.get(5),
        updated_at_ms: r.get(6),
        generation_id: r.get(7),
        state: JobState::parse(&state).unwrap_or(JobState::Pending),
        status: r.get(9),
        response: parse_json(r.get(10)),
        output_urls: urls
            .and_then(|u| serde_json::from_str(&u).ok())
            .unwrap_or_default(),
        usage: parse_json(r.get(12)),
        error: r.get(13),
        download_dir: r.get::<_, Option<String>>(14).map(PathBuf::from),
        outputs: Vec::new(),
    }
}

fn load_outputs(c: &mut postgres::Client, record: &mut JobRecord) -> Result<(), LedgerError> {
    let rows = c
        .query(
            "SELECT url, path, size, sha256 FROM outputs WHERE idempotency_key = $1 ORDER BY seq",
            &[&record.idempotency_key],
        )
        .map_err(storage("read"))?;
    record.outputs = rows
        .iter()
        .map(|r| OutputRecord {
            url: r.get(0),
            path: PathBuf::from(r.get::<_, String>(1)),
            size: r.get::<_, i64>(2) as u64,
            sha256: r.get(3),
        })
        .collect();
    Ok(())
}

fn missing(op: &'static str, key: &str) -> LedgerError {
    LedgerError::Storage {
        op,
        detail: format!("no generation with idempotency key {key} in the ledger"),
    }
}

fn exists(c: &mut postgres::Transaction<'_>, key: &str) -> Result<bool, LedgerError> {
    c.query_opt(
        "SELECT 1 FROM generations WHERE idempotency_key = $1",
        &[&key],
    )
    .map(|r| r.is_some())
    .map_err(storage("read"))
}

impl Ledger for PostgresLedger {
    fn record_intent(&self, intent: &Intent) -> Result<(), LedgerError> {
        let i = intent.clone();
        let request = intent.request.to_string();
        let fence = self.fence(&intent.idempotency_key);
        self.call("intent", move |c| {
            let mut tx = c.transaction().map_err(storage("intent"))?;
            if let Some((owner, epoch)) = fence {
                // Under the row's lock: a takeover either committed before
                // (the epoch moved on: nothing is sent) or waits for this
                // intent (and then finds it).
                let held = tx
                    .query_opt(
                        "SELECT 1 FROM batch_jobs WHERE idempotency_key = $1 AND owner = $2
                           AND epoch = $3 AND state = 'claimed' FOR UPDATE",
                        &[&i.idempotency_key, &owner, &epoch],
                    )
                    .map_err(storage("intent"))?;
                if held.is_none() {
                    return Err(LedgerError::Storage {
                        op: "intent",
                        detail: format!(
                            "the claim on {} was taken over by another worker (its lease ran out); this worker does not send its create",
                            i.idempotency_key
                        ),
                    });
                }
            }
            tx.execute(
                "INSERT INTO generations (idempotency_key, model, request_json, multipart, base_url, created_at, updated_at, state, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, 'pending', 'intent')
                 ON CONFLICT (idempotency_key) DO UPDATE SET
                   state = CASE WHEN generations.state = 'terminal' THEN generations.state ELSE 'pending' END,
                   updated_at = excluded.updated_at",
                &[&i.idempotency_key, &i.model, &request, &i.multipart, &i.base_url, &i.created_at_ms],
            )
            .map_err(storage("intent"))?;
            tx.commit().map_err(storage("intent"))
        })
    }

    fn record_id(&self, key: &str, generation_id: &str) -> Result<String, LedgerError> {
        let (key, id) = (key.to_string(), generation_id.to_string());
        self.call("id", move |c| {
            let mut tx = c.transaction().map_err(storage("id"))?;
            tx.execute(
                "UPDATE generations SET generation_id = $2, id_at = $3, updated_at = $3,
                   status = CASE WHEN status = 'intent' THEN 'created' ELSE status END,
                   state = CASE WHEN state = 'ambiguous' THEN 'pending' ELSE state END
                 WHERE idempotency_key = $1 AND generation_id IS NULL",
                &[&key, &id, &now_ms()],
            )
            .map_err(storage("id"))?;
            let kept: Option<Option<String>> = tx
                .query_opt(
                    "SELECT generation_id FROM generations WHERE idempotency_key = $1",
                    &[&key],
                )
                .map_err(storage("id"))?
                .map(|r| r.get(0));
            tx.commit().map_err(storage("id"))?;
            match kept {
                Some(Some(id)) => Ok(id),
                _ => Err(missing("id", &key)),
            }
        })
    }

    fn record_status(&self, key: &str, status: &str) -> Result<(), LedgerError> {
        let (key, status) = (key.to_string(), status.to_string());
        self.call("status", move |c| {
            let mut tx = c.transaction().map_err(storage("status"))?;
            let n = tx
                .execute(
                    "UPDATE generations SET status = $2, updated_at = $3
                     WHERE idempotency_key = $1 AND status <> $2 AND state <> 'terminal'",
                    &[&key, &status, &now_ms()],
                )
                .map_err(storage("status"))?;
            if n == 0 && !exists(&mut tx, &key)? {
                return Err(missing("status", &key));
            }
            tx.commit().map_err(storage("status"))
        })
    }

    fn record_terminal(&self, key: &str, t: &TerminalRecord) -> Result<(), LedgerError> {
        let key = key.to_string();
        let status = t.status.clone();
        let response = t.response.to_string();
        let urls = serde_json::to_string(&t.output_urls).unwrap_or_else(|_| "[]".into());
        let usage = t.usage.as_ref().map(|u| u.to_string());
        self.call("terminal", move |c| {
            let n = c
                .execute(
                    "UPDATE generations SET state = 'terminal', status = $2, response_json = $3,
                       output_urls = $4, usage_json = $5, error = NULL, updated_at = $6
                     WHERE idempotency_key = $1",
                    &[&key, &status, &response, &urls, &usage, &now_ms()],
                )
                .map_err(storage("terminal"))?;
            if n == 0 {
                return Err(missing("terminal", &key));
            }
            Ok(())
        })
    }

    fn record_state(
        &self,
        key: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        let (key, error) = (key.to_string(), error.map(str::to_string));
        let state = state.as_str();
        self.call("state", move |c| {
            let mut tx = c.transaction().map_err(storage("state"))?;
            let n = tx
                .execute(
                    "UPDATE generations SET state = $2, error = $3, updated_at = $4
                     WHERE idempotency_key = $1 AND state <> 'terminal'",
                    &[&key, &state, &error, &now_ms()],
                )
                .map_err(storage("state"))?;
            if n == 0 && !exists(&mut tx, &key)? {
                return Err(missing("state", &key));
            }
            tx.commit().map_err(storage("state"))
        })
    }

    fn record_error(&self, key: &str, error: &str) -> Result<(), LedgerError> {
        let (key, error) = (key.to_string(), error.to_string());
        self.call("error", move |c| {
            let n = c
                .execute(
                    "UPDATE generations SET error = $2, updated_at = $3 WHERE idempotency_key = $1",
                    &[&key, &error, &now_ms()],
                )
                .map_err(storage("error"))?;
            if n == 0 {
                return Err(missing("error", &key));
            }
            Ok(())
        })
    }

    fn record_output(&self, key: &str, o: &OutputRecord) -> Result<(), LedgerError> {
        let key = key.to_string();
        let o = o.clone();
        self.call("output", move |c| {
            let path = o.path.to_string_lossy().into_owned();
            c.execute(
                "INSERT INTO outputs (idempotency_key, url, path, size, sha256, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (idempotency_key, url) DO UPDATE SET
                   path = excluded.path, size = excluded.size, sha256 = excluded.sha256,
                   recorded_at = excluded.recorded_at",
                &[&key, &o.url, &path, &(o.size as i64), &o.sha256, &now_ms()],
            )
            .map_err(storage("output"))?;
            Ok(())
        })
    }

    fn record_download_dir(&self, key: &str, dir: &std::path::Path) -> Result<(), LedgerError> {
        let key = key.to_string();
        let dir = dir.to_string_lossy().into_owned();
        self.call("download_dir", move |c| {
            let n = c
                .execute(
                    "UPDATE generations SET download_dir = $2 WHERE idempotency_key = $1",
                    &[&key, &dir],
                )
                .map_err(storage("download_dir"))?;
            if n == 0 {
                return Err(missing("download_dir", &key));
            }
            Ok(())
        })
    }

    fn attach(&self, generation_id: &str, base_url: &str) -> Result<String, LedgerError> {
        let (id, base) = (generation_id.to_string(), base_url.to_string());
        self.call("attach", move |c| {
            let mut tx = c.transaction().map_err(storage("attach"))?;
            let found = tx
                .query_opt(
                    "SELECT idempotency_key FROM generations WHERE generation_id = $1
                     ORDER BY created_at LIMIT 1",
                    &[&id],
                )
                .map_err(storage("attach"))?;
            if let Some(r) = found {
                return Ok(r.get(0));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO generations (idempotency_key, base_url, created_at, updated_at, generation_id, id_at, state, status)
                 VALUES ($1, $2, $3, $3, $1, $3, 'pending', 'created')
                 ON CONFLICT DO NOTHING",
                &[&id, &base, &now],
            )
            .map_err(storage("attach"))?;
            tx.commit().map_err(storage("attach"))?;
            Ok(id)
        })
    }

    fn jobs(&self, filter: JobFilter) -> Result<Vec<JobRecord>, LedgerError> {
        self.call("read", move |c| {
            let sql = match filter {
                JobFilter::All => format!("{SELECT} ORDER BY created_at DESC, seq DESC"),
                JobFilter::Unfinished => format!(
                    "{SELECT} WHERE state IN ('pending', 'ambiguous') ORDER BY created_at DESC, seq DESC"
                ),
            };
            let rows = c.query(sql.as_str(), &[]).map_err(storage("read"))?;
            let mut records: Vec<JobRecord> = rows.iter().map(row_to_record).collect();
            for r in &mut records {
                load_outputs(c, r)?;
            }
            Ok(records)
        })
    }

    fn find(&self, key_or_id: &str) -> Result<Option<JobRecord>, LedgerError> {
        let k = key_or_id.to_string();
        self.call("read", move |c| {
            let sql = format!(
                "{SELECT} WHERE idempotency_key = $1 OR generation_id = $1
                 ORDER BY (idempotency_key = $1) DESC, created_at LIMIT 1"
            );
            let row = c.query_opt(sql.as_str(), &[&k]).map_err(storage("read"))?;
            match row {
                None => Ok(None),
                Some(r) => {
                    let mut record = row_to_record(&r);
                    load_outputs(c, &mut record)?;
                    Ok(Some(record))
                }
            }
        })
    }
}
