//! Shared helpers: an in-process simulator per test and the binary under test.

#![allow(dead_code)]

pub mod pg;

use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use skills_video_simulator::{FaultRule, RunningSimulator, Simulator, SimulatorConfig};

/// The key the simulator accepts; it must never appear in any output.
pub const KEY: &str = "sk-cli-test-SECRET-4f2a9c";

/// The models the CLI tests generate with; [`Sim`] serves only these. The
/// simulator compiles one request validator per served model when it
/// starts, seconds for the whole catalog in a debug build, milliseconds for
/// two. A test that generates with another model gets a `404` from the
/// simulator and fails, so this list cannot hide a case.
pub const SERVED: &[&str] = &["google/nano-banana-pro", "bytedance/seedream-4.5"];

/// The embedded spec cut down to [`SERVED`] (parsed once per test binary).
fn served_spec() -> Value {
    static SPEC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| skills_video_simulator::config::embedded_spec_serving(SERVED))
        .clone()
}

/// A simulator on 127.0.0.1 with the runtime that serves it.
pub struct Sim {
    pub sim: RunningSimulator,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(config: SimulatorConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt
            .block_on(Simulator::start(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Sim { sim, rt }
    }

    /// Default simulator with a short step delay.
    pub fn new() -> Sim {
        Sim::with(|_| {})
    }

    /// A simulator serving [`SERVED`] with a short step delay, configured
    /// further by `f` (which may set `spec` to serve other models).
    pub fn with(f: impl FnOnce(&mut SimulatorConfig)) -> Sim {
        let mut config = SimulatorConfig {
            api_key: KEY.into(),
            step_delay: Duration::from_millis(50),
            spec: served_spec(),
            ..SimulatorConfig::default()
        };
        f(&mut config);
        Sim::start(config)
    }

    pub fn faults(&self, faults: Vec<FaultRule>) {
        self.sim.set_faults(faults);
    }

    pub fn creates(&self) -> usize {
        self.sim.creates()
    }

    /// The binary pointed at this simulator with the test key.
    pub fn cmd(&self) -> Command {
        let mut c = bin();
        c.arg("--base-url")
            .arg(self.sim.base_url())
            .arg("--api-key")
            .arg(KEY);
        c
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = &self.rt;
    }
}

/// Where these tests put their scratch directories: `/dev/shm` (memory) when
/// it is a writable directory with at least [`SHM_MIN_FREE_KIB`] free (a
/// container's default `/dev/shm` is 64 MiB, too small for the 100 MB-line
/// batch case), else the system temp dir. The CLI syncs its
/// ledger commits (two per job) and every saved file to disk; on a disk
/// those syncs were most of a 1,000-job batch's time (12.0 and 20.6 s in
/// /tmp against 4.0 and 6.2 s in /dev/shm, interleaved, load ~5.5); in
/// memory they return at once. What the tests check (the requests sent,
/// the files saved, what a SIGKILL leaves: a killed process's writes are in
/// the page cache either way) does not depend on the medium.
pub fn scratch_root() -> std::path::PathBuf {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let writable = shm.is_dir()
            && shm_free_kib().is_some_and(|free| free >= SHM_MIN_FREE_KIB)
            && tempfile::Builder::new()
                .prefix("skills-video-probe-")
                .tempfile_in(shm)
                .is_ok();
        if writable {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// The free space `/dev/shm` must have for [`scratch_root`] to use it: 1 GiB.
const SHM_MIN_FREE_KIB: u64 = 1 << 20;

/// The KiB available on `/dev/shm`, from POSIX `df -Pk` (none if it fails).
fn shm_free_kib() -> Option<u64> {
    let out = std::process::Command::new("df")
        .args(["-Pk", "/dev/shm"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Header, then: filesystem, 1024-blocks, used, available, capacity, mount.
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// A fresh scratch directory under [`scratch_root`], removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("skills-video-cli-")
        .tempdir_in(scratch_root())
        .unwrap()
}

/// A state directory (for the job ledger) private to this test binary.
/// It outlives the process (nothing runs at a test binary's exit), so the
/// ones left by test processes that have ended are removed first (on Linux,
/// where `/proc` says which processes run).
pub fn test_state_dir() -> std::path::PathBuf {
    const PREFIX: &str = "skills-video-cli-tests-";
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = scratch_root();
        if std::path::Path::new("/proc/self").exists() {
            for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let ended = name
                    .strip_prefix(PREFIX)
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
                if ended {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = root.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
    .clone()
}

/// The binary with no key or base URL from the environment.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("skills-video").unwrap();
    c.env_remove("SKILLS_VIDEO_API_KEY")
        .env_remove("SKILLS_VIDEO_BASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("SKILLS_VIDEO_LEDGER")
        // The job ledger goes to a per-test-binary temp state dir, never the real home.
        .env("XDG_STATE_HOME", test_state_dir())
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120));
    c
}

/// The result of a run: exit code, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    pub fn events(&self) -> Vec<String> {
        self.lines()
            .iter()
            .map(|l| l["event"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    pub fn last(&self) -> Value {
        self.lines().pop().expect("no output line")
    }

    pub fn assert_no_key(&self) {
        assert!(
            !self.stdout.contains(KEY),
            "key in stdout:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(KEY),
            "key in stderr:\n{}",
            self.stderr
        );
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.assert_no_key();
    run
}

/// Decodes a PNG file, returning its size.
pub fn decode_png(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    (info.width, info.height)
}
