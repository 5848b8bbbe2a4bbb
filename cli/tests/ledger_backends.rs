//! The `Ledger` contract, one scenario run on both backends: the embedded
//! SQLite ledger and the PostgreSQL one (a throwaway cluster this test starts
//! and stops, see `common/pg.rs`). Every money or data rule a journal keeps
//! is checked through the trait alone, so a rule one backend's SQL drops is
//! caught even when the other keeps it:
//!
//! - the intent is a `pending` row before any id; writing it again keeps
//!   one row and never reopens a terminal job;
//! - the first id wins, and an ambiguous job becomes pending when its id
//!   arrives;
//! - nothing moves a terminal job back (status, state or intent);
//! - each write to an unknown key is an error, never a silent no-op
//!   (a lost write is a lost job);
//! - `find` takes a key or an id, and prefers the key; `jobs(Unfinished)`
//!   lists pending and ambiguous jobs only, newest first;
//! - an output recorded twice for one URL is one output, the later one;
//! - `attach` of a known id gives its job's key, of a new id a pending job
//!   keyed by the id.
//!
//! Mutations tried (each restored after), each failing this test on the
//! backend it was made in (`sdk/src/ledger`):
//! - `record_status`'s unknown-key guard: `!exists` → `exists` in
//!   `postgres.rs`, `n > 0 || exists(..)` → `true` in `sqlite.rs`;
//! - `record_terminal` made a no-op in `postgres.rs`;
//! - `attach` of a known id returning the id instead of its job's key, in
//!   both files;
//! - `state <> 'terminal'` dropped from `record_status` in `postgres.rs`;
//! - the `outputs` table's `REFERENCES generations` dropped from the
//!   PostgreSQL schema (an output of no job is then recorded).
//!
//! Not a mutation this test can see: `PRAGMA foreign_keys=ON` dropped in
//! `sqlite.rs` still refuses an output of no job, because the bundled
//! SQLite is built with `SQLITE_DEFAULT_FOREIGN_KEYS=1`.

mod common;

use std::path::PathBuf;

use common::pg::Pg;
use serde_json::json;
use skills_video::ledger::{
    Intent, JobFilter, JobState, Ledger, LedgerError, OutputRecord, PostgresLedger, SqliteLedger,
    TerminalRecord,
};

const BASE: &str = "http://127.0.0.1:9/api/v1";

fn intent(key: &str, created_at_ms: i64) -> Intent {
    Intent {
        idempotency_key: key.to_string(),
        model: "google/nano-banana-pro".to_string(),
        request: json!({"prompt": format!("job {key}")}),
        multipart: false,
        base_url: BASE.to_string(),
        created_at_ms,
    }
}

fn state_of(ledger: &dyn Ledger, key: &str) -> (JobState, String, Option<String>) {
    let r = ledger
        .find(key)
        .expect("the ledger reads")
        .unwrap_or_else(|| panic!("no job {key}"));
    (r.state, r.status, r.generation_id)
}

fn is_missing(result: Result<(), LedgerError>, what: &str) {
    match result {
        Err(LedgerError::Storage { detail, .. }) => {
            assert!(detail.contains("no-such-key"), "{what}: {detail}")
        }
        other => panic!("{what} on an unknown key must fail, got {other:?}"),
    }
}

/// The scenario; `backend` names the ledger in failure messages.
fn keeps_the_contract(ledger: &dyn Ledger, backend: &str) {
    let t0 = 1_700_000_000_000;
    // The intent: pending, no id, status `intent`; written again, one row.
    ledger.record_intent(&intent("key-a", t0)).unwrap();
    ledger.record_intent(&intent("key-a", t0)).unwrap();
    assert_eq!(
        state_of(ledger, "key-a"),
        (JobState::Pending, "intent".into(), None),
        "{backend}"
    );
    let a = ledger.find("key-a").unwrap().unwrap();
    assert_eq!(a.model.as_deref(), Some("google/nano-banana-pro"));
    assert_eq!(a.request, Some(json!({"prompt": "job key-a"})));
    assert_eq!(a.base_url, BASE);
    assert_eq!(a.created_at_ms, t0);

    // The first id wins; the status moves from `intent` to `created`.
    assert_eq!(ledger.record_id("key-a", "gen-1").unwrap(), "gen-1");
    assert_eq!(ledger.record_id("key-a", "gen-2").unwrap(), "gen-1");
    assert_eq!(
        state_of(ledger, "key-a"),
        (JobState::Pending, "created".into(), Some("gen-1".into())),
        "{backend}"
    );
    ledger.record_status("key-a", "IN_PROGRESS").unwrap();
    assert_eq!(state_of(ledger, "key-a").1, "IN_PROGRESS", "{backend}");

    // Terminal: nothing moves it back.
    let terminal = TerminalRecord {
        status: "COMPLETED".into(),
        response: json!({"id": "gen-1", "status": "COMPLETED"}),
        output_urls: vec!["https://cdn.example/a.png".into()],
        usage: Some(json!({"credits": 2})),
    };
    ledger
        .record_error("key-a", "a transient poll failure")
        .unwrap();
    ledger.record_terminal("key-a", &terminal).unwrap();
    ledger.record_status("key-a", "IN_QUEUE").unwrap();
    ledger
        .record_state("key-a", JobState::Ambiguous, Some("late"))
        .unwrap();
    ledger.record_intent(&intent("key-a", t0)).unwrap();
    let a = ledger.find("key-a").unwrap().unwrap();
    assert_eq!(a.state, JobState::Terminal, "{backend}: terminal reopened");
    assert_eq!(a.status, "COMPLETED", "{backend}: terminal status moved");
    assert_eq!(a.output_urls, terminal.output_urls);
    assert_eq!(a.usage, terminal.usage);
    assert_eq!(a.response, Some(terminal.response.clone()));
    assert_eq!(a.error, None, "{backend}: the terminal clears the error");

    // Ambiguous (no id), then the id arrives: pending again, with its id.
    ledger.record_intent(&intent("key-b", t0 + 1)).unwrap();
    ledger
        .record_state("key-b", JobState::Ambiguous, Some("dropped before the id"))
        .unwrap();
    let b = ledger.find("key-b").unwrap().unwrap();
    assert_eq!(b.state, JobState::Ambiguous, "{backend}");
    assert_eq!(b.error.as_deref(), Some("dropped before the id"));
    assert_eq!(ledger.record_id("key-b", "gen-b").unwrap(), "gen-b");
    assert_eq!(state_of(ledger, "key-b").0, JobState::Pending, "{backend}");

    // Rejected: not unfinished.
    ledger.record_intent(&intent("key-c", t0 + 2)).unwrap();
    ledger
        .record_state("key-c", JobState::Rejected, Some("HTTP 422"))
        .unwrap();
    ledger.record_intent(&intent("key-d", t0 + 3)).unwrap();
    ledger
        .record_state("key-d", JobState::Ambiguous, None)
        .unwrap();
    let unfinished: Vec<String> = ledger
        .jobs(JobFilter::Unfinished)
        .unwrap()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(unfinished, ["key-d", "key-b"], "{backend}: newest first");
    let all: Vec<String> = ledger
        .jobs(JobFilter::All)
        .unwrap()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(all, ["key-d", "key-c", "key-b", "key-a"], "{backend}");

    // Every write to an unknown key fails.
    assert!(matches!(
        ledger.record_id("no-such-key", "gen-x"),
        Err(LedgerError::Storage { .. })
    ));
    is_missing(ledger.record_status("no-such-key", "IN_QUEUE"), "status");
    is_missing(ledger.record_terminal("no-such-key", &terminal), "terminal");
    is_missing(
        ledger.record_state("no-such-key", JobState::Rejected, None),
        "state",
    );
    is_missing(ledger.record_error("no-such-key", "x"), "error");
    is_missing(
        ledger.record_download_dir("no-such-key", &PathBuf::from("/tmp/out")),
        "download_dir",
    );
    let orphan = OutputRecord {
        url: "https://cdn.example/x.png".into(),
        path: PathBuf::from("/out/x.png"),
        size: 1,
        sha256: "00".into(),
    };
    assert!(
        matches!(
            ledger.record_output("no-such-key", &orphan),
            Err(LedgerError::Storage { .. })
        ),
        "{backend}: an output of no job was recorded"
    );
    assert_eq!(ledger.find("no-such-key").unwrap(), None);

    // `find` by id; an output recorded twice is one output, the later.
    assert_eq!(
        ledger.find("gen-b").unwrap().unwrap().idempotency_key,
        "key-b"
    );
    let output = |sha: &str| OutputRecord {
        url: "https://cdn.example/a.png".into(),
        path: PathBuf::from("/out/a.png"),
        size: 3,
        sha256: sha.into(),
    };
    ledger.record_output("key-a", &output("11")).unwrap();
    ledger.record_output("key-a", &output("22")).unwrap();
    ledger
        .record_download_dir("key-a", &PathBuf::from("/out"))
        .unwrap();
    let a = ledger.find("gen-1").unwrap().unwrap();
    assert_eq!(a.outputs, vec![output("22")], "{backend}");
    assert_eq!(a.download_dir, Some(PathBuf::from("/out")));

    // `attach`: a known id gives its job's key; a new id, a pending job.
    assert_eq!(ledger.attach("gen-1", BASE).unwrap(), "key-a");
    assert_eq!(ledger.attach("gen-new", BASE).unwrap(), "gen-new");
    assert_eq!(ledger.attach("gen-new", BASE).unwrap(), "gen-new");
    let attached = ledger.find("gen-new").unwrap().unwrap();
    assert_eq!(
        (
            attached.state,
            attached.status.as_str(),
            attached.generation_id.as_deref(),
            attached.model,
            attached.base_url.as_str()
        ),
        (JobState::Pending, "created", Some("gen-new"), None, BASE),
        "{backend}"
    );
    assert_eq!(ledger.jobs(JobFilter::All).unwrap().len(), 5, "{backend}");
}

#[test]
fn sqlite_keeps_the_ledger_contract() {
    let dir = tempfile::Builder::new()
        .prefix("sv-ledger-")
        .tempdir_in(common::scratch_root())
        .unwrap();
    let ledger = SqliteLedger::open(dir.path().join("ledger.sqlite")).unwrap();
    keeps_the_contract(&ledger, "sqlite");
}

#[test]
fn postgres_keeps_the_ledger_contract() {
    let pg = Pg::start();
    let url = pg.create_db("contract");
    let ledger = PostgresLedger::connect(&url).unwrap();
    keeps_the_contract(&ledger, "postgres");
}
