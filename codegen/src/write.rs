//! Stage 5: the single write-or-check path for generated files (the
//! rust-analyzer pattern). In check mode nothing is written and every stale,
//! missing or extra file is reported with the command that fixes it.

use std::path::{Path, PathBuf};

/// What a sync found or did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Files whose contents differ from what the specs produce.
    pub stale: Vec<PathBuf>,
    /// Files the specs produce that do not exist.
    pub missing: Vec<PathBuf>,
    /// `.rs` files in the output directory the specs no longer produce.
    pub extra: Vec<PathBuf>,
    /// Files written (write mode only).
    pub written: Vec<PathBuf>,
    /// Files removed (write mode only).
    pub removed: Vec<PathBuf>,
}

impl SyncReport {
    /// Whether the directory already matched.
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Normalises line ends so a checkout with CRLF does not count as stale.
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Compares `files` with `dir`; unless `check`, writes what differs (through a
/// temporary file and a rename, so no half-written file is ever left) and
/// removes `.rs` files that are no longer produced.
pub fn sync(dir: &Path, files: &crate::Files, check: bool) -> std::io::Result<SyncReport> {
    let mut report = SyncReport::default();
    for (rel, text) in files {
        let path = dir.join(rel);
        match std::fs::read_to_string(&path) {
            Ok(existing) if normalize(&existing) == normalize(text) => continue,
            Ok(_) => report.stale.push(path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.missing.push(path.clone()),
            Err(e) => return Err(e),
        }
        if !check {
            write_atomic(&path, text)?;
            report.written.push(path);
        }
    }
    for path in rs_files(dir)? {
        let rel = path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if !files.contains_key(&rel) {
            report.extra.push(path.clone());
            if !check {
                std::fs::remove_file(&path)?;
                report.removed.push(path);
            }
        }
    }
    Ok(report)
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("rs.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn rs_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
