//! The fault matrix: each case starts a simulator with one fault, runs one
//! generation through the SDK's generated per-model function, and compares
//! the outcome, the number of create requests and the time with what the
//! runtime's rules promise.

use std::time::{Duration, Instant};

use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::{Client, Error, ErrorCategory, Generation, RetryPolicy, Source};
use skills_video_simulator::{
    Fault, FaultRule, RouteKind, RunningSimulator, Simulator, SimulatorConfig,
};

/// The API key every case uses.
pub const KEY: &str = "sk-matrix-test";

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
    let config = SimulatorConfig {
        api_key: KEY.into(),
        credits: setup.credits,
        step_delay: setup.step_delay,
        heartbeat_interval: setup.heartbeat,
        faults,
        ..SimulatorConfig::default()
    };
    match Simulator::start(config, ([127, 0, 0, 1], 0).into()).await {
        Ok(sim) => sim,
        Err(e) => panic!("the simulator did not start: {e:#}"),
    }
}

/// A client for a case's simulator.
pub fn client(sim: &RunningSimulator, setup: &Setup) -> Client {
    match Client::builder()
        .api_key(setup.client_key)
        .base_url(sim.base_url())
        .sse_timeout(setup.sse_timeout)
        .poll_timeout(setup.poll_timeout)
        .poll_interval(Duration::from_millis(50))
        .request_timeout(Duration::from_secs(5))
        .max_event_bytes(setup.max_event_bytes)
        .retry_policy(setup.retry.clone())
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
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

/// Runs one case.
pub async fn run(case: Case) -> Verdict {
    let sim = simulator(&case.setup, case.faults.clone()).await;
    let client = client(&sim, &case.setup);
    let started = Instant::now();
    let result = client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new(
            "a lighthouse at dusk, film photo",
        ))
        .await;
    let elapsed = started.elapsed();
    let (creates, accepted_creates) = create_counts(&sim);
    sim.shutdown().await;
    let observed = Observed {
        result,
        creates,
        accepted_creates,
        elapsed,
    };
    let mut problems = Vec::new();
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

/// Runs every case and returns the verdicts, in order.
pub async fn run_all() -> Vec<Verdict> {
    let mut out = Vec::new();
    for c in cases() {
        out.push(run(c).await);
    }
    out
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
