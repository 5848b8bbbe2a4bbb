//! The coordinator of a batch run.
//!
//! Every line is planned from the ledger first ([`super::plan`]): finished
//! jobs are skipped, jobs with an id are handed to the poll scheduler,
//! ambiguous ones are reported, and the rest are queued. Then jobs are
//! created in file order while fewer than `--concurrency` are in flight,
//! each after a slot of the shared rate limiter, with its line's
//! deterministic idempotency key, through the SDK's journaled lifecycle
//! (intent and id in the ledger before and as the create is answered):
//! - while fewer than `--max-streams` jobs hold a stream, over SSE (its
//!   own task, to the terminal event);
//! - beyond that, on the polling route: the task ends as soon as the id
//!   is known, and the job waits in the one poll scheduler;
//! - a stream that ends before its terminal event hands its job to the
//!   poll scheduler too (not to the SDK's own fall-back polling), so every
//!   poll, like every create and every retried create, passes the limiter.
//!
//! At most [`MAX_CREATING`] creates are under way at once (each holds a
//! connection until its id arrives). Terminal jobs have their outputs
//! saved (a few downloads at once).
//!
//! Stop rules:
//! - a 402 stops new creates at once: jobs in flight finish, the rest stay
//!   queued (and the summary says how to resume);
//! - an auth error stops everything: no new create, no more polls, jobs
//!   waiting on an id are left pending (a re-run polls them);
//! - a validation error or a FAILED/CANCELED job fails only that job.
//!
//! With a [`Worker`] (`--worker`, a PostgreSQL ledger), lines are not all
//! planned up front: the run claims lines from the batch's shared queue
//! whenever it has room, plans each claimed line from the ledger the same
//! way, marks it done when its job ends here, and ends when no line of the
//! batch is left unfinished by any worker (it keeps polling the queue while
//! others hold leases, to take over the lines of a worker that dies).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use skills_video::ledger::{JobRecord, Ledger, TerminalRecord};
use skills_video::{Client, Error, ErrorCategory, Event, GenerateOptions, Generation};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use super::files::{save_outputs, Saved};
use super::input::{BatchFile, Job};
use super::job_key;
use super::plan::{plan, Plan};
use super::progress::{Phase, Progress};
use super::ratelimit::RateLimiter;
use super::results::{JobResult, Status};
use super::scheduler::{PollConfig, PollEnd, Scheduler};
use super::workers::Worker;
use crate::commands::jobs::SharedLedger;
use crate::download::DownloadPolicy;

/// Downloads in progress at once.
pub const DOWNLOADS: usize = 8;
/// Creates under way at once (each holds a connection and a lifecycle
/// until its id arrives); jobs past it wait in the queue, not in memory.
pub const MAX_CREATING: usize = 32;

/// How a batch runs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// Jobs holding an SSE stream at once.
    pub max_streams: usize,
    /// The poll scheduler's settings.
    pub poll: PollConfig,
    /// Requests per second (creates and scheduled polls).
    pub max_rps: Option<f64>,
    /// Where outputs go.
    pub out_dir: PathBuf,
    /// The download rules.
    pub download: DownloadPolicy,
    /// Re-send ambiguous jobs with their key.
    pub retry_ambiguous: bool,
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A 402: no new creates.
    Credits(String),
    /// An auth error: everything stopped.
    Auth(String),
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// One result per job, in file order.
    pub results: Vec<JobResult>,
    /// Creates sent by this run.
    pub creates: usize,
    /// Jobs of an earlier run re-attached by id.
    pub attached: usize,
    /// Jobs of an earlier run re-sent with their key (`--retry-ambiguous`).
    pub resent: usize,
    /// The most jobs in flight at once.
    pub peak_in_flight: usize,
    /// 429s that paused the batch.
    pub throttled: u64,
    /// Why it stopped early, if it did.
    pub stop: Option<Stop>,
    /// Wall time.
    pub elapsed: Duration,
}

enum Msg {
    Creating,
    Waiting(usize, String),
    Ended {
        idx: usize,
        stream: bool,
        end: End,
    },
    Saved {
        idx: usize,
        id: Option<String>,
        status: String,
        outputs: Vec<String>,
        prior: Vec<PathBuf>,
        saved: Saved,
    },
}

enum End {
    Created(String),
    Terminal(Generation),
    Error { error: Error, id: Option<String> },
}

struct Run<'a, 'o> {
    batch: &'a BatchFile,
    keys: Vec<String>,
    client: Client,
    ledger: Option<SharedLedger>,
    cfg: RunConfig,
    progress: &'a mut Progress<'o>,
    limiter: Arc<RateLimiter>,
    scheduler: Option<Scheduler>,
    downloads: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Msg>,
    tasks: JoinSet<()>,
    handles: HashMap<usize, AbortHandle>,
    phases: Vec<Phase>,
    ids: Vec<Option<String>>,
    results: Vec<Option<JobResult>>,
    in_flight: usize,
    creating: usize,
    streams: usize,
    creates: usize,
    attached: usize,
    resent: usize,
    peak: usize,
    stop: Option<Stop>,
    worker: Option<Worker>,
}

/// How long a worker with room waits before asking the queue again when it
/// found nothing to claim.
const CLAIM_RETRY: Duration = Duration::from_millis(200);

/// Runs the batch to its end (or to a stop rule). A ledger that cannot be
/// read while planning stops the run before any create.
pub async fn run(
    batch: &BatchFile,
    client: Client,
    poll_client: Client,
    ledger: Option<SharedLedger>,
    cfg: RunConfig,
    progress: &mut Progress<'_>,
    worker: Option<Worker>,
) -> Result<Report, String> {
    let started = Instant::now();
    let n = batch.jobs.len();
    let keys: Vec<String> = batch
        .jobs
        .iter()
        .map(|j| job_key(&batch.batch_id, j.line))
        .collect();
    // Plan every line before anything is sent (a worker plans the lines it claims).
    let mut plans = Vec::with_capacity(n);
    for key in keys.iter().filter(|_| worker.is_none()) {
        let l: Option<&dyn Ledger> = ledger.as_deref().map(|l| l as &dyn Ledger);
        plans.push(plan(l, key, cfg.retry_ambiguous).map_err(|e| e.to_string())?);
    }
    let limiter = Arc::new(RateLimiter::new(cfg.max_rps));
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let (ptx, mut prx) = mpsc::unbounded_channel::<(usize, PollEnd)>();
    let scheduler = Scheduler::spawn(poll_client, limiter.clone(), cfg.poll, ptx);
    let mut run = Run {
        batch,
        keys,
        client,
        ledger,
        cfg,
        progress,
        limiter,
        scheduler: Some(scheduler),
        downloads: Arc::new(Semaphore::new(DOWNLOADS)),
        tx,
        tasks: JoinSet::new(),
        handles: HashMap::new(),
        phases: vec![Phase::Queued; n],
        ids: vec![None; n],
        results: vec![None; n],
        in_flight: 0,
        creating: 0,
        streams: 0,
        creates: 0,
        attached: 0,
        resent: 0,
        peak: 0,
        stop: None,
        worker,
    };
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (idx, p) in plans.into_iter().enumerate() {
        run.start(idx, p, &mut queue);
    }
    run.progress.queued(queue.len());
    let mut next_claim = Instant::now();
    loop {
        // A worker claims lines while it has room for them.
        if run.worker.is_some()
            && run.stop.is_none()
            && queue.is_empty()
            && Instant::now() >= next_claim
        {
            let room = run.room();
            if room > 0 {
                next_claim = Instant::now() + CLAIM_RETRY;
                let claimed = run.worker.as_mut().map(|w| w.claim(room));
                match claimed {
                    Some(Ok(idxs)) => {
                        let before = queue.len();
                        // Claimed something: room may be left, ask again at once.
                        if !idxs.is_empty() {
                            next_claim = Instant::now();
                        }
                        for idx in idxs {
                            // Our own lease, lapsed and claimed back: the job is
                            // already this run's (ended, or under way).
                            if run.ended(idx) {
                                if let Some(w) = &mut run.worker {
                                    w.done(idx);
                                }
                                continue;
                            }
                            if run.phases[idx] != Phase::Queued {
                                continue;
                            }
                            let l: Option<&dyn Ledger> =
                                run.ledger.as_deref().map(|l| l as &dyn Ledger);
                            match plan(l, &run.keys[idx], run.cfg.retry_ambiguous) {
                                Ok(p) => run.start(idx, p, &mut queue),
                                Err(e) => {
                                    run.progress.note(&format!(
                                        "line {}: the ledger cannot be read ({e}); given back to the queue",
                                        run.batch.jobs[idx].line
                                    ));
                                    if let Some(w) = &mut run.worker {
                                        w.release(idx);
                                    }
                                }
                            }
                        }
                        if queue.len() > before {
                            run.progress.queued(queue.len() - before);
                        }
                    }
                    Some(Err(e)) => {
                        run.progress
                            .note(&format!("the batch queue cannot be read: {e}"));
                        next_claim = Instant::now() + CLAIM_RETRY * 5;
                    }
                    None => {}
                }
            }
        }
        while run.stop.is_none()
            && run.in_flight < run.cfg.concurrency
            && run.creating < MAX_CREATING
        {
            let Some(idx) = queue.pop_front() else { break };
            run.launch(idx);
        }
        while run.tasks.try_join_next().is_some() {}
        if run.in_flight == 0 && (queue.is_empty() || run.stop.is_some()) {
            let Some(w) = &run.worker else { break };
            if run.stop.is_some() {
                break;
            }
            // Done when no line of the batch is unfinished; otherwise other
            // workers hold leases: wait, to take over if one of them dies.
            match w.state() {
                Ok(st) if st.unfinished == 0 => break,
                Ok(_) => {}
                Err(e) => {
                    run.progress
                        .note(&format!("the batch queue cannot be read: {e}"));
                    break;
                }
            }
            tokio::time::sleep_until(next_claim).await;
            continue;
        }
        let claim_due =
            run.worker.is_some() && run.stop.is_none() && queue.is_empty() && run.room() > 0;
        tokio::select! {
            Some(msg) = rx.recv() => run.on_msg(msg),
            Some((idx, end)) = prx.recv() => run.on_poll(idx, end),
            _ = tokio::time::sleep_until(next_claim), if claim_due => {}
        }
    }
    run.tasks.abort_all();
    drop(run.scheduler.take());
    // Lines claimed but never started go back to the queue.
    if let Some(w) = &mut run.worker {
        w.release_all();
    }
    let not_sent = match &run.stop {
        Some(Stop::Credits(_)) => "not sent: the credits ran out (402)",
        Some(Stop::Auth(_)) => "not sent: authentication failed",
        None => "not sent",
    };
    // A worker reports the lines other workers ran from the ledger.
    if run.worker.is_some() {
        let l: Option<&dyn Ledger> = run.ledger.as_deref().map(|l| l as &dyn Ledger);
        for (idx, key) in run.keys.iter().enumerate() {
            if run.results[idx].is_none() {
                if let Some(r) = from_ledger(l, key) {
                    run.results[idx] = Some(r);
                }
            }
        }
    }
    let results = run
        .results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                let mut q = JobResult::new(Status::Queued);
                q.error = Some(not_sent.to_string());
                q
            })
        })
        .collect();
    Ok(Report {
        results,
        creates: run.creates,
        attached: run.attached,
        resent: run.resent,
        peak_in_flight: run.peak,
        throttled: run.limiter.throttled(),
        stop: run.stop,
        elapsed: started.elapsed(),
    })
}

/// The result of a line another worker ran, from the ledger.
fn from_ledger(ledger: Option<&dyn Ledger>, key: &str) -> Option<JobResult> {
    let record = ledger?.find(key).ok()??;
    let mut r = match record.state {
        skills_video::ledger::JobState::Terminal => from_record(&record),
        state => {
            let mut r = JobResult::new(match state {
                skills_video::ledger::JobState::Ambiguous => Status::Ambiguous,
                skills_video::ledger::JobState::Rejected => Status::Rejected,
                _ if record.generation_id.is_none() => Status::Ambiguous,
                _ => Status::Pending,
            });
            r.id = record.generation_id.clone();
            r.error = record.error.clone();
            r
        }
    };
    r.earlier = true;
    Some(r)
}

impl Run<'_, '_> {
    /// How many more jobs could start now (within `--concurrency` and
    /// [`MAX_CREATING`]).
    fn room(&self) -> usize {
        self.cfg
            .concurrency
            .saturating_sub(self.in_flight)
            .min(MAX_CREATING.saturating_sub(self.creating))
    }

    /// Starts one planned line: queued for a create, handed to the poll
    /// scheduler, its outputs downloaded, or ended at once.
    fn start(&mut self, idx: usize, p: Plan, queue: &mut VecDeque<usize>) {
        let run = self;
        match p {
            Plan::Create { resent } => {
                if resent {
                    run.resent += 1;
                }
                queue.push_back(idx);
            }
            Plan::Attach { id } => {
                run.attached += 1;
                run.enter();
                run.ids[idx] = Some(id.clone());
                run.set_phase(idx, Phase::Waiting);
                if let Some(s) = &run.scheduler {
                    s.add(idx, id, Duration::ZERO);
                }
            }
            Plan::Finished(record) => {
                let r = from_record(&record);
                run.progress.skipped(r.status);
                run.results[idx] = Some(r);
                run.phases[idx] = Phase::Ended(Status::Completed);
                if let Some(w) = &mut run.worker {
                    w.done(idx);
                }
            }
            Plan::Repair { record, urls } => {
                run.enter();
                run.ids[idx] = record.generation_id.clone();
                let prior = record.outputs.iter().map(|o| o.path.clone()).collect();
                run.download(
                    idx,
                    record.generation_id.clone(),
                    record.status.clone(),
                    record.output_urls.clone(),
                    urls,
                    prior,
                );
            }
            Plan::Ambiguous(record) => {
                let mut r = JobResult::new(Status::Ambiguous);
                r.error = Some(format!(
                    "an earlier run sent this create but no generation id was recorded ({}); it is not re-sent: --retry-ambiguous re-sends it with its idempotency key {}",
                    record.error.as_deref().unwrap_or("interrupted"),
                    record.idempotency_key
                ));
                run.phases[idx] = Phase::Queued;
                run.finish(idx, r, false);
            }
        }
    }
}

/// The result of a job finished by an earlier run.
fn from_record(r: &JobRecord) -> JobResult {
    let failed = matches!(r.status.as_str(), "FAILED" | "CANCELED" | "CANCELLED");
    let mut out = JobResult::new(if failed {
        Status::Failed
    } else {
        Status::Completed
    });
    out.id = r.generation_id.clone();
    out.platform_status = Some(r.status.clone());
    out.outputs = r.output_urls.clone();
    out.files = r.outputs.iter().map(|o| o.path.clone()).collect();
    out.error = if failed { r.error.clone() } else { None };
    out.earlier = true;
    out
}

impl Run<'_, '_> {
    fn job(&self, idx: usize) -> &Job {
        &self.batch.jobs[idx]
    }

    fn event(&self, idx: usize, phase: Phase) -> Value {
        let job = self.job(idx);
        json!({
            "event": "job", "line": job.line, "name": job.name, "model": job.model.id,
            "state": phase.as_str(), "generation_id": self.ids[idx],
            "idempotency_key": self.keys[idx],
        })
    }

    fn enter(&mut self) {
        self.in_flight += 1;
        self.peak = self.peak.max(self.in_flight);
    }

    fn set_phase(&mut self, idx: usize, to: Phase) {
        let from = self.phases[idx];
        if from == to {
            return;
        }
        self.phases[idx] = to;
        self.count_creating(from, to);
        let event = self.event(idx, to);
        self.progress.moved(Some(from), to, event);
    }

    /// Ends a job for this run; `in_flight`: it was counted in flight.
    fn finish(&mut self, idx: usize, result: JobResult, in_flight: bool) {
        if matches!(self.phases[idx], Phase::Ended(_)) && self.results[idx].is_some() {
            return;
        }
        if in_flight {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        self.handles.remove(&idx);
        let from = self.phases[idx];
        let to = Phase::Ended(result.status);
        self.phases[idx] = to;
        self.count_creating(from, to);
        let job = self.job(idx);
        let mut event = result.to_json(job.line, &job.name, job.model.id, &self.keys[idx]);
        event["event"] = json!("job");
        event["state"] = json!(result.status.as_str());
        if result.status != Status::Completed {
            if let Some(e) = &result.error {
                self.progress.note(&format!(
                    "line {} ({}): {}: {e}",
                    job.line,
                    job.name,
                    result.status.as_str()
                ));
            }
        }
        self.progress.moved(Some(from), to, event);
        self.results[idx] = Some(result);
        if let Some(w) = &mut self.worker {
            w.done(idx);
        }
    }

    fn count_creating(&mut self, from: Phase, to: Phase) {
        if from == Phase::Creating {
            self.creating = self.creating.saturating_sub(1);
        }
        if to == Phase::Creating {
            self.creating += 1;
        }
    }

    fn ended(&self, idx: usize) -> bool {
        matches!(self.phases[idx], Phase::Ended(_))
    }

    fn launch(&mut self, idx: usize) {
        let stream = self.streams < self.cfg.max_streams;
        if stream {
            self.streams += 1;
        }
        self.enter();
        self.set_phase(idx, Phase::Creating);
        let job = self.job(idx);
        let model = job.model;
        let body = job.body.clone();
        let key = self.keys[idx].clone();
        let client = self.client.clone();
        let limiter = self.limiter.clone();
        let tx = self.tx.clone();
        let ledger = self.ledger.clone();
        let dir =
            std::fs::canonicalize(&self.cfg.out_dir).unwrap_or_else(|_| self.cfg.out_dir.clone());
        let handle = self.tasks.spawn(async move {
            limiter.acquire().await;
            let events = client.events_body(
                model,
                body,
                GenerateOptions {
                    idempotency_key: Some(key.clone()),
                    no_sse: !stream,
                },
            );
            let mut events = std::pin::pin!(events);
            let mut id: Option<String> = None;
            // The SDK falls back to polling on its own when a stream ends
            // early; its polls would not pass the batch's rate limiter, so
            // from then on the job is handed to the poll scheduler instead.
            let mut polling = !stream;
            let end = loop {
                let Some(item) = events.next().await else {
                    break End::Error {
                        error: Error::Decode {
                            message: "the lifecycle ended without a terminal result".into(),
                            body: String::new(),
                        },
                        id,
                    };
                };
                match item {
                    Ok(Event::Started { .. }) => {
                        // The intent is journaled: note where the outputs go.
                        if let Some(l) = &ledger {
                            if let Err(e) = l.record_download_dir(&key, &dir) {
                                tracing::warn!(error = %e, "the download directory could not be recorded");
                            }
                        }
                        let _ = tx.send(Msg::Creating);
                    }
                    Ok(Event::Created { generation_id }) => {
                        if polling {
                            // Ids are cheap: the poll scheduler takes it from here.
                            break End::Created(generation_id);
                        }
                        id = Some(generation_id.clone());
                        let _ = tx.send(Msg::Waiting(idx, generation_id));
                    }
                    Ok(Event::FallbackToPolling { generation_id, .. }) => match generation_id {
                        // The stream ended before a terminal event: the
                        // scheduler polls the job, each poll after a slot.
                        Some(generation_id) => break End::Created(generation_id),
                        // No SSE route: the SDK creates on the polling
                        // route next, and the job is handed over once its
                        // id is known.
                        None => polling = true,
                    },
                    Ok(Event::Retrying { status, delay, .. }) => {
                        if status == Some(429) {
                            limiter.throttle(Some(delay));
                        }
                        // A retried request is one more request: it takes a
                        // slot too, at least `delay` away (the SDK's backoff
                        // runs from this event), and goes out on it.
                        limiter.acquire_after(delay).await;
                    }
                    Ok(Event::Terminal(g)) => break End::Terminal(g),
                    Ok(_) => {}
                    Err(error) => break End::Error { error, id },
                }
            };
            let _ = tx.send(Msg::Ended { idx, stream, end });
        });
        self.handles.insert(idx, handle);
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Creating => self.creates += 1,
            Msg::Waiting(idx, id) => {
                if !self.ended(idx) {
                    self.ids[idx] = Some(id);
                    self.set_phase(idx, Phase::Waiting);
                }
            }
            Msg::Ended { idx, stream, end } => {
                if stream {
                    self.streams = self.streams.saturating_sub(1);
                }
                self.handles.remove(&idx);
                if self.ended(idx) {
                    return;
                }
                match end {
                    End::Created(id) => {
                        self.ids[idx] = Some(id.clone());
                        self.set_phase(idx, Phase::Waiting);
                        match &self.scheduler {
                            Some(s) => s.add(idx, id, self.cfg.poll.interval),
                            None => self.stopped_pending(idx),
                        }
                    }
                    End::Terminal(g) => self.on_terminal(idx, g),
                    End::Error { error, id } => {
                        if id.is_some() {
                            self.ids[idx] = id;
                        }
                        self.on_error(idx, error);
                    }
                }
            }
            Msg::Saved {
                idx,
                id,
                status,
                outputs,
                prior,
                saved,
            } => {
                let mut r = JobResult::new(Status::Completed);
                r.id = id;
                r.platform_status = Some(status);
                r.outputs = outputs;
                r.files = prior;
                r.files.extend(saved.files.into_iter().map(|(_, p)| p));
                if let Some(e) = saved.error {
                    r.error = Some(format!(
                        "download failed: {e} (the generation succeeded; run the same command again to download it)"
                    ));
                }
                self.finish(idx, r, true);
            }
        }
    }

    fn on_poll(&mut self, idx: usize, end: PollEnd) {
        if self.ended(idx) {
            return;
        }
        let key = self.keys[idx].clone();
        let ledger = self.ledger.clone();
        match end {
            PollEnd::Terminal(g) => {
                if let Some(l) = &ledger {
                    if let Err(e) = l.record_terminal(&key, &TerminalRecord::of(&g)) {
                        tracing::warn!(error = %e, "the terminal result could not be recorded");
                    }
                }
                self.on_terminal(idx, g);
            }
            PollEnd::Error(e) => {
                if let Some(l) = &ledger {
                    let r = match &e {
                        Error::Failed { generation, .. } => {
                            l.record_terminal(&key, &TerminalRecord::of(generation))
                        }
                        other => l.record_error(&key, &other.to_string()),
                    };
                    if let Err(le) = r {
                        tracing::warn!(error = %le, "the poll result could not be recorded");
                    }
                }
                self.on_error(idx, e);
            }
            PollEnd::TimedOut { last_status } => {
                let msg = format!(
                    "not finished within --timeout (last status {last_status}); run the same command again to keep waiting for it"
                );
                if let Some(l) = &ledger {
                    let _ = l.record_error(&key, &msg);
                }
                let mut r = JobResult::new(Status::Pending);
                r.id = self.ids[idx].clone();
                r.platform_status = Some(last_status);
                r.error = Some(msg);
                self.finish(idx, r, true);
            }
        }
    }

    fn on_terminal(&mut self, idx: usize, g: Generation) {
        let id = g.id().map(str::to_string).or_else(|| self.ids[idx].clone());
        let urls = g.output_urls();
        self.download(
            idx,
            id,
            g.status().to_string(),
            urls.clone(),
            urls,
            Vec::new(),
        );
    }

    /// Saves `urls` (outputs of a terminal job) in a download task.
    fn download(
        &mut self,
        idx: usize,
        id: Option<String>,
        status: String,
        outputs: Vec<String>,
        urls: Vec<String>,
        prior: Vec<PathBuf>,
    ) {
        self.set_phase(idx, Phase::Downloading);
        let job = self.job(idx);
        let (name, line) = (job.name.clone(), job.line);
        let key = self.keys[idx].clone();
        let dir = self.cfg.out_dir.clone();
        let policy = self.cfg.download.clone();
        let ledger = self.ledger.clone();
        let tx = self.tx.clone();
        let downloads = self.downloads.clone();
        self.tasks.spawn(async move {
            let _permit = downloads.acquire_owned().await;
            let l: Option<&dyn Ledger> = ledger.as_deref().map(|l| l as &dyn Ledger);
            let saved = save_outputs(&urls, &dir, &name, line, &policy, l, &key).await;
            let _ = tx.send(Msg::Saved {
                idx,
                id,
                status,
                outputs,
                prior,
                saved,
            });
        });
    }

    fn on_error(&mut self, idx: usize, e: Error) {
        let message = crate::output::cli_wording(&e.to_string());
        let mut r = JobResult::new(Status::Rejected);
        r.id = self.ids[idx].clone();
        r.error = Some(message.clone());
        match &e {
            Error::Failed { generation, .. } => {
                r.status = Status::Failed;
                r.platform_status = Some(generation.status().to_string());
                r.id = generation.id().map(str::to_string).or(r.id);
            }
            _ if e.category() == ErrorCategory::InsufficientCredits => {
                // Nothing was charged: the job stays queued with the others.
                r.status = if r.id.is_some() {
                    Status::Pending
                } else {
                    Status::Queued
                };
                if self.stop.is_none() {
                    self.progress.note(&format!(
                        "credits exhausted (402): no new creates; the {} job(s) in flight finish",
                        self.in_flight.saturating_sub(1)
                    ));
                    self.stop = Some(Stop::Credits(message));
                }
            }
            _ if e.category() == ErrorCategory::Auth => {
                r.status = if r.id.is_some() {
                    Status::Pending
                } else {
                    Status::Queued
                };
                self.finish(idx, r, true);
                self.stop_all(message);
                return;
            }
            Error::Ambiguous { .. } => r.status = Status::Ambiguous,
            _ if r.id.is_some() => r.status = Status::Pending,
            _ => {}
        }
        self.finish(idx, r, true);
    }

    /// An auth error: no new creates, no more polls; jobs waiting on an id
    /// are left pending (a re-run polls them). Creates and downloads under
    /// way end by themselves (a create with a bad key is refused at once).
    fn stop_all(&mut self, message: String) {
        if matches!(self.stop, Some(Stop::Auth(_))) {
            return;
        }
        self.progress.note(&format!(
            "authentication failed: stopping the batch ({message})"
        ));
        self.stop = Some(Stop::Auth(message));
        drop(self.scheduler.take());
        let waiting: Vec<usize> = (0..self.phases.len())
            .filter(|&i| self.phases[i] == Phase::Waiting)
            .collect();
        for idx in waiting {
            if let Some(h) = self.handles.remove(&idx) {
                h.abort();
                // Its stream slot is not given back: nothing more is created.
            }
            self.stopped_pending(idx);
        }
    }

    fn stopped_pending(&mut self, idx: usize) {
        let mut r = JobResult::new(Status::Pending);
        r.id = self.ids[idx].clone();
        r.error = Some("stopped before it finished (authentication failed); run the same command again to poll it".into());
        self.finish(idx, r, true);
    }
}
