//! `cargo xtask bench --all`: re-measures every figure of BENCHMARKS.md and
//! rewrites its generated blocks.
//!
//! Each section (`sse`, `codegen`, `progenitor`, `compile`, `e2e`,
//! `inflight`, `ledger`, `batch`) runs its commands `--runs` times (peers
//! interleaved inside each run), in rounds (run r of every selected section
//! before run r + 1 of any, so a range spans the whole command), records the 1-minute load average before
//! and after every command, and reduces every figure to its median, minimum
//! and maximum over the runs; ratios against a peer (eventsource-stream,
//! bare reqwest, progenitor) are computed inside each run, side by side,
//! then reduced the same way. Each section's table replaces the content
//! between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` in
//! BENCHMARKS.md (written atomically after every section), with a data
//! comment holding the figures, from which the `summary` block is rebuilt.
//! Raw outputs are kept in `target/bench-all/logs/`. With `--verify` the
//! blocks are left alone: each fresh median is compared with the range its
//! block states, and the result goes to the `reproduction` block
//! ([`verify`]).

mod markdown;
mod parse;
mod render;
mod stats;
mod verify;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};

use stats::{Figures, Spread};

/// The sections, in the order they run (the slow ones last).
pub const SECTIONS: &[&str] = &[
    "sse",
    "codegen",
    "e2e",
    "ledger",
    "inflight",
    "progenitor",
    "compile",
    "batch",
];

/// The flags of `cargo xtask bench --all`.
#[derive(clap::Args, Debug, Default)]
pub struct AllArgs {
    /// Re-measure every figure of BENCHMARKS.md (each section --runs times)
    /// and rewrite its generated tables.
    #[arg(long)]
    pub all: bool,
    /// Runs per section; every figure is the median (min-max) over them.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Only these sections (comma-separated): sse, codegen, e2e, ledger,
    /// inflight, progenitor, compile, batch.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Every section but these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Print the commands each selected section would run and check the
    /// markers; run and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Measure and print the tables, but leave the file as it is.
    #[arg(long)]
    pub no_write: bool,
    /// Re-measure and compare every figure with the range its block states,
    /// instead of rewriting the blocks: the result goes to the
    /// `reproduction` block, and the command fails when a figure falls
    /// outside its range.
    #[arg(long)]
    pub verify: bool,
    /// The file whose generated blocks are rewritten.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub file: PathBuf,
}

impl AllArgs {
    /// Whether any `--all` mode flag was given (then `bench` runs this).
    pub fn selected(&self) -> bool {
        self.all
            || !self.only.is_empty()
            || !self.skip.is_empty()
            || self.dry_run
            || self.no_write
            || self.verify
    }
}

/// What the plain `bench` flags set for `--all` too.
pub struct Counts {
    /// Generations held in flight (0 skips the in-flight section).
    pub in_flight: usize,
    /// Jobs of the batch run (0 skips the batch section).
    pub batch: usize,
    /// A tenth of the throughput generations.
    pub quick: bool,
}

/// The sections `args` selects, in running order.
pub fn select(args: &AllArgs, counts: &Counts) -> anyhow::Result<Vec<&'static str>> {
    for name in args.only.iter().chain(&args.skip) {
        if !SECTIONS.contains(&name.as_str()) {
            bail!(
                "unknown section {name:?}; the sections are {}",
                SECTIONS.join(", ")
            );
        }
    }
    Ok(SECTIONS
        .iter()
        .copied()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|o| o == s))
        .filter(|s| !args.skip.iter().any(|o| o == s))
        .filter(|s| !(*s == "inflight" && counts.in_flight == 0))
        .filter(|s| !(*s == "batch" && counts.batch == 0))
        .collect())
}

/// Runs the selected sections and rewrites their blocks and the summary.
pub fn run(root: &Path, args: &AllArgs, counts: &Counts) -> anyhow::Result<ExitCode> {
    let sections = select(args, counts)?;
    let file = if args.file.is_absolute() {
        args.file.clone()
    } else {
        root.join(&args.file)
    };
    let doc =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut blocks: Vec<&str> = sections.clone();
    blocks.push(if args.verify {
        "reproduction"
    } else {
        "summary"
    });
    // Fail before measuring anything when a block has nowhere to go.
    markdown::check_markers(&doc, &blocks)
        .with_context(|| format!("{} cannot take the tables", file.display()))?;

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let ctx = Ctx {
        revision: revision(root),
        root: root.to_path_buf(),
        logs: target.join("bench-all/logs"),
        target,
        cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        runs: args.runs.max(1),
        in_flight: counts.in_flight,
        batch: counts.batch,
        quick: counts.quick,
    };
    if args.dry_run {
        println!(
            "bench --all (dry run) at commit {}: {} run(s) of each section; {} blocks found in {}",
            ctx.revision,
            ctx.runs,
            blocks.len(),
            file.display()
        );
        for s in &sections {
            println!("[{s}]");
            for c in commands(s, &ctx) {
                println!("  {c}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&ctx.logs)?;

    // What the file states now: what `--verify` compares against.
    let stated: Vec<verify::Stated> = sections
        .iter()
        .map(|s| verify::Stated::read(&doc, s))
        .collect();
    let mut results: Vec<SectionResult> = sections.iter().map(|s| start(s, &ctx)).collect();
    let started = utc_now();
    // In rounds: run r of every section before run r + 1 of any, so each
    // section's runs are spread over the whole command and its range takes
    // in the machine's drift over that time, not only over a few minutes.
    for round in 0..ctx.runs {
        for result in &mut results {
            measure(result, round, &ctx);
        }
        if args.no_write {
            continue;
        }
        // Re-read: the file may have been edited while the round ran.
        let mut doc = std::fs::read_to_string(&file)?;
        if args.verify {
            let (body, _) = reproduction(&started, &ctx, &results, &stated);
            doc = markdown::replace_block(&doc, "reproduction", &body)?;
        } else {
            let mut fresh = std::collections::BTreeMap::new();
            for r in results.iter().filter(|r| !r.runs.is_empty()) {
                doc = markdown::replace_block(&doc, r.name, &render::section(r))?;
                fresh.insert(r.name, stats::spreads(&r.runs));
            }
            doc = markdown::replace_block(&doc, "summary", &summary(&doc, &fresh))?;
        }
        markdown::write_atomic(&file, &doc)?;
        println!(
            "bench --all: round {} of {} written to {}",
            round + 1,
            ctx.runs,
            file.display()
        );
    }

    let mut failed = Vec::new();
    for r in &results {
        for f in &r.failures {
            eprintln!("bench --all: {}: {f}", r.name);
        }
        if r.runs.is_empty() {
            eprintln!(
                "bench --all: {}: no run succeeded; its block is left as it was",
                r.name
            );
        }
        if !r.failures.is_empty() {
            failed.push(r.name);
        }
        if !args.verify && !r.runs.is_empty() {
            println!("\n{}", render::section(r));
        }
    }
    let mut judgement = None;
    if args.verify {
        let (body, j) = reproduction(&started, &ctx, &results, &stated);
        println!("\n{body}");
        judgement = Some(j);
    }
    if !failed.is_empty() {
        eprintln!("bench --all: sections with failures: {}", failed.join(", "));
        return Ok(ExitCode::FAILURE);
    }
    if let Some(j) = judgement {
        eprintln!("bench --all --verify: {}", j.line());
        if j.changed() {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `reproduction` block for the runs so far, and the re-run judged
/// against chance.
fn reproduction(
    started: &str,
    ctx: &Ctx,
    results: &[SectionResult],
    stated: &[verify::Stated],
) -> (String, verify::Judgement) {
    let checks = verify_checks(results, stated);
    let body = verify::render(
        started,
        &utc_now(),
        &ctx.revision,
        ctx.runs,
        &checks,
        &verdicts(stated, &checks),
    );
    (body, verify::Judgement::of(&checks))
}

/// The summary's verdicts on the stated figures and on the re-run's.
fn verdicts(
    stated: &[verify::Stated],
    checks: &[verify::SectionCheck],
) -> Vec<render::VerdictPair> {
    let stated: std::collections::BTreeMap<String, Spread> =
        stated.iter().flat_map(|s| s.figures.clone()).collect();
    render::verdict_pairs(&stated, &verify::fresh_figures(checks))
}

/// Every section's fresh figures against what its block states.
fn verify_checks(
    results: &[SectionResult],
    stated: &[verify::Stated],
) -> Vec<verify::SectionCheck> {
    results
        .iter()
        .zip(stated)
        .map(|(r, s)| verify::SectionCheck {
            name: r.name.to_string(),
            stated_when: s.when.clone(),
            runs: r.runs.len(),
            loads: r.loads.clone(),
            checks: verify::compare(&s.figures, &stats::spreads(&r.runs)),
        })
        .collect()
}

/// The summary block from the fresh figures, falling back to each block's
/// data comment for the sections not run now.
fn summary(
    doc: &str,
    fresh: &std::collections::BTreeMap<&str, std::collections::BTreeMap<String, Spread>>,
) -> String {
    let mut all = std::collections::BTreeMap::new();
    for s in SECTIONS {
        match fresh.get(s) {
            Some(f) => all.extend(f.clone()),
            None => all.extend(markdown::read_data(doc, s)),
        }
    }
    render::summary(&all)
}

/// What the sections share.
struct Ctx {
    root: PathBuf,
    /// The commit measured (`git describe` of the tree; see [`revision`]).
    revision: String,
    target: PathBuf,
    logs: PathBuf,
    cargo: String,
    runs: usize,
    in_flight: usize,
    batch: usize,
    quick: bool,
}

/// One section's results over its runs.
pub struct SectionResult {
    /// The section's name.
    pub name: &'static str,
    /// The commands, as a reader would type them.
    pub commands: Vec<String>,
    /// The figures of every successful run.
    pub runs: Vec<Figures>,
    /// The 1-minute load averages sampled before and after each command.
    pub loads: Vec<f64>,
    /// What went wrong, one line each.
    pub failures: Vec<String>,
    /// When the section's first run started (UTC).
    pub started: String,
    /// When its latest run ended (UTC).
    pub ended: String,
    /// The commit measured, `-dirty` when the tree had other changes.
    pub revision: String,
    /// Runs asked for.
    pub runs_asked: usize,
    /// Notes for the block (settings the figures depend on).
    pub notes: Vec<String>,
}

/// One command's run.
struct Outcome {
    stdout: String,
    wall: Duration,
    /// User + system CPU of the command and everything it waited for.
    cpu: Duration,
}

/// The loads and failures of a section while it runs.
struct Recorder<'a> {
    ctx: &'a Ctx,
    section: &'static str,
    run: usize,
    loads: Vec<f64>,
}

impl Recorder<'_> {
    /// Runs `cmd` in the workspace root, its stdout shown and kept (and
    /// logged), its stderr shown; an error when it fails.
    fn exec(&mut self, label: &str, cmd: &mut Command) -> anyhow::Result<Outcome> {
        cmd.current_dir(&self.ctx.root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        println!(
            "== bench --all [{} {}/{}] {label}",
            self.section,
            self.run + 1,
            self.ctx.runs
        );
        self.loads.extend(load_average());
        let (cpu0, start) = (children_cpu(), Instant::now());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("{label}: could not start"))?;
        let mut stdout = String::new();
        if let Some(out) = child.stdout.take() {
            for line in BufReader::new(out).lines() {
                let line = line.unwrap_or_default();
                println!("   {line}");
                stdout.push_str(&line);
                stdout.push('\n');
            }
        }
        let status = child.wait()?;
        let wall = start.elapsed();
        let cpu = children_cpu().saturating_sub(cpu0);
        self.loads.extend(load_average());
        let log = self.ctx.logs.join(format!(
            "{}-run{}-{}.log",
            self.section,
            self.run + 1,
            label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .take(60)
                .collect::<String>()
        ));
        if let Ok(mut f) = std::fs::File::create(&log) {
            let _ = writeln!(f, "# {label}\n# {status}, wall {wall:?}, cpu {cpu:?}");
            let _ = f.write_all(stdout.as_bytes());
        }
        if !status.success() {
            bail!("{label}: {status} (output in {})", log.display());
        }
        Ok(Outcome { stdout, wall, cpu })
    }

    /// `cargo ARGS`.
    fn cargo(&mut self, args: &[&str]) -> anyhow::Result<Outcome> {
        let label = format!("cargo {}", args.join(" "));
        self.exec(&label, Command::new(&self.ctx.cargo).args(args))
    }

    /// `cargo ARGS` with its own target directory (the compile section's, so
    /// that no other build holds the lock of the shared one while it is timed).
    fn cargo_in(&mut self, target: &Path, args: &[&str]) -> anyhow::Result<Outcome> {
        let label = format!("cargo {}", args.join(" "));
        self.exec(
            &label,
            Command::new(&self.ctx.cargo)
                .env("CARGO_TARGET_DIR", target)
                .args(args),
        )
    }
}

/// The commit of the tree at `root` (short hash), with `-dirty` when files
/// other than BENCHMARKS.md (which this command rewrites) differ from it,
/// so every block says which code its figures are for.
fn revision(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
    };
    let Some(head) = git(&["rev-parse", "--short=10", "HEAD"]).filter(|o| o.status.success())
    else {
        return "unknown".into();
    };
    let hash = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let clean = git(&[
        "diff",
        "--quiet",
        "HEAD",
        "--",
        ".",
        ":(exclude)BENCHMARKS.md",
    ])
    .is_some_and(|o| o.status.success());
    if clean {
        hash
    } else {
        format!("{hash}-dirty")
    }
}

/// The 1-minute load average.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// User + system CPU of this process's waited-for children (fields 16 and
/// 17 of /proc/self/stat, in clock ticks of 1/100 s, the USER_HZ of Linux).
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name may hold spaces: count fields after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    // After ')': field 3 is index 0, so fields 16 and 17 are indices 13 and 14.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(13) + ticks(14)) * 10)
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

const SSE_ARGS: &[&str] = &[
    "bench",
    "-q",
    "-p",
    "skills-video",
    "--bench",
    "sse",
    "--",
    "--measurement-time",
    "2",
    "--warm-up-time",
    "1",
];
const LEDGER_ARGS: &[&str] = &[
    "bench",
    "-q",
    "-p",
    "skills-video",
    "--features",
    "ledger",
    "--bench",
    "ledger",
];
const CODEGEN_ITERATIONS: &str = "20";
/// The compile section's target directory, under the workspace's.
const COMPILE_TARGET: &str = "bench-all/compile-target";
const TOUCHED_MODEL: &str = "sdk/src/generated/models/google_nano_banana_pro.rs";

/// The dev profile a user's crate builds the SDK with: cargo's default, full
/// debug info everywhere. The workspace trims debug info to keep CI's disk
/// small (Cargo.toml), which would otherwise make these builds look faster
/// than a user's.
const USER_PROFILE: &[&str] = &[
    "--config",
    "profile.dev.debug=true",
    "--config",
    "profile.dev.package.\"*\".debug=true",
];

/// The compile section's timed builds: label, files touched first (or a
/// clean of the crate when empty), extra cargo flags.
const COMPILES: &[(&str, &[&str], &[&str])] = &[
    ("clean", &[], &[]),
    ("touch_lib", &["sdk/src/lib.rs"], &[]),
    ("touch_model", &[TOUCHED_MODEL], &[]),
    (
        "clean_images",
        &[],
        &["--no-default-features", "--features", "images"],
    ),
    ("clean_none", &[], &["--no-default-features"]),
];

/// The commands of a section, as a reader would type them.
fn commands(section: &str, ctx: &Ctx) -> Vec<String> {
    let it = CODEGEN_ITERATIONS;
    match section {
        "sse" => vec![format!("cargo {}", SSE_ARGS.join(" "))],
        "codegen" => vec![
            format!("cargo xtask bench-codegen --iterations {it}"),
            format!("cargo run --release -q -p xtask -- bench-codegen --iterations {it}"),
            format!("cargo run --release -q -p xtask -- bench-codegen --iterations {it} --reuse"),
        ],
        "progenitor" => vec![format!(
            "cargo xtask bench-codegen --vs-progenitor --iterations {it} --compile 1"
        )],
        "compile" => {
            let env = format!("CARGO_TARGET_DIR=target/{COMPILE_TARGET}");
            // As a shell reads it: the `"*"` key single-quoted.
            let profile = USER_PROFILE
                .iter()
                .map(|a| {
                    if a.contains('*') {
                        format!("'{a}'")
                    } else {
                        a.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let mut v = vec![format!(
                "export {env}; cargo build -p skills-video {profile} (dependencies, untimed)"
            )];
            for (_, touch, flags) in COMPILES {
                let build = format!("cargo build -p skills-video {profile} {}", flags.join(" "));
                v.push(if touch.is_empty() {
                    format!("cargo clean -p skills-video && {}", build.trim_end())
                } else {
                    format!("touch {} && {}", touch.join(" "), build.trim_end())
                });
            }
            v
        }
        "e2e" => vec![format!(
            "cargo run --release -q -p skills-video-tests --bin bench-e2e{}",
            if ctx.quick { " -- --quick" } else { "" }
        )],
        "inflight" => {
            let n = ctx.in_flight;
            vec![
                "cargo build --release -q -p skills-video-simulator -p skills-video-tests --bin skills-video-simulator --bin bench-e2e".into(),
                format!("target/release/bench-e2e --in-flight {n} --sdk"),
                format!("target/release/bench-e2e --in-flight {n} --bare"),
                format!("target/release/bench-e2e --in-flight {n} --sdk --http2"),
                format!("target/release/bench-e2e --in-flight {n} --bare --http2"),
            ]
        }
        "ledger" => vec![format!("cargo {}", LEDGER_ARGS.join(" "))],
        "batch" => vec![
            "cargo build --release -q -p skills-video-cli --bin skills-video".into(),
            format!(
                "cargo run --release -q -p skills-video-cli --example batch_inflight -- {} 20",
                ctx.batch
            ),
        ],
        _ => Vec::new(),
    }
}

/// A section's result before its first run.
fn start(section: &'static str, ctx: &Ctx) -> SectionResult {
    let mut result = SectionResult {
        name: section,
        commands: commands(section, ctx),
        runs: Vec::new(),
        loads: Vec::new(),
        failures: Vec::new(),
        started: utc_now(),
        ended: utc_now(),
        revision: ctx.revision.clone(),
        runs_asked: ctx.runs,
        notes: Vec::new(),
    };
    let pairs = inflight_pairs(ctx);
    if section == "inflight" && pairs > 1 {
        result.notes.push(format!(
            "the four bench-e2e commands {pairs} times, in reverse order every other time; each figure of a run is the median over its {pairs}"
        ));
    }
    if section == "compile" {
        result.notes.push(match std::env::var("CARGO_INCREMENTAL") {
            Ok(v) => format!("`CARGO_INCREMENTAL={v}` in the environment of these builds"),
            Err(_) => "`CARGO_INCREMENTAL` unset: cargo's default, incremental in debug".into(),
        });
    }
    result
}

/// Runs one section once (its run number `run`) and adds what it gave.
fn measure(result: &mut SectionResult, run: usize, ctx: &Ctx) {
    if run == 0 {
        result.started = utc_now();
    }
    let mut rec = Recorder {
        ctx,
        section: result.name,
        run,
        loads: Vec::new(),
    };
    let figures = match result.name {
        "sse" => sse(&mut rec),
        "codegen" => codegen(&mut rec),
        "progenitor" => progenitor(&mut rec),
        "compile" => compile(&mut rec),
        "e2e" => e2e(&mut rec),
        "inflight" => inflight(&mut rec),
        "ledger" => ledger(&mut rec),
        "batch" => batch(&mut rec),
        _ => Err(anyhow::anyhow!("unknown section")),
    };
    result.loads.append(&mut rec.loads);
    result.ended = utc_now();
    match figures {
        Ok(f) if f.is_empty() => result
            .failures
            .push(format!("run {}: no figure found in the output", run + 1)),
        Ok(f) => result.runs.push(f),
        Err(e) => result.failures.push(format!("run {}: {e:#}", run + 1)),
    }
}

fn sse(rec: &mut Recorder) -> anyhow::Result<Figures> {
    // Criterion's files of this run only, away from anyone else's runs.
    let home = rec.ctx.target.join("bench-all/criterion");
    let _ = std::fs::remove_dir_all(home.join("sse"));
    rec.exec(
        &format!("cargo {}", SSE_ARGS.join(" ")),
        Command::new(&rec.ctx.cargo)
            .args(SSE_ARGS)
            .env("CRITERION_HOME", &home),
    )?;
    let mut f = parse::criterion(&home, "sse", "sse.");
    let inputs: Vec<String> = f
        .keys()
        .filter_map(|k| k.strip_suffix(".skills_video.mbps")?.strip_prefix("sse."))
        .map(str::to_string)
        .collect();
    for input in inputs {
        let get = |f: &Figures, imp: &str| f.get(&format!("sse.{input}.{imp}.mbps")).copied();
        let ours = get(&f, "skills_video");
        let peer = get(&f, "eventsource_stream");
        let ceiling = get(&f, "memchr_ceiling");
        let prefix = format!("sse.{input}");
        if let (Some(o), Some(p)) = (ours, peer) {
            f.insert(format!("{prefix}.vs_eventsource"), o / p);
        }
        if let (Some(o), Some(c)) = (ours, ceiling) {
            f.insert(format!("{prefix}.of_ceiling"), o / c);
        }
    }
    Ok(f)
}

fn codegen(rec: &mut Recorder) -> anyhow::Result<Figures> {
    let it = CODEGEN_ITERATIONS;
    let mut f = Figures::new();
    let out = rec.cargo(&[
        "run",
        "-q",
        "-p",
        "xtask",
        "--",
        "bench-codegen",
        "--iterations",
        it,
    ])?;
    f.extend(parse::codegen(&out.stdout, "codegen.debug."));
    let release = [
        "run",
        "--release",
        "-q",
        "-p",
        "xtask",
        "--",
        "bench-codegen",
        "--iterations",
        it,
    ];
    let out = rec.cargo(&release)?;
    f.extend(parse::codegen(&out.stdout, "codegen.release."));
    let mut reuse = release.to_vec();
    reuse.push("--reuse");
    let out = rec.cargo(&reuse)?;
    f.extend(parse::codegen(&out.stdout, "codegen.reuse."));
    Ok(f)
}

fn progenitor(rec: &mut Recorder) -> anyhow::Result<Figures> {
    let out = rec.cargo(&[
        "run",
        "-q",
        "-p",
        "xtask",
        "--",
        "bench-codegen",
        "--vs-progenitor",
        "--iterations",
        CODEGEN_ITERATIONS,
        "--compile",
        "1",
    ])?;
    Ok(parse::progenitor(&out.stdout))
}

/// `cargo build -q -p skills-video` in [`USER_PROFILE`], with `flags`.
fn sdk_build<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["build", "-q", "-p", "skills-video"];
    args.extend(USER_PROFILE);
    args.extend(flags);
    args
}

fn compile(rec: &mut Recorder) -> anyhow::Result<Figures> {
    let mut f = Figures::new();
    let target = rec.ctx.target.join(COMPILE_TARGET);
    rec.cargo_in(&target, &sdk_build(&[]))?;
    for (label, touch, flags) in COMPILES {
        if touch.is_empty() {
            rec.cargo_in(&target, &["clean", "-q", "-p", "skills-video"])?;
        } else {
            for file in *touch {
                let path = rec.ctx.root.join(file);
                // A new modification time only; the content is not rewritten.
                std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(SystemTime::now()))
                    .with_context(|| format!("touching {}", path.display()))?;
            }
        }
        let out = rec.cargo_in(&target, &sdk_build(flags))?;
        f.insert(format!("compile.{label}.wall_s"), out.wall.as_secs_f64());
        f.insert(format!("compile.{label}.cpu_s"), out.cpu.as_secs_f64());
    }
    Ok(f)
}

fn e2e(rec: &mut Recorder) -> anyhow::Result<Figures> {
    let mut args = vec![
        "run",
        "--release",
        "-q",
        "-p",
        "skills-video-tests",
        "--bin",
        "bench-e2e",
    ];
    if rec.ctx.quick {
        args.extend(["--", "--quick"]);
    }
    let out = rec.cargo(&args)?;
    Ok(parse::bench_lines(&out.stdout, "e2e."))
}

/// SDK/bare pairs per run of the in-flight section. The SDK's share is the
/// difference of two peaks of ~150 MB (HTTP/2) that move by ±10 MB from one
/// process to the next: the peak is set by the ramp's transient buffers
/// (peak heap ~12 KiB per generation against ~3.5 KiB live at the sample), so
/// it depends on how the 10,000 requests interleave. One pair's share moves
/// by ±1.5 KiB; a run takes the median of three pairs, and keeps the largest
/// pair's share beside it (`share_max_kib`).
const INFLIGHT_PAIRS: usize = 3;

/// The pairs a run of the in-flight section takes (one in `--quick`).
fn inflight_pairs(ctx: &Ctx) -> usize {
    if ctx.quick {
        1
    } else {
        INFLIGHT_PAIRS
    }
}

fn inflight(rec: &mut Recorder) -> anyhow::Result<Figures> {
    rec.cargo(&[
        "build",
        "--release",
        "-q",
        "-p",
        "skills-video-simulator",
        "-p",
        "skills-video-tests",
        "--bin",
        "skills-video-simulator",
        "--bin",
        "bench-e2e",
    ])?;
    let bin = rec.ctx.target.join("release/bench-e2e");
    let n = rec.ctx.in_flight.to_string();
    let variants = [
        ("h1.sdk", ["--sdk"].as_slice()),
        ("h1.bare", ["--bare"].as_slice()),
        ("h2.sdk", ["--sdk", "--http2"].as_slice()),
        ("h2.bare", ["--bare", "--http2"].as_slice()),
    ];
    let pairs = inflight_pairs(rec.ctx);
    let mut rounds = Vec::with_capacity(pairs);
    for pair in 0..pairs {
        let mut order = variants.to_vec();
        // Alternate which goes first, from round to round and run to run.
        if (rec.run + pair) % 2 == 1 {
            order.reverse();
        }
        let mut f = Figures::new();
        for (key, extra) in order {
            let mut cmd = Command::new(&bin);
            cmd.args(["--in-flight", n.as_str()]).args(extra);
            let label = format!(
                "target/release/bench-e2e --in-flight {n} {}",
                extra.join(" ")
            );
            let out = rec.exec(label.trim_end(), &mut cmd)?;
            let figures = parse::bench_lines(&out.stdout, &format!("inflight.{key}."));
            if figures.is_empty() {
                bail!("{label}: no BENCH line in the output");
            }
            f.extend(figures);
        }
        add_shares(&mut f);
        rounds.push(f);
    }
    Ok(median_of_pairs(&rounds))
}

/// The SDK's share per generation and the SDK/bare peak ratio of one pair,
/// for each protocol whose two peaks `f` holds.
fn add_shares(f: &mut Figures) {
    for p in ["h1", "h2"] {
        let get = |k: &str| f.get(&format!("inflight.{p}.{k}")).copied();
        if let (Some(s), Some(b), Some(n)) = (
            get("sdk.hwm_mib"),
            get("bare.hwm_mib"),
            get("sdk.in_flight"),
        ) {
            if n > 0.0 {
                f.insert(format!("inflight.{p}.share_kib"), (s - b) * 1024.0 / n);
            }
            f.insert(format!("inflight.{p}.hwm_ratio"), s / b);
        }
    }
}

/// One run's figures from its pairs: each the median over the pairs, plus
/// the largest pair's share (`share_max_kib`) per protocol.
fn median_of_pairs(rounds: &[Figures]) -> Figures {
    let spreads = stats::spreads(rounds);
    let mut f: Figures = spreads.iter().map(|(k, s)| (k.clone(), s.median)).collect();
    for p in ["h1", "h2"] {
        if let Some(share) = spreads.get(&format!("inflight.{p}.share_kib")) {
            f.insert(format!("inflight.{p}.share_max_kib"), share.max);
        }
    }
    f
}

/// Builds the CLI the batch example runs as a child (`cargo xtask bench --batch` too).
pub const BATCH_BUILD_ARGS: &[&str] = &[
    "build",
    "--release",
    "-q",
    "-p",
    "skills-video-cli",
    "--bin",
    "skills-video",
];

/// Runs `n` jobs through one `skills-video batch` (the example starts the
/// simulator in process, 20 s jobs).
pub fn batch_run_args(n: &str) -> [&str; 10] {
    [
        "run",
        "--release",
        "-q",
        "-p",
        "skills-video-cli",
        "--example",
        "batch_inflight",
        "--",
        n,
        "20",
    ]
}

fn ledger(rec: &mut Recorder) -> anyhow::Result<Figures> {
    let out = rec.cargo(LEDGER_ARGS)?;
    Ok(parse::ledger(&out.stdout))
}

fn batch(rec: &mut Recorder) -> anyhow::Result<Figures> {
    rec.cargo(BATCH_BUILD_ARGS)?;
    let n = rec.ctx.batch.to_string();
    let out = rec.cargo(&batch_run_args(&n))?;
    let mut f = parse::batch(&out.stdout);
    f.insert("batch.jobs".into(), rec.ctx.batch as f64);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(only: &[&str], skip: &[&str]) -> AllArgs {
        AllArgs {
            all: true,
            runs: 3,
            only: only.iter().map(|s| s.to_string()).collect(),
            skip: skip.iter().map(|s| s.to_string()).collect(),
            ..AllArgs::default()
        }
    }

    const COUNTS: Counts = Counts {
        in_flight: 10_000,
        batch: 10_000,
        quick: false,
    };

    #[test]
    fn sections_are_selected_in_running_order() {
        assert_eq!(select(&args(&[], &[]), &COUNTS).unwrap(), SECTIONS);
        assert_eq!(
            select(&args(&["batch", "sse"], &[]), &COUNTS).unwrap(),
            ["sse", "batch"]
        );
        assert!(!select(&args(&[], &["batch"]), &COUNTS)
            .unwrap()
            .contains(&"batch"));
        let none = Counts {
            in_flight: 0,
            batch: 0,
            quick: false,
        };
        let s = select(&args(&[], &[]), &none).unwrap();
        assert!(!s.contains(&"inflight") && !s.contains(&"batch"));
        let e = select(&args(&["sse", "nope"], &[]), &COUNTS).unwrap_err();
        assert!(e.to_string().contains("unknown section \"nope\""), "{e}");
    }

    #[test]
    fn every_section_has_commands() {
        let ctx = Ctx {
            revision: "test".into(),
            root: PathBuf::from("."),
            target: PathBuf::from("target"),
            logs: PathBuf::from("target/bench-all/logs"),
            cargo: "cargo".into(),
            runs: 1,
            in_flight: 10,
            batch: 10,
            quick: true,
        };
        for s in SECTIONS {
            assert!(!commands(s, &ctx).is_empty(), "{s}");
        }
        assert!(commands("e2e", &ctx)[0].ends_with("-- --quick"));
        assert_eq!(commands("compile", &ctx).len(), 1 + COMPILES.len());
    }

    #[test]
    fn a_run_of_the_in_flight_section_is_the_median_of_its_pairs() {
        // Three pairs over HTTP/2: peaks (MiB) of SDK and bare per pair.
        let rounds: Vec<Figures> = [(150.0, 130.0), (140.0, 139.0), (146.0, 141.0)]
            .iter()
            .map(|&(sdk, bare)| {
                let mut f = Figures::new();
                f.insert("inflight.h2.sdk.hwm_mib".into(), sdk);
                f.insert("inflight.h2.bare.hwm_mib".into(), bare);
                f.insert("inflight.h2.sdk.in_flight".into(), 10_240.0);
                add_shares(&mut f);
                f
            })
            .collect();
        // One pair's share: (sdk - bare) MiB * 1024 / 10,240 generations.
        assert_eq!(rounds[0]["inflight.h2.share_kib"], 2.0);
        assert_eq!(rounds[0]["inflight.h2.hwm_ratio"], 150.0 / 130.0);
        let run = median_of_pairs(&rounds);
        // The median of the pairs' shares (2.0, 0.1, 0.5), not the share of
        // the median peaks ((146 - 139) / 10 = 0.7).
        assert_eq!(run["inflight.h2.share_kib"], 0.5);
        assert_eq!(run["inflight.h2.share_max_kib"], 2.0);
        assert_eq!(run["inflight.h2.sdk.hwm_mib"], 146.0);
        assert_eq!(run["inflight.h2.bare.hwm_mib"], 139.0);
        // No HTTP/1.1 peaks, no HTTP/1.1 share.
        assert!(!run.contains_key("inflight.h1.share_kib"));
        assert!(!run.contains_key("inflight.h1.share_max_kib"));
    }

    #[test]
    fn the_date_is_a_utc_calendar_date() {
        let d = utc_now();
        assert_eq!(d.len(), "2026-11-27 03:05 UTC".len(), "{d}");
        let year: i32 = d[..4].parse().unwrap();
        assert!(year >= 2024, "{d}");
        let month: u32 = d[5..7].parse().unwrap();
        assert!((1..=12).contains(&month), "{d}");
    }
}
