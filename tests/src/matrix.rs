//! The fault matrix: each case starts a simulator with one fault, runs one
//! generation through the SDK's generated per-model function, and compares
//! the outcome, the number of create requests and the time with what the
//! runtime's rules promise. A case may add its own check on what was
//! observed (the result's id, the output URLs, the requests the simulator
//! saw, the poll-body bytes it had to send).

use std::time::{Duration, Instant};

use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::{Client, Error, ErrorCategory, Generation, RetryPolicy, Source};
use skills_video_simulator::{
    Fault, FaultRule, RecordedRequest, RouteKind, RunningSimulator, Simulator, SimulatorConfig,
};

/// The API key every case uses.
pub const KEY: &str = "sk-matrix-test";

/// The cap on a JSON body read whole that a case's client sets by default
/// (the SDK's default, 8 MiB).
pub const BODY_CAP: usize = 8 * 1024 * 1024;

/// A case's own check on what it observed: `Err` names what is wrong.
pub type Check = fn(&Observed) -> Result<(), String>;

/// What a case must end with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A terminal success delivered by this channel.
    Success(Source),
    /// An error of this category.
    Error(ErrorCategory),
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expected::Success(s) => write!(f, "success via {}", s.as_str()),
            Expected::Error(c) => write!(f, "error {}", c.as_str()),
        }
    }
}

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    /// Short name.
    pub name: &'static str,
    /// Faults installed in the simulator.
    pub faults: Vec<FaultRule>,
    /// The expected outcome.
    pub expected: Expected,
    /// Create requests the simulator must see (SSE or polling route, any answer).
    pub creates: usize,
    /// Create requests that may have been accepted (answered 2xx): never more than one.
    pub accepted_creates: usize,
    /// Upper bound on the time to outcome (the configured budgets plus slack).
    pub budget: Duration,
    /// Lower bound on the time (e.g. a Retry-After that must be honoured).
    pub at_least: Duration,
    /// Simulator and client tweaks.
    pub setup: Setup,
    /// A further check on the observation, beyond outcome, counts and time.
    pub check: Option<Check>,
}

/// Per-case settings.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Simulator step delay.
    pub step_delay: Duration,
    /// Simulator heartbeat interval.
    pub heartbeat: Duration,
    /// Client SSE budget.
    pub sse_timeout: Duration,
    /// Client poll budget.
    pub poll_timeout: Duration,
    /// Client event size cap.
    pub max_event_bytes: usize,
    /// Client cap on a JSON body read whole.
    pub max_body_bytes: usize,
    /// Client retry policy.
    pub retry: RetryPolicy,
    /// Credits the account starts with.
    pub credits: f64,
    /// Key the client sends.
    pub client_key: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            step_delay: Duration::from_millis(5),
            heartbeat: Duration::from_millis(50),
            sse_timeout: Duration::from_secs(10),
            poll_timeout: Duration::from_secs(10),
            max_event_bytes: 1024 * 1024,
            max_body_bytes: BODY_CAP,
            retry: fast_retry(),
            credits: 1000.0,
            client_key: KEY,
        }
    }
}

/// Retries quick enough for tests (10 ms doubling to 80 ms, 5 retries).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(80),
        max_retry_after: Duration::from_secs(5),
        jitter: true,
    }
}

/// What a case produced.
#[derive(Debug)]
pub struct Observed {
    /// The result of the generation.
    pub result: Result<Generation, Error>,
    /// Create requests the simulator saw.
    pub creates: usize,
    /// Create requests answered 2xx.
    pub accepted_creates: usize,
    /// Time to outcome.
    pub elapsed: Duration,
    /// Every request the simulator saw for the generation, in order.
    pub requests: Vec<RecordedRequest>,
    /// Bytes of poll-body fault bodies the simulator produced (`None` when
    /// its stats could not be read).
    pub fault_body_bytes: Option<u64>,
    /// The SDK panicked (the message); `result` then holds a stand-in error.
    pub panicked: Option<String>,
}

impl Observed {
    /// The outcome in the matrix's terms.
    pub fn outcome(&self) -> Expected {
        match &self.result {
            Ok(g) => Expected::Success(g.source()),
            Err(e) => Expected::Error(e.category()),
        }
    }
}

/// The verdict on one case.
#[derive(Debug)]
pub struct Verdict {
    /// The case.
    pub case: Case,
    /// What happened.
    pub observed: Observed,
    /// Every broken expectation (empty when the case passed).
    pub problems: Vec<String>,
}

fn case(name: &'static str, faults: Vec<FaultRule>, expected: Expected, creates: usize) -> Case {
    Case {
        name,
        faults,
        accepted_creates: match expected {
            Expected::Error(
                ErrorCategory::Transient | ErrorCategory::Validation | ErrorCategory::Auth,
            ) => 0,
            Expected::Error(ErrorCategory::InsufficientCredits) => 0,
            _ => 1,
        },
        expected,
        creates,
        budget: Duration::from_secs(15),
        at_least: Duration::ZERO,
        setup: Setup::default(),
        check: None,
    }
}

/// A 429 on the first create whose `Retry-After` is `value` (SSE budget 2 s,
/// retries capped at the fast policy's 5 s `max_retry_after`).
fn retry_after_case(name: &'static str, value: &str, expected: Expected, creates: usize) -> Case {
    let mut c = case(
        name,
        vec![FaultRule::times(
            Fault::RetryAfterValue {
                status: 429,
                value: value.to_string(),
            },
            1,
        )],
        expected,
        creates,
    );
    c.setup.sse_timeout = Duration::from_secs(2);
    c.budget = Duration::from_secs(2);
    c
}

/// A case whose SSE stream ends after the id, so the lifecycle polls, and
/// whose polls meet `fault`.
fn poll_body_case(
    name: &'static str,
    fault: Fault,
    expected: Expected,
    check: Option<Check>,
) -> Case {
    let mut c = case(
        name,
        vec![
            FaultRule::always(Fault::DropAfterId),
            FaultRule::always(fault),
        ],
        expected,
        1,
    );
    c.check = check;
    c
}

/// The body cap of the 1 GiB case: well above what socket buffers take in
/// before a client that refuses the body closes the connection (about
/// 4 MiB with Linux defaults), so the check below cannot mistake buffering
/// for reading.
const HUGE_CASE_CAP: usize = 64 * 1024 * 1024;

/// A declared length over the cap is refused before the body is read: the
/// simulator had to produce less than the cap (a client that read up to
/// the cap made it send at least that much).
fn refused_before_reading(o: &Observed) -> Result<(), String> {
    match o.fault_body_bytes {
        Some(n) if n < HUGE_CASE_CAP as u64 => Ok(()),
        Some(n) => Err(format!(
            "the simulator sent {n} bytes of the poll body: it was read, not refused for its declared length"
        )),
        None => Err("the simulator's stats could not be read".into()),
    }
}

/// An endless body is dropped near the cap: the simulator produced at most
/// the cap plus what socket buffers hold, far from its 256 MiB bound.
fn dropped_at_the_cap(o: &Observed) -> Result<(), String> {
    match o.fault_body_bytes {
        Some(n) if n < 4 * BODY_CAP as u64 => Ok(()),
        Some(n) => Err(format!(
            "the simulator sent {n} bytes of the endless body, far past the {BODY_CAP}-byte cap"
        )),
        None => Err("the simulator's stats could not be read".into()),
    }
}

/// The result keeps the first id the stream named: the simulator's job,
/// whose id its output file URLs carry (`.../files/{id}/output.png`).
fn first_id_kept(o: &Observed) -> Result<(), String> {
    let Ok(g) = &o.result else {
        return Ok(());
    };
    let id = g.id().ok_or("the result has no id")?;
    let urls = g.output_urls();
    let marker = format!("/files/{id}/");
    if !urls.is_empty() && urls.iter().all(|u| u.contains(&marker)) {
        Ok(())
    } else {
        Err(format!(
            "the result's id {id} is not the job the simulator accepted (outputs {urls:?})"
        ))
    }
}

/// The id was refused before it became a path: the simulator saw the
/// create and nothing else.
fn only_the_create(o: &Observed) -> Result<(), String> {
    let seen: Vec<String> = o
        .requests
        .iter()
        .filter(|r| r.kind != RouteKind::Control)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    if seen.len() == 1 && o.requests.iter().all(|r| r.kind != RouteKind::Poll) {
        Ok(())
    } else {
        Err(format!("requests after the create: {seen:?}"))
    }
}

/// Only the http(s) output is listed; the `file://` and `ftp://` ones are
/// reported as skipped, not dropped silently.
fn only_http_outputs(o: &Observed) -> Result<(), String> {
    let Ok(g) = &o.result else {
        return Ok(());
    };
    let urls = g.output_urls();
    let skipped: Vec<String> = g.skipped_outputs().into_iter().map(|s| s.url).collect();
    let http = urls.len() == 1 && urls[0].starts_with("http://");
    let reported = skipped == ["file:///etc/passwd", "ftp://example.com/a.png"];
    if http && reported {
        Ok(())
    } else {
        Err(format!("output_urls {urls:?}, skipped {skipped:?}"))
    }
}

fn always(f: Fault) -> Vec<FaultRule> {
    vec![FaultRule::always(f)]
}

/// Every case of the matrix.
pub fn cases() -> Vec<Case> {
    use Expected::{Error as E, Success as S};
    let mut out = vec![
        case("none (SSE happy path)", vec![], S(Source::Sse), 1),
        case(
            "drop before any event",
            always(Fault::DropBeforeEvent),
            E(ErrorCategory::Ambiguous),
            1,
        ),
        // The money rule's hardest case: the platform committed (and
        // charged) the job, and the answer never came. Resending could make
        // a second job, so it must be Ambiguous after exactly one create.
        case(
            "connection closed after accept, no answer",
            always(Fault::CloseBeforeAnswer),
            E(ErrorCategory::Ambiguous),
            1,
        ),
        case(
            "the same on the polling route (no SSE)",
            vec![
                FaultRule::always(Fault::NoSseRoute),
                FaultRule::always(Fault::CloseBeforeAnswer),
            ],
            E(ErrorCategory::Ambiguous),
            2,
        ),
        case(
            "drop after the id",
            always(Fault::DropAfterId),
            S(Source::Poll),
            1,
        ),
        case(
            "503 on the first 2 creates",
            vec![FaultRule::times(
                Fault::CreateStatus {
                    status: 503,
                    retry_after_secs: None,
                },
                2,
            )],
            S(Source::Sse),
            3,
        ),
        case(
            "500 on every create",
            always(Fault::CreateStatus {
                status: 500,
                retry_after_secs: None,
            }),
            E(ErrorCategory::Transient),
            6,
        ),
        case(
            "402 on create",
            always(Fault::CreateStatus {
                status: 402,
                retry_after_secs: None,
            }),
            E(ErrorCategory::InsufficientCredits),
            1,
        ),
        case(
            "422 on create",
            always(Fault::CreateStatus {
                status: 422,
                retry_after_secs: None,
            }),
            E(ErrorCategory::Validation),
            1,
        ),
        case(
            "503 on the first 2 polls",
            vec![
                FaultRule::always(Fault::DropAfterId),
                FaultRule::times(
                    Fault::PollStatus {
                        status: 503,
                        retry_after_secs: None,
                    },
                    2,
                ),
            ],
            S(Source::Poll),
            1,
        ),
        case(
            "slow first byte (300 ms)",
            always(Fault::SlowFirstByte { delay_ms: 300 }),
            S(Source::Sse),
            1,
        ),
        case(
            "malformed JSON frame",
            always(Fault::MalformedJson),
            S(Source::Sse),
            1,
        ),
        case(
            "missing final blank line",
            always(Fault::MissingBlankLine),
            S(Source::Sse),
            1,
        ),
        case("CRLF line ends", always(Fault::CrlfOnly), S(Source::Sse), 1),
        case("CR line ends", always(Fault::CrOnly), S(Source::Sse), 1),
        case("BOM at stream start", always(Fault::Bom), S(Source::Sse), 1),
        case(
            "multi-line data",
            always(Fault::MultilineData),
            S(Source::Sse),
            1,
        ),
        case(
            "unknown status string",
            always(Fault::UnknownStatus),
            S(Source::Sse),
            1,
        ),
        case(
            "oversized event (4 MiB, cap 1 MiB)",
            always(Fault::OversizedEvent {
                bytes: 4 * 1024 * 1024,
            }),
            S(Source::Poll),
            1,
        ),
        case(
            "outcome FAILED",
            always(Fault::Outcome {
                status: "FAILED".into(),
            }),
            E(ErrorCategory::Failed),
            1,
        ),
        case(
            "outcome CANCELED",
            always(Fault::Outcome {
                status: "CANCELED".into(),
            }),
            E(ErrorCategory::Failed),
            1,
        ),
        case(
            "no SSE route (404)",
            always(Fault::NoSseRoute),
            S(Source::Poll),
            2,
        ),
        case(
            "connection reset mid-body",
            always(Fault::ResetMidBody),
            S(Source::Poll),
            1,
        ),
        case(
            "alternative event shape",
            always(Fault::AltEventShape),
            S(Source::Sse),
            1,
        ),
    ];
    let mut retry_after = case(
        "429 with Retry-After: 1 on the first create",
        vec![FaultRule::times(
            Fault::CreateStatus {
                status: 429,
                retry_after_secs: Some(1),
            },
            1,
        )],
        S(Source::Sse),
        2,
    );
    retry_after.at_least = Duration::from_secs(1);
    out.push(retry_after);
    let mut stall = case(
        "stall with heartbeats only (SSE budget 1 s)",
        always(Fault::StallHeartbeats),
        S(Source::Poll),
        1,
    );
    stall.setup.sse_timeout = Duration::from_secs(1);
    stall.at_least = Duration::from_secs(1);
    out.push(stall);
    let mut poll_timeout = case(
        "job never ends (poll budget 1 s)",
        always(Fault::DropAfterId),
        E(ErrorCategory::Timeout),
        1,
    );
    poll_timeout.setup.step_delay = Duration::from_secs(60);
    poll_timeout.setup.poll_timeout = Duration::from_secs(1);
    out.push(poll_timeout);
    // A Retry-After longer than the SSE budget is not slept: the create
    // phase ends with the transient error naming the wait, and no create is
    // sent without time to read its answer (which would make it ambiguous).
    let mut long_retry_after = case(
        "429 with Retry-After: 60 on create (SSE budget 2 s)",
        vec![FaultRule::times(
            Fault::CreateStatus {
                status: 429,
                retry_after_secs: Some(60),
            },
            1,
        )],
        E(ErrorCategory::Transient),
        1,
    );
    long_retry_after.setup.sse_timeout = Duration::from_secs(2);
    long_retry_after.setup.retry.max_retry_after = Duration::from_secs(120);
    long_retry_after.budget = Duration::from_secs(3);
    out.push(long_retry_after);
    // The same during polling: the wait phase ends as a timeout with the id.
    let mut long_poll_retry_after = case(
        "503 with Retry-After: 60 on polls (poll budget 2 s)",
        vec![
            FaultRule::always(Fault::DropAfterId),
            FaultRule::always(Fault::PollStatus {
                status: 503,
                retry_after_secs: Some(60),
            }),
        ],
        E(ErrorCategory::Timeout),
        1,
    );
    long_poll_retry_after.setup.poll_timeout = Duration::from_secs(2);
    long_poll_retry_after.setup.retry.max_retry_after = Duration::from_secs(120);
    long_poll_retry_after.budget = Duration::from_secs(4);
    out.push(long_poll_retry_after);
    // Poll bodies: capped whole reads, and reads inside the poll budget.
    let mut huge_body = poll_body_case(
        "1 GiB poll body (declared length, cap 64 MiB)",
        Fault::HugePollBody { bytes: 1 << 30 },
        E(ErrorCategory::Decode),
        Some(refused_before_reading),
    );
    huge_body.setup.max_body_bytes = HUGE_CASE_CAP;
    out.push(huge_body);
    out.push(poll_body_case(
        "endless poll body (chunked, cap 8 MiB)",
        Fault::EndlessPollBody,
        E(ErrorCategory::Decode),
        Some(dropped_at_the_cap),
    ));
    let mut slow_body = poll_body_case(
        "poll body drips 1 byte/50 ms (poll budget 1 s)",
        Fault::SlowPollBody { delay_ms: 50 },
        E(ErrorCategory::Timeout),
        None,
    );
    slow_body.setup.poll_timeout = Duration::from_secs(1);
    slow_body.at_least = Duration::from_secs(1);
    // The poll budget plus one poll interval plus 1 s.
    slow_body.budget = Duration::from_millis(1000 + 50 + 1000);
    out.push(slow_body);
    // Retry-After extremes on the first create.
    let mut huge = retry_after_case(
        "429 with Retry-After: 1e300 (SSE budget 2 s)",
        "1e300",
        E(ErrorCategory::Transient),
        1,
    );
    huge.budget = Duration::from_secs(3);
    out.push(huge);
    out.push(retry_after_case(
        "429 with Retry-After: -5",
        "-5",
        S(Source::Sse),
        2,
    ));
    out.push(retry_after_case(
        "429 with Retry-After: a past date",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        S(Source::Sse),
        2,
    ));
    let mut fractional = retry_after_case("429 with Retry-After: 0.2", "0.2", S(Source::Sse), 2);
    fractional.at_least = Duration::from_millis(200);
    out.push(fractional);
    let mut far = retry_after_case(
        "429 with Retry-After: year 2100 (SSE budget 2 s)",
        "Fri, 01 Jan 2100 00:00:00 GMT",
        E(ErrorCategory::Transient),
        1,
    );
    far.budget = Duration::from_secs(3);
    out.push(far);
    // Ids.
    let mut id_change = case(
        "id changes mid-stream",
        always(Fault::IdChangesMidStream),
        S(Source::Sse),
        1,
    );
    id_change.check = Some(first_id_kept);
    out.push(id_change);
    for (name, id) in [
        ("first event names the id \"..\"", ".."),
        ("first event names an id with a BEL", "gen\u{7}1"),
    ] {
        let mut bad = case(
            name,
            always(Fault::BadId { id: id.into() }),
            E(ErrorCategory::Validation),
            1,
        );
        // The job was accepted (and charged); its id is refused, not polled.
        bad.accepted_creates = 1;
        bad.check = Some(only_the_create);
        out.push(bad);
    }
    let mut non_http = case(
        "file:// and ftp:// outputs",
        always(Fault::NonHttpOutputs),
        S(Source::Sse),
        1,
    );
    non_http.check = Some(only_http_outputs);
    out.push(non_http);
    let mut wrong_key = case("wrong API key", vec![], E(ErrorCategory::Auth), 1);
    wrong_key.setup.client_key = "sk-wrong";
    out.push(wrong_key);
    let mut broke = case(
        "no credits left",
        vec![],
        E(ErrorCategory::InsufficientCredits),
        1,
    );
    broke.setup.credits = 0.0;
    out.push(broke);
    out
}

/// Starts a simulator for a case.
pub async fn simulator(setup: &Setup, faults: Vec<FaultRule>) -> RunningSimulator {
    start(SimulatorConfig {
        api_key: KEY.into(),
        credits: setup.credits,
        step_delay: setup.step_delay,
        heartbeat_interval: setup.heartbeat,
        faults,
        ..SimulatorConfig::default()
    })
    .await
}

/// Starts a simulator like [`simulator`] that serves only `models` (ids),
/// on the embedded spec cut down to their routes: it compiles their request
/// schemas only, so it starts in milliseconds instead of seconds in a debug
/// build. Any other model is unknown to it (`404`), so a test that uses
/// another model fails instead of passing unchecked.
pub async fn simulator_serving(
    setup: &Setup,
    faults: Vec<FaultRule>,
    models: &[&str],
) -> RunningSimulator {
    start(SimulatorConfig {
        api_key: KEY.into(),
        credits: setup.credits,
        step_delay: setup.step_delay,
        heartbeat_interval: setup.heartbeat,
        faults,
        spec: skills_video_simulator::config::embedded_spec_serving(models),
        ..SimulatorConfig::default()
    })
    .await
}

async fn start(config: SimulatorConfig) -> RunningSimulator {
    match Simulator::start(config, ([127, 0, 0, 1], 0).into()).await {
        Ok(sim) => sim,
        Err(e) => panic!("the simulator did not start: {e:#}"),
    }
}

/// The model every case generates with.
pub const CASE_MODEL: &str = "google/nano-banana-pro";

/// The embedded spec cut down to the routes of [`CASE_MODEL`]: a simulator
/// that serves one model starts in milliseconds instead of seconds (it
/// compiles one request schema, not every model's).
fn case_spec() -> serde_json::Value {
    static SPEC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| skills_video_simulator::config::embedded_spec_serving(&[CASE_MODEL]))
        .clone()
}

/// Starts a simulator for one case of the matrix: [`simulator`] serving
/// only [`CASE_MODEL`].
pub async fn case_simulator(setup: &Setup, faults: Vec<FaultRule>) -> RunningSimulator {
    let config = SimulatorConfig {
        api_key: KEY.into(),
        credits: setup.credits,
        step_delay: setup.step_delay,
        heartbeat_interval: setup.heartbeat,
        faults,
        spec: case_spec(),
        ..SimulatorConfig::default()
    };
    match Simulator::start(config, ([127, 0, 0, 1], 0).into()).await {
        Ok(sim) => sim,
        Err(e) => panic!("the simulator did not start: {e:#}"),
    }
}

/// A client for a case's simulator.
pub fn client(sim: &RunningSimulator, setup: &Setup) -> Client {
    match builder(sim, setup).build() {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

/// The builder [`client`] builds, for a test that sets more (a deadline).
pub fn builder(sim: &RunningSimulator, setup: &Setup) -> skills_video::ClientBuilder {
    Client::builder()
        .api_key(setup.client_key)
        .base_url(sim.base_url())
        .sse_timeout(setup.sse_timeout)
        .poll_timeout(setup.poll_timeout)
        .poll_interval(Duration::from_millis(50))
        .request_timeout(Duration::from_secs(5))
        .max_event_bytes(setup.max_event_bytes)
        .max_body_bytes(setup.max_body_bytes)
        .retry_policy(setup.retry.clone())
}

/// Counts (all, accepted) create requests in the simulator's log.
pub fn create_counts(sim: &RunningSimulator) -> (usize, usize) {
    let log = sim.requests();
    let creates = log
        .iter()
        .filter(|r| matches!(r.kind, RouteKind::CreateSse | RouteKind::CreatePoll));
    let all: Vec<_> = creates.collect();
    let accepted = all
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .count();
    (all.len(), accepted)
}

/// The simulator's count of poll-body fault bytes (`GET _simulator/stats`).
pub async fn fault_body_bytes(sim: &RunningSimulator) -> Option<u64> {
    let stats: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/_simulator/stats", sim.base_url()))
        .bearer_auth(KEY)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    stats["fault_body_bytes"].as_u64()
}

/// Runs one case. The generation runs in its own task, so that an SDK
/// panic fails this case instead of the whole matrix.
pub async fn run(case: Case) -> Verdict {
    let sim = case_simulator(&case.setup, case.faults.clone()).await;
    let client = client(&sim, &case.setup);
    let started = Instant::now();
    let task = tokio::spawn(async move {
        client
            .images()
            .google_nano_banana_pro(GoogleNanoBananaProRequest::new(
                "a lighthouse at dusk, film photo",
            ))
            .await
    });
    let (result, panicked) = match task.await {
        Ok(result) => (result, None),
        Err(e) => {
            let message = match e.try_into_panic() {
                Ok(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into()),
                Err(e) => e.to_string(),
            };
            let stand_in = Error::Config(format!("the SDK panicked: {message}"));
            (Err(stand_in), Some(message))
        }
    };
    let elapsed = started.elapsed();
    let (creates, accepted_creates) = create_counts(&sim);
    let requests = sim.requests();
    let fault_body_bytes = fault_body_bytes(&sim).await;
    sim.shutdown().await;
    let observed = Observed {
        result,
        creates,
        accepted_creates,
        elapsed,
        requests,
        fault_body_bytes,
        panicked,
    };
    let mut problems = Vec::new();
    if let Some(message) = &observed.panicked {
        problems.push(format!("the SDK panicked: {message}"));
    }
    if observed.outcome() != case.expected {
        problems.push(format!(
            "outcome: expected {}, got {}",
            case.expected,
            describe(&observed.result)
        ));
    }
    if observed.creates != case.creates {
        problems.push(format!(
            "creates: expected {}, got {}",
            case.creates, observed.creates
        ));
    }
    if observed.accepted_creates > 1 || observed.accepted_creates != case.accepted_creates {
        problems.push(format!(
            "accepted creates: expected {}, got {}",
            case.accepted_creates, observed.accepted_creates
        ));
    }
    if elapsed > case.budget {
        problems.push(format!(
            "time: {elapsed:?} over the budget {:?}",
            case.budget
        ));
    }
    if elapsed < case.at_least {
        problems.push(format!(
            "time: {elapsed:?} under the required {:?}",
            case.at_least
        ));
    }
    if let Ok(g) = &observed.result {
        if g.output_urls().is_empty() {
            problems.push("terminal success without an output URL".into());
        }
        if !g.status().is_terminal() {
            problems.push(format!("non-terminal result {}", g.status()));
        }
    }
    if let Some(check) = case.check {
        if let Err(problem) = check(&observed) {
            problems.push(problem);
        }
    }
    Verdict {
        case,
        observed,
        problems,
    }
}

/// A short description of a result.
pub fn describe(result: &Result<Generation, Error>) -> String {
    match result {
        Ok(g) => format!("{} via {}", g.status(), g.source().as_str()),
        Err(e) => format!("error {}: {}", e.category().as_str(), e),
    }
}

/// How many cases [`run_all`] runs at once. Each case has its own
/// simulator and client, so cases are independent; most of a case's time is
/// a configured wait (a `Retry-After`, an SSE or poll budget), which
/// overlaps with the others' instead of adding up.
pub const CONCURRENT_CASES: usize = 8;

/// Runs every case, [`CONCURRENT_CASES`] at a time, and returns the
/// verdicts in the order of [`cases`].
pub async fn run_all() -> Vec<Verdict> {
    use futures::StreamExt;
    futures::stream::iter(cases())
        .map(run)
        .buffered(CONCURRENT_CASES)
        .collect()
        .await
}

/// The report: one line per case and a closing `N passed, M failed` line.
pub fn report(verdicts: &[Verdict]) -> String {
    let mut lines = vec![format!(
        "{:<48} {:<28} {:<40} {:>7} {:>9}",
        "fault", "expected", "observed", "creates", "time"
    )];
    for v in verdicts {
        let mark = if v.problems.is_empty() { "ok" } else { "FAIL" };
        let observed: String = describe(&v.observed.result).chars().take(40).collect();
        lines.push(format!(
            "{:<48} {:<28} {:<40} {:>7} {:>8.0?} {mark}",
            v.case.name,
            v.case.expected.to_string(),
            observed,
            v.observed.creates,
            v.observed.elapsed,
        ));
        for p in &v.problems {
            lines.push(format!("    {p}"));
        }
    }
    let failed = verdicts.iter().filter(|v| !v.problems.is_empty()).count();
    lines.push(format!(
        "{} passed, {} failed",
        verdicts.len() - failed,
        failed
    ));
    lines.join("\n")
}
