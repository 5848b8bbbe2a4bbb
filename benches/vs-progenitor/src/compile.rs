//! `--compile`: how long each generator's output takes to compile (issue 18
//! item 3), clean and after an edit of one generated file, in the same run.
//!
//! Two scratch crates under `<target>/compile/`, each its own workspace with
//! its own target directory (dependencies built once, in a warm-up build
//! that is not timed):
//!
//! - `progenitor-out`: progenitor's output (`src/codegen.rs`, included from
//!   `src/lib.rs` as its README's `build.rs` recipe does) with the
//!   dependencies its README lists for generated code (`futures`,
//!   `progenitor-client`, `reqwest` with `json`/`query`/`stream`, `serde`,
//!   `serde_json`; `chrono`, `uuid`, `regress` only if the code names them),
//!   locked by `benches/vs-progenitor/Cargo.lock`.
//! - `skills-video-out`: the `skills-video` SDK as `codegen/tests/compile.rs`
//!   builds it (manifest from `cargo metadata`, the hand-written sources of
//!   `sdk/src`, the workspace's `Cargo.lock`), with our generator's output
//!   for the same edited spec copy in `src/generated`. It compiles the SDK's
//!   whole runtime too (client, streams, ledger...), where progenitor's
//!   runtime is the prebuilt `progenitor-client`: the comparison is tilted
//!   against us.
//!
//! Each round, interleaved (alternating which goes first): `cargo clean -p
//! <crate>` then `cargo build --lib` (the crate alone, dependencies already
//! built: "clean"), then one generated file gets a comment line appended (or
//! removed) and `cargo build --lib` again ("edit"). Debug profile with
//! `CARGO_INCREMENTAL=1` for these builds (the default of `cargo build`).
//! Wall time and the CPU of the cargo process tree (`/proc/self/stat`
//! `cutime + cstime`) are printed per round, then medians, min-max and ratios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The SDK's standalone manifest, written as the codegen compile test writes it.
#[path = "../../../codegen/tests/common/manifest.rs"]
mod manifest;
use manifest::{sdk_package, standalone_manifest};

/// One crate to time: its directory, package name and the generated file an edit touches.
struct Subject {
    label: &'static str,
    dir: PathBuf,
    package: String,
    /// The generated file the "edit" build changes (none: no edit timed).
    edited_file: Option<PathBuf>,
    /// Extra `cargo build` arguments (features).
    features: &'static [&'static str],
}

/// Times both outputs' compiles, `rounds` interleaved rounds.
pub fn run(
    root: &Path,
    target: &Path,
    progenitor_code: &str,
    ours: &skills_video_codegen::Files,
    rounds: usize,
) -> Result<(), String> {
    let base = target.join("compile");
    let prog = progenitor_crate(&base.join("progenitor-out"), root, progenitor_code)?;
    let ours = ours_crate(&base.join("skills-video-out"), root, ours)?;
    // The same crate without any model (`--no-default-features`: neither
    // `images` nor `videos`): the SDK's hand-written runtime alone, so the
    // generated code's own share is the difference.
    let runtime = Subject {
        label: "skills-video, no models",
        dir: ours.dir.clone(),
        package: ours.package.clone(),
        edited_file: None,
        features: &["--no-default-features"],
    };
    println!("\ncompile time of the two outputs (--compile), {rounds} interleaved rounds:");
    for s in [&prog, &ours] {
        let bytes: u64 = rs_bytes(&s.dir.join("src"));
        println!(
            "  {}: {} ({} bytes of .rs under src/)",
            s.label,
            s.dir.display(),
            bytes
        );
        // Warm-up: dependencies, and a first build of the crate (not timed).
        let (ok, wall, _) = cargo(&s.dir, &["build", "--lib", "--offline", "--quiet"])?;
        if !ok {
            return Err(format!("{} does not build", s.label));
        }
        println!(
            "    warm-up build (dependencies included): {:.1} s",
            wall.as_secs_f64()
        );
    }
    let mut clean: BTreeMap<&str, Vec<(Duration, Duration)>> = BTreeMap::new();
    let mut edit: BTreeMap<&str, Vec<(Duration, Duration)>> = BTreeMap::new();
    for round in 0..rounds {
        let order: [&Subject; 3] = if round % 2 == 0 {
            [&prog, &ours, &runtime]
        } else {
            [&runtime, &ours, &prog]
        };
        for s in order {
            cargo(&s.dir, &["clean", "-p", &s.package, "--offline", "--quiet"])?;
            let (ok, wall, cpu) = cargo(&s.dir, &build_args(s))?;
            if !ok {
                return Err(format!("{} does not build", s.label));
            }
            clean.entry(s.label).or_default().push((wall, cpu));
            let mut line = format!(
                "    round {} {:<24} clean {:6.2} s (CPU {:6.2} s)",
                round + 1,
                s.label,
                wall.as_secs_f64(),
                cpu.as_secs_f64()
            );
            if let Some(file) = &s.edited_file {
                toggle_comment(file)?;
                let (ok, wall2, cpu2) = cargo(&s.dir, &build_args(s))?;
                if !ok {
                    return Err(format!("{} does not build after the edit", s.label));
                }
                edit.entry(s.label).or_default().push((wall2, cpu2));
                line.push_str(&format!(
                    "   edit {:6.2} s (CPU {:6.2} s)",
                    wall2.as_secs_f64(),
                    cpu2.as_secs_f64()
                ));
            }
            println!("{line}   load {}", crate::load_average());
        }
    }
    let (rm, _, _) = summary(clean[runtime.label].iter().map(|r| r.0).collect());
    let (rc, _, _) = summary(clean[runtime.label].iter().map(|r| r.1).collect());
    println!(
        "  clean, {}: median {:.2} s, CPU {:.2} s (the SDK's runtime without generated models)",
        runtime.label,
        rm.as_secs_f64(),
        rc.as_secs_f64()
    );
    for (what, table) in [("clean", &clean), ("edit one generated file", &edit)] {
        println!("  {what}:");
        let mut medians = Vec::new();
        for s in [&prog, &ours] {
            let runs = &table[s.label];
            let (wm, wmin, wmax) = summary(runs.iter().map(|r| r.0).collect());
            let (cm, _, _) = summary(runs.iter().map(|r| r.1).collect());
            println!(
                "    {:<22} median {:6.2} s (min {:.2}, max {:.2}), CPU median {:6.2} s",
                s.label,
                wm.as_secs_f64(),
                wmin.as_secs_f64(),
                wmax.as_secs_f64(),
                cm.as_secs_f64()
            );
            medians.push((wm, cm));
        }
        let (p, o) = (medians[0], medians[1]);
        println!(
            "    ours / progenitor: wall {:.2}x, CPU {:.2}x (at or below progenitor's: {})",
            o.0.as_secs_f64() / p.0.as_secs_f64(),
            o.1.as_secs_f64() / p.1.as_secs_f64(),
            if o.0 <= p.0 { "yes" } else { "no" }
        );
    }
    println!("  load average at the end: {}", crate::load_average());
    Ok(())
}

fn build_args(s: &Subject) -> Vec<&str> {
    let mut args = vec!["build", "--lib", "--offline", "--quiet"];
    args.extend(s.features.iter().copied());
    args
}

fn summary(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Runs cargo in `dir`; returns success, wall time and the CPU time of the
/// process tree (children's user + system time, from `/proc/self/stat`).
fn cargo(dir: &Path, args: &[&str]) -> Result<(bool, Duration, Duration), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (start, cpu) = (Instant::now(), children_cpu());
    let status = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("CARGO_INCREMENTAL", "1")
        .env_remove("RUSTFLAGS")
        .args(args)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    Ok((
        status.success(),
        start.elapsed(),
        children_cpu().saturating_sub(cpu),
    ))
}

/// User + system time of the waited-for children so far (fields 16 and 17
/// of `/proc/self/stat`, in clock ticks of 1/100 s). Zero without /proc.
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): cutime is field 16, cstime 17.
    let ticks: u64 = [13, 14]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Appends a comment line to `path`, or removes the one appended before:
/// an edit that changes the file's bytes but not its meaning.
fn toggle_comment(path: &Path) -> Result<(), String> {
    const MARK: &str = "// vs-progenitor --compile: edited\n";
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let new = match text.strip_suffix(MARK) {
        Some(before) => before.to_string(),
        None => format!("{text}{MARK}"),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}

fn rs_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            total += rs_bytes(&p);
        } else if p.extension().is_some_and(|x| x == "rs") {
            total += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    total
}

/// Writes `files` (relative path → text) under `dir` where they differ, so
/// an unchanged crate keeps its fingerprints between runs.
fn write_files(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<(), String> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn progenitor_crate(dir: &Path, root: &Path, code: &str) -> Result<Subject, String> {
    let mut deps = String::from(
        "futures = \"0.3\"\nprogenitor-client = \"0.15\"\nreqwest = { version = \"0.13\", default-features = false, features = [\"json\", \"query\", \"stream\"] }\nserde = { version = \"1.0\", features = [\"derive\"] }\nserde_json = \"1.0\"\n",
    );
    if code.contains("chrono::") {
        deps.push_str("chrono = { version = \"0.4\", features = [\"serde\"] }\n");
    }
    if code.contains("uuid::") {
        deps.push_str("uuid = { version = \"1.0.0\", features = [\"serde\", \"v4\"] }\n");
    }
    if code.contains("regress::") {
        // The version progenitor itself resolves (in its lock); the README names 0.4.1.
        deps.push_str("regress = \"0.12\"\n");
    }
    let manifest = format!(
        "[workspace]\n\n[package]\nname = \"progenitor-out\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{deps}"
    );
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("Cargo.toml"), manifest.into_bytes());
    files.insert(
        PathBuf::from("src/lib.rs"),
        b"//! progenitor's output for the edited copy of specs/openapi.json.\n#![allow(warnings)]\ninclude!(\"codegen.rs\");\n".to_vec(),
    );
    files.insert(PathBuf::from("src/codegen.rs"), code.as_bytes().to_vec());
    if !dir.join("Cargo.lock").exists() {
        files.insert(
            PathBuf::from("Cargo.lock"),
            std::fs::read(root.join("benches/vs-progenitor/Cargo.lock"))
                .map_err(|e| e.to_string())?,
        );
    }
    write_files(dir, &files)?;
    Ok(Subject {
        label: "progenitor 0.15",
        dir: dir.to_path_buf(),
        package: "progenitor-out".into(),
        edited_file: Some(dir.join("src/codegen.rs")),
        features: &[],
    })
}

fn ours_crate(
    dir: &Path,
    root: &Path,
    generated: &skills_video_codegen::Files,
) -> Result<Subject, String> {
    let package = sdk_package(root)?;
    let mut files = BTreeMap::new();
    let src = root.join("sdk/src");
    read_tree(&src, &src.join("generated"), Path::new("src"), &mut files)?;
    for (rel, text) in generated {
        files.insert(
            Path::new("src/generated").join(rel),
            text.as_bytes().to_vec(),
        );
    }
    files.insert(
        PathBuf::from("Cargo.toml"),
        standalone_manifest(&package).into_bytes(),
    );
    if !dir.join("Cargo.lock").exists() {
        files.insert(
            PathBuf::from("Cargo.lock"),
            std::fs::read(root.join("Cargo.lock")).map_err(|e| e.to_string())?,
        );
    }
    write_files(dir, &files)?;
    let first_model = generated
        .keys()
        .find(|k| k.starts_with("models/") && !k.ends_with("mod.rs"))
        .ok_or("no model file")?;
    Ok(Subject {
        label: "skills-video-codegen",
        dir: dir.to_path_buf(),
        package: package["name"].as_str().unwrap_or("skills-video").into(),
        edited_file: Some(dir.join("src/generated").join(first_model)),
        features: &[],
    })
}

fn read_tree(
    dir: &Path,
    skip: &Path,
    prefix: &Path,
    out: &mut BTreeMap<PathBuf, Vec<u8>>,
) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path == skip {
            continue;
        }
        let Some(name) = path.file_name() else {
            continue;
        };
        let rel = prefix.join(name);
        if path.is_dir() {
            read_tree(&path, skip, &rel, out)?;
        } else {
            out.insert(rel, std::fs::read(&path).map_err(|e| e.to_string())?);
        }
    }
    Ok(())
}
