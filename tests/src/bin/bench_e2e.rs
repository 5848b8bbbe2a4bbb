//! `bench-e2e`: end-to-end figures of the SDK against the simulator.
//!
//! Two modes, each in its own process so that one does not colour the other's
//! memory figures:
//!
//! - default (throughput/latency): starts the simulator in this process with
//!   zero-delay jobs, then runs generations through ONE `Client` at
//!   concurrency 1, 64 and 1,000 (bounded with `buffer_unordered`), and
//!   prints generations/s, p50/p99 latency and requests per generation (from
//!   the simulator's request log). Then it estimates the client overhead per
//!   generation at concurrency 1: SDK generations interleaved with bare
//!   `reqwest` SSE POSTs whose bodies are read to the end without parsing;
//!   overhead = median(SDK) - median(bare).
//! - `--in-flight N` (memory): SDK against bare reqwest in one invocation.
//!   Each measurement runs in a child process of this binary (`--sdk` or
//!   `--bare`), alternating bare and SDK for `--rounds R` rounds (default 3),
//!   so allocator state of one never colours the other; then it prints the
//!   median (min-max) RSS per in-flight stream of each, and the SDK's own
//!   share per generation (the median of the per-round differences).
//!   One child: spawns the simulator binary as a separate process with 20 s
//!   steps so streams stay open, opens N concurrent generations (or bare SSE
//!   POSTs) through one client, waits until the simulator has accepted N SSE
//!   creates, samples this process's RSS (VmRSS and peak VmHWM), then drops
//!   them and kills the simulator.
//!
//! Options: `--in-flight N`, `--http2`, `--rounds R`, `--sdk` / `--bare` (one
//! side only, no comparison), `--simulator PATH` (default: the
//! `skills-video-simulator` next to this executable), `--quick` (a tenth of
//! the generation counts). Everything runs on 127.0.0.1, bounded in count and
//! time. Run it with `cargo xtask bench`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use skills_video::models::GoogleNanoBananaProRequest;
use skills_video::{Client, Source};
use skills_video_simulator::{RouteKind, Simulator, SimulatorConfig};

/// The key the simulator requires and the clients send.
const KEY: &str = "sk-bench-e2e";
/// The prompt of every generation.
const PROMPT: &str = "A minimal product photo of a matte black coffee grinder";
/// The SSE create route of the model, under the base URL.
const SSE_ROUTE: &str = "/generation/sse/google/nano-banana-pro";
/// Descriptors kept free beside the in-flight connections.
const FD_MARGIN: u64 = 256;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The system allocator, counting the bytes live on the heap, so the
/// in-flight figures can give the heap each stream holds beside the RSS
/// (which also counts allocator slack and freed-but-kept pages).
struct CountingAlloc;

/// Bytes currently allocated through [`CountingAlloc`].
static LIVE_HEAP: AtomicUsize = AtomicUsize::new(0);

/// The most `LIVE_HEAP` has been since [`reset_peak_heap`].
static PEAK_HEAP: AtomicUsize = AtomicUsize::new(0);

/// Counts `size` more bytes live, raising the peak.
fn count_alloc(size: usize) {
    let now = LIVE_HEAP.fetch_add(size, Ordering::Relaxed) + size;
    PEAK_HEAP.fetch_max(now, Ordering::Relaxed);
}

/// Starts a new peak from the bytes live now.
fn reset_peak_heap() {
    PEAK_HEAP.store(LIVE_HEAP.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The peak since [`reset_peak_heap`], in MiB.
fn peak_heap_mib() -> f64 {
    PEAK_HEAP.load(Ordering::Relaxed) as f64 / 1024.0 / 1024.0
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count_alloc(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count_alloc(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
            count_alloc(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Bytes live on the heap now, in MiB.
fn live_heap_mib() -> f64 {
    LIVE_HEAP.load(Ordering::Relaxed) as f64 / 1024.0 / 1024.0
}

struct Args {
    in_flight: Option<usize>,
    simulator: Option<PathBuf>,
    quick: bool,
    /// One side only: `Some(true)` bare reqwest, `Some(false)` the SDK;
    /// `None` compares both (each in a child process).
    only_bare: Option<bool>,
    http2: bool,
    rounds: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        in_flight: None,
        simulator: None,
        quick: false,
        only_bare: None,
        http2: false,
        rounds: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--in-flight" => {
                let v = it.next().ok_or("--in-flight needs a count")?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("--in-flight: {v:?} is not a count"))?;
                args.in_flight = Some(n.clamp(1, 100_000));
            }
            "--simulator" => {
                args.simulator = Some(PathBuf::from(it.next().ok_or("--simulator needs a path")?))
            }
            "--quick" => args.quick = true,
            "--bare" => args.only_bare = Some(true),
            "--sdk" => args.only_bare = Some(false),
            "--http2" => args.http2 = true,
            "--rounds" => {
                let v = it.next().ok_or("--rounds needs a count")?;
                let r: usize = v
                    .parse()
                    .map_err(|_| format!("--rounds: {v:?} is not a count"))?;
                args.rounds = r.clamp(1, 20);
            }
            "-h" | "--help" => return Err(
                "usage: bench-e2e [--quick] | bench-e2e --in-flight N [--rounds R] [--sdk | --bare] [--http2] [--simulator PATH]"
                    .into(),
            ),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    print_machine();
    let result = match args.in_flight {
        Some(n) => match args.only_bare {
            Some(bare) => in_flight(n, args.simulator, bare, args.http2).await,
            None => compare_in_flight(n, args.simulator, args.http2, args.rounds).await,
        },
        None => throughput(args.quick).await,
    };
    println!("load average at end: {}", load_average());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// Machine and process figures.

fn print_machine() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mem_kib = proc_field("/proc/meminfo", "MemTotal:").unwrap_or(0);
    println!(
        "machine: {cores} cores ({cpu}), {:.1} GiB memory, load average {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        load_average()
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A `kB` figure of a `/proc` file (`VmRSS:`, `VmHWM:`, `MemTotal:`).
fn proc_field(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// (current RSS, peak RSS) of this process in MiB.
fn rss_mib() -> (f64, f64) {
    let f = |k| proc_field("/proc/self/status", k).unwrap_or(0) as f64 / 1024.0;
    (f("VmRSS:"), f("VmHWM:"))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Raises the soft open-file limit to the hard one; returns (soft, hard).
fn raise_fd_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
        let _ = libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    (lim.rlim_cur, lim.rlim_max)
}

// ---------------------------------------------------------------------------
// Statistics.

/// Nearest-rank percentile of sorted durations, in ms.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn median_ms(v: &mut [Duration]) -> f64 {
    v.sort();
    pct(v, 50.0)
}

// ---------------------------------------------------------------------------
// Throughput and latency.

fn sdk_client(base: &str) -> Result<Client, BoxError> {
    Ok(Client::builder()
        .api_key(KEY)
        .base_url(base)
        .poll_interval(Duration::from_millis(50))
        .build()?)
}

/// A client whose connections speak HTTP/2 (prior knowledge, as on a
/// cleartext loopback; over TLS reqwest negotiates it by ALPN), so many
/// generations share one connection.
fn sdk_client_http2(base: &str) -> Result<Client, BoxError> {
    let http = reqwest::Client::builder().http2_prior_knowledge().build()?;
    Ok(Client::builder()
        .api_key(KEY)
        .base_url(base)
        .poll_interval(Duration::from_millis(50))
        .http_client(http)
        .build()?)
}

/// One SDK generation; its latency, or the error.
async fn one_generation(client: &Client) -> Result<Duration, String> {
    let start = Instant::now();
    match client
        .images()
        .google_nano_banana_pro(GoogleNanoBananaProRequest::new(PROMPT))
        .await
    {
        Ok(g) if g.source() == Source::Sse => Ok(start.elapsed()),
        Ok(g) => Err(format!("finished via {}", g.source().as_str())),
        Err(e) => Err(e.to_string()),
    }
}

/// One bare SSE POST read to the end without parsing; its latency.
async fn one_bare(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
    n: usize,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut resp = http
        .post(url)
        .bearer_auth(KEY)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", format!("bench-bare-{n}"))
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("status {}", resp.status()));
    }
    let mut bytes = 0;
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        bytes += chunk.len();
    }
    if bytes == 0 {
        return Err("empty stream".into());
    }
    Ok(start.elapsed())
}

struct Run {
    concurrency: usize,
    generations: usize,
    ok: usize,
    first_error: Option<String>,
    wall: Duration,
    p50: f64,
    p99: f64,
    requests_per_generation: f64,
    creates_per_generation: f64,
}

async fn run_level(
    client: &Client,
    sim: &skills_video_simulator::RunningSimulator,
    concurrency: usize,
    generations: usize,
) -> Result<Run, BoxError> {
    let log_before = sim.requests().len();
    let creates_before = sim.creates();
    let start = Instant::now();
    let results: Vec<Result<Duration, String>> = tokio::time::timeout(
        Duration::from_secs(300),
        futures::stream::iter(0..generations)
            .map(|_| one_generation(client))
            .buffer_unordered(concurrency)
            .collect(),
    )
    .await
    .map_err(|_| format!("concurrency {concurrency}: not done within 300 s"))?;
    let wall = start.elapsed();
    let requests = sim.requests();
    let api_requests = requests[log_before.min(requests.len())..]
        .iter()
        .filter(|r| r.kind != RouteKind::Control)
        .count();
    let creates = sim.creates() - creates_before;
    let mut lat: Vec<Duration> = results.iter().filter_map(|r| r.clone().ok()).collect();
    lat.sort();
    let first_error = results.iter().find_map(|r| r.clone().err());
    Ok(Run {
        concurrency,
        generations,
        ok: lat.len(),
        first_error,
        wall,
        p50: pct(&lat, 50.0),
        p99: pct(&lat, 99.0),
        requests_per_generation: api_requests as f64 / generations as f64,
        creates_per_generation: creates as f64 / generations as f64,
    })
}

async fn throughput(quick: bool) -> Result<(), BoxError> {
    let scale = |n: usize| if quick { (n / 10).max(10) } else { n };
    let (soft, _) = raise_fd_limit();
    let sim = Simulator::start(
        SimulatorConfig {
            api_key: KEY.into(),
            credits: 1e12,
            step_delay: Duration::ZERO,
            ..SimulatorConfig::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let base = sim.base_url();
    println!("simulator in process at {base}, step delay 0, fd soft limit {soft}");
    let client = sdk_client(&base)?;

    // Warm up: connections, allocator, the simulator's spec index.
    let warm = run_level(&client, &sim, 64, scale(1000)).await?;
    if warm.ok != warm.generations {
        return Err(format!("warm-up failed: {:?}", warm.first_error).into());
    }

    let mut runs = Vec::new();
    for (c, n) in [(1, 300), (64, 2000), (1000, 5000)] {
        let run = run_level(&client, &sim, c, scale(n)).await?;
        runs.push(run);
    }

    // Client overhead at concurrency 1: SDK and bare requests interleaved, so
    // drift on a shared machine hits both alike.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("{}{SSE_ROUTE}", base.trim_end_matches('/'));
    let body = serde_json::to_vec(&GoogleNanoBananaProRequest::new(PROMPT))?;
    let pairs = scale(1000);
    for i in 0..scale(200) {
        one_bare(&http, &url, &body, i).await?;
        one_generation(&client).await?;
    }
    let (mut sdk, mut bare, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..pairs {
        let (s, b) = if i % 2 == 0 {
            let s = one_generation(&client).await?;
            (s, one_bare(&http, &url, &body, 1_000_000 + i).await?)
        } else {
            let b = one_bare(&http, &url, &body, 1_000_000 + i).await?;
            (one_generation(&client).await?, b)
        };
        sdk.push(s);
        bare.push(b);
        diffs.push(s.as_secs_f64() - b.as_secs_f64());
    }
    diffs.sort_by(f64::total_cmp);
    let median_diff_us = diffs[diffs.len() / 2] * 1e6;
    let sdk_ms = median_ms(&mut sdk);
    let bare_ms = median_ms(&mut bare);
    let sdk_p99 = pct(&sdk, 99.0);
    let bare_p99 = pct(&bare, 99.0);
    let (rss, hwm) = rss_mib();
    sim.shutdown().await;

    println!();
    println!("end to end, one Client, simulator in process (zero-delay jobs: queued, 3 progress, completed over SSE)");
    println!(
        "| concurrency | generations | ok | wall s | generations/s | p50 ms | p99 ms | requests/gen | creates/gen |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &runs {
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            r.concurrency,
            r.generations,
            r.ok,
            r.wall.as_secs_f64(),
            r.ok as f64 / r.wall.as_secs_f64(),
            r.p50,
            r.p99,
            r.requests_per_generation,
            r.creates_per_generation
        );
        if let Some(e) = &r.first_error {
            println!("  first error at concurrency {}: {e}", r.concurrency);
        }
    }
    println!();
    println!("client overhead at concurrency 1 ({pairs} SDK generations interleaved with {pairs} bare reqwest SSE POSTs read to the end)");
    println!("| | median ms | p99 ms |");
    println!("|---|---:|---:|");
    println!("| SDK generation | {sdk_ms:.3} | {sdk_p99:.3} |");
    println!("| bare reqwest POST + body | {bare_ms:.3} | {bare_p99:.3} |");
    println!(
        "overhead per generation: {:.1} us (median(SDK) - median(bare)); median of paired differences {median_diff_us:.1} us; ratio SDK/bare {:.2}; target < 1000 us: {}",
        (sdk_ms - bare_ms) * 1000.0,
        sdk_ms / bare_ms,
        if (sdk_ms - bare_ms) < 1.0 { "met" } else { "MISSED" }
    );
    println!(
        "process RSS at end: {rss:.1} MiB (peak {hwm:.1} MiB, includes the in-process simulator)"
    );
    // Machine-readable figures for `cargo xtask bench --all`.
    for r in &runs {
        println!(
            "BENCH c{c}.generations={} c{c}.ok={} c{c}.gen_per_s={:.1} c{c}.p50_ms={:.4} c{c}.p99_ms={:.4} c{c}.requests_per_gen={:.3}",
            r.generations,
            r.ok,
            r.ok as f64 / r.wall.as_secs_f64(),
            r.p50,
            r.p99,
            r.requests_per_generation,
            c = r.concurrency
        );
    }
    println!(
        "BENCH overhead.sdk_ms={sdk_ms:.4} overhead.bare_ms={bare_ms:.4} overhead.us={:.2} overhead.paired_us={median_diff_us:.2} overhead.ratio={:.4}",
        (sdk_ms - bare_ms) * 1000.0,
        sdk_ms / bare_ms
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// In-flight memory.

/// The simulator child process, killed on drop.
struct SimProcess(Child);

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn simulator_path(given: Option<PathBuf>) -> Result<PathBuf, BoxError> {
    let path = match given {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .ok_or("no parent directory of the executable")?
            .join("skills-video-simulator"),
    };
    if !path.is_file() {
        return Err(format!(
            "{} not found: build it with `cargo build --release -p skills-video-simulator` (cargo xtask bench does)",
            path.display()
        )
        .into());
    }
    Ok(path)
}

/// Starts the simulator binary; returns it and its base URL.
fn spawn_simulator(
    path: &PathBuf,
    credits: usize,
    http2: bool,
) -> Result<(SimProcess, String), BoxError> {
    let mut child = Command::new(path)
        .args(http2.then_some("--http2"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--api-key",
            KEY,
            "--credits",
            &credits.to_string(),
            "--delay-ms",
            "20000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no simulator stdout")?;
    let proc = SimProcess(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected simulator output {line:?}"))?
        .to_string();
    Ok((proc, base))
}

/// SSE creates the simulator has answered, counted by streaming its request
/// log (no parse of the whole document, so the count costs this process
/// little memory).
async fn sse_creates(http: &reqwest::Client, base: &str) -> Result<usize, BoxError> {
    const NEEDLE: &[u8] = b"\"kind\":\"CreateSse\"";
    let mut resp = http
        .get(format!("{base}/_simulator/requests"))
        .bearer_auth(KEY)
        .send()
        .await?
        .error_for_status()?;
    let mut count = 0;
    let mut carry: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        carry.extend_from_slice(&chunk);
        count += carry.windows(NEEDLE.len()).filter(|w| *w == NEEDLE).count();
        let keep = carry.len().min(NEEDLE.len() - 1);
        carry.drain(..carry.len() - keep);
    }
    Ok(count)
}

async fn in_flight(
    requested: usize,
    simulator: Option<PathBuf>,
    bare: bool,
    http2: bool,
) -> Result<(), BoxError> {
    let path = simulator_path(simulator)?;
    let (soft, hard) = raise_fd_limit();
    let fds_now = open_fds() as u64;
    let fit = soft.saturating_sub(fds_now + FD_MARGIN) as usize;
    let n = requested.min(fit);
    println!(
        "fd limit: soft {soft}, hard {hard}; {fds_now} open; {requested} requested, {n} fit (one connection per stream, {FD_MARGIN} kept free)"
    );
    if n < requested {
        println!("NOTE: {requested} in-flight generations do not fit the descriptor limit; measuring {n}");
    }
    let (sim, base) = spawn_simulator(&path, n * 2 + 100, http2)?;
    if http2 {
        println!("HTTP/2: generations share connections (prior knowledge on loopback)");
    }
    println!("simulator process at {base}, 20 s steps (streams held open)");

    let control = reqwest::Client::builder().build()?;
    let client = if http2 {
        sdk_client_http2(&base)?
    } else {
        sdk_client(&base)?
    };
    let mut http = reqwest::Client::builder().connect_timeout(Duration::from_secs(10));
    if http2 {
        http = http.http2_prior_knowledge();
    }
    let http = http.build()?;
    let url = format!("{}{SSE_ROUTE}", base.trim_end_matches('/'));
    let body = serde_json::to_vec(&GoogleNanoBananaProRequest::new(PROMPT))?;
    let future_bytes = std::mem::size_of_val(&one_generation(&client));
    // Touch both clients once so their lazy state is in the baseline.
    sse_creates(&control, &base).await?;
    let (base_rss, base_hwm) = rss_mib();
    let base_heap = live_heap_mib();
    reset_peak_heap();

    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        if bare {
            let (h, u, b) = (http.clone(), url.clone(), body.clone());
            set.spawn(async move { one_bare(&h, &u, &b, i).await });
        } else {
            let c = client.clone();
            set.spawn(async move { one_generation(&c).await });
        }
    }
    let spawned_in = start.elapsed();
    let deadline = start + Duration::from_secs(120);
    let mut open = 0;
    while Instant::now() < deadline {
        open = sse_creates(&control, &base).await?;
        if open >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_open_in = start.elapsed();
    // Let every stream read its first event.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut finished_early = 0;
    let mut first_error = None;
    while let Some(r) = set.try_join_next() {
        finished_early += 1;
        if first_error.is_none() {
            first_error = Some(match r {
                Ok(Ok(_)) => "completed early".to_string(),
                Ok(Err(e)) => e,
                Err(e) => e.to_string(),
            });
        }
    }
    let (rss, hwm) = rss_mib();
    let heap = live_heap_mib();
    let peak_heap = peak_heap_mib();
    let fds = open_fds();
    let in_flight = set.len();

    drop(set);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss_after, _) = rss_mib();
    drop(sim);

    println!();
    if bare {
        println!("in-flight memory: {n} BARE reqwest SSE POSTs (no SDK) held open through one reqwest::Client, simulator in a separate process");
    } else {
        println!(
            "in-flight memory: {n} generations through one Client, simulator in a separate process"
        );
    }
    println!("| figure | value |");
    println!("|---|---:|");
    println!("| generations started | {n} |");
    println!("| SSE creates accepted by the simulator | {open} |");
    println!("| still in flight at the sample | {in_flight} |");
    println!("| ended before the sample | {finished_early} |");
    println!("| open descriptors at the sample | {fds} |");
    println!("| size of one SDK generation future | {future_bytes} B |");
    println!(
        "| time to spawn the tasks | {:.2} s |",
        spawned_in.as_secs_f64()
    );
    println!(
        "| time until all accepted | {:.2} s |",
        all_open_in.as_secs_f64()
    );
    println!("| RSS before (baseline) | {base_rss:.1} MiB (peak {base_hwm:.1}) |");
    println!("| RSS with all in flight | {rss:.1} MiB |");
    println!("| peak RSS (VmHWM) | {hwm:.1} MiB |");
    println!(
        "| RSS per in-flight generation | {:.1} KiB |",
        (rss - base_rss) * 1024.0 / in_flight.max(1) as f64
    );
    println!(
        "| heap live per in-flight generation | {:.2} KiB |",
        (heap - base_heap) * 1024.0 / in_flight.max(1) as f64
    );
    println!("| RSS after dropping them | {rss_after:.1} MiB |");
    if let Some(e) = first_error {
        println!("first early end: {e}");
    }
    // Machine-readable figures for `cargo xtask bench --all`.
    println!(
        "BENCH n={n} accepted={open} in_flight={in_flight} fds={fds} accepted_s={:.3} base_rss_mib={base_rss:.2} rss_mib={rss:.2} hwm_mib={hwm:.2} per_gen_kib={:.3} heap_per_gen_kib={:.3}",
        all_open_in.as_secs_f64(),
        (rss - base_rss) * 1024.0 / in_flight.max(1) as f64,
        (heap - base_heap) * 1024.0 / in_flight.max(1) as f64
    );
    println!(
        "target: {n} in flight under 100 MB peak RSS: {} ({:.1} MB = {hwm:.1} MiB)",
        if hwm * 1.048_576 < 100.0 {
            "met"
        } else {
            "MISSED"
        },
        hwm * 1.048_576
    );
    // One line for `compare_in_flight` to read.
    println!(
        "RESULT in_flight={in_flight} rss_kib={:.3} heap_kib={:.3} peak_heap_kib={:.3} hwm_mib={hwm:.3} future_bytes={future_bytes}",
        (rss - base_rss) * 1024.0 / in_flight.max(1) as f64,
        (heap - base_heap) * 1024.0 / in_flight.max(1) as f64,
        (peak_heap - base_heap) * 1024.0 / in_flight.max(1) as f64,
    );
    if open < n {
        return Err(format!("only {open} of {n} streams were accepted within 120 s").into());
    }
    Ok(())
}

/// The figures one in-flight child printed on its `RESULT` line.
#[derive(Debug, Clone, Copy)]
struct Sample {
    in_flight: usize,
    rss_kib: f64,
    heap_kib: f64,
    peak_heap_kib: f64,
    hwm_mib: f64,
}

fn parse_result(stdout: &str) -> Option<Sample> {
    let line = stdout.lines().find(|l| l.starts_with("RESULT "))?;
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
    };
    Some(Sample {
        in_flight: field("in_flight")?.parse().ok()?,
        rss_kib: field("rss_kib")?.parse().ok()?,
        heap_kib: field("heap_kib")?.parse().ok()?,
        peak_heap_kib: field("peak_heap_kib")?.parse().ok()?,
        hwm_mib: field("hwm_mib")?.parse().ok()?,
    })
}

/// Median, min and max of a non-empty list.
fn median_min_max(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mid = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (mid, s[0], s[s.len() - 1])
}

/// `--in-flight N` without `--sdk`/`--bare`: bare reqwest and the SDK, each
/// in its own child process, alternating for `rounds` rounds; prints both
/// and the SDK's own share per generation.
async fn compare_in_flight(
    n: usize,
    simulator: Option<PathBuf>,
    http2: bool,
    rounds: usize,
) -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let mut bare: Vec<Sample> = Vec::new();
    let mut sdk: Vec<Sample> = Vec::new();
    let mut loads = Vec::new();
    for round in 0..rounds {
        // Alternate which side goes first, so drift hits both alike.
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for side_bare in order {
            let mut cmd = Command::new(&exe);
            cmd.args(["--in-flight", &n.to_string()])
                .arg(if side_bare { "--bare" } else { "--sdk" })
                .args(http2.then_some("--http2"));
            if let Some(p) = &simulator {
                cmd.arg("--simulator").arg(p);
            }
            let load = load_average();
            let out = tokio::task::spawn_blocking(move || cmd.stderr(Stdio::inherit()).output())
                .await??;
            let text = String::from_utf8_lossy(&out.stdout);
            let sample = parse_result(&text).ok_or_else(|| {
                format!(
                    "the {} child printed no RESULT line (status {}):\n{text}",
                    if side_bare { "bare" } else { "SDK" },
                    out.status
                )
            })?;
            println!(
                "round {}: {:<4} {} in flight, RSS {:.2} KiB/stream, heap {:.2} KiB/stream (peak {:.2}), peak RSS {:.1} MiB (load {load})",
                round + 1,
                if side_bare { "bare" } else { "SDK" },
                sample.in_flight,
                sample.rss_kib,
                sample.heap_kib,
                sample.peak_heap_kib,
                sample.hwm_mib
            );
            loads.push(load);
            if side_bare {
                bare.push(sample);
            } else {
                sdk.push(sample);
            }
        }
    }
    let col = |v: &[Sample], f: fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<_>>();
    let diff = |f: fn(&Sample) -> f64| {
        sdk.iter()
            .zip(&bare)
            .map(|(s, b)| f(s) - f(b))
            .collect::<Vec<_>>()
    };
    let fmt = |(m, lo, hi): (f64, f64, f64)| format!("{m:.2} ({lo:.2}-{hi:.2})");
    println!();
    println!(
        "in-flight memory, {} over {}: SDK against bare reqwest, {rounds} rounds alternating, each in its own process",
        n,
        if http2 { "HTTP/2" } else { "HTTP/1.1" }
    );
    println!("| per in-flight stream, KiB: median (min-max) | bare reqwest | SDK | SDK's own share (SDK - bare, per round) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| RSS | {} | {} | {} |",
        fmt(median_min_max(&col(&bare, |s| s.rss_kib))),
        fmt(median_min_max(&col(&sdk, |s| s.rss_kib))),
        fmt(median_min_max(&diff(|s| s.rss_kib)))
    );
    println!(
        "| heap live (counting allocator) | {} | {} | {} |",
        fmt(median_min_max(&col(&bare, |s| s.heap_kib))),
        fmt(median_min_max(&col(&sdk, |s| s.heap_kib))),
        fmt(median_min_max(&diff(|s| s.heap_kib)))
    );
    println!(
        "| peak heap live while they opened | {} | {} | {} |",
        fmt(median_min_max(&col(&bare, |s| s.peak_heap_kib))),
        fmt(median_min_max(&col(&sdk, |s| s.peak_heap_kib))),
        fmt(median_min_max(&diff(|s| s.peak_heap_kib)))
    );
    println!(
        "| peak RSS of the process, MiB | {} | {} | |",
        fmt(median_min_max(&col(&bare, |s| s.hwm_mib))),
        fmt(median_min_max(&col(&sdk, |s| s.hwm_mib)))
    );
    println!("load average before each child: {}", loads.join(" | "));
    Ok(())
}
