//! `skills-video batch JOBS.jsonl --out DIR`: thousands of jobs from one
//! file, within the platform's limits, in bounded memory, across crashes.
//!
//! One concept per file:
//! - [`input`]: the JSON Lines file, every line checked (JSON, model,
//!   input by the same typed rules as `generate`, line length) before
//!   anything is sent; the batch id (path + content hash).
//! - [`plan`]: what the ledger already knows of each line (finished,
//!   waiting on an id, ambiguous, never sent), so that a re-run continues
//!   and never creates a job twice.
//! - [`ratelimit`]: the one rate limiter every create and poll passes; a
//!   429 pauses the whole batch.
//! - [`scheduler`]: the one poll scheduler of the jobs created without a
//!   stream (due times in a heap, intervals growing with a job's age).
//! - [`runner`]: the coordinator: creates under `--concurrency` and
//!   `--max-streams`, the stop rules (402, auth), downloads.
//! - [`files`]: outputs saved under the job's name, never overwriting.
//! - [`results`]: `DIR/results.jsonl` and the summary.
//! - [`progress`]: the multi-line progress view, or one JSON line per job event.
//! - [`workers`]: `--worker` on a PostgreSQL ledger: many processes share
//!   one batch (claims under leases, taken over when a worker dies).

pub mod files;
pub mod input;
pub mod plan;
pub mod progress;
pub mod ratelimit;
pub mod results;
pub mod runner;
pub mod scheduler;
pub mod workers;

/// The idempotency key of the job on `line` of the batch `batch_id`: the
/// same on every run of the same file, so a re-run finds its jobs in the
/// ledger (and the platform deduplicates a re-sent create).
pub fn job_key(batch_id: &str, line: usize) -> String {
    let short = &batch_id[..batch_id.len().min(24)];
    format!("batch-{short}-L{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(job_key(id, 7), "batch-0123456789abcdef01234567-L7");
        assert_ne!(job_key(id, 1), job_key(id, 11));
        assert_eq!(job_key("ab", 1), "batch-ab-L1");
    }
}
