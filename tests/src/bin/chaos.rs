//! `cargo xtask chaos`: the crash test with its figures (see `skills_video_tests::chaos`).
//! Usage: chaos [--seed N] [--generations N] [--kills N] (the CLI from
//! `SKILLS_VIDEO_CLI`, else next to this binary).

use std::process::ExitCode;

use skills_video_tests::chaos::{run, ChaosConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let seed = value("--seed").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    let bin = match std::env::var_os("SKILLS_VIDEO_CLI") {
        Some(p) => p.into(),
        None => std::env::current_exe()
            .ok()
            .and_then(|e| {
                e.parent()
                    .map(|d| d.join(format!("skills-video{}", std::env::consts::EXE_SUFFIX)))
            })
            .expect("the CLI's path"),
    };
    let mut config = ChaosConfig::new(bin, seed);
    if let Some(n) = value("--generations") {
        config.generations = n as usize;
    }
    if let Some(n) = value("--kills") {
        config.kills = n as usize;
    }
    println!("chaos: seed {seed} (rerun with --seed {seed})");
    match run(&config) {
        Ok(report) => {
            println!("{}", report.render());
            if report.ok() {
                println!("ok");
                ExitCode::SUCCESS
            } else {
                println!("FAILED");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("chaos failed: {e}");
            ExitCode::FAILURE
        }
    }
}
