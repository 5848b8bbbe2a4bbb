//! The crash test: the `skills-video` CLI runs a set of generations against
//! the simulator (a step delay makes each take a while), several processes
//! sharing one ledger; some are killed with SIGKILL at random moments
//! (between intent and create, mid-stream, mid-poll, mid-download), some
//! `resume` runs are killed too, then `resume --retry-ambiguous` runs to the
//! end. From the simulator's request log and the ledger it counts duplicate
//! accepted creates, lost generations and corrupt or missing outputs.
//! Seeded (the seed is printed), bounded in time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use skills_video::ledger::{sha256_file, JobFilter, JobState, Ledger, SqliteLedger};
use skills_video_simulator::{RouteKind, Simulator, SimulatorConfig};

/// The model every chaos run generates with (the simulator serves only it).
const CHAOS_MODEL: &str = "google/nano-banana-pro";

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The `skills-video` binary.
    pub bin: PathBuf,
    /// The seed of every random choice.
    pub seed: u64,
    /// Generations to run (extra ones come on top when a kill is still owed
    /// after every planned generation has started).
    pub generations: usize,
    /// Generation processes to kill (at least; `resume` kills come on top).
    pub kills: usize,
    /// `resume` processes to kill before the last one.
    pub resume_kills: usize,
    /// Processes at once.
    pub concurrency: usize,
    /// The simulator's step delay.
    pub step_delay: Duration,
    /// Kills land uniformly in `0..kill_window` after a process starts.
    pub kill_window: Duration,
    /// The whole run's bound.
    pub time_limit: Duration,
}

impl ChaosConfig {
    /// Defaults for `bin` and `seed`: 50 generations, 12 kills.
    pub fn new(bin: PathBuf, seed: u64) -> Self {
        ChaosConfig {
            bin,
            seed,
            generations: 50,
            kills: 12,
            resume_kills: 2,
            concurrency: 4,
            step_delay: Duration::from_millis(120),
            kill_window: Duration::from_millis(900),
            time_limit: Duration::from_secs(240),
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// Generations intended, extra ones that carried an owed kill included.
    pub generations: usize,
    /// Processes killed, by what the ledger said right after the kill.
    pub kills: BTreeMap<&'static str, usize>,
    /// Create requests the simulator saw (replays included).
    pub create_requests: usize,
    /// Jobs the simulator created (paid).
    pub jobs_created: usize,
    /// Idempotency keys that paid for more than one job.
    pub duplicate_accepted_creates: usize,
    /// Intended generations that did not end terminal.
    pub lost: usize,
    /// Outputs missing, unrecorded or failing their SHA-256.
    pub corrupt_or_missing_outputs: usize,
    /// Generations `resume` re-sent with their own key (ambiguous after a kill).
    pub resent: usize,
    /// Generations never journaled (killed before the intent) and run again.
    pub rerun_never_sent: usize,
    /// Keys that reached the simulator without an intent in the ledger (must be 0).
    pub sent_without_intent: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl ChaosReport {
    /// Kills in all.
    pub fn total_kills(&self) -> usize {
        self.kills.values().sum()
    }

    /// One block of figures.
    pub fn render(&self) -> String {
        let mut s = format!(
            "chaos seed {}: {} generations, {} kills in {:.1}s\n",
            self.seed,
            self.generations,
            self.total_kills(),
            self.elapsed.as_secs_f64()
        );
        for (phase, n) in &self.kills {
            s.push_str(&format!("  killed {phase}: {n}\n"));
        }
        s.push_str(&format!(
            "  create requests {}, jobs created {}, re-sent with the same key {}, never sent and run again {}\n",
            self.create_requests, self.jobs_created, self.resent, self.rerun_never_sent
        ));
        s.push_str(&format!(
            "  duplicate accepted creates {}, lost {}, corrupt or missing outputs {}, sent without intent {}",
            self.duplicate_accepted_creates, self.lost, self.corrupt_or_missing_outputs, self.sent_without_intent
        ));
        s
    }

    /// All the zeros the rules require.
    pub fn ok(&self) -> bool {
        self.duplicate_accepted_creates == 0
            && self.lost == 0
            && self.corrupt_or_missing_outputs == 0
            && self.sent_without_intent == 0
    }
}

fn command(config: &ChaosConfig, base: &str, ledger: &Path) -> Command {
    let mut c = Command::new(&config.bin);
    c.env_remove("SKILLS_VIDEO_API_KEY")
        .env_remove("SKILLS_VIDEO_BASE_URL")
        .env_remove("SKILLS_VIDEO_LEDGER")
        .env("NO_COLOR", "1")
        .arg("--base-url")
        .arg(base)
        .arg("--api-key")
        .arg("sk-chaos")
        .arg("--ledger")
        .arg(ledger)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn phase_of(ledger: &Path, key: &str) -> &'static str {
    let Ok(l) = SqliteLedger::open(ledger) else {
        return "ledger unreadable";
    };
    match l.find(key).ok().flatten() {
        None => "before the intent",
        Some(j) if j.generation_id.is_none() => "after the intent, before the id",
        Some(j) if j.state != JobState::Terminal => "after the id (stream or poll)",
        Some(j) if j.outputs.len() < j.output_urls.len() => "mid-download",
        Some(_) => "after the end",
    }
}

/// Runs the crash test.
pub fn run(config: &ChaosConfig) -> Result<ChaosReport, String> {
    let started = Instant::now();
    let deadline = started + config.time_limit;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let sim_config = SimulatorConfig {
        api_key: "sk-chaos".into(),
        step_delay: config.step_delay,
        credits: 1e9,
        // Only the model the runs generate with: the simulator compiles a
        // request validator per served model (seconds for the catalog).
        spec: skills_video_simulator::config::embedded_spec_serving(&[CHAOS_MODEL]),
        ..SimulatorConfig::default()
    };
    let sim = rt
        .block_on(Simulator::start(sim_config, "127.0.0.1:0".parse().unwrap()))
        .map_err(|e| e.to_string())?;
    let base = sim.base_url();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let ledger = dir.path().join("ledger.sqlite3");
    let out = dir.path().join("out");
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let mut report = ChaosReport {
        seed: config.seed,
        generations: config.generations,
        ..Default::default()
    };

    let key_of = |i: usize| format!("chaos-{}-{i}", config.seed);
    let mut keys: Vec<String> = (0..config.generations).map(key_of).collect();
    let mut to_kill = BTreeSet::new();
    // Marked among the first three quarters, so that a kill owed by a process
    // that ended before its moment still finds a later one.
    let candidates = (config.generations * 3 / 4).max(1);
    while to_kill.len() < config.kills.min(candidates) {
        to_kill.insert(rng.gen_range(0..candidates));
    }
    let generate = |i: usize, key: &str| -> Result<Child, String> {
        command(config, &base, &ledger)
            .args([
                "generate",
                CHAOS_MODEL,
                "--poll-interval",
                "0.05",
                "--idempotency-key",
                key,
                "--prompt",
            ])
            .arg(format!("chaos {i}"))
            .arg("--out")
            .arg(&out)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", config.bin.display()))
    };

    // Phase 1: every generation once, some killed.
    let mut next = 0;
    let mut owed = 0usize;
    // Kills still owed when every planned generation has started are paid by
    // extra generations (at most this many), so the run delivers its kills
    // even when the simulator finishes generations faster than the window.
    let mut extra_left = config.kills * 4;
    let mut running: Vec<(usize, Child, Option<Instant>)> = Vec::new();
    while next < keys.len() || !running.is_empty() || (owed > 0 && extra_left > 0) {
        if next == keys.len() && owed > 0 && extra_left > 0 {
            extra_left -= 1;
            keys.push(key_of(keys.len()));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "seed {}: over the time limit in the generate phase",
                config.seed
            ));
        }
        while running.len() < config.concurrency && next < keys.len() {
            // A kill owed by a process that ended before its moment moves to this one.
            let planned = to_kill.contains(&next);
            let paid_forward = !planned && owed > 0 && {
                owed -= 1;
                true
            };
            let kill_at = (planned || paid_forward).then(|| {
                // A quarter early (start-up, intent, create), the rest anywhere
                // in the window; a kill carried forward lands early, since its
                // first target already outlived the window.
                let window = config.kill_window.as_millis() as u64;
                let early = 200.min(window).max(61);
                let ms = match (paid_forward, rng.gen_range(0..4)) {
                    (_, 0) => rng.gen_range(0..60),
                    (true, _) | (false, 1) => rng.gen_range(60..early),
                    _ => rng.gen_range(0..window.max(1)),
                };
                Instant::now() + Duration::from_millis(ms)
            });
            running.push((next, generate(next, &keys[next])?, kill_at));
            next += 1;
        }
        let mut i = 0;
        while i < running.len() {
            let (key_index, child, kill_at) = &mut running[i];
            if kill_at.is_some_and(|t| Instant::now() >= t) {
                let _ = child.kill();
                let _ = child.wait();
                *report
                    .kills
                    .entry(phase_of(&ledger, &keys[*key_index]))
                    .or_default() += 1;
                running.swap_remove(i);
                continue;
            }
            if let Ok(Some(_)) = child.try_wait() {
                if kill_at.is_some() {
                    owed += 1;
                }
                running.swap_remove(i);
                continue;
            }
            i += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    report.generations = keys.len();

    // Phase 2: `resume` runs, killed at random moments.
    for _ in 0..config.resume_kills {
        let mut child = command(config, &base, &ledger)
            .args(["resume", "--interval", "0.05"])
            .spawn()
            .map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..400)));
        let _ = child.kill();
        let _ = child.wait();
        *report.kills.entry("resume").or_default() += 1;
    }

    // Phase 3: generations killed before their intent were never sent (checked
    // below against the simulator's log): the user runs them again.
    let journaled: BTreeSet<String> = SqliteLedger::open(&ledger)
        .map_err(|e| e.to_string())?
        .jobs(JobFilter::All)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|j| j.idempotency_key)
        .collect();
    let creates_by_key = |sim: &skills_video_simulator::RunningSimulator| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in sim.requests() {
            if matches!(r.kind, RouteKind::CreateSse | RouteKind::CreatePoll) {
                if let Some(k) = r.idempotency_key {
                    *m.entry(k).or_default() += 1;
                }
            }
        }
        m
    };
    let seen = creates_by_key(&sim);
    report.sent_without_intent = seen.keys().filter(|k| !journaled.contains(*k)).count();
    for (i, key) in keys.iter().enumerate() {
        if !journaled.contains(key) {
            report.rerun_never_sent += 1;
            let status = generate(i, key)?.wait().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!(
                    "seed {}: the re-run of {key} failed ({status})",
                    config.seed
                ));
            }
        }
    }

    // Phase 4: resume to the end, re-sending ambiguous ones with their key.
    let before = SqliteLedger::open(&ledger)
        .map_err(|e| e.to_string())?
        .jobs(JobFilter::Unfinished)
        .map_err(|e| e.to_string())?;
    report.resent = before.iter().filter(|j| j.generation_id.is_none()).count();
    let mut last = None;
    for _ in 0..3 {
        if Instant::now() > deadline {
            return Err(format!(
                "seed {}: over the time limit in the resume phase",
                config.seed
            ));
        }
        let status = command(config, &base, &ledger)
            .args(["resume", "--retry-ambiguous", "--interval", "0.05"])
            .status()
            .map_err(|e| e.to_string())?;
        last = Some(status);
        if status.success() {
            break;
        }
    }
    if !last.is_some_and(|s| s.success()) {
        return Err(format!(
            "seed {}: the final resume failed ({last:?})",
            config.seed
        ));
    }

    // The figures, from the simulator's log and the ledger.
    let seen = creates_by_key(&sim);
    report.create_requests = seen.values().sum();
    report.jobs_created = sim.job_count();
    // Each intended key that reached the simulator paid for one job at most
    // (the simulator replays a known key's job), and no other key paid at
    // all: every job beyond one per intended key is a duplicate.
    let intended: BTreeSet<&String> = keys.iter().collect();
    let paid_keys = seen.keys().filter(|k| intended.contains(k)).count();
    report.duplicate_accepted_creates = report.jobs_created.saturating_sub(paid_keys);
    let l = SqliteLedger::open(&ledger).map_err(|e| e.to_string())?;
    for key in &keys {
        let Some(job) = l.find(key).map_err(|e| e.to_string())? else {
            report.lost += 1;
            continue;
        };
        if job.state != JobState::Terminal || job.status != "COMPLETED" {
            report.lost += 1;
            continue;
        }
        for url in &job.output_urls {
            let ok = job.outputs.iter().find(|o| &o.url == url).is_some_and(|o| {
                matches!(sha256_file(&o.path), Ok((size, sha)) if size == o.size && sha == o.sha256)
            });
            if !ok {
                report.corrupt_or_missing_outputs += 1;
            }
        }
    }
    report.elapsed = started.elapsed();
    drop(sim);
    Ok(report)
}
