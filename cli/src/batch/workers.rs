//! `batch JOBS.jsonl --out DIR --worker` on a PostgreSQL ledger: any
//! number of worker processes, on one machine or many, share one batch.
//!
//! - Every worker inserts the batch's lines into the ledger's work queue
//!   (keyed by batch id and line: inserted once, whoever comes first), and
//!   puts back the lines an earlier round left unfinished (pending,
//!   ambiguous, refused) so that they are planned again.
//! - A worker claims lines only when it has room for them
//!   (`SELECT ... FOR UPDATE SKIP LOCKED`, see
//!   [`PostgresLedger::claim`](skills_video::ledger::PostgresLedger::claim)),
//!   under a lease it renews every third of its length while it lives. A
//!   killed worker's leases run out and its lines are claimed by the others.
//! - A claimed line is planned from the ledger exactly like a re-run
//!   ([`super::plan`]): attached by id if its id was journaled, reported
//!   ambiguous if its intent was journaled without an id (the create may
//!   have been sent: never re-created blindly), created only if never sent.
//!   The intent write is fenced by the claim, so a worker that lost its
//!   lease cannot send a create the new owner does not know about.
//! - A line ends `done` when its job ends for the worker (whatever the
//!   outcome); lines claimed but never started (a stop rule) go back to
//!   the queue. A worker ends when no line of the batch is left unfinished.

use std::collections::HashMap;
use std::time::Duration;

use skills_video::ledger::{Claim, QueueState};
use tokio::task::JoinHandle;

use super::input::BatchFile;
use super::job_key;
use crate::commands::jobs::SharedLedger;

/// Lines claimed at once, at most.
pub const CLAIM_BATCH: usize = 32;

/// One worker's share of a batch.
pub struct Worker {
    ledger: SharedLedger,
    batch_id: String,
    owner: String,
    lease: Duration,
    /// Line → index in the batch file's jobs.
    index: HashMap<u64, usize>,
    /// The claims held, by job index.
    claims: HashMap<usize, Claim>,
    renewer: JoinHandle<()>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .field("claims", &self.claims.len())
            .finish()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

impl Worker {
    /// Joins the batch: its lines are queued (once), unfinished ones put
    /// back, and the lease renewal starts. The ledger must be PostgreSQL.
    pub fn join(
        ledger: SharedLedger,
        batch: &BatchFile,
        lease: Duration,
    ) -> Result<Worker, String> {
        let pg = ledger.postgres().ok_or_else(|| {
            "--worker needs a PostgreSQL ledger shared by the workers: pass --ledger postgres://USER@HOST/DB".to_string()
        })?;
        let lines: Vec<(u64, String)> = batch
            .jobs
            .iter()
            .map(|j| (j.line as u64, job_key(&batch.batch_id, j.line)))
            .collect();
        pg.enqueue_batch(&batch.batch_id, &lines)
            .map_err(|e| e.to_string())?;
        pg.reopen_unfinished(&batch.batch_id)
            .map_err(|e| e.to_string())?;
        let owner = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let renewer = {
            let ledger = ledger.clone();
            let (batch_id, owner) = (batch.batch_id.clone(), owner.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let (l, b, o) = (ledger.clone(), batch_id.clone(), owner.clone());
                    let renewed = tokio::task::spawn_blocking(move || {
                        l.postgres().map(|pg| pg.renew(&b, &o, lease))
                    })
                    .await;
                    if let Ok(Some(Err(e))) = renewed {
                        tracing::warn!(error = %e, "the leases could not be renewed");
                    }
                }
            })
        };
        Ok(Worker {
            ledger,
            batch_id: batch.batch_id.clone(),
            owner,
            lease,
            index: batch
                .jobs
                .iter()
                .enumerate()
                .map(|(i, j)| (j.line as u64, i))
                .collect(),
            claims: HashMap::new(),
            renewer,
        })
    }

    /// This worker's name in the queue (`host-pid-random`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn pg(&self) -> &skills_video::ledger::PostgresLedger {
        self.ledger
            .postgres()
            .expect("a worker's ledger is PostgreSQL")
    }

    /// Claims up to `n` lines; returns their job indexes, in line order.
    pub fn claim(&mut self, n: usize) -> Result<Vec<usize>, String> {
        let n = n.min(CLAIM_BATCH);
        if n == 0 {
            return Ok(Vec::new());
        }
        let claims = self
            .pg()
            .claim(&self.batch_id, &self.owner, n, self.lease)
            .map_err(|e| e.to_string())?;
        let mut idxs = Vec::with_capacity(claims.len());
        for c in claims {
            match self.index.get(&c.line) {
                Some(&idx) => {
                    self.claims.insert(idx, c);
                    idxs.push(idx);
                }
                None => {
                    // Not a line of this file (cannot happen for one batch id).
                    let _ = self.pg().release(&self.batch_id, &self.owner, &c);
                }
            }
        }
        Ok(idxs)
    }

    /// The job ended for this worker: its line is done.
    pub fn done(&mut self, idx: usize) {
        if let Some(c) = self.claims.remove(&idx) {
            match self.pg().complete(&self.batch_id, &self.owner, &c) {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    line = c.line,
                    "the line was taken over by another worker before it ended here"
                ),
                Err(e) => {
                    tracing::warn!(line = c.line, error = %e, "the line could not be marked done")
                }
            }
        }
    }

    /// Gives one claim back to the queue (never started here).
    pub fn release(&mut self, idx: usize) {
        if let Some(c) = self.claims.remove(&idx) {
            if let Err(e) = self.pg().release(&self.batch_id, &self.owner, &c) {
                tracing::warn!(line = c.line, error = %e, "the line could not be released");
            }
        }
    }

    /// Gives every claim still held back to the queue (never started here).
    pub fn release_all(&mut self) {
        for (_, c) in std::mem::take(&mut self.claims) {
            if let Err(e) = self.pg().release(&self.batch_id, &self.owner, &c) {
                tracing::warn!(line = c.line, error = %e, "the line could not be released");
            }
        }
    }

    /// Where the batch's queue stands.
    pub fn state(&self) -> Result<QueueState, String> {
        self.pg()
            .queue_state(&self.batch_id)
            .map_err(|e| e.to_string())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into())
}
