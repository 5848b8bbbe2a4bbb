//! `cargo xtask bench --all` checks its target file before measuring
//! anything: a missing marker is a clear error, and a dry run lists the
//! commands and writes nothing. (The parsing and the rewriting itself are
//! unit-tested in `xtask/src/bench_all/`.)

use std::path::Path;
use std::process::Command;

const BLOCKS: &[&str] = &[
    "summary",
    "sse",
    "codegen",
    "e2e",
    "ledger",
    "inflight",
    "compile",
    "progenitor",
    "batch",
];

fn xtask(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn doc(blocks: &[&str]) -> String {
    let mut d = String::from("# Benchmarks\n\nProse.\n");
    for b in blocks {
        d.push_str(&format!(
            "\n<!-- bench:{b}:begin -->\nold {b}\n<!-- bench:{b}:end -->\n"
        ));
    }
    d
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_dry_run_lists_the_commands_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("BENCHMARKS.md");
    let text = doc(BLOCKS);
    std::fs::write(&file, &text).unwrap();
    let (ok, out) = xtask(&["bench", "--all", "--dry-run", "--file", path_str(&file)]);
    assert!(ok, "{out}");
    assert!(out.contains("[sse]") && out.contains("[batch]"), "{out}");
    assert!(
        out.contains("target/release/bench-e2e --in-flight 10000 --bare --http2"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // `--only` narrows the sections; `--batch 0` drops the batch run.
    let (ok, out) = xtask(&[
        "bench",
        "--all",
        "--dry-run",
        "--only",
        "sse,batch",
        "--batch",
        "0",
        "--file",
        path_str(&file),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("[sse]"), "{out}");
    assert!(
        !out.contains("[batch]") && !out.contains("[codegen]"),
        "{out}"
    );
}

#[test]
fn a_missing_marker_fails_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("BENCHMARKS.md");
    let without: Vec<&str> = BLOCKS.iter().copied().filter(|b| *b != "ledger").collect();
    let text = doc(&without);
    std::fs::write(&file, &text).unwrap();
    // Not a dry run: it must stop at the check, before measuring.
    let (ok, out) = xtask(&[
        "bench",
        "--all",
        "--only",
        "ledger",
        "--file",
        path_str(&file),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("no `<!-- bench:ledger:begin -->` marker"),
        "{out}"
    );
    assert!(!out.contains("== bench --all"), "something ran:\n{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // Sections whose markers are there are not held back by that one.
    let (ok, out) = xtask(&[
        "bench",
        "--all",
        "--dry-run",
        "--only",
        "sse",
        "--file",
        path_str(&file),
    ]);
    assert!(ok, "{out}");
}

#[test]
fn an_unknown_section_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("BENCHMARKS.md");
    std::fs::write(&file, doc(BLOCKS)).unwrap();
    let (ok, out) = xtask(&[
        "bench",
        "--all",
        "--dry-run",
        "--only",
        "sse,speed",
        "--file",
        path_str(&file),
    ]);
    assert!(!ok, "{out}");
    assert!(out.contains("unknown section \"speed\""), "{out}");
}

#[test]
fn the_committed_benchmarks_file_has_every_block() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (ok, out) = xtask(&[
        "bench",
        "--all",
        "--dry-run",
        "--file",
        path_str(&root.join("BENCHMARKS.md")),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("9 blocks found"), "{out}");
}
