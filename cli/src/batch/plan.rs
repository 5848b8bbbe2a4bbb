//! What the ledger already knows of each line, so that a re-run of the same
//! file continues where the last one stopped and never creates a job twice.
//!
//! A line's idempotency key is derived from the batch id and the line
//! number ([`super::job_key`]); the ledger row under that key says:
//! - none, or `rejected` (the platform refused the create, nothing was
//!   charged): create it (with the same key);
//! - `pending` (or `ambiguous`) with an id: re-attach it by id (poll, no
//!   create), with or without `--retry-ambiguous`;
//! - `pending` without an id, or `ambiguous`: the create may have been
//!   accepted but no id was recorded: reported, never re-created, unless
//!   `--retry-ambiguous` re-sends it with the same key;
//! - `terminal`: finished; a successful one whose outputs are missing,
//!   corrupt or never downloaded gets them downloaded again (no create).

use skills_video::ledger::{check_outputs, JobRecord, JobState, Ledger, LedgerError};

/// What to do with one line.
#[derive(Debug)]
pub enum Plan {
    /// Never accepted: create it (`resent`: an ambiguous one re-sent with its key).
    Create {
        /// Whether this re-sends a create that may have been accepted.
        resent: bool,
    },
    /// Created earlier with this id: poll it.
    Attach {
        /// The generation id.
        id: String,
    },
    /// Finished earlier; nothing to do.
    Finished(Box<JobRecord>),
    /// Finished earlier with outputs to download (again).
    Repair {
        /// The record.
        record: Box<JobRecord>,
        /// The output URLs to download.
        urls: Vec<String>,
    },
    /// The create may have been accepted but no id is known.
    Ambiguous(Box<JobRecord>),
}

/// The plan of the job under `key`.
pub fn plan(
    ledger: Option<&dyn Ledger>,
    key: &str,
    retry_ambiguous: bool,
) -> Result<Plan, LedgerError> {
    let Some(ledger) = ledger else {
        return Ok(Plan::Create { resent: false });
    };
    let Some(record) = ledger.find(key)? else {
        return Ok(Plan::Create { resent: false });
    };
    Ok(match (record.state, record.generation_id.clone()) {
        (JobState::Rejected, _) => Plan::Create { resent: false },
        // A known id is polled, never re-sent, whatever the state says
        // (as `Client::resume` does): re-sending could charge twice.
        (JobState::Pending | JobState::Ambiguous, Some(id)) => Plan::Attach { id },
        (JobState::Pending | JobState::Ambiguous, _) if retry_ambiguous => {
            Plan::Create { resent: true }
        }
        (JobState::Pending | JobState::Ambiguous, _) => Plan::Ambiguous(Box::new(record)),
        (JobState::Terminal, _) => {
            let mut urls: Vec<String> = check_outputs(&record, true)
                .into_iter()
                .map(|p| p.url)
                .collect();
            urls.dedup();
            if urls.is_empty() {
                Plan::Finished(Box::new(record))
            } else {
                Plan::Repair {
                    record: Box::new(record),
                    urls,
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills_video::ledger::{Intent, SqliteLedger, TerminalRecord};

    #[test]
    fn each_ledger_state_has_its_plan() {
        let dir = tempfile::tempdir().unwrap();
        let l = SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap();
        let intent = |key: &str| Intent {
            idempotency_key: key.into(),
            model: "google/nano-banana-pro".into(),
            request: serde_json::json!({"prompt": "a"}),
            multipart: false,
            base_url: "http://127.0.0.1:1/api/v1".into(),
            created_at_ms: 1,
        };
        for k in ["a", "b", "c", "d", "e", "f"] {
            l.record_intent(&intent(k)).unwrap();
        }
        l.record_id("b", "gen-b").unwrap();
        l.record_state("c", JobState::Rejected, Some("402"))
            .unwrap();
        l.record_id("d", "gen-d").unwrap();
        l.record_terminal(
            "d",
            &TerminalRecord {
                status: "FAILED".into(),
                response: serde_json::json!({}),
                output_urls: vec![],
                usage: None,
            },
        )
        .unwrap();
        l.record_id("e", "gen-e").unwrap();
        l.record_terminal(
            "e",
            &TerminalRecord {
                status: "COMPLETED".into(),
                response: serde_json::json!({}),
                output_urls: vec!["http://127.0.0.1:1/f.png".into()],
                usage: None,
            },
        )
        .unwrap();
        // An ambiguous row that has an id (written by another version, or
        // by hand): the id is polled, never re-sent.
        l.record_id("f", "gen-f").unwrap();
        l.record_state("f", JobState::Ambiguous, Some("by hand"))
            .unwrap();
        let p = |k: &str, retry: bool| plan(Some(&l), k, retry).unwrap();
        assert!(matches!(p("a", false), Plan::Ambiguous(_)));
        assert!(matches!(p("a", true), Plan::Create { resent: true }));
        // A job with an id is never re-sent, even with `--retry-ambiguous`
        // (mutations: the `Ambiguous` alternative dropped from the attach
        // arm, or the arms' order swapped: both re-send).
        for retry in [false, true] {
            assert!(matches!(p("b", retry), Plan::Attach { id } if id == "gen-b"));
            assert!(matches!(p("f", retry), Plan::Attach { id } if id == "gen-f"));
        }
        assert!(matches!(p("c", false), Plan::Create { resent: false }));
        assert!(matches!(p("d", false), Plan::Finished(_)));
        assert!(matches!(p("e", false), Plan::Repair { urls, .. } if urls.len() == 1));
        assert!(matches!(p("new", false), Plan::Create { resent: false }));
        assert!(matches!(
            plan(None, "a", false).unwrap(),
            Plan::Create { .. }
        ));
    }
}
