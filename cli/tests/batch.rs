//! `skills-video batch JOBS.jsonl --out DIR` against the simulator on
//! 127.0.0.1 (real HTTP, a private ledger under a temp XDG_STATE_HOME):
//! - 1,000 jobs complete with exactly 1,000 creates and every output
//!   saved; re-running the command sends nothing and reports it finished;
//! - SIGKILL halfway, then re-run: no line's create is sent by two runs,
//!   no job is lost (from the simulator's request log and job store);
//! - malformed files (bad JSON, unknown model, invalid inputs on several
//!   lines, an empty file, a 100 MB line) are reported with their line
//!   numbers and nothing is sent;
//! - a 402 mid-batch stops new creates (in-flight jobs finish, the rest
//!   stay queued), and a re-run after "recharging" finishes the batch;
//! - a 429 pauses the whole batch; an auth error stops everything;
//! - `--max-rps` holds for every request, the polls of streams that end
//!   early included;
//! - an ambiguous job is reported, and re-sent (same key) only on request.
//!
//! Money rule: replacing the per-line idempotency key by a fresh one per run
//! makes the SIGKILL test fail (450 jobs for 300 lines), and so does
//! re-creating (instead of polling) the jobs whose id is known (re-sent keys).

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{run, Sim, KEY};
use serde_json::{json, Value};
use skills_video_simulator::{Fault, FaultRule, RouteKind};

const MODEL: &str = "google/nano-banana-pro";

/// A simulator with fast jobs and credits for every test.
fn sim(step_ms: u64, credits: f64) -> Sim {
    Sim::with(|c| {
        c.step_delay = Duration::from_millis(step_ms);
        c.progress_steps = 1;
        c.credits = credits;
    })
}

/// `n` jobs, named `job N`.
fn write_jobs(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("jobs.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 1..=n {
        let line = json!({"model": MODEL, "input": {"prompt": format!("a cat, take {i}")}, "name": format!("job {i}")});
        writeln!(f, "{line}").unwrap();
    }
    f.flush().unwrap();
    path
}

/// The batch command with a private ledger, fast polling and the test's flags.
fn batch_cmd(sim: &Sim, state: &Path, jobs: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = sim.cmd();
    c.env("XDG_STATE_HOME", state)
        .arg("--json")
        .arg("batch")
        .arg(jobs)
        .arg("--out")
        .arg(out)
        .args(["--poll-interval", "0.05"]);
    c
}

/// Every stream ends right after its id, and every poll answers `status`:
/// each job is created, its id known, and it never finishes.
fn ids_then_polls_answer(status: u16) -> Vec<FaultRule> {
    vec![
        FaultRule::always(Fault::DropAfterId),
        FaultRule::always(Fault::PollStatus {
            status,
            retry_after_secs: None,
        }),
    ]
}

fn results(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn statuses(results: &[Value]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in results {
        *m.entry(r["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn batch_end(r: &common::Run) -> Value {
    r.lines()
        .into_iter()
        .rev()
        .find(|l| l["event"] == "batch_end")
        .unwrap_or_else(|| panic!("no batch_end:\n{}\n{}", r.stdout, r.stderr))
}

/// The idempotency keys of the create requests the simulator logged.
fn create_keys(sim: &Sim) -> Vec<String> {
    sim.sim
        .requests()
        .into_iter()
        .filter(|r| matches!(r.kind, RouteKind::CreateSse | RouteKind::CreatePoll))
        .map(|r| r.idempotency_key.unwrap_or_default())
        .collect()
}

/// Every line completed with one saved file that exists, one output each.
fn assert_all_saved(out: &Path, n: usize) {
    let rs = results(out);
    assert_eq!(rs.len(), n);
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(r["line"], i + 1);
        assert_eq!(r["status"], "completed", "{r}");
        let files = r["files"].as_array().unwrap();
        assert_eq!(files.len(), 1, "{r}");
        let f = Path::new(files[0].as_str().unwrap());
        assert!(f.is_file(), "{r}");
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(name.starts_with(&format!("job_{}", i + 1)), "{name}");
    }
    // The outputs and results.jsonl, nothing else (no staging left over).
    let recorded: HashSet<String> = rs
        .iter()
        .map(|r| r["files"][0].as_str().unwrap().to_string())
        .collect();
    let extra: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| !recorded.contains(p) && !p.ends_with("results.jsonl"))
        .collect();
    assert!(extra.is_empty(), "files not in results.jsonl: {extra:?}");
}

#[test]
fn a_thousand_jobs_complete_with_one_create_each_and_a_rerun_sends_nothing() {
    let sim = sim(5, 1e9);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 1000);
    let started = Instant::now();
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args([
        "--concurrency",
        "64",
        "--max-streams",
        "16",
    ]));
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    eprintln!("1,000 jobs in {:?}", started.elapsed());
    assert_eq!(sim.creates(), 1000);
    assert_eq!(sim.sim.job_count(), 1000);
    let keys: HashSet<String> = create_keys(&sim).into_iter().collect();
    assert_eq!(keys.len(), 1000);
    let end = batch_end(&r);
    assert_eq!(end["counts"]["completed"], 1000, "{end}");
    assert_eq!(end["creates"], 1000);
    assert!(end["peak_in_flight"].as_u64().unwrap() <= 64, "{end}");
    assert_all_saved(&out, 1000);
    // Both routes were used: 16 streams at most, the rest through the scheduler.
    let polling = sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.kind == RouteKind::CreatePoll)
        .count();
    assert!(polling > 0, "no create went through the poll scheduler");

    // The same command again: nothing sent, everything reported finished.
    let before = sim.sim.requests().len();
    let r = run(&mut batch_cmd(&sim, &state, &jobs, &out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sim.sim.requests().len(), before, "the re-run sent requests");
    let end = batch_end(&r);
    assert_eq!(end["from_earlier_run"], 1000, "{end}");
    assert_eq!(end["creates"], 0);
    assert_all_saved(&out, 1000);
    // In human mode it says so.
    let mut c = sim.cmd();
    c.env("XDG_STATE_HOME", &state)
        .arg("batch")
        .arg(&jobs)
        .arg("--out")
        .arg(&out);
    let r = run(&mut c);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("all 1000 job(s) were already finished"),
        "{}",
        r.stdout
    );
    assert_eq!(sim.sim.requests().len(), before);
}

#[test]
fn killed_halfway_and_rerun_no_create_is_sent_twice_and_no_job_is_lost() {
    let n = 300;
    let sim = sim(60, 1e9);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), n);
    let bin = assert_cmd::cargo::cargo_bin("skills-video");
    let mut child = std::process::Command::new(&bin)
        .env_remove("SKILLS_VIDEO_API_KEY")
        .env_remove("SKILLS_VIDEO_BASE_URL")
        .env_remove("SKILLS_VIDEO_LEDGER")
        .env("XDG_STATE_HOME", &state)
        .args([
            "--base-url",
            &sim.sim.base_url(),
            "--api-key",
            KEY,
            "--json",
        ])
        .arg("batch")
        .arg(&jobs)
        .arg("--out")
        .arg(&out)
        .args([
            "--concurrency",
            "24",
            "--max-streams",
            "8",
            "--poll-interval",
            "0.05",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.creates() < n / 2 {
        assert!(Instant::now() < deadline, "the batch never got halfway");
        assert!(child.try_wait().unwrap().is_none(), "the batch ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first: Vec<String> = create_keys(&sim);
    let first_set: HashSet<&String> = first.iter().collect();
    assert_eq!(first.len(), first_set.len(), "run 1 sent a key twice");
    assert!(first.len() < n, "killed too late: {} creates", first.len());

    // Re-run: continues; never re-sends a create an earlier run sent.
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "24"]));
    let end = batch_end(&r);
    let all = create_keys(&sim);
    let second = &all[first.len()..];
    let resent: Vec<&String> = second.iter().filter(|k| first_set.contains(k)).collect();
    assert!(resent.is_empty(), "re-sent creates: {resent:?}");
    // Never a second job for a line: at most one job per line on the platform.
    assert!(
        sim.sim.job_count() <= n,
        "{} jobs on the platform for {n} lines",
        sim.sim.job_count()
    );
    let ambiguous = end["counts"]["ambiguous"].as_u64().unwrap() as usize;
    assert_eq!(
        r.code,
        if ambiguous > 0 { 3 } else { 0 },
        "{}\n{end}",
        r.stderr
    );
    assert_eq!(
        end["counts"]["completed"].as_u64().unwrap() as usize + ambiguous,
        n,
        "{end}"
    );
    assert!(end["from_earlier_run"].as_u64().unwrap() > 0, "{end}");
    // Ambiguous jobs (an intent with no id when the kill came) are re-sent
    // only on request, with their own key: the platform deduplicates them.
    if ambiguous > 0 {
        let r = run(batch_cmd(&sim, &state, &jobs, &out).arg("--retry-ambiguous"));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let third = create_keys(&sim).len() - all.len();
        assert_eq!(third, ambiguous);
    }
    // 0 duplicate creates, 0 lost jobs: one job per line on the platform,
    // one accepted key per line, every line completed with its file.
    assert_eq!(sim.sim.job_count(), n, "jobs on the platform");
    let keys: HashSet<String> = create_keys(&sim).into_iter().collect();
    assert_eq!(keys.len(), n);
    assert_all_saved(&out, n);
    eprintln!(
        "killed after {} creates; re-run sent {}; ambiguous {ambiguous}",
        first.len(),
        second.len()
    );
}

#[test]
fn malformed_files_are_reported_by_line_and_nothing_is_sent() {
    let sim = sim(5, 1e9);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");

    // Bad JSON, an unknown model, invalid input on two lines, among good lines.
    let mixed = dir.path().join("mixed.jsonl");
    std::fs::write(
        &mixed,
        [
            json!({"model": MODEL, "input": {"prompt": "ok"}}).to_string(),
            "{\"model\": \"google/nano-banana-pro\", \"input\": {\"prompt\": ".to_string(),
            json!({"model": "google/nano-banana-prp", "input": {"prompt": "x"}}).to_string(),
            json!({"model": MODEL, "input": {"promt": "x"}}).to_string(),
            String::new(),
            json!({"model": MODEL, "input": {"prompt": "x", "aspect_ratio": "7:5", "resolution": 3}}).to_string(),
            json!({"model": MODEL, "input": {"prompt": "fine"}}).to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    let r = run(&mut batch_cmd(&sim, &state, &mixed, &out));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let err = r.last();
    assert_eq!(err["event"], "error");
    assert_eq!(err["bad_lines"], 4, "{err}");
    let lines: Vec<u64> = err["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 4, 6], "{err}");
    let text = err["violations"].to_string();
    assert!(
        text.contains("did you mean google/nano-banana-pro"),
        "{text}"
    );
    assert!(text.contains("promt"), "{text}");
    assert!(
        text.contains("aspect_ratio") && text.contains("resolution"),
        "{text}"
    );
    // Human mode: one line per problem, with its number.
    let mut c = sim.cmd();
    c.env("XDG_STATE_HOME", &state)
        .arg("batch")
        .arg(&mixed)
        .arg("--out")
        .arg(&out);
    let h = run(&mut c);
    assert_eq!(h.code, 1);
    for n in [2, 3, 4, 6] {
        assert!(
            h.stderr.contains(&format!("\n  - line {n}: ")),
            "{}",
            h.stderr
        );
    }
    assert!(h.stderr.contains("nothing was sent"), "{}", h.stderr);

    // An empty file, and one with blank lines only.
    for (name, text) in [("empty.jsonl", ""), ("blank.jsonl", "\n  \n\n")] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let r = run(&mut batch_cmd(&sim, &state, &p, &out));
        assert_eq!(r.code, 1);
        assert!(
            r.last()["message"].as_str().unwrap().contains("has no job"),
            "{}",
            r.stdout
        );
    }

    // A 100 MB line: reported from its length, never read whole.
    let huge = dir.path().join("huge.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge).unwrap());
        writeln!(f, "{}", json!({"model": MODEL, "input": {"prompt": "ok"}})).unwrap();
        f.write_all(b"{\"model\": \"google/nano-banana-pro\", \"input\": {\"prompt\": \"")
            .unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&block).unwrap();
        }
        f.write_all(b"\"}}\n").unwrap();
        f.flush().unwrap();
    }
    let started = Instant::now();
    let r = run(&mut batch_cmd(&sim, &state, &huge, &out));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let err = r.last();
    let v = &err["violations"][0];
    assert_eq!(v["line"], 2, "{err}");
    assert_eq!(v["problem"], "too_long");
    assert!(
        v["message"].as_str().unwrap().contains("--max-line-bytes"),
        "{v}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));

    assert_eq!(sim.creates(), 0, "a create was sent");
    assert!(sim.sim.requests().is_empty(), "a request was sent");
    assert!(!out.join("results.jsonl").exists());
}

#[test]
fn a_402_mid_batch_stops_new_creates_and_a_rerun_after_recharging_finishes() {
    // 10 credits for 30 jobs: the 11th create is refused with 402.
    let concurrency = 4;
    let sim = sim(20, 10.0);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 30);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "4"]));
    assert_eq!(r.code, 20, "{}\n{}", r.stderr, r.stdout);
    let end = batch_end(&r);
    assert_eq!(end["stopped"], "credits", "{end}");
    assert_eq!(end["counts"]["completed"], 10, "{end}");
    assert_eq!(end["counts"]["queued"], 20, "{end}");
    assert!(end["resume_command"].as_str().unwrap().contains("batch"));
    // Only the creates already under way when the first 402 came were sent.
    let refused = sim
        .sim
        .requests()
        .iter()
        .filter(|r| r.status == 402)
        .count();
    assert!(
        refused >= 1 && refused <= concurrency,
        "{refused} refused creates"
    );
    assert_eq!(sim.creates(), 10 + refused);
    assert_eq!(statuses(&results(&out))["queued"], 20);
    // Human mode says how many and how to resume.
    let mut c = sim.cmd();
    c.env("XDG_STATE_HOME", &state)
        .arg("batch")
        .arg(&jobs)
        .arg("--out")
        .arg(&out)
        .args(["--concurrency", "1"]);
    let h = run(&mut c);
    assert_eq!(h.code, 20);
    assert!(
        h.stdout.contains("20 job(s) not sent") && h.stdout.contains("Recharge"),
        "{}",
        h.stdout
    );
}

#[test]
fn a_rerun_after_a_402_sends_only_what_was_not_accepted() {
    // "Recharging": the simulator refuses one create with 402, then accepts.
    let sim = sim(20, 1e9);
    sim.faults(vec![FaultRule::times(
        Fault::CreateStatus {
            status: 402,
            retry_after_secs: None,
        },
        1,
    )]);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 20);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "1"]));
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert_eq!(sim.creates(), 1);
    assert_eq!(batch_end(&r)["counts"]["queued"], 20);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "8"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The refused create is sent again (nothing was charged), once.
    assert_eq!(sim.creates(), 21);
    assert_eq!(sim.sim.job_count(), 20);
    assert_all_saved(&out, 20);
}

#[test]
fn a_429_pauses_the_whole_batch_not_only_its_job() {
    let sim = sim(5, 1e9);
    sim.faults(vec![FaultRule::times(
        Fault::CreateStatus {
            status: 429,
            retry_after_secs: Some(1),
        },
        1,
    )]);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 8);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "2"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let end = batch_end(&r);
    assert_eq!(end["throttled"], 1, "{end}");
    assert_all_saved(&out, 8);
    // While the 429's Retry-After runs, no other job's create is sent: the
    // refused job's retry comes before (or with) the next new job's create.
    let log: Vec<(String, u16)> = sim
        .sim
        .requests()
        .into_iter()
        .filter(|r| matches!(r.kind, RouteKind::CreateSse | RouteKind::CreatePoll))
        .map(|r| (r.idempotency_key.unwrap_or_default(), r.status))
        .collect();
    let refused = log.iter().position(|(_, s)| *s == 429).unwrap();
    let key = &log[refused].0;
    let retry = log
        .iter()
        .skip(refused + 1)
        .position(|(k, _)| k == key)
        .unwrap();
    assert!(
        retry <= 2,
        "{retry} creates went out during the pause: {log:?}"
    );
}

/// `--max-rps` holds for every request of a batch, the polls of jobs whose
/// stream ended early included: those jobs go to the poll scheduler, whose
/// polls take a slot each. (The SDK's own fall-back polling, which they
/// used before, took none: with it, 61 of the batch's 72 requests arrived
/// within one second against the 10 allowed.)
#[test]
fn max_rps_holds_for_the_polls_of_streams_that_end_early() {
    const RPS: u64 = 10;
    const JOBS: usize = 12;
    let sim = sim(100, 1e9);
    sim.faults(vec![FaultRule::always(Fault::DropAfterId)]);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), JOBS);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args([
        "--concurrency",
        "12",
        "--max-rps",
        &RPS.to_string(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_all_saved(&out, JOBS);
    let requests = sim.sim.requests();
    let polls = requests
        .iter()
        .filter(|r| r.kind == RouteKind::Poll)
        .count();
    assert!(
        polls >= JOBS,
        "every stream ended early, so every job was polled: {polls} polls"
    );
    assert_eq!(create_keys(&sim).len(), JOBS, "one create per job");
    // A slot every 1/RPS s allows RPS a second; 5 more allow for requests a
    // busy machine held back for up to half a second, which then arrive
    // together.
    let worst = most_within_one_second(&sim);
    assert!(
        worst as u64 <= RPS + 5,
        "{worst} requests within one second with --max-rps {RPS} ({} requests)",
        requests.len()
    );
}

/// The most creates and polls the simulator received within any one second.
fn most_within_one_second(sim: &Sim) -> usize {
    let mut times: Vec<u64> = sim
        .sim
        .requests()
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                RouteKind::CreateSse | RouteKind::CreatePoll | RouteKind::Poll
            )
        })
        .map(|r| r.received_us)
        .collect();
    times.sort_unstable();
    (0..times.len())
        .map(|i| times[i..].partition_point(|t| *t < times[i] + 1_000_000))
        .max()
        .unwrap_or(0)
}

/// Retried creates go out after the SDK's backoff, and each must land on
/// its own slot of `--max-rps`. The first 10 jobs' creates (one model, slots
/// 0-0.9 s) are answered 503 with `Retry-After: 3`, the next 10's (another
/// model, slots 1-1.9 s) with `Retry-After: 2`: both groups' backoffs end
/// at 3-3.9 s. Were a retry to take the next free slot (2-3.9 s) whatever
/// its backoff, all 20 would go out then; on slots at least the backoff
/// away they go out at 3-4.9 s, 10 a second.
#[test]
fn max_rps_holds_for_creates_retried_after_different_backoffs() {
    const RPS: u64 = 10;
    const GROUP: usize = 10;
    const SLOW: &str = "google/nano-banana-pro";
    const FAST: &str = "bytedance/seedream-4.5";
    let sim = sim(100, 1e9);
    let unavailable = |secs| Fault::CreateStatus {
        status: 503,
        retry_after_secs: Some(secs),
    };
    sim.faults(vec![
        FaultRule::times(unavailable(3), GROUP as u32).for_model(SLOW),
        FaultRule::times(unavailable(2), GROUP as u32).for_model(FAST),
    ]);
    let dir = common::tempdir();
    let jobs = dir.path().join("jobs.jsonl");
    let lines: Vec<String> = (0..2 * GROUP)
        .map(|i| {
            let model = if i < GROUP { SLOW } else { FAST };
            json!({"model": model, "input": {"prompt": format!("a cat, take {i}")}, "name": format!("job {}", i + 1)})
                .to_string()
        })
        .collect();
    std::fs::write(&jobs, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");
    let r = run(
        batch_cmd(&sim, &dir.path().join("state"), &jobs, &out).args([
            "--concurrency",
            &(2 * GROUP).to_string(),
            "--max-rps",
            &RPS.to_string(),
        ]),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert_all_saved(&out, 2 * GROUP);
    let keys = create_keys(&sim);
    assert_eq!(
        keys.len(),
        4 * GROUP,
        "each job created twice: refused, then accepted"
    );
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        2 * GROUP,
        "a retry keeps its job's idempotency key"
    );
    let worst = most_within_one_second(&sim);
    assert!(
        worst as u64 <= RPS + 5,
        "{worst} requests within one second with --max-rps {RPS}"
    );
}

#[test]
fn an_auth_error_stops_everything() {
    let sim = sim(5, 1e9);
    let dir = common::tempdir();
    let jobs = write_jobs(dir.path(), 20);
    let mut c = common::bin();
    c.env("XDG_STATE_HOME", dir.path().join("state"))
        .args([
            "--base-url",
            &sim.sim.base_url(),
            "--api-key",
            "sk-wrong",
            "--json",
        ])
        .arg("batch")
        .arg(&jobs)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--concurrency", "3"]);
    let r = run(&mut c);
    assert_eq!(r.code, 21, "{}", r.stdout);
    let end = batch_end(&r);
    assert_eq!(end["stopped"], "auth", "{end}");
    assert_eq!(end["counts"]["queued"], 20, "{end}");
    assert!(sim.creates() <= 3, "{} creates", sim.creates());
}

/// `--max-streams N`: of the jobs launched together, exactly the first N
/// hold an SSE stream; the others are created on the polling route (the
/// bound on open streams, which cost a connection each). (Mutations
/// tried: `streams < max_streams` made `<=`, one stream too many; the
/// `no_sse: !stream` negation deleted, the routes swapped.)
#[test]
fn max_streams_bounds_the_jobs_created_over_sse() {
    // Slow jobs: none ends before all six are launched.
    let sim = sim(400, 1e9);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 6);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args([
        "--concurrency",
        "6",
        "--max-streams",
        "2",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let creates = |kind: RouteKind| sim.sim.requests().iter().filter(|q| q.kind == kind).count();
    assert_eq!(
        (
            creates(RouteKind::CreateSse),
            creates(RouteKind::CreatePoll)
        ),
        (2, 4),
        "(SSE creates, polling-route creates)"
    );
    assert_all_saved(&out, 6);
}

/// Jobs whose ids were journaled but whose polls failed are re-attached by
/// a re-run: polled by id, no create, and the summary counts them.
/// (Mutation tried: the runner's `attached += 1` made `*= 1`, so the
/// summary said 0 re-attached.)
#[test]
fn a_rerun_attaches_jobs_whose_polls_failed_and_creates_nothing() {
    let sim = sim(5, 1e9);
    // Each stream ends right after its id; each poll is refused (not
    // transient): every line ends with its id known, unfinished.
    sim.faults(ids_then_polls_answer(404));
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 3);
    let r = run(&mut batch_cmd(&sim, &state, &jobs, &out));
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_eq!(sim.creates(), 3);
    // Each line is pending with its id (never rejected: that would invite
    // sending it again).
    for line in results(&out) {
        assert_eq!(line["status"], "pending", "{line}");
        assert!(
            line["id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
    }
    sim.faults(vec![]);
    let r = run(&mut batch_cmd(&sim, &state, &jobs, &out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let end = batch_end(&r);
    assert_eq!(
        (&end["creates"], &end["attached"], &end["resent"]),
        (&json!(0), &json!(3), &json!(0)),
        "{end}"
    );
    assert_eq!(sim.creates(), 3, "a re-attached job was created again");
    assert_all_saved(&out, 3);
}

/// A create the platform refuses (422, no id) is rejected; a job that
/// ends FAILED is failed, with its id and the platform's status; neither
/// is pending.
#[test]
fn refused_and_failed_lines_are_reported_as_such() {
    let sim = sim(5, 1e9);
    // One at a time: the refusal takes the first create, the FAILED outcome
    // the first job created (line 2).
    sim.faults(vec![
        FaultRule::times(
            Fault::CreateStatus {
                status: 422,
                retry_after_secs: None,
            },
            1,
        ),
        FaultRule::times(
            Fault::Outcome {
                status: "FAILED".into(),
            },
            1,
        ),
    ]);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 3);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "1"]));
    assert_ne!(r.code, 0, "{}", r.stdout);
    let lines = results(&out);
    assert_eq!(lines[0]["status"], "rejected", "{}", lines[0]);
    assert!(lines[0]["id"].is_null(), "{}", lines[0]);
    assert_eq!(lines[1]["status"], "failed", "{}", lines[1]);
    assert_eq!(lines[1]["platform_status"], "FAILED", "{}", lines[1]);
    assert!(lines[1]["id"].is_string(), "{}", lines[1]);
    assert_eq!(lines[2]["status"], "completed", "{}", lines[2]);
    assert_eq!(sim.creates(), 3);
}

/// A key refused while jobs wait on their ids (every poll answers 401):
/// the batch stops, and each job created is left pending with its id, the
/// ones stopped saying why, so a re-run with a good key polls them. The
/// batch ends; nothing is reported rejected.
#[test]
fn an_auth_error_while_jobs_wait_leaves_them_pending_and_ends_the_batch() {
    let sim = sim(5, 1e9);
    sim.faults(ids_then_polls_answer(401));
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 3);
    let r = run(batch_cmd(&sim, &state, &jobs, &out)
        .args(["--concurrency", "3"])
        .timeout(Duration::from_secs(60)));
    assert!(
        r.code > 0,
        "the batch did not end by itself: {}\n{}",
        r.code,
        r.stderr
    );
    let lines = results(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut created = 0;
    for line in &lines {
        match line["id"].as_str() {
            Some(_) => {
                created += 1;
                assert_eq!(line["status"], "pending", "{line}");
            }
            None => assert_eq!(line["status"], "queued", "{line}"),
        }
    }
    assert_eq!(sim.creates(), created);
    // The three creates launch together and end at their ids, before any
    // poll: one job meets the 401, the batch stops the others.
    let stopped = lines
        .iter()
        .filter(|l| {
            l["error"]
                .as_str()
                .is_some_and(|e| e.contains("stopped before it finished (authentication failed)"))
        })
        .count();
    assert!(stopped >= 1, "{lines:#?}");
}

#[test]
fn an_ambiguous_job_is_reported_and_resent_only_on_request_with_its_key() {
    // The first create is accepted and charged, then its stream ends before
    // any event: no id, so the job is ambiguous.
    let sim = sim(5, 1e9);
    sim.faults(vec![FaultRule::times(Fault::DropBeforeEvent, 1)]);
    let dir = common::tempdir();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let jobs = write_jobs(dir.path(), 3);
    let r = run(batch_cmd(&sim, &state, &jobs, &out).args(["--concurrency", "1"]));
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(batch_end(&r)["counts"]["ambiguous"], 1);
    assert_eq!(sim.creates(), 3);
    let line1 = &results(&out)[0];
    assert_eq!(line1["status"], "ambiguous", "{line1}");
    // Again without the flag: reported again, nothing sent.
    let before = sim.sim.requests().len();
    let r = run(&mut batch_cmd(&sim, &state, &jobs, &out));
    assert_eq!(r.code, 3);
    assert_eq!(sim.sim.requests().len(), before);
    let end = batch_end(&r);
    assert_eq!(
        (&end["creates"], &end["resent"]),
        (&json!(0), &json!(0)),
        "{end}"
    );
    let err = results(&out)[0]["error"].as_str().unwrap().to_string();
    assert!(err.contains("--retry-ambiguous"), "{err}");
    // With it: re-sent once, with the same key; the platform answers with the
    // job it already made, so there are still 3 jobs for 3 lines.
    let r = run(batch_cmd(&sim, &state, &jobs, &out).arg("--retry-ambiguous"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The summary says what was re-sent: a re-send is a possible charge.
    // (Mutation tried: the runner's `resent += 1` made `*= 1`, so the
    // summary said 0 re-sent.)
    let end = batch_end(&r);
    assert_eq!(
        (&end["creates"], &end["resent"]),
        (&json!(1), &json!(1)),
        "{end}"
    );
    let keys = create_keys(&sim);
    assert_eq!(keys.len(), 4);
    assert_eq!(keys[3], line1["idempotency_key"].as_str().unwrap());
    assert_eq!(sim.sim.job_count(), 3);
    assert_all_saved(&out, 3);
}
