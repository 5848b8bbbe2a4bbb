//! [`SqliteLedger`]: the embedded ledger on SQLite (rusqlite, bundled).
//!
//! - WAL mode and a busy timeout (15 s), so several processes share one file;
//!   every write is `BEGIN IMMEDIATE` (a deferred read-then-write transaction
//!   would get SQLITE_BUSY at once instead of waiting).
//! - Durability: the connection runs `synchronous=NORMAL` (a commit survives
//!   any application crash, SIGKILL included) and switches to
//!   `synchronous=FULL` for the two writes money depends on, the intent and
//!   the id: their COMMIT syncs the WAL (and everything before it) to disk
//!   before it returns, so they also survive power loss. Status, result and
//!   output records can be re-read from the platform or the disk.
//! - Schema: an append-only list of migrations, the version in
//!   `PRAGMA user_version`, applied in one EXCLUSIVE transaction; the file is
//!   marked with `PRAGMA application_id` so that another SQLite database is
//!   refused, never migrated into.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::{
    now_ms, Intent, JobFilter, JobRecord, JobState, Ledger, LedgerError, OutputRecord,
    TerminalRecord,
};

/// `PRAGMA application_id` of a ledger: "SVLG".
pub const APPLICATION_ID: i32 = 0x5356_4c47;

/// Append-only: index + 1 is the schema version. Never edit or reorder an entry.
const MIGRATIONS: &[&str] = &[
    // 1: generations and their downloaded outputs.
    "CREATE TABLE generations (
        idempotency_key TEXT PRIMARY KEY NOT NULL,
        model TEXT,
        request_json TEXT,
        multipart INTEGER NOT NULL DEFAULT 0,
        base_url TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        generation_id TEXT,
        id_at INTEGER,
        state TEXT NOT NULL,
        status TEXT NOT NULL,
        response_json TEXT,
        output_urls TEXT,
        usage_json TEXT,
        error TEXT,
        download_dir TEXT
    );
    CREATE INDEX generations_by_id ON generations(generation_id);
    CREATE INDEX generations_by_state ON generations(state);
    CREATE TABLE outputs (
        idempotency_key TEXT NOT NULL REFERENCES generations(idempotency_key) ON DELETE CASCADE,
        url TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (idempotency_key, url)
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The busy timeout: how long a write waits for another process's.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// The embedded ledger. Cheap to share behind an `Arc`; one connection,
/// serialized by a mutex.
pub struct SqliteLedger {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLedger")
            .field("path", &self.path)
            .finish()
    }
}

fn storage(op: &'static str) -> impl Fn(rusqlite::Error) -> LedgerError {
    move |e| {
        if is_readonly_error(&e) {
            // The path is filled in by `SqliteLedger::write`.
            LedgerError::ReadOnly {
                path: PathBuf::new(),
                detail: e.to_string(),
            }
        } else {
            LedgerError::Storage {
                op,
                detail: e.to_string(),
            }
        }
    }
}

fn is_readonly_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly)
            | Some(rusqlite::ErrorCode::CannotOpen)
            | Some(rusqlite::ErrorCode::PermissionDenied)
    )
}

fn is_not_a_db(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

impl SqliteLedger {
    /// Opens (creating if absent) a ledger for reading and writing. A file
    /// that is not a ledger, or one from a newer schema, is refused with a
    /// typed error and left untouched; a path that cannot be written is
    /// [`LedgerError::ReadOnly`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteLedger, LedgerError> {
        Self::open_inner(path.as_ref(), false)
    }

    /// Opens an existing ledger read-only (for listing); never creates or migrates.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<SqliteLedger, LedgerError> {
        Self::open_inner(path.as_ref(), true)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_inner(path: &Path, read_only: bool) -> Result<SqliteLedger, LedgerError> {
        let path_buf = path.to_path_buf();
        // A non-empty file that does not start with SQLite's magic is refused
        // before SQLite sees it.
        match std::fs::File::open(path) {
            Ok(mut f) => {
                use std::io::Read;
                let mut magic = [0u8; 16];
                let mut n = 0;
                while n < magic.len() {
                    match f.read(&mut magic[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) => {
                            return Err(LedgerError::Storage {
                                op: "open",
                                detail: e.to_string(),
                            })
                        }
                    }
                }
                // Empty: a new ledger. Anything else must be a whole SQLite header.
                if n > 0 && magic[..] != b"SQLite format 3\0"[..] {
                    return Err(LedgerError::NotALedger {
                        path: path_buf,
                        detail: "the file is not an SQLite database".into(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if read_only {
                    return Err(LedgerError::Storage {
                        op: "open",
                        detail: format!("{} does not exist", path.display()),
                    });
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied
                        | std::io::ErrorKind::NotADirectory
                        | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                return Err(LedgerError::ReadOnly {
                    path: path_buf,
                    detail: e.to_string(),
                })
            }
            Err(e) => {
                return Err(LedgerError::Storage {
                    op: "open",
                    detail: e.to_string(),
                })
            }
        }
        let flags = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        // What an error while opening means: not a ledger, a read-only
        // file, or storage trouble.
        let classify = |e: rusqlite::Error| {
            if is_not_a_db(&e) {
                LedgerError::NotALedger {
                    path: path_buf.clone(),
                    detail: e.to_string(),
                }
            } else if is_readonly_error(&e) {
                LedgerError::ReadOnly {
                    path: path_buf.clone(),
                    detail: e.to_string(),
                }
            } else {
                LedgerError::Storage {
                    op: "open",
                    detail: e.to_string(),
                }
            }
        };
        let conn = Connection::open_with_flags(path, flags).map_err(classify)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(storage("open"))?;
        // Identify before writing anything.
        let (app_id, version, objects) = retry_busy(|| identify(&conn)).map_err(classify)?;
        if app_id != APPLICATION_ID && !(app_id == 0 && version == 0 && objects == 0) {
            return Err(LedgerError::NotALedger {
                path: path_buf,
                detail: format!(
                    "an SQLite database with application_id {app_id:#x}, user_version {version} and {objects} schema object(s)"
                ),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(LedgerError::FutureSchema {
                path: path_buf,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if read_only {
            if version < SCHEMA_VERSION {
                return Err(LedgerError::Storage {
                    op: "open",
                    detail: format!(
                        "{} is an empty or older ledger (version {version}); open it read-write once to migrate it",
                        path.display()
                    ),
                });
            }
        } else {
            if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
                return Err(LedgerError::ReadOnly {
                    path: path_buf,
                    detail: "the file is read-only".into(),
                });
            }
            // Switching a fresh file to WAL while another process creates the
            // same ledger can answer SQLITE_BUSY without waiting on the busy
            // handler: retry it (and the migration) until the busy timeout.
            let mode: String =
                retry_busy(|| conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)))
                    .map_err(classify)?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(path = %path.display(), mode, "the ledger could not switch to WAL mode");
            }
            conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
                .map_err(classify)?;
            #[cfg(target_os = "macos")]
            conn.execute_batch("PRAGMA fullfsync=ON;")
                .map_err(classify)?;
            retry_busy_migrate(|| migrate(&conn, &path_buf)).map_err(|e| match e {
                MigrateError::Sql(e) => classify(e),
                MigrateError::Ledger(e) => e,
            })?;
        }
        Ok(SqliteLedger {
            conn: Mutex::new(conn),
            path: path_buf,
        })
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// One `BEGIN IMMEDIATE` write; `durable` commits under `synchronous=FULL`.
    fn write<T>(
        &self,
        op: &'static str,
        durable: bool,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let path = self.path.clone();
        let classify = move |e: rusqlite::Error| {
            if is_readonly_error(&e) {
                LedgerError::ReadOnly {
                    path: path.clone(),
                    detail: e.to_string(),
                }
            } else {
                LedgerError::Storage {
                    op,
                    detail: e.to_string(),
                }
            }
        };
        self.with_conn(|conn| {
            if durable {
                conn.execute_batch("PRAGMA synchronous=FULL")
                    .map_err(&classify)?;
            }
            let result = (|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(&classify)?;
                let value = f(&tx)?;
                tx.commit().map_err(&classify)?;
                Ok(value)
            })();
            if durable {
                let _ = conn.execute_batch("PRAGMA synchronous=NORMAL");
            }
            result.map_err(|e| match e {
                LedgerError::ReadOnly { path, detail } if path.as_os_str().is_empty() => {
                    LedgerError::ReadOnly {
                        path: self.path.clone(),
                        detail,
                    }
                }
                other => other,
            })
        })
    }
}

/// The file's application id, schema version and object count, read in one
/// statement (one snapshot): read separately, another process's migration
/// could commit in between and show tables without their version.
fn identify(conn: &Connection) -> rusqlite::Result<(i32, i64, i64)> {
    conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()), \
                (SELECT user_version FROM pragma_user_version()), \
                (SELECT count(*) FROM sqlite_master)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

enum MigrateError {
    Sql(rusqlite::Error),
    Ledger(LedgerError),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sql(e)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs `f` again while SQLite answers busy/locked, for up to the busy timeout.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let started = std::time::Instant::now();
    loop {
        match f() {
            Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// [`retry_busy`] for the migration, whose errors may also be the ledger's own.
fn retry_busy_migrate(mut f: impl FnMut() -> Result<(), MigrateError>) -> Result<(), MigrateError> {
    let started = std::time::Instant::now();
    loop {
        match f() {
            Err(MigrateError::Sql(e)) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), MigrateError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN EXCLUSIVE")?;
    let result = (|| -> Result<(), MigrateError> {
        // Re-read inside the lock: another process may have migrated meanwhile.
        let (app_id, version, objects) = identify(conn)?;
        if app_id != APPLICATION_ID && !(app_id == 0 && version == 0 && objects == 0) {
            return Err(MigrateError::Ledger(LedgerError::NotALedger {
                path: path.to_path_buf(),
                detail: format!("an SQLite database with application_id {app_id:#x}"),
            }));
        }
        if version > SCHEMA_VERSION {
            return Err(MigrateError::Ledger(LedgerError::FutureSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            }));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(sql)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

const SELECT: &str =
    "SELECT idempotency_key, model, request_json, multipart, base_url, created_at, updated_at,
    generation_id, state, status, response_json, output_urls, usage_json, error, download_dir FROM generations";

fn parse_json(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let state: String = r.get(8)?;
    let urls: Option<String> = r.get(11)?;
    Ok(JobRecord {
        idempotency_key: r.get(0)?,
        model: r.get(1)?,
        request: parse_json(r.get(2)?),
        multipart: r.get::<_, i64>(3)? != 0,
        base_url: r.get(4)?,
        created_at_ms: r.get(5)?,
        updated_at_ms: r.get(6)?,
        generation_id: r.get(7)?,
        state: JobState::parse(&state).unwrap_or(JobState::Pending),
        status: r.get(9)?,
        response: parse_json(r.get(10)?),
        output_urls: urls
            .and_then(|u| serde_json::from_str(&u).ok())
            .unwrap_or_default(),
        usage: parse_json(r.get(12)?),
        error: r.get(13)?,
        download_dir: r.get::<_, Option<String>>(14)?.map(PathBuf::from),
        outputs: Vec::new(),
    })
}

fn load_outputs(conn: &Connection, record: &mut JobRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT url, path, size, sha256 FROM outputs WHERE idempotency_key = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([&record.idempotency_key], |r| {
        Ok(OutputRecord {
            url: r.get(0)?,
            path: PathBuf::from(r.get::<_, String>(1)?),
            size: r.get::<_, i64>(2)? as u64,
            sha256: r.get(3)?,
        })
    })?;
    record.outputs = rows.collect::<rusqlite::Result<_>>()?;
    Ok(())
}

fn require_row(changed: usize, exists: bool, key: &str) -> Result<(), LedgerError> {
    if changed == 0 && !exists {
        return Err(LedgerError::Storage {
            op: "update",
            detail: format!("no generation with idempotency key {key} in the ledger"),
        });
    }
    Ok(())
}

fn exists(tx: &rusqlite::Transaction<'_>, key: &str) -> Result<bool, LedgerError> {
    tx.query_row(
        "SELECT 1 FROM generations WHERE idempotency_key = ?1",
        [key],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
    .map_err(storage("read"))
}

impl Ledger for SqliteLedger {
    fn record_intent(&self, intent: &Intent) -> Result<(), LedgerError> {
        let request = intent.request.to_string();
        self.write("intent", true, |tx| {
            tx.execute(
                "INSERT INTO generations (idempotency_key, model, request_json, multipart, base_url, created_at, updated_at, state, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'pending', 'intent')
                 ON CONFLICT(idempotency_key) DO UPDATE SET
                   state = CASE WHEN state = 'terminal' THEN state ELSE 'pending' END,
                   updated_at = excluded.updated_at",
                params![
                    intent.idempotency_key,
                    intent.model,
                    request,
                    intent.multipart as i64,
                    intent.base_url,
                    intent.created_at_ms
                ],
            )
            .map_err(storage("intent"))?;
            Ok(())
        })
    }

    fn record_id(&self, key: &str, generation_id: &str) -> Result<String, LedgerError> {
        self.write("id", true, |tx| {
            tx.execute(
                "UPDATE generations SET generation_id = ?2, id_at = ?3, updated_at = ?3,
                   status = CASE WHEN status = 'intent' THEN 'created' ELSE status END,
                   state = CASE WHEN state = 'ambiguous' THEN 'pending' ELSE state END
                 WHERE idempotency_key = ?1 AND generation_id IS NULL",
                params![key, generation_id, now_ms()],
            )
            .map_err(storage("id"))?;
            let kept: Option<Option<String>> = tx
                .query_row(
                    "SELECT generation_id FROM generations WHERE idempotency_key = ?1",
                    [key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(storage("id"))?;
            match kept {
                Some(Some(id)) => Ok(id),
                _ => Err(LedgerError::Storage {
                    op: "id",
                    detail: format!("no generation with idempotency key {key} in the ledger"),
                }),
            }
        })
    }

    fn record_status(&self, key: &str, status: &str) -> Result<(), LedgerError> {
        self.write("status", false, |tx| {
            let n = tx
                .execute(
                    "UPDATE generations SET status = ?2, updated_at = ?3
                     WHERE idempotency_key = ?1 AND status <> ?2 AND state <> 'terminal'",
                    params![key, status, now_ms()],
                )
                .map_err(storage("status"))?;
            require_row(n, n > 0 || exists(tx, key)?, key)
        })
    }

    fn record_terminal(&self, key: &str, t: &TerminalRecord) -> Result<(), LedgerError> {
        let response = t.response.to_string();
        let urls = serde_json::to_string(&t.output_urls).unwrap_or_else(|_| "[]".into());
        let usage = t.usage.as_ref().map(|u| u.to_string());
        self.write("terminal", false, |tx| {
            let n = tx
                .execute(
                    "UPDATE generations SET state = 'terminal', status = ?2, response_json = ?3,
                       output_urls = ?4, usage_json = ?5, error = NULL, updated_at = ?6
                     WHERE idempotency_key = ?1",
                    params![key, t.status, response, urls, usage, now_ms()],
                )
                .map_err(storage("terminal"))?;
            require_row(n, false, key)
        })
    }

    fn record_state(
        &self,
        key: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        self.write("state", false, |tx| {
            let n = tx
                .execute(
                    "UPDATE generations SET state = ?2, error = ?3, updated_at = ?4
                     WHERE idempotency_key = ?1 AND state <> 'terminal'",
                    params![key, state.as_str(), error, now_ms()],
                )
                .map_err(storage("state"))?;
            require_row(n, n > 0 || exists(tx, key)?, key)
        })
    }

    fn record_error(&self, key: &str, error: &str) -> Result<(), LedgerError> {
        self.write("error", false, |tx| {
            let n = tx
                .execute(
                    "UPDATE generations SET error = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
                    params![key, error, now_ms()],
                )
                .map_err(storage("error"))?;
            require_row(n, false, key)
        })
    }

    fn record_output(&self, key: &str, o: &OutputRecord) -> Result<(), LedgerError> {
        let path = o.path.to_string_lossy().into_owned();
        self.write("output", false, |tx| {
            tx.execute(
                "INSERT INTO outputs (idempotency_key, url, path, size, sha256, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(idempotency_key, url) DO UPDATE SET
                   path = excluded.path, size = excluded.size, sha256 = excluded.sha256,
                   recorded_at = excluded.recorded_at",
                params![key, o.url, path, o.size as i64, o.sha256, now_ms()],
            )
            .map_err(storage("output"))?;
            Ok(())
        })
    }

    fn record_download_dir(&self, key: &str, dir: &Path) -> Result<(), LedgerError> {
        let dir = dir.to_string_lossy().into_owned();
        self.write("download_dir", false, |tx| {
            let n = tx
                .execute(
                    "UPDATE generations SET download_dir = ?2 WHERE idempotency_key = ?1",
                    params![key, dir],
                )
                .map_err(storage("download_dir"))?;
            require_row(n, false, key)
        })
    }

    fn attach(&self, generation_id: &str, base_url: &str) -> Result<String, LedgerError> {
        self.write("attach", true, |tx| {
            let found: Option<String> = tx
                .query_row(
                    "SELECT idempotency_key FROM generations WHERE generation_id = ?1
                     ORDER BY created_at LIMIT 1",
                    [generation_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(storage("attach"))?;
            if let Some(key) = found {
                return Ok(key);
            }
            let now = now_ms();
            tx.execute(
                "INSERT OR IGNORE INTO generations (idempotency_key, base_url, created_at, updated_at, generation_id, id_at, state, status)
                 VALUES (?1, ?2, ?3, ?3, ?1, ?3, 'pending', 'created')",
                params![generation_id, base_url, now],
            )
            .map_err(storage("attach"))?;
            Ok(generation_id.to_string())
        })
    }

    fn jobs(&self, filter: JobFilter) -> Result<Vec<JobRecord>, LedgerError> {
        self.with_conn(|conn| {
            let sql = match filter {
                JobFilter::All => format!("{SELECT} ORDER BY created_at DESC, rowid DESC"),
                JobFilter::Unfinished => format!(
                    "{SELECT} WHERE state IN ('pending', 'ambiguous') ORDER BY created_at DESC, rowid DESC"
                ),
            };
            let mut stmt = conn.prepare_cached(&sql).map_err(storage("read"))?;
            let mut records = stmt
                .query_map([], row_to_record)
                .map_err(storage("read"))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(storage("read"))?;
            drop(stmt);
            for r in &mut records {
                load_outputs(conn, r).map_err(storage("read"))?;
            }
            Ok(records)
        })
    }

    fn find(&self, key_or_id: &str) -> Result<Option<JobRecord>, LedgerError> {
        self.with_conn(|conn| {
            let sql = format!(
                "{SELECT} WHERE idempotency_key = ?1 OR generation_id = ?1
                 ORDER BY (idempotency_key = ?1) DESC, created_at LIMIT 1"
            );
            let record = conn
                .query_row(&sql, [key_or_id], row_to_record)
                .optional()
                .map_err(storage("read"))?;
            match record {
                None => Ok(None),
                Some(mut r) => {
                    load_outputs(conn, &mut r).map_err(storage("read"))?;
                    Ok(Some(r))
                }
            }
        })
    }
}
