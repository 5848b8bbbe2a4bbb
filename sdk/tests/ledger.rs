//! The job ledger (feature `ledger`): every rule here was checked by breaking
//! it (the mutation is named in each test's comment) and seeing the test fail.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use skills_video::ledger::{
    Intent, JobFilter, JobRecord, JobState, Ledger, LedgerError, OutputRecord, ResumeOptions,
    ResumeOutcome, SqliteLedger, TerminalRecord,
};
use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::{Client, Error, Event};
use skills_video_simulator::{Fault, FaultRule, RunningSimulator, Simulator, SimulatorConfig};

async fn simulator(step_delay_ms: u64, faults: Vec<FaultRule>) -> RunningSimulator {
    let config = SimulatorConfig {
        api_key: "sk-test".into(),
        step_delay: Duration::from_millis(step_delay_ms),
        faults,
        // Only the model these tests generate with: the simulator compiles a
        // request validator per served model (seconds for the catalog).
        spec: skills_video_simulator::config::embedded_spec_serving(&["google/nano-banana-pro"]),
        ..SimulatorConfig::default()
    };
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client_with(sim: &RunningSimulator, ledger: Arc<dyn Ledger>) -> Client {
    builder_with(sim, ledger).build().unwrap()
}

/// The builder [`client_with`] builds, for a test that sets more.
fn builder_with(sim: &RunningSimulator, ledger: Arc<dyn Ledger>) -> skills_video::ClientBuilder {
    Client::builder()
        .api_key("sk-test")
        .base_url(sim.base_url())
        .poll_interval(Duration::from_millis(20))
        .ledger_shared(ledger)
}

/// A fresh SQLite ledger in `dir`.
fn scratch_ledger(dir: &tempfile::TempDir) -> Arc<dyn Ledger> {
    Arc::new(SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap())
}

/// Runs a generation until its id arrives, then drops it: the "crash" that
/// leaves the job pending with its id.
async fn stop_after_the_id(client: &Client) {
    let mut events = Box::pin(client.events(request()));
    while let Some(e) = events.next().await {
        if let Event::Created { .. } = e.unwrap() {
            return;
        }
    }
    panic!("the generation ended without an id");
}

fn request() -> GoogleNanoBananaProRequest {
    GoogleNanoBananaProRequest::new("a lighthouse")
}

fn only_job(ledger: &dyn Ledger) -> JobRecord {
    let jobs = ledger.jobs(JobFilter::All).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs.into_iter().next().unwrap()
}

/// A simulator, a fresh SQLite ledger in a scratch directory, and a client
/// journaling to it.
async fn journaled(
    step_delay_ms: u64,
    faults: Vec<FaultRule>,
) -> (RunningSimulator, tempfile::TempDir, Arc<dyn Ledger>, Client) {
    let sim = simulator(step_delay_ms, faults).await;
    let dir = scratch_dir();
    let ledger = scratch_ledger(&dir);
    let client = client_with(&sim, ledger.clone());
    (sim, dir, ledger, client)
}

/// `resume` with `retry_ambiguous` (re-send ambiguous jobs with their key), collected.
async fn resume_resending_ambiguous(client: &Client) -> Vec<Result<ResumeOutcome, Error>> {
    client
        .resume_with(ResumeOptions {
            retry_ambiguous: true,
            ..Default::default()
        })
        .collect()
        .await
}

/// Writes `bytes` to `path` and records the file as the job's download of `url`.
fn record_download(ledger: &dyn Ledger, key: &str, url: String, path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    let (size, sha256) = skills_video::ledger::sha256_file(path).unwrap();
    let output = OutputRecord {
        url,
        path: path.to_path_buf(),
        size,
        sha256,
    };
    ledger.record_output(key, &output).unwrap();
}

/// A ledger that notes how many creates the simulator had seen when the
/// intent was recorded, or refuses the intent.
struct Probe {
    inner: SqliteLedger,
    sim_creates: Arc<dyn Fn() -> usize + Send + Sync>,
    creates_at_intent: AtomicUsize,
    fail_intent: bool,
}

impl Ledger for Probe {
    fn record_intent(&self, intent: &Intent) -> Result<(), LedgerError> {
        self.creates_at_intent
            .store((self.sim_creates)(), Ordering::SeqCst);
        if self.fail_intent {
            return Err(LedgerError::Storage {
                op: "intent",
                detail: "disk full".into(),
            });
        }
        self.inner.record_intent(intent)
    }
    fn record_id(&self, key: &str, id: &str) -> Result<String, LedgerError> {
        self.inner.record_id(key, id)
    }
    fn record_status(&self, key: &str, status: &str) -> Result<(), LedgerError> {
        self.inner.record_status(key, status)
    }
    fn record_terminal(&self, key: &str, t: &TerminalRecord) -> Result<(), LedgerError> {
        self.inner.record_terminal(key, t)
    }
    fn record_state(&self, key: &str, s: JobState, e: Option<&str>) -> Result<(), LedgerError> {
        self.inner.record_state(key, s, e)
    }
    fn record_error(&self, key: &str, e: &str) -> Result<(), LedgerError> {
        self.inner.record_error(key, e)
    }
    fn record_output(&self, key: &str, o: &OutputRecord) -> Result<(), LedgerError> {
        self.inner.record_output(key, o)
    }
    fn attach(&self, id: &str, base: &str) -> Result<String, LedgerError> {
        self.inner.attach(id, base)
    }
    fn jobs(&self, f: JobFilter) -> Result<Vec<JobRecord>, LedgerError> {
        self.inner.jobs(f)
    }
    fn find(&self, k: &str) -> Result<Option<JobRecord>, LedgerError> {
        self.inner.find(k)
    }
}

/// A scratch directory in memory (`/dev/shm`) where it is writable, else in
/// the system temp dir. The ledger syncs its money-relevant commits; on a
/// shared disk those syncs were a quarter of this file's time. What these
/// tests check (the rows another connection reads, what a reopened ledger
/// holds) goes through the file system either way.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("skills-video-ledger-")
            .tempdir_in(shm)
        {
            return dir;
        }
    }
    tempfile::tempdir().unwrap()
}

/// Mutation tried: journal the intent on `Event::Created` instead of
/// `Event::Started` -> the intent is recorded after one create, and the
/// held create finds no row on disk: both assertions fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intent_is_on_disk_before_the_create_reaches_the_server() {
    // The create is held for 1.5 s after the simulator accepted it.
    let sim = Arc::new(
        simulator(
            0,
            vec![FaultRule::always(Fault::SlowFirstByte { delay_ms: 1500 })],
        )
        .await,
    );
    let dir = scratch_dir();
    let path = dir.path().join("ledger.sqlite3");
    let s2 = sim.clone();
    let probe = Arc::new(Probe {
        inner: SqliteLedger::open(&path).unwrap(),
        sim_creates: Arc::new(move || s2.creates()),
        creates_at_intent: AtomicUsize::new(usize::MAX),
        fail_intent: false,
    });
    let client = client_with(&sim, probe.clone());
    let run = tokio::spawn(async move { client.generate(request()).await });
    // Wait until the simulator holds the accepted create.
    let t0 = std::time::Instant::now();
    while sim.job_count() == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the create never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Another connection (as another process would) reads the committed intent.
    let other = SqliteLedger::open(&path).unwrap();
    let job = only_job(&other);
    assert_eq!(job.status, "intent");
    assert_eq!(job.model.as_deref(), Some("google/nano-banana-pro"));
    assert_eq!(job.request.as_ref().unwrap()["prompt"], "a lighthouse");
    let key = sim
        .requests()
        .iter()
        .find_map(|r| r.idempotency_key.clone());
    assert!(key.is_none() || key.as_deref() == Some(job.idempotency_key.as_str()));
    assert_eq!(
        probe.creates_at_intent.load(Ordering::SeqCst),
        0,
        "intent after a create"
    );
    let generation = run.await.unwrap().unwrap();
    let job = only_job(&other);
    assert_eq!(job.state, JobState::Terminal);
    assert_eq!(job.generation_id.as_deref(), generation.id());
    assert_eq!(job.output_urls, generation.output_urls());
    // The key sent is the key recorded; the API key is never stored.
    let sent: Vec<_> = sim
        .requests()
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert!(sent.contains(&job.idempotency_key));
    drop(other);
    drop(probe);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"sk-test"));
}

/// Mutation tried: yield the intent error and go on with the lifecycle ->
/// the simulator sees a create and the count assertion fails.
#[tokio::test]
async fn a_failed_intent_write_stops_the_create() {
    let sim = Arc::new(simulator(0, vec![]).await);
    let dir = scratch_dir();
    let s2 = sim.clone();
    let probe = Arc::new(Probe {
        inner: SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap(),
        sim_creates: Arc::new(move || s2.creates()),
        creates_at_intent: AtomicUsize::new(0),
        fail_intent: true,
    });
    let err = client_with(&sim, probe)
        .generate(request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Ledger { .. }), "{err:?}");
    assert!(err.to_string().contains("create was not sent"), "{err}");
    assert_eq!(sim.creates(), 0);
}

/// Mutation tried: drop `AND generation_id IS NULL` from `record_id` -> the
/// later id replaces the first and both assertions fail.
#[tokio::test]
async fn the_first_id_wins() {
    let dir = scratch_dir();
    let ledger = SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap();
    ledger
        .record_intent(&Intent {
            idempotency_key: "k1".into(),
            model: "google/nano-banana-pro".into(),
            request: json!({"prompt": "x"}),
            multipart: false,
            base_url: "http://127.0.0.1:1/api/v1".into(),
            created_at_ms: 1,
        })
        .unwrap();
    assert_eq!(ledger.record_id("k1", "gen_A").unwrap(), "gen_A");
    assert_eq!(ledger.record_id("k1", "gen_B").unwrap(), "gen_A");
    assert_eq!(
        ledger.find("k1").unwrap().unwrap().generation_id.as_deref(),
        Some("gen_A")
    );

    // Through the lifecycle: the stream names a fresh id after the first.
    let sim = simulator(0, vec![FaultRule::always(Fault::IdChangesMidStream)]).await;
    let ledger: Arc<dyn Ledger> =
        Arc::new(SqliteLedger::open(dir.path().join("m.sqlite3")).unwrap());
    let generation = client_with(&sim, ledger.clone())
        .generate(request())
        .await
        .unwrap();
    let job = only_job(ledger.as_ref());
    assert_eq!(job.generation_id.as_deref(), generation.id());
}

/// A process that dies after the id: `resume` polls it to the end with zero creates.
/// Mutation tried: in `resume_one`, re-send jobs that have an id (as for an
/// ambiguous one) -> the create count rises and the test fails.
#[tokio::test]
async fn resume_of_a_job_with_an_id_completes_with_zero_creates() {
    let sim = simulator(100, vec![]).await;
    let dir = scratch_dir();
    let path = dir.path().join("l.sqlite3");
    {
        let ledger: Arc<dyn Ledger> = Arc::new(SqliteLedger::open(&path).unwrap());
        stop_after_the_id(&client_with(&sim, ledger)).await;
    }
    assert_eq!(sim.creates(), 1);
    let ledger: Arc<dyn Ledger> = Arc::new(SqliteLedger::open(&path).unwrap());
    assert_eq!(ledger.jobs(JobFilter::Unfinished).unwrap().len(), 1);
    let client = client_with(&sim, ledger.clone());
    let outcomes: Vec<_> = client.resume().collect().await;
    assert_eq!(outcomes.len(), 1);
    match outcomes.into_iter().next().unwrap().unwrap() {
        ResumeOutcome::Completed {
            generation, resent, ..
        } => {
            assert!(!resent);
            assert!(generation.is_success());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.creates(), 1, "resume created again");
    assert_eq!(only_job(ledger.as_ref()).state, JobState::Terminal);
    assert!(ledger.jobs(JobFilter::Unfinished).unwrap().is_empty());
}

/// A job whose id arrived and whose polls then failed (503 until the retries
/// ran out) is paid for: it stays pending with its id, and `resume` polls it
/// to the end with zero creates. Found by cargo-mutants, which no test caught
/// before: the `id_known` guard in `journal::record` made false -> the
/// transient error marks the job `rejected` (nothing charged), `resume` never
/// sees it, and the paid job is lost; made true -> an error before any id
/// leaves the job pending (that side fails the CLI's batch tests).
#[tokio::test]
async fn a_job_whose_polls_fail_after_the_id_stays_pending_and_resumes() {
    let sim = simulator(
        20,
        vec![
            FaultRule::always(Fault::DropAfterId),
            FaultRule::always(Fault::PollStatus {
                status: 503,
                retry_after_secs: None,
            }),
        ],
    )
    .await;
    let dir = scratch_dir();
    let ledger = scratch_ledger(&dir);
    let client = builder_with(&sim, ledger.clone())
        .retry_policy(skills_video::RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(1),
            jitter: false,
        })
        .build()
        .unwrap();
    let err = client.generate(request()).await.unwrap_err();
    let Error::Transient {
        generation_id: Some(id),
        ..
    } = &err
    else {
        panic!("expected a transient error with the id, got {err:?}")
    };
    let job = only_job(ledger.as_ref());
    assert_eq!(job.state, JobState::Pending, "{job:?}");
    assert_eq!(job.generation_id.as_deref(), Some(id.as_str()));
    assert_eq!(ledger.jobs(JobFilter::Unfinished).unwrap().len(), 1);

    sim.set_faults(vec![]);
    let outcomes: Vec<_> = client.resume().collect().await;
    assert!(
        matches!(
            outcomes.as_slice(),
            [Ok(ResumeOutcome::Completed { resent: false, generation, .. })] if generation.is_success()
        ),
        "{outcomes:?}"
    );
    assert_eq!(sim.creates(), 1, "resume created again");
    assert_eq!(only_job(ledger.as_ref()).state, JobState::Terminal);
}

/// Mutation tried: default `retry_ambiguous` to true -> the first resume
/// re-sends and the "not re-created" assertion fails; sending a fresh key
/// on re-send -> the simulator makes a second job and `job_count` fails.
#[tokio::test]
async fn an_ambiguous_job_is_resent_only_on_opt_in_and_with_the_same_key() {
    let sim = simulator(0, vec![FaultRule::times(Fault::DropBeforeEvent, 1)]).await;
    let dir = scratch_dir();
    let ledger: Arc<dyn Ledger> =
        Arc::new(SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap());
    let client = client_with(&sim, ledger.clone());
    let err = client.generate(request()).await.unwrap_err();
    let Error::Ambiguous {
        idempotency_key, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    let job = only_job(ledger.as_ref());
    assert_eq!(job.state, JobState::Ambiguous);
    assert_eq!(&job.idempotency_key, idempotency_key);
    assert_eq!((sim.creates(), sim.job_count()), (1, 1));

    let outcomes: Vec<_> = client.resume().collect().await;
    assert!(
        matches!(outcomes.as_slice(), [Ok(ResumeOutcome::Ambiguous { record })] if &record.idempotency_key == idempotency_key)
    );
    assert_eq!(
        sim.creates(),
        1,
        "an ambiguous job was re-created without opt-in"
    );

    let outcomes = resume_resending_ambiguous(&client).await;
    assert!(
        matches!(
            outcomes.as_slice(),
            [Ok(ResumeOutcome::Completed { resent: true, .. })]
        ),
        "{outcomes:?}"
    );
    let keys: Vec<_> = sim
        .requests()
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert!(keys.iter().all(|k| k == idempotency_key), "{keys:?}");
    assert_eq!(sim.creates(), 2);
    assert_eq!(sim.job_count(), 1, "the re-send made a second paid job");
    assert_eq!(only_job(ledger.as_ref()).state, JobState::Terminal);
}

/// Mutation tried: `check_outputs` comparing sizes only -> the same-size
/// corrupt file passes and the test fails.
#[tokio::test]
async fn finished_jobs_with_missing_or_corrupt_outputs_are_reported() {
    let (sim, dir, ledger, client) = journaled(0, vec![]).await;
    let generation = client.generate(request()).await.unwrap();
    let key = only_job(ledger.as_ref()).idempotency_key;
    let file = dir.path().join("out.png");
    let url = generation.output_urls()[0].clone();
    record_download(ledger.as_ref(), &key, url, &file, b"good bytes");
    assert_eq!(
        client.resume().collect::<Vec<_>>().await.len(),
        0,
        "an intact output was reported"
    );
    std::fs::write(&file, b"evil bytes").unwrap(); // same size, other content
    let outcomes: Vec<_> = client.resume().collect().await;
    match outcomes.as_slice() {
        [Ok(ResumeOutcome::OutputsNeedRepair { problems, .. })] => {
            assert_eq!(problems[0].reason, "sha256 mismatch")
        }
        other => panic!("{other:?}"),
    }
    // Each problem is named: a cut file by its size, a path that cannot be
    // read by the error (cargo-mutants: the size arm made false, or every read
    // error called "missing", passed before these two checks).
    let reason = |outcomes: Vec<Result<ResumeOutcome, Error>>| match outcomes.as_slice() {
        [Ok(ResumeOutcome::OutputsNeedRepair { problems, .. })] => problems[0].reason.clone(),
        other => panic!("{other:?}"),
    };
    std::fs::write(&file, b"good").unwrap();
    assert_eq!(reason(client.resume().collect().await), "size mismatch");
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let unreadable = reason(client.resume().collect().await);
    assert!(unreadable.starts_with("unreadable: "), "{unreadable}");
    std::fs::remove_dir(&file).unwrap();
    assert_eq!(reason(client.resume().collect().await), "missing");
    assert_eq!(sim.creates(), 1);
}

/// A finished job's http(s) outputs that were never downloaded are reported
/// when downloads are expected (or the job recorded a download directory),
/// and no longer once each has an output record. Mutations tried
/// (cargo-mutants, 7 of them in `check_outputs`' "not downloaded" part: each
/// `&&`/`||` swapped, each `!` deleted, `==` made `!=`): each fails here.
#[tokio::test]
async fn outputs_never_downloaded_are_reported_only_when_downloads_are_expected() {
    let (_sim, dir, ledger, client) = journaled(0, vec![]).await;
    let generation = client.generate(request()).await.unwrap();
    let url = generation.output_urls()[0].clone();
    assert!(url.starts_with("http://"), "{url}");
    let job = only_job(ledger.as_ref());
    assert_eq!(job.output_urls, std::slice::from_ref(&url));
    assert!(job.download_dir.is_none());
    use skills_video::ledger::check_outputs;
    assert!(
        check_outputs(&job, false).is_empty(),
        "no download was asked for"
    );
    let problems = check_outputs(&job, true);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].url.as_str(), problems[0].reason.as_str()),
        (url.as_str(), "not downloaded")
    );
    assert!(problems[0].recorded.is_none());
    let file = dir.path().join("out.png");
    record_download(
        ledger.as_ref(),
        &job.idempotency_key,
        url,
        &file,
        b"the output",
    );
    let job = only_job(ledger.as_ref());
    assert!(
        check_outputs(&job, true).is_empty(),
        "{:?}",
        check_outputs(&job, true)
    );
}

/// An ambiguous create that carried local files is never re-sent by
/// `resume`, even with `retry_ambiguous`: the ledger keeps the request's JSON,
/// not the files, so a re-send could not be the same request. Mutation tried
/// (cargo-mutants): `resume_one`'s `!job.multipart` guard made true -> the
/// job is re-sent as JSON and the create count rises.
#[tokio::test]
async fn an_ambiguous_upload_is_reported_never_resent() {
    let (sim, dir, ledger, client) =
        journaled(0, vec![FaultRule::times(Fault::DropBeforeEvent, 1)]).await;
    let input = dir.path().join("input.png");
    std::fs::write(&input, b"\x89PNG\r\n\x1a\nnot really a picture").unwrap();
    let err = client
        .generate(request().image_urls(vec![skills_video::Media::file(&input)]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Ambiguous { .. }), "{err:?}");
    let job = only_job(ledger.as_ref());
    assert!(job.multipart, "{job:?}");
    assert_eq!(job.state, JobState::Ambiguous);
    let outcomes = resume_resending_ambiguous(&client).await;
    assert!(
        matches!(outcomes.as_slice(), [Ok(ResumeOutcome::Ambiguous { .. })]),
        "{outcomes:?}"
    );
    assert_eq!(sim.creates(), 1, "an upload was re-sent without its files");
}

/// `resume` re-attaches only the jobs created against its own base URL: an
/// id from another platform (a staging URL, another simulator) is neither
/// polled nor re-sent here. Mutation tried (cargo-mutants): `same_base`
/// always true -> the other server's job is polled here, comes back as a
/// failure, and the test fails.
#[tokio::test]
async fn resume_leaves_the_jobs_of_another_base_url_alone() {
    let (first, _dir, ledger, client) = journaled(100, vec![]).await;
    let other = simulator(0, vec![]).await;
    stop_after_the_id(&client).await;
    assert_eq!(ledger.jobs(JobFilter::Unfinished).unwrap().len(), 1);
    let here = client_with(&other, ledger.clone());
    let outcomes: Vec<_> = here.resume().collect().await;
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert_eq!(only_job(ledger.as_ref()).state, JobState::Pending);
    // Its own base URL still resumes it.
    let outcomes: Vec<_> = client.resume().collect().await;
    assert!(
        matches!(
            outcomes.as_slice(),
            [Ok(ResumeOutcome::Completed { resent: false, .. })]
        ),
        "{outcomes:?}"
    );
    assert_eq!(first.creates(), 1);
}

fn patch_header(path: &Path, offset: usize, value: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn ledger_with_one_job(path: &Path) {
    let ledger = SqliteLedger::open(path).unwrap();
    ledger
        .record_intent(&Intent {
            idempotency_key: "k".into(),
            model: "m".into(),
            request: json!({}),
            multipart: false,
            base_url: "b".into(),
            created_at_ms: 1,
        })
        .unwrap();
    // Dropping the last connection checkpoints the WAL into the file.
}

/// Mutation tried: skip the identity check on open -> the foreign database
/// is migrated into (its bytes change) and the test fails.
#[test]
fn a_file_that_is_not_a_ledger_is_refused_and_left_untouched() {
    let dir = scratch_dir();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "my notes, not a database\n".repeat(100)).unwrap();
    let err = SqliteLedger::open(&text).unwrap_err();
    assert!(matches!(err, LedgerError::NotALedger { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not a skills-video ledger"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "my notes, not a database\n".repeat(100)
    );

    // An SQLite database of another application (its application_id differs).
    let other = dir.path().join("other.sqlite3");
    ledger_with_one_job(&other);
    patch_header(&other, 68, 0x1234_5678);
    let before = std::fs::read(&other).unwrap();
    let err = SqliteLedger::open(&other).unwrap_err();
    assert!(matches!(err, LedgerError::NotALedger { .. }), "{err:?}");
    assert_eq!(std::fs::read(&other).unwrap(), before);

    // A corrupted ledger (garbage over its pages) is an error, never reset.
    let corrupt = dir.path().join("corrupt.sqlite3");
    ledger_with_one_job(&corrupt);
    let mut bytes = std::fs::read(&corrupt).unwrap();
    for b in &mut bytes[16..100] {
        *b = 0xAB;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    assert!(SqliteLedger::open(&corrupt).is_err());
    assert_eq!(std::fs::read(&corrupt).unwrap(), bytes);
}

/// Mutation tried: remove the `version > SCHEMA_VERSION` check -> the file
/// opens and the test fails.
#[test]
fn a_ledger_from_a_newer_schema_is_refused_and_kept() {
    let dir = scratch_dir();
    let path = dir.path().join("future.sqlite3");
    ledger_with_one_job(&path);
    patch_header(&path, 60, 99);
    let before = std::fs::read(&path).unwrap();
    let err = SqliteLedger::open(&path).unwrap_err();
    assert!(
        matches!(err, LedgerError::FutureSchema { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Back at the current version, the job is still there.
    patch_header(&path, 60, skills_video::ledger::SCHEMA_VERSION as u32);
    let ledger = SqliteLedger::open(&path).unwrap();
    assert!(ledger.find("k").unwrap().is_some());
}

/// A ledger that cannot be written: opening is a clear error; a read-only
/// ledger given to a client stops the create (no paid job without a record).
#[tokio::test]
async fn a_read_only_ledger_is_a_clear_error_and_sends_nothing() {
    let dir = scratch_dir();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let err = SqliteLedger::open(blocker.join("ledger.sqlite3")).unwrap_err();
    assert!(matches!(err, LedgerError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be written"), "{err}");

    let path = dir.path().join("l.sqlite3");
    ledger_with_one_job(&path);
    let ledger: Arc<dyn Ledger> = Arc::new(SqliteLedger::open_read_only(&path).unwrap());
    let sim = simulator(0, vec![]).await;
    let err = client_with(&sim, ledger.clone())
        .generate(request())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Ledger { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be written"), "{err}");
    assert_eq!(sim.creates(), 0);
    assert_eq!(ledger.jobs(JobFilter::All).unwrap().len(), 1);
}

/// Migrating twice (reopening) keeps every record; a client without a
/// ledger cannot resume.
#[tokio::test]
async fn reopening_keeps_records_and_no_ledger_means_no_resume() {
    let dir = scratch_dir();
    let path = dir.path().join("l.sqlite3");
    ledger_with_one_job(&path);
    ledger_with_one_job(&path);
    let ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(ledger.jobs(JobFilter::All).unwrap().len(), 1);
    let client = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:9/api/v1")
        .build()
        .unwrap();
    let outcomes: Vec<_> = client.resume().collect().await;
    assert!(matches!(outcomes.as_slice(), [Err(Error::Ledger { .. })]));
}

/// `wait(id)` journals under the job's row (found by id, or made for an id
/// the ledger never saw); an id the platform does not know is not left for
/// `resume`. Mutation tried: dropping the not-found arm of `journal_wait`
/// -> the row stays pending and `resume` polls it forever after.
#[tokio::test]
async fn wait_journals_by_id_and_an_unknown_id_is_not_left_pending() {
    let sim = simulator(0, vec![]).await;
    let dir = scratch_dir();
    let ledger: Arc<dyn Ledger> =
        Arc::new(SqliteLedger::open(dir.path().join("l.sqlite3")).unwrap());
    let plain = Client::builder()
        .api_key("sk-test")
        .base_url(sim.base_url())
        .build()
        .unwrap();
    let done = plain.generate(request()).await.unwrap();
    let id = done.id().unwrap();
    let client = client_with(&sim, ledger.clone());
    client.wait(id).await.unwrap();
    let job = ledger.find(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Terminal);
    assert_eq!(job.generation_id.as_deref(), Some(id));
    assert!(client.wait("no-such-generation").await.is_err());
    let job = ledger.find("no-such-generation").unwrap().unwrap();
    assert_eq!(job.state, JobState::Rejected);
    assert!(ledger.jobs(JobFilter::Unfinished).unwrap().is_empty());
    assert_eq!(sim.creates(), 1);
}

/// Many processes (here threads with their own connections) opening one new
/// ledger at once all succeed: the file is identified in one snapshot and a
/// busy answer while another creates the schema is waited out, never
/// reported as "not a ledger" or "database is locked".
#[test]
fn concurrent_opens_of_a_new_ledger_all_succeed() {
    for round in 0..10 {
        let dir = scratch_dir();
        let path = dir.path().join(format!("ledger-{round}.sqlite3"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    skills_video::ledger::SqliteLedger::open(&path)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            let result = h.join().unwrap();
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
    }
}
