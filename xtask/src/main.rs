//! Project automation for the skills-video workspace.
//!
//! - `cargo xtask codegen` regenerates `sdk/src/generated` from `specs/`.
//! - `cargo xtask codegen --check` fails, naming each stale file, when the
//!   committed code differs from what the specs produce (CI runs it).
//! - `cargo xtask bench-codegen` times a full generation per stage;
//!   `--vs-progenitor` runs the same spec through progenitor and ours,
//!   interleaved in one process (`benches/vs-progenitor`, outside the workspace).
//! - `cargo xtask specs-from-reference` rewrites the model schemas of `specs/`
//!   from the reference fixtures in `specs/reference/pages/`.
//! - `cargo xtask update-specs [--from URL|DIR]` takes new specs, checks
//!   them, writes `specs/`, regenerates and prints the change report.
//! - `cargo xtask reliability` runs the fault matrix and prints the report.
//! - `cargo xtask chaos [--seed N]` runs the crash test (SIGKILL, then resume).
//! - `cargo xtask bench [--in-flight N] [--quick] [--no-throughput] [--batch N]` builds the
//!   simulator and runs the end-to-end benchmark (`bench-e2e`) in release
//!   mode: throughput/latency, then N generations in flight (default 10,000;
//!   0 skips it) over HTTP/1.1 and over HTTP/2, each in its own process.
//! - `cargo xtask bench --all [--runs N] [--only S,..] [--skip S,..] [--dry-run]`
//!   re-measures every BENCHMARKS.md figure and rewrites its generated tables;
//!   with `--verify` it compares each re-run with the range the file states
//!   instead, writes the `reproduction` block and fails when more figures
//!   moved beyond their whole range than run-to-run noise explains.

mod bench_all;
mod reference;
mod update_specs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "skills-video project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the SDK's generated module from the specs (or check it is current).
    Codegen {
        #[command(flatten)]
        paths: SpecPaths,
        /// Fail instead of writing when the committed code is stale.
        #[arg(long)]
        check: bool,
        /// Also write the change report (committed specs → working specs) as Markdown here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The git revision whose specs the change report starts from.
        #[arg(long, default_value = "HEAD")]
        since: String,
    },
    /// Time a full generation (load, catalog, IR, emit) and print the figures.
    BenchCodegen {
        #[command(flatten)]
        paths: SpecPaths,
        /// How many generations to time.
        #[arg(long, default_value_t = 20)]
        iterations: u32,
        /// Reuse the files in `--out` whose header shows the same input (what
        /// `cargo xtask codegen` and `--check` do) instead of formatting all.
        #[arg(long)]
        reuse: bool,
        /// Instead: run the progenitor comparison (`benches/vs-progenitor`,
        /// its own workspace, built in release into target/vs-progenitor).
        #[arg(long)]
        vs_progenitor: bool,
        /// With `--vs-progenitor`: also time the clean and the after-an-edit
        /// compile of both outputs, this many interleaved rounds (slow: each
        /// round builds both crates twice).
        #[arg(long, value_name = "ROUNDS", num_args = 0..=1, default_missing_value = "3")]
        compile: Option<u32>,
    },
    /// Rewrite the model schemas of specs/ from specs/reference/pages/ (the
    /// platform's published API reference, one fixture per page).
    SpecsFromReference,
    /// Take `openapi.json` and `docs.json` from a base URL or a directory,
    /// check that they generate, write them into specs/, regenerate and print
    /// the change report. Nothing changes when the new specs fail a check.
    UpdateSpecs {
        /// A base URL (`{URL}/openapi.json`, `{URL}/docs.json`) or a directory holding both.
        #[arg(long, default_value = update_specs::DEFAULT_SOURCE)]
        from: String,
        /// Also write the change report as Markdown here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Run the fault matrix against the SDK and print one line per fault.
    Reliability,
    /// The crash test: the CLI killed with SIGKILL at random moments, then
    /// `resume`; prints duplicate creates, lost generations, bad outputs.
    Chaos {
        /// The seed (random when unset; printed either way).
        #[arg(long)]
        seed: Option<u64>,
        /// Generations to run.
        #[arg(long, default_value_t = 50)]
        generations: u32,
        /// Generation processes to kill.
        #[arg(long, default_value_t = 12)]
        kills: u32,
    },
    /// Run the end-to-end benchmark (bench-e2e) in release mode.
    Bench {
        /// Generations held in flight for the memory figure (0 skips it).
        #[arg(long, default_value_t = 10_000)]
        in_flight: usize,
        /// A tenth of the throughput generation counts.
        #[arg(long)]
        quick: bool,
        /// Skip the throughput/latency run.
        #[arg(long)]
        no_throughput: bool,
        /// Jobs of the `skills-video batch` in-flight run (one process, one
        /// poll scheduler past 256 streams; 0 skips it).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// `--all` and its flags: re-measure every BENCHMARKS.md figure.
        #[command(flatten)]
        all: bench_all::AllArgs,
    },
}

#[derive(Args)]
struct SpecPaths {
    /// The OpenAPI document.
    #[arg(long, default_value = "specs/openapi.json")]
    openapi: PathBuf,
    /// The Mintlify docs config.
    #[arg(long, default_value = "specs/docs.json")]
    docs: PathBuf,
    /// Where the generated module goes.
    #[arg(long, default_value = "sdk/src/generated")]
    out: PathBuf,
}

/// The workspace root, so the defaults work from any directory.
/// The workspace root of the checkout `cargo xtask` runs in: cargo sets
/// `CARGO_MANIFEST_DIR` at run time too, and that wins over the compile-time
/// value, so a second checkout sharing the target directory checks its own
/// files, not those of the checkout the binary was built in.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn resolve(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root().join(path)
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Codegen {
            paths,
            check,
            report,
            since,
        } => codegen(&paths, check, report.as_deref(), &since),
        Command::BenchCodegen {
            paths,
            iterations,
            reuse,
            vs_progenitor,
            compile,
        } => {
            if vs_progenitor {
                vs_progenitor_bench(iterations, compile)
            } else {
                bench_codegen(&paths, iterations, reuse)
            }
        }
        Command::Bench {
            in_flight,
            quick,
            no_throughput,
            batch,
            all,
        } => {
            if all.selected() {
                let counts = bench_all::Counts {
                    in_flight,
                    batch,
                    quick,
                };
                bench_all::run(&root(), &all, &counts)
            } else {
                bench(in_flight, quick, no_throughput, batch)
            }
        }
        Command::UpdateSpecs { from, report } => update_specs::run(&root(), &from).and_then(|r| {
            print!("{}", r.to_text());
            if let Some(path) = report {
                std::fs::write(&path, r.to_markdown())?;
                println!("change report written to {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }),
        Command::SpecsFromReference => match reference::run(&root()) {
            Ok(report) => {
                for line in &report {
                    println!("{line}");
                }
                println!("specs/openapi.json and specs/docs.json rewritten from {} change(s); run `cargo xtask codegen` next", report.len());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(e),
        },
        Command::Chaos {
            seed,
            generations,
            kills,
        } => {
            if !cargo(&[
                "build",
                "--quiet",
                "-p",
                "skills-video-cli",
                "-p",
                "skills-video-tests",
                "--bin",
                "skills-video",
                "--bin",
                "chaos",
            ])? {
                return Ok(ExitCode::FAILURE);
            }
            let (g, k) = (generations.to_string(), kills.to_string());
            let mut args = vec![
                "run",
                "--quiet",
                "-p",
                "skills-video-tests",
                "--bin",
                "chaos",
                "--",
                "--generations",
                &g,
                "--kills",
                &k,
            ];
            let seed = seed.map(|s| s.to_string());
            if let Some(s) = &seed {
                args.extend(["--seed", s.as_str()]);
            }
            Ok(if cargo(&args)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Reliability => Ok(
            if cargo(&[
                "run",
                "--quiet",
                "--package",
                "skills-video-tests",
                "--bin",
                "reliability",
            ])? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            },
        ),
    }
}

/// Runs `cargo` in the workspace root with these arguments.
fn cargo(args: &[&str]) -> anyhow::Result<bool> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(root())
        .args(args)
        .status()?;
    Ok(status.success())
}

fn bench(
    in_flight: usize,
    quick: bool,
    no_throughput: bool,
    batch: usize,
) -> anyhow::Result<ExitCode> {
    let run = [
        "run",
        "--release",
        "-q",
        "-p",
        "skills-video-tests",
        "--bin",
        "bench-e2e",
        "--",
    ];
    let mut ok = true;
    if !no_throughput {
        let mut args = run.to_vec();
        if quick {
            args.push("--quick");
        }
        ok &= cargo(&args)?;
    }
    if in_flight > 0 {
        // The in-flight run spawns the simulator binary found next to bench-e2e.
        if !cargo(&["build", "--release", "-q", "-p", "skills-video-simulator"])? {
            anyhow::bail!("building the simulator failed");
        }
        let n = in_flight.to_string();
        // Once over HTTP/1.1 (one connection per stream), once over HTTP/2
        // (streams multiplexed on shared connections).
        for extra in [None, Some("--http2")] {
            let mut args = run.to_vec();
            args.extend(["--in-flight", n.as_str()]);
            args.extend(extra);
            ok &= cargo(&args)?;
        }
    }
    if batch > 0 {
        // The example runs the simulator in process and the CLI as a child.
        if !cargo(bench_all::BATCH_BUILD_ARGS)? {
            anyhow::bail!("building the CLI failed");
        }
        let n = batch.to_string();
        ok &= cargo(&bench_all::batch_run_args(&n))?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The change report from the specs at `since` (`git show REV:...`, HEAD by
/// default) to the working ones; the reason when there is nothing to compare with.
fn change_report(
    paths: &SpecPaths,
    since: &str,
) -> Result<skills_video_codegen::diff::Report, String> {
    let root = root();
    let committed = |path: &Path| -> Result<serde_json::Value, String> {
        let full = resolve(path);
        let relative = full
            .strip_prefix(&root)
            .map_err(|_| format!("{} is outside the checkout", full.display()))?;
        let output = std::process::Command::new("git")
            .current_dir(&root)
            .args(["show", &format!("{since}:{}", relative.display())])
            .output()
            .map_err(|e| format!("git could not run: {e}"))?;
        if !output.status.success() {
            return Err(format!("no {} at {since}", relative.display()));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("the committed {} is not JSON: {e}", relative.display()))
    };
    let old = skills_video_codegen::load::from_values(
        committed(&paths.openapi)?,
        committed(&paths.docs)?,
        &paths.openapi,
    )
    .and_then(|specs| skills_video_codegen::ir_from_specs(&specs))
    .map_err(|e| format!("the committed specs do not generate: {e}"))?;
    let new = skills_video_codegen::load::load(&resolve(&paths.openapi), &resolve(&paths.docs))
        .and_then(|specs| skills_video_codegen::ir_from_specs(&specs))
        .map_err(|e| e.to_string())?;
    Ok(skills_video_codegen::diff::diff(&old, &new))
}

fn codegen(
    paths: &SpecPaths,
    check: bool,
    report_path: Option<&Path>,
    since: &str,
) -> anyhow::Result<ExitCode> {
    let out = resolve(&paths.out);
    // Files whose header shows the same input are reused, not formatted again.
    let (files, _) = skills_video_codegen::generate_reusing(
        &resolve(&paths.openapi),
        &resolve(&paths.docs),
        &out,
    )?;
    match change_report(paths, since) {
        Ok(report) => {
            if !report.is_empty() {
                print!("{}", report.to_text());
            }
            if let Some(path) = report_path {
                std::fs::write(path, report.to_markdown())?;
                println!("change report written to {}", path.display());
            }
        }
        Err(why) => println!("change report skipped: {why}"),
    }
    let report = skills_video_codegen::write::sync(&out, &files, check)?;
    if check {
        if report.is_clean() {
            println!(
                "generated code is current ({} files in {})",
                files.len(),
                paths.out.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        for p in &report.stale {
            eprintln!("stale: {}", p.display());
        }
        for p in &report.missing {
            eprintln!("missing: {}", p.display());
        }
        for p in &report.extra {
            eprintln!("no longer generated: {}", p.display());
        }
        eprintln!("the generated code does not match the specs: run `cargo xtask codegen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{} files generated into {}: {} written, {} removed, {} unchanged",
        files.len(),
        paths.out.display(),
        report.written.len(),
        report.removed.len(),
        files.len() - report.written.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn bench_codegen(paths: &SpecPaths, iterations: u32, reuse: bool) -> anyhow::Result<ExitCode> {
    let (openapi, docs) = (resolve(&paths.openapi), resolve(&paths.docs));
    let out = resolve(&paths.out);
    let iterations = iterations.max(1);
    let mut totals = Vec::new();
    let mut stages = Vec::new();
    let mut files = 0;
    let mut bytes = 0;
    for _ in 0..iterations {
        let start = std::time::Instant::now();
        let (out, timings) = if reuse {
            skills_video_codegen::generate_reusing(&openapi, &docs, &out)?
        } else {
            skills_video_codegen::generate_timed(&openapi, &docs)?
        };
        totals.push(start.elapsed());
        stages.push(timings);
        files = out.len();
        bytes = out.values().map(String::len).sum::<usize>();
    }
    totals.sort();
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "codegen of {} ({} files, {} bytes), {} runs, release={}, reuse={}",
        paths.openapi.display(),
        files,
        bytes,
        iterations,
        !cfg!(debug_assertions),
        reuse
    );
    println!(
        "  total   median {:8.2} ms   min {:8.2} ms   max {:8.2} ms",
        ms(median(totals.clone())),
        ms(totals[0]),
        ms(totals[totals.len() - 1])
    );
    println!(
        "  load    median {:8.2} ms",
        ms(median(stages.iter().map(|s| s.load).collect()))
    );
    println!(
        "  catalog median {:8.2} ms",
        ms(median(stages.iter().map(|s| s.catalog).collect()))
    );
    println!(
        "  ir      median {:8.2} ms",
        ms(median(stages.iter().map(|s| s.ir).collect()))
    );
    println!(
        "  emit    median {:8.2} ms (tokens, syn parse, prettyplease; wall)",
        ms(median(stages.iter().map(|s| s.emit).collect()))
    );
    println!(
        "    summed over files: tokens {:.2} ms, syn parse {:.2} ms, prettyplease {:.2} ms (medians)",
        ms(median(stages.iter().map(|s| s.emit_parts.tokens).collect())),
        ms(median(stages.iter().map(|s| s.emit_parts.parse).collect())),
        ms(median(stages.iter().map(|s| s.emit_parts.print).collect())),
    );
    println!(
        "    hashing {:.2} ms; files reused unformatted: {}",
        ms(median(stages.iter().map(|s| s.emit_parts.hash).collect())),
        stages.last().map_or(0, |s| s.emit_parts.reused)
    );
    Ok(ExitCode::SUCCESS)
}

/// `bench-codegen --vs-progenitor`: builds and runs `benches/vs-progenitor`
/// in release. It has its own `[workspace]`, so progenitor is never part of
/// the workspace build; its target directory is `target/vs-progenitor`.
/// With `compile`, the bench also times both outputs' compiles (its scratch
/// crates go under `target/vs-progenitor/compile/`).
fn vs_progenitor_bench(iterations: u32, compile: Option<u32>) -> anyhow::Result<ExitCode> {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("vs-progenitor");
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "run",
            "--release",
            "--quiet",
            "--manifest-path",
            "benches/vs-progenitor/Cargo.toml",
            "--",
            "--iterations",
            &iterations.max(1).to_string(),
            "--root",
        ])
        .arg(&root)
        .args(
            compile
                .map(|rounds| ["--compile-rounds".to_string(), rounds.max(1).to_string()])
                .into_iter()
                .flatten(),
        )
        .status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
