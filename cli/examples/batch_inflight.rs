//! Benchmark: `skills-video batch` with 10,000 jobs in flight in one process,
//! against the simulator on 127.0.0.1. Prints figures; asserts nothing.
//!
//! ```text
//! cargo build --release -p skills-video-cli --bin skills-video
//! cargo run --release -p skills-video-cli --example batch_inflight -- [JOBS] [STEP_SECS]
//! ```
//!
//! The simulator runs in this process (its memory is not the CLI's); the
//! CLI runs as a child: `batch JOBS.jsonl --out DIR --concurrency JOBS
//! --max-streams 256 --poll-interval 5`, with a private ledger. Each job
//! takes `3 x STEP_SECS` (default 20 s) on the simulator, so with creates
//! faster than that every job is in flight at once. The child's peak RSS is
//! `VmHWM` from `/proc/<pid>/status` (Linux), read every 50 ms until it
//! exits; the creates come from the simulator's count; the peak in flight
//! from the CLI's own `batch_end` line. The binary is `skills-video` next
//! to this example's directory, or `SKILLS_VIDEO_CLI`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use skills_video_simulator::{Simulator, SimulatorConfig};

const KEY: &str = "sk-bench-batch";

fn cli_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SKILLS_VIDEO_CLI") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/batch_inflight -> target/<profile>/skills-video
    let dir = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .to_path_buf();
    dir.join("skills-video")
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let step: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let bin = cli_binary();
    assert!(
        bin.exists(),
        "{} not found: cargo build --release -p skills-video-cli --bin skills-video (or set SKILLS_VIDEO_CLI)",
        bin.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt
        .block_on(Simulator::start(
            SimulatorConfig {
                api_key: KEY.into(),
                credits: 1e12,
                step_delay: Duration::from_secs(step),
                progress_steps: 2,
                ..SimulatorConfig::default()
            },
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .expect("simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("jobs.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).expect("jobs file"));
        for i in 1..=jobs {
            writeln!(
                f,
                "{{\"model\": \"google/nano-banana-pro\", \"input\": {{\"prompt\": \"frame {i}\"}}, \"name\": \"frame-{i:05}\"}}"
            )
            .expect("write");
        }
    }
    let stdout_path = dir.path().join("stdout.jsonl");
    let started = Instant::now();
    let mut child = std::process::Command::new(&bin)
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env_remove("SKILLS_VIDEO_LEDGER")
        .args(["--base-url", &sim.base_url(), "--api-key", KEY, "--json"])
        .arg("batch")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--concurrency", &jobs.to_string()])
        .args(["--max-streams", "256", "--poll-interval", "5"])
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn the CLI");
    let pid = child.id();
    let mut hwm_kb = 0u64;
    let mut rss_at_peak_creates = 0u64;
    let status = loop {
        if let Some(kb) = status_kb(pid, "VmHWM:") {
            hwm_kb = hwm_kb.max(kb);
        }
        if sim.creates() < jobs {
            rss_at_peak_creates = status_kb(pid, "VmRSS:").unwrap_or(rss_at_peak_creates);
        }
        match child.try_wait().expect("wait") {
            Some(s) => break s,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let wall = started.elapsed();
    let end = std::io::BufReader::new(std::fs::File::open(&stdout_path).expect("stdout"))
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("\"batch_end\""))
        .last()
        .unwrap_or_default();
    let end: serde_json::Value = serde_json::from_str(&end).unwrap_or_default();
    // What the jobs that did not complete ended with.
    let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
    for line in std::io::BufReader::new(std::fs::File::open(&stdout_path).expect("stdout"))
        .lines()
        .map_while(Result::ok)
    {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["event"] == "job" && v["error"].is_string() {
            let e: String = v["error"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(100)
                .collect();
            *errors.entry(format!("{}: {e}", v["state"])).or_default() += 1;
        }
    }
    let requests = sim.requests();
    let polls = requests
        .iter()
        .filter(|r| r.kind == skills_video_simulator::RouteKind::Poll)
        .count();
    let sse = requests
        .iter()
        .filter(|r| r.kind == skills_video_simulator::RouteKind::CreateSse)
        .count();
    println!("batch, {jobs} jobs, each {} s on the simulator", 3 * step);
    println!("  exit status            {status}");
    println!(
        "  creates (simulator)    {} ({sse} over SSE, {} on the polling route)",
        sim.creates(),
        sim.creates() - sse
    );
    println!("  jobs on the simulator  {}", sim.job_count());
    println!("  completed              {}", end["counts"]["completed"]);
    println!("  peak in flight (CLI)   {}", end["peak_in_flight"]);
    println!("  polls                  {polls}");
    println!(
        "  peak RSS (VmHWM)       {:.1} MiB = {:.0} MB",
        hwm_kb as f64 / 1024.0,
        hwm_kb as f64 * 1024.0 / 1e6
    );
    println!(
        "  RSS while creating     {:.1} MiB (last sample before the last create)",
        rss_at_peak_creates as f64 / 1024.0
    );
    println!("  wall                   {:.1} s", wall.as_secs_f64());
    for (e, n) in errors.iter().take(10) {
        println!("  {n} x {e}");
    }
}
