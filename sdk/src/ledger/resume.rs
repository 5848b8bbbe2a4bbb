//! `Client::resume`: re-attach every unfinished generation of the ledger.

use futures::{Stream, StreamExt};

use super::{sha256_file, JobFilter, JobRecord, JobState, OutputRecord};
use crate::client::Client;
use crate::error::Error;
use crate::generation::Generation;
use crate::lifecycle::GenerateOptions;

/// What [`Client::resume_with`] does.
#[derive(Debug, Clone, Default)]
pub struct ResumeOptions {
    /// Re-send a generation whose create may have been accepted but whose id
    /// never arrived, with the SAME idempotency key (safe only where the
    /// platform deduplicates by key, as the simulator does). Off by default:
    /// such a generation is reported as [`ResumeOutcome::Ambiguous`].
    pub retry_ambiguous: bool,
    /// Also report completed generations with output URLs that have no
    /// download recorded (for callers, like the CLI, that download every output).
    pub expect_downloads: bool,
    /// How many generations are polled at once (default 4).
    pub concurrency: usize,
}

/// Why a recorded output needs attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputProblem {
    /// The output URL.
    pub url: String,
    /// The recorded download, if there was one.
    pub recorded: Option<OutputRecord>,
    /// `missing`, `size mismatch`, `sha256 mismatch`, `not downloaded`, or an I/O error.
    pub reason: String,
}

/// What resuming one generation came to.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResumeOutcome {
    /// Polled (or re-sent) to a successful terminal result.
    Completed {
        /// The ledger's record before resuming.
        record: Box<JobRecord>,
        /// The result.
        generation: Generation,
        /// Whether it was re-sent with its idempotency key.
        resent: bool,
    },
    /// Polling (or the re-send) ended in an error: FAILED/CANCELED, a poll
    /// budget, a refusal.
    Failed {
        /// The ledger's record before resuming.
        record: Box<JobRecord>,
        /// What happened.
        error: Error,
        /// Whether it was re-sent with its idempotency key.
        resent: bool,
    },
    /// An intent without an id: the create may or may not have been
    /// accepted. Not re-created (see [`ResumeOptions::retry_ambiguous`]).
    Ambiguous {
        /// The record; `record.idempotency_key` is the key to re-send with.
        record: Box<JobRecord>,
    },
    /// A finished generation whose recorded outputs are missing or corrupt.
    OutputsNeedRepair {
        /// The record.
        record: Box<JobRecord>,
        /// One entry per bad output.
        problems: Vec<OutputProblem>,
    },
}

impl ResumeOutcome {
    /// The ledger record the outcome is about.
    pub fn record(&self) -> &JobRecord {
        match self {
            ResumeOutcome::Completed { record, .. }
            | ResumeOutcome::Failed { record, .. }
            | ResumeOutcome::Ambiguous { record }
            | ResumeOutcome::OutputsNeedRepair { record, .. } => record,
        }
    }
}

/// Checks a finished generation's recorded outputs against the disk.
pub fn check_outputs(record: &JobRecord, expect_downloads: bool) -> Vec<OutputProblem> {
    let mut problems = Vec::new();
    for o in &record.outputs {
        let reason = match sha256_file(&o.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("missing".to_string()),
            Err(e) => Some(format!("unreadable: {e}")),
            Ok((size, _)) if size != o.size => Some("size mismatch".to_string()),
            Ok((_, sha)) if sha != o.sha256 => Some("sha256 mismatch".to_string()),
            Ok(_) => None,
        };
        if let Some(reason) = reason {
            problems.push(OutputProblem {
                url: o.url.clone(),
                recorded: Some(o.clone()),
                reason,
            });
        }
    }
    if (expect_downloads || record.download_dir.is_some())
        && !matches!(record.status.as_str(), "FAILED" | "CANCELED" | "CANCELLED")
    {
        for url in &record.output_urls {
            let http = url.starts_with("http://") || url.starts_with("https://");
            if http && !record.outputs.iter().any(|o| &o.url == url) {
                problems.push(OutputProblem {
                    url: url.clone(),
                    recorded: None,
                    reason: "not downloaded".into(),
                });
            }
        }
    }
    problems
}

fn same_base(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Client {
    /// [`resume_with`](Self::resume_with) with the defaults: ambiguous
    /// generations are reported, never re-sent.
    pub fn resume(&self) -> impl Stream<Item = Result<ResumeOutcome, Error>> + Send + 'static {
        self.resume_with(ResumeOptions::default())
    }

    /// Re-attaches every unfinished generation of the client's ledger (those
    /// created against this client's base URL): one with an id is polled to a
    /// terminal result (no create is sent); one without is reported as
    /// ambiguous, or re-sent with its own idempotency key when
    /// `retry_ambiguous` is set. Finished generations whose recorded outputs
    /// are missing or fail their SHA-256 are reported (downloading again is
    /// the caller's). Without a ledger the stream is one [`Error::Ledger`].
    pub fn resume_with(
        &self,
        options: ResumeOptions,
    ) -> impl Stream<Item = Result<ResumeOutcome, Error>> + Send + 'static {
        let client = self.clone();
        async_stream::stream! {
            let Some(ledger) = client.inner.ledger.clone() else {
                yield Err(Error::Ledger { message: "this client has no ledger (ClientBuilder::ledger)".into() });
                return;
            };
            let jobs = match ledger.jobs(JobFilter::All) {
                Ok(j) => j,
                Err(e) => {
                    yield Err(Error::Ledger { message: e.to_string() });
                    return;
                }
            };
            let base = client.base_url().to_string();
            let mut work = Vec::new();
            for job in jobs.into_iter().rev() {
                if !same_base(&job.base_url, &base) {
                    continue;
                }
                if job.state == JobState::Terminal {
                    let problems = check_outputs(&job, options.expect_downloads);
                    if !problems.is_empty() {
                        yield Ok(ResumeOutcome::OutputsNeedRepair { record: Box::new(job), problems });
                    }
                    continue;
                }
                if job.state.is_unfinished() {
                    work.push(job);
                }
            }
            let concurrency = options.concurrency.max(1);
            let retry = options.retry_ambiguous;
            let mut outcomes = futures::stream::iter(work.into_iter().map(|job| {
                let client = client.clone();
                async move { client.resume_one(job, retry).await }
            }))
            .buffer_unordered(if options.concurrency == 0 { 4 } else { concurrency });
            while let Some(outcome) = outcomes.next().await {
                yield Ok(outcome);
            }
        }
    }

    async fn resume_one(&self, job: JobRecord, retry_ambiguous: bool) -> ResumeOutcome {
        if let Some(id) = job.generation_id.clone() {
            return match self.wait(&id).await {
                Ok(generation) => ResumeOutcome::Completed {
                    record: Box::new(job),
                    generation,
                    resent: false,
                },
                Err(error) => ResumeOutcome::Failed {
                    record: Box::new(job),
                    error,
                    resent: false,
                },
            };
        }
        let model = job.model.as_deref().and_then(crate::model::find_model);
        match (retry_ambiguous, model, job.request.clone()) {
            (true, Some(model), Some(body)) if !job.multipart => {
                let options = GenerateOptions {
                    idempotency_key: Some(job.idempotency_key.clone()),
                    ..GenerateOptions::default()
                };
                match self.generate_json(model, body, options).await {
                    Ok(generation) => ResumeOutcome::Completed {
                        record: Box::new(job),
                        generation,
                        resent: true,
                    },
                    Err(error) => ResumeOutcome::Failed {
                        record: Box::new(job),
                        error,
                        resent: true,
                    },
                }
            }
            _ => ResumeOutcome::Ambiguous {
                record: Box::new(job),
            },
        }
    }
}
