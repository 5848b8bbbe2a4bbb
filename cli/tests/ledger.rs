//! The CLI's job ledger: default path, `--no-ledger`, `jobs`, `resume`
//! after a real SIGKILL, two processes sharing one ledger, and clear errors
//! for a ledger that cannot be used (nothing sent, nothing lost).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{run, Sim, KEY};
use serde_json::{json, Value};
use skills_video::ledger::{Intent, JobFilter, JobState, Ledger, SqliteLedger};

fn ledger_file(state: &Path) -> PathBuf {
    state.join("skills-video").join("ledger.sqlite3")
}

fn jobs_json(sim: &Sim, ledger: &Path) -> Vec<Value> {
    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(ledger)
        .args(["--json", "jobs"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sha256_hex(path: &Path) -> String {
    skills_video::ledger::sha256_file(path).unwrap().1
}

#[test]
fn generate_journals_to_the_default_state_path_and_jobs_lists_it() {
    let sim = Sim::new();
    let state = common::tempdir();
    let out = common::tempdir();
    let r = run(sim
        .cmd()
        .env("XDG_STATE_HOME", state.path())
        .args([
            "generate",
            "google/nano-banana-pro",
            "--prompt",
            "a cat",
            "--out",
        ])
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = ledger_file(state.path());
    assert!(path.exists());
    let jobs = jobs_json(&sim, &path);
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job["state"], "terminal");
    assert_eq!(job["status"], "COMPLETED");
    assert_eq!(job["model"], "google/nano-banana-pro");
    assert_eq!(job["request"]["prompt"], "a cat");
    let output = &job["outputs"][0];
    let file = PathBuf::from(output["path"].as_str().unwrap());
    assert!(file.starts_with(std::fs::canonicalize(out.path()).unwrap()));
    assert_eq!(output["sha256"], json!(sha256_hex(&file)));
    assert_eq!(
        output["size"],
        json!(std::fs::metadata(&file).unwrap().len())
    );
    // The key is never stored.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    // jobs show by id and by key; the human table names the model.
    for k in [
        job["generation_id"].as_str().unwrap(),
        job["idempotency_key"].as_str().unwrap(),
    ] {
        let r = run(sim
            .cmd()
            .arg("--ledger")
            .arg(&path)
            .args(["jobs", "show", k]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(job["generation_id"].as_str().unwrap()));
    }
    let r = run(sim.cmd().arg("--ledger").arg(&path).args(["jobs"]));
    assert!(
        r.stdout.contains("google/nano-banana-pro") && r.stdout.contains("terminal"),
        "{}",
        r.stdout
    );
    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(&path)
        .args(["jobs", "--pending"]));
    assert!(
        r.stdout.contains("no unfinished generations"),
        "{}",
        r.stdout
    );
}

#[test]
fn no_ledger_writes_nothing() {
    let sim = Sim::new();
    let state = common::tempdir();
    let r = run(sim.cmd().env("XDG_STATE_HOME", state.path()).args([
        "--no-ledger",
        "generate",
        "google/nano-banana-pro",
        "--prompt",
        "a cat",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!ledger_file(state.path()).exists());
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
}

/// An intent without an id (a crash between intent and answer): the next
/// `generate` says so in one line; `resume` reports it ambiguous (exit 3)
/// without sending anything; `--retry-ambiguous` re-sends it with its key.
#[test]
fn an_interrupted_intent_is_announced_reported_and_resent_only_on_request() {
    let sim = Sim::new();
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite3");
    SqliteLedger::open(&path)
        .unwrap()
        .record_intent(&Intent {
            idempotency_key: "key-interrupted-1".into(),
            model: "google/nano-banana-pro".into(),
            request: json!({"prompt": "interrupted"}),
            multipart: false,
            base_url: sim.sim.base_url(),
            created_at_ms: 1,
        })
        .unwrap();
    let r = run(sim.cmd().arg("--ledger").arg(&path).args([
        "generate",
        "google/nano-banana-pro",
        "--prompt",
        "next",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let notes: Vec<_> = r
        .stderr
        .lines()
        .filter(|l| l.contains("unfinished generation"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", r.stderr);
    assert!(notes[0].contains("skills-video resume"), "{}", notes[0]);
    assert_eq!(sim.creates(), 1);

    let r = run(sim.cmd().arg("--ledger").arg(&path).args(["resume"]));
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("key-interrupted-1") && r.stderr.contains("--retry-ambiguous"),
        "{}",
        r.stderr
    );
    assert_eq!(sim.creates(), 1, "resume re-created an ambiguous job");

    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(&path)
        .args(["resume", "--retry-ambiguous"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(sim.creates(), 2);
    let keys: Vec<_> = sim
        .sim
        .requests()
        .iter()
        .filter_map(|q| q.idempotency_key.clone())
        .collect();
    assert!(keys.contains(&"key-interrupted-1".to_string()));
    let job = SqliteLedger::open(&path)
        .unwrap()
        .find("key-interrupted-1")
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Terminal);
}

fn spawn_generate(sim: &Sim, ledger: &Path, out: &Path, prompt: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_skills-video"))
        .env_remove("SKILLS_VIDEO_API_KEY")
        .env_remove("SKILLS_VIDEO_BASE_URL")
        .env("XDG_STATE_HOME", common::test_state_dir())
        .arg("--base-url")
        .arg(sim.sim.base_url())
        .arg("--api-key")
        .arg(KEY)
        .arg("--ledger")
        .arg(ledger)
        .args([
            "generate",
            "google/nano-banana-pro",
            "--poll-interval",
            "0.05",
            "--prompt",
            prompt,
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A real SIGKILL after the id is journaled: `resume` finishes the job by
/// polling (no second create) and downloads its output where `--out` said.
#[test]
fn resume_after_sigkill_completes_with_zero_creates_and_downloads() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(400));
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite3");
    let out = dir.path().join("out");
    let mut child = spawn_generate(&sim, &path, &out, "killed");
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(20), "no id journaled");
        if let Ok(l) = SqliteLedger::open(&path) {
            if l.jobs(JobFilter::All)
                .unwrap()
                .iter()
                .any(|j| j.generation_id.is_some())
            {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(sim.creates(), 1);
    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(&path)
        .args(["resume", "--interval", "0.05"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(sim.creates(), 1, "resume created again");
    let job = SqliteLedger::open(&path)
        .unwrap()
        .jobs(JobFilter::All)
        .unwrap()
        .remove(0);
    assert_eq!(job.state, JobState::Terminal);
    assert_eq!(job.outputs.len(), 1, "{job:?}");
    assert!(job.outputs[0].path.starts_with(&out));
    assert_eq!(sha256_hex(&job.outputs[0].path), job.outputs[0].sha256);
    // A deleted output is downloaded again by the next resume; an intact one is not.
    std::fs::remove_file(&job.outputs[0].path).unwrap();
    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(&path)
        .args(["--json", "resume"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"repaired_outputs\": 1"), "{}", r.stdout);
    assert_eq!(sha256_hex(&job.outputs[0].path), job.outputs[0].sha256);
    let r = run(sim
        .cmd()
        .arg("--ledger")
        .arg(&path)
        .args(["--json", "resume"]));
    assert!(r.stdout.contains("\"downloaded\": 0"), "{}", r.stdout);
}

/// Two CLI processes at once, many generations each, one ledger file.
#[test]
fn two_processes_sharing_one_ledger_stay_consistent() {
    let sim = Sim::with(|c| c.step_delay = Duration::from_millis(5));
    let dir = common::tempdir();
    let path = dir.path().join("ledger.sqlite3");
    let out = dir.path().join("out");
    let per_worker = 6;
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (path, out, base) = (path.clone(), out.clone(), sim.sim.base_url());
            std::thread::spawn(move || {
                for i in 0..per_worker {
                    let status = std::process::Command::new(env!("CARGO_BIN_EXE_skills-video"))
                        .env("XDG_STATE_HOME", common::test_state_dir())
                        .arg("--base-url")
                        .arg(&base)
                        .arg("--api-key")
                        .arg(KEY)
                        .arg("--ledger")
                        .arg(&path)
                        .args([
                            "generate",
                            "google/nano-banana-pro",
                            "--poll-interval",
                            "0.05",
                            "--prompt",
                        ])
                        .arg(format!("worker {w} job {i}"))
                        .arg("--out")
                        .arg(&out)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(status.success());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let jobs = jobs_json(&sim, &path);
    assert_eq!(jobs.len(), 2 * per_worker);
    assert_eq!(sim.sim.job_count(), 2 * per_worker);
    let mut ids: Vec<_> = jobs
        .iter()
        .map(|j| j["generation_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2 * per_worker);
    for j in &jobs {
        assert_eq!(j["state"], "terminal", "{j}");
        let o = &j["outputs"][0];
        assert_eq!(
            o["sha256"],
            json!(sha256_hex(Path::new(o["path"].as_str().unwrap())))
        );
    }
}

/// A corrupted ledger, one from a future schema, a path that cannot be
/// written: each a clear error before any request, the file untouched.
#[test]
fn unusable_ledgers_are_clear_errors_that_send_and_lose_nothing() {
    let sim = Sim::new();
    let dir = common::tempdir();
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, b"this is not a database at all, just text").unwrap();

    let future = dir.path().join("future.sqlite3");
    {
        let l = SqliteLedger::open(&future).unwrap();
        l.record_intent(&Intent {
            idempotency_key: "keep-me".into(),
            model: "m".into(),
            request: json!({}),
            multipart: false,
            base_url: "b".into(),
            created_at_ms: 1,
        })
        .unwrap();
    }
    let mut bytes = std::fs::read(&future).unwrap();
    bytes[60..64].copy_from_slice(&7u32.to_be_bytes()); // PRAGMA user_version = 7
    std::fs::write(&future, &bytes).unwrap();

    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    let unwritable = blocker.join("ledger.sqlite3");

    for (path, words) in [
        (&garbage, "not a skills-video ledger"),
        (&future, "newer than this build"),
        (&unwritable, "cannot be written"),
    ] {
        let before = std::fs::read(path).ok();
        for args in [
            &["generate", "google/nano-banana-pro", "--prompt", "x"][..],
            &["resume"][..],
            &["jobs"][..],
        ] {
            if args == ["jobs"] && path == &unwritable {
                continue; // nothing there to list: "no generations yet"
            }
            let r = run(sim.cmd().arg("--ledger").arg(path).args(args));
            assert_eq!(r.code, 1, "{args:?} {}: {}", path.display(), r.stderr);
            assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
            assert_eq!(
                std::fs::read(path).ok(),
                before,
                "{} changed",
                path.display()
            );
        }
    }
    assert_eq!(sim.creates(), 0);
}
