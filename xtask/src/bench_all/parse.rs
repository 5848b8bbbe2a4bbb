//! Figures out of the benchmark commands' output.
//!
//! Every command may print machine-readable lines `BENCH key=value [unit]`
//! (several `key=value` pairs on one line are allowed); the other parsers
//! read the human-readable lines the commands already print, and criterion
//! benches are read from `estimates.json` files.

use std::path::Path;

use super::stats::Figures;

/// The `BENCH key=value [unit]` lines of `out`, keys prefixed with `prefix`.
pub fn bench_lines(out: &str, prefix: &str) -> Figures {
    let mut figures = Figures::new();
    for line in out.lines() {
        let Some(rest) = line.trim().strip_prefix("BENCH ") else {
            continue;
        };
        for word in rest.split_whitespace() {
            if let Some((k, v)) = word.split_once('=') {
                if let Ok(v) = v.parse::<f64>() {
                    figures.insert(format!("{prefix}{k}"), v);
                }
            }
        }
    }
    figures
}

/// The first number after `marker` in `line` (a leading `-` kept, no
/// thousands separators).
pub fn number_after(line: &str, marker: &str) -> Option<f64> {
    let at = line.find(marker)? + marker.len();
    first_number(&line[at..])
}

/// The first number in `text`.
pub fn first_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let start = (0..bytes.len()).find(|&i| {
        bytes[i].is_ascii_digit()
            || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
    })?;
    let end = (start + 1..bytes.len())
        .find(|&i| !(bytes[i].is_ascii_digit() || bytes[i] == b'.'))
        .unwrap_or(bytes.len());
    text[start..end].trim_end_matches('.').parse().ok()
}

/// The first line whose trimmed text starts with `start`.
fn line_starting<'a>(out: &'a str, start: &str) -> Option<&'a str> {
    out.lines().map(str::trim).find(|l| l.starts_with(start))
}

/// `cargo xtask bench-codegen`: the total (median, min, max of its
/// iterations), the stage medians, files and bytes; keys prefixed.
pub fn codegen(out: &str, prefix: &str) -> Figures {
    let mut f = Figures::new();
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            f.insert(format!("{prefix}{k}"), v);
        }
    };
    if let Some(l) = line_starting(out, "total") {
        put("total_ms", number_after(l, "median"));
        put("total_min_ms", number_after(l, "min"));
        put("total_max_ms", number_after(l, "max"));
    }
    for stage in ["load", "catalog", "ir", "emit"] {
        let l = out
            .lines()
            .map(str::trim)
            .find(|l| l.split_whitespace().next() == Some(stage) && l.contains("median"));
        put(
            &format!("{stage}_ms"),
            l.and_then(|l| number_after(l, "median")),
        );
    }
    if let Some(l) = line_starting(out, "codegen of") {
        let inside = l.rsplit_once('(').map_or("", |(_, r)| r);
        put("files", first_number(inside));
        put(
            "bytes",
            inside.find(", ").and_then(|i| first_number(&inside[i..])),
        );
    }
    f.extend(bench_lines(out, prefix));
    f
}

/// `bench-codegen --vs-progenitor`: both medians, the wall and CPU ratios.
pub fn progenitor(out: &str) -> Figures {
    let mut f = Figures::new();
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            f.insert(format!("progenitor.{k}"), v);
        }
    };
    for l in out.lines().map(str::trim) {
        // The generation lines are in ms; the compile summary's in s.
        if l.starts_with("progenitor 0.") && l.contains("median") && l.contains(" ms") {
            put("theirs_ms", number_after(l, "median"));
        } else if l.starts_with("skills-video-codegen") && l.contains("median") && l.contains(" ms")
        {
            put("ours_ms", number_after(l, "median"));
        } else if l.starts_with("ratio (wall)") {
            put("wall_ratio", number_after(l, "="));
        } else if l.starts_with("CPU per run") {
            put("theirs_cpu_ms", number_after(l, "progenitor median"));
            put("ours_cpu_ms", number_after(l, "ours"));
            put("cpu_ratio", number_after(l, "ratio"));
        } else if l.starts_with("output:") {
            put("theirs_bytes", number_after(l, "1 file,"));
            put("ours_bytes", number_after(l, "files,"));
        }
    }
    // `--compile`: one line per round and side, clean then after an edit.
    let mut rounds: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for l in out.lines().map(str::trim) {
        if !(l.starts_with("round ") && l.contains(" clean ") && l.contains(" edit ")) {
            continue;
        }
        let side = if l.contains("skills-video-codegen") {
            "ours"
        } else if l.contains("progenitor") {
            "theirs"
        } else {
            continue;
        };
        let (clean, edit) = l.split_at(l.find(" edit ").unwrap_or(l.len()));
        for (what, part) in [("clean", clean), ("edit", edit)] {
            let marker = if what == "clean" { " clean " } else { " edit " };
            for (unit, v) in [
                ("wall_s", number_after(part, marker)),
                ("cpu_s", number_after(part, "(CPU")),
            ] {
                if let Some(v) = v {
                    rounds
                        .entry(format!("progenitor.compile.{what}.{side}_{unit}"))
                        .or_default()
                        .push(v);
                }
            }
        }
    }
    for (k, v) in rounds {
        if let Some(s) = super::stats::Spread::of(&v) {
            f.insert(k, s.median);
        }
    }
    for what in ["clean", "edit"] {
        for unit in ["wall_s", "cpu_s"] {
            let get = |side: &str| {
                f.get(&format!("progenitor.compile.{what}.{side}_{unit}"))
                    .copied()
            };
            if let (Some(t), Some(o)) = (get("theirs"), get("ours")) {
                if o > 0.0 {
                    f.insert(format!("progenitor.compile.{what}.{unit}_ratio"), t / o);
                }
            }
        }
    }
    f.extend(bench_lines(out, "progenitor."));
    f
}

/// `cargo bench --bench ledger`: mean and p99 of each step, the end-to-end
/// medians with and without a ledger.
pub fn ledger(out: &str) -> Figures {
    let mut f = Figures::new();
    for l in out.lines().map(str::trim) {
        let first = l.split_whitespace().next().unwrap_or("");
        if ["intent", "id", "status", "terminal", "output"].contains(&first) && l.contains("mean") {
            if let Some(v) = number_after(l, "mean") {
                f.insert(format!("ledger.{first}.mean_ms"), v);
            }
            if let Some(v) = number_after(l, "p99") {
                f.insert(format!("ledger.{first}.p99_ms"), v);
            }
        } else if l.starts_with("without ledger") {
            if let Some(v) = number_after(l, "median") {
                f.insert("ledger.e2e.without_ms".into(), v);
            }
        } else if l.starts_with("with ledger") {
            if let Some(v) = number_after(l, "median") {
                f.insert("ledger.e2e.with_ms".into(), v);
            }
        }
    }
    if let (Some(a), Some(b)) = (f.get("ledger.e2e.without_ms"), f.get("ledger.e2e.with_ms")) {
        f.insert("ledger.e2e.added_ms".into(), b - a);
    }
    f.extend(bench_lines(out, "ledger."));
    f
}

/// The `batch_inflight` example: peak RSS, polls, completed jobs, wall time.
pub fn batch(out: &str) -> Figures {
    let mut f = Figures::new();
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            f.insert(format!("batch.{k}"), v);
        }
    };
    for l in out.lines().map(str::trim) {
        if l.starts_with("peak RSS (VmHWM)") {
            put("hwm_mib", number_after(l, ")"));
        } else if l.starts_with("polls") {
            put("polls", first_number(l));
        } else if l.starts_with("completed") {
            put("completed", first_number(l));
        } else if l.starts_with("peak in flight") {
            put("peak_in_flight", number_after(l, ")"));
        } else if l.starts_with("creates (simulator)") {
            put("creates", number_after(l, ")"));
            let after = l.find(')').map_or("", |i| &l[i + 1..]);
            put("sse_creates", number_after(after, "("));
        } else if l.starts_with("wall") {
            put("wall_s", first_number(l));
        } else if l.starts_with("exit status") {
            put(
                "exit_ok",
                Some(if l.contains("exit status: 0") {
                    1.0
                } else {
                    0.0
                }),
            );
        }
    }
    f.extend(bench_lines(out, "batch."));
    f
}

/// The criterion benches under `home` (`CRITERION_HOME`): for each
/// `group/function/input`, the median time per iteration (`estimates.json`)
/// or, when the bench declared its bytes, the throughput in MB/s (10^6).
/// Keys: `{prefix}{input}.{function}.mbps`, else `.ns`.
pub fn criterion(home: &Path, group: &str, prefix: &str) -> Figures {
    let mut f = Figures::new();
    let Ok(functions) = std::fs::read_dir(home.join(group)) else {
        return f;
    };
    for function in functions.flatten() {
        let Ok(inputs) = std::fs::read_dir(function.path()) else {
            continue;
        };
        let fname = function.file_name().to_string_lossy().into_owned();
        for input in inputs.flatten() {
            let dir = input.path().join("new");
            let iname = input.file_name().to_string_lossy().into_owned();
            let read = |name: &str| -> Option<serde_json::Value> {
                serde_json::from_slice(&std::fs::read(dir.join(name)).ok()?).ok()
            };
            let Some(ns) =
                read("estimates.json").and_then(|e| e["median"]["point_estimate"].as_f64())
            else {
                continue;
            };
            let bytes = read("benchmark.json").and_then(|b| b["throughput"]["Bytes"].as_f64());
            match bytes.filter(|_| ns > 0.0) {
                Some(bytes) => f.insert(format!("{prefix}{iname}.{fname}.mbps"), bytes * 1e3 / ns),
                None => f.insert(format!("{prefix}{iname}.{fname}.ns"), ns),
            };
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_take_every_pair_and_skip_the_rest() {
        let out = "noise\nBENCH a=1.5 ms\n  BENCH b=-2 c=3e2 x\nBENCH bad=abc\nBENCHMARK z=1\n";
        let f = bench_lines(out, "p.");
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!(f["p.a"], 1.5);
        assert_eq!(f["p.b"], -2.0);
        assert_eq!(f["p.c"], 300.0);
    }

    #[test]
    fn numbers_are_found_after_markers() {
        assert_eq!(number_after("ratio = 1.49x (ours", "="), Some(1.49));
        assert_eq!(number_after("overhead -11.5 us", "overhead"), Some(-11.5));
        assert_eq!(number_after("a-b 3.", "a"), Some(3.0));
        assert_eq!(number_after("no number", "no"), None);
        assert_eq!(number_after("x 1", "missing"), None);
    }

    #[test]
    fn codegen_output_is_read() {
        let out = "codegen of specs/openapi.json (77 files, 1112422 bytes), 20 runs, release=true, reuse=false
  total   median    74.36 ms   min    71.62 ms   max    79.11 ms
  load    median     3.79 ms
  catalog median     0.04 ms
  ir      median     1.66 ms
  emit    median    66.49 ms (tokens, syn parse, prettyplease; wall)
    summed over files: tokens 25.10 ms, syn parse 54.30 ms, prettyplease 11.20 ms (medians)
";
        let f = codegen(out, "r.");
        assert_eq!(f["r.total_ms"], 74.36);
        assert_eq!(f["r.total_min_ms"], 71.62);
        assert_eq!(f["r.total_max_ms"], 79.11);
        assert_eq!(f["r.load_ms"], 3.79);
        assert_eq!(f["r.catalog_ms"], 0.04);
        assert_eq!(f["r.ir_ms"], 1.66);
        assert_eq!(f["r.emit_ms"], 66.49);
        assert_eq!(f["r.files"], 77.0);
        assert_eq!(f["r.bytes"], 1_112_422.0);
    }

    #[test]
    fn progenitor_output_is_read() {
        let out = "output: progenitor 1 file, 785771 bytes; skills-video-codegen 77 files, 1112422 bytes

20 interleaved runs each, release=true, 2 threads available
  progenitor 0.15           median   104.62 ms   min   101.06   max   122.24
  skills-video-codegen       median    70.25 ms   min    41.17   max   112.67
    load    median     5.80 ms
  ratio (wall): progenitor / ours = 1.49x (ours is faster)
  CPU per run (all threads, /proc/self/task/*/schedstat): progenitor median 103.95 ms, ours 71.29 ms; ratio 1.46x
BENCH compile_clean_theirs_s=7.7 s

compile time of the two outputs (--compile), 1 interleaved rounds:
    round 1 progenitor 0.15      clean   7.70 s (CPU  15.40 s)   edit   1.40 s (CPU   1.30 s)   load 2.1 1.9 1.8
    round 1 skills-video-codegen clean  10.00 s (CPU  14.00 s)   edit   2.80 s (CPU   2.60 s)   load 2.1 1.9 1.8
  clean:
    progenitor 0.15        median   7.70 s (min 7.70, max 7.70), CPU median  15.40 s
    skills-video-codegen   median  10.00 s (min 10.00, max 10.00), CPU median  14.00 s
";
        let f = progenitor(out);
        assert_eq!(f["progenitor.theirs_ms"], 104.62);
        assert_eq!(f["progenitor.ours_ms"], 70.25);
        assert_eq!(f["progenitor.wall_ratio"], 1.49);
        assert_eq!(f["progenitor.theirs_cpu_ms"], 103.95);
        assert_eq!(f["progenitor.ours_cpu_ms"], 71.29);
        assert_eq!(f["progenitor.cpu_ratio"], 1.46);
        assert_eq!(f["progenitor.theirs_bytes"], 785_771.0);
        assert_eq!(f["progenitor.ours_bytes"], 1_112_422.0);
        assert_eq!(f["progenitor.compile_clean_theirs_s"], 7.7);
        assert_eq!(f["progenitor.compile.clean.theirs_wall_s"], 7.7);
        assert_eq!(f["progenitor.compile.clean.theirs_cpu_s"], 15.4);
        assert_eq!(f["progenitor.compile.edit.theirs_wall_s"], 1.4);
        assert_eq!(f["progenitor.compile.edit.theirs_cpu_s"], 1.3);
        assert_eq!(f["progenitor.compile.clean.ours_wall_s"], 10.0);
        assert_eq!(f["progenitor.compile.edit.ours_cpu_s"], 2.6);
        assert!((f["progenitor.compile.clean.wall_s_ratio"] - 0.77).abs() < 1e-9);
        assert!((f["progenitor.compile.edit.cpu_s_ratio"] - 0.5).abs() < 1e-9);
    }

    #[test]
    fn ledger_output_is_read() {
        let out = "ledger at /tmp/x.sqlite3 (500 generations)
intent     mean    0.296 ms   p99    3.638 ms
id         mean    0.258 ms   p99    2.950 ms
status     mean    0.031 ms   p99    0.076 ms
end to end, 200 sequential generations each (SSE, simulator step delay 0):
without ledger  median    0.179 ms per generation
with ledger     median    0.861 ms per generation (+0.682 ms)
";
        let f = ledger(out);
        assert_eq!(f["ledger.intent.mean_ms"], 0.296);
        assert_eq!(f["ledger.id.p99_ms"], 2.95);
        assert_eq!(f["ledger.status.mean_ms"], 0.031);
        assert_eq!(f["ledger.e2e.without_ms"], 0.179);
        assert_eq!(f["ledger.e2e.with_ms"], 0.861);
        assert!((f["ledger.e2e.added_ms"] - 0.682).abs() < 1e-9);
        assert!(!f.contains_key("ledger.end.mean_ms"));
    }

    #[test]
    fn batch_output_is_read() {
        let out = "batch, 10000 jobs, each 60 s on the simulator
  exit status            exit status: 0
  creates (simulator)    10000 (256 over SSE, 9744 on the polling route)
  jobs on the simulator  10000
  completed              10000
  peak in flight (CLI)   10000
  polls                  48720
  peak RSS (VmHWM)       48.2 MiB = 51 MB
  RSS while creating     40.1 MiB (last sample before the last create)
  wall                   102.5 s
";
        let f = batch(out);
        assert_eq!(f["batch.hwm_mib"], 48.2);
        assert_eq!(f["batch.polls"], 48720.0);
        assert_eq!(f["batch.completed"], 10000.0);
        assert_eq!(f["batch.peak_in_flight"], 10000.0);
        assert_eq!(f["batch.creates"], 10000.0);
        assert_eq!(f["batch.sse_creates"], 256.0);
        assert_eq!(f["batch.wall_s"], 102.5);
        assert_eq!(f["batch.exit_ok"], 1.0);
    }

    #[test]
    fn criterion_estimates_are_read() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("sse/skills_video/small_10k/new");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("estimates.json"),
            r#"{"mean":{"point_estimate":1400.0},"median":{"point_estimate":1329000.0}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("benchmark.json"),
            r#"{"group_id":"sse","throughput":{"Bytes":1090000}}"#,
        )
        .unwrap();
        // A bench without its estimates is skipped, not an error.
        std::fs::create_dir_all(home.path().join("sse/other/x/new")).unwrap();
        let f = criterion(home.path(), "sse", "sse.");
        let mbps = f["sse.small_10k.skills_video.mbps"];
        assert!((mbps - 820.16).abs() < 0.01, "{mbps}");
        assert_eq!(f.len(), 1);
        // Without a declared throughput, the time is kept.
        std::fs::write(dir.join("benchmark.json"), r#"{"group_id":"sse"}"#).unwrap();
        let f = criterion(home.path(), "sse", "sse.");
        assert_eq!(f["sse.small_10k.skills_video.ns"], 1_329_000.0);
        assert!(criterion(home.path(), "missing", "x.").is_empty());
    }
}
