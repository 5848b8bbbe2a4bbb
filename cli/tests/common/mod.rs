//! Shared helpers: an in-process simulator per test and the binary under test.

#![allow(dead_code)]

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

/// A state directory (for the job ledger) private to this test binary.
pub fn test_state_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("skills-video-cli-tests-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
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
