//! A job's outputs saved under its name: `NAME.png` for one output,
//! `NAME-1.png`, `NAME-2.mp4`, ... for several, never overwriting a file
//! (a taken name gets the next free `-N`, as every `--out` download does).
//!
//! The downloads themselves are `download::download_all`'s (size cap,
//! address rule, temp file then no-clobber link): each job downloads into
//! its own staging folder inside DIR, and each finished file is then moved
//! to its final name with the same no-clobber rule. Every saved file is
//! recorded in the ledger (URL, path, size, SHA-256), so a re-run knows
//! which outputs are present and intact.

use std::path::{Path, PathBuf};

use skills_video::generation::SkippedOutput;
use skills_video::ledger::{sha256_file, Ledger};

use crate::download::{self, DownloadPolicy};

/// The staging folder inside DIR (removed at the end of a run when empty).
pub const STAGING: &str = ".skills-video-batch";

/// What saving a job's outputs did.
#[derive(Debug, Default)]
pub struct Saved {
    /// (URL, final path) of every saved file, in URL order.
    pub files: Vec<(String, PathBuf)>,
    /// URLs not downloaded because of where they point.
    pub refused: Vec<SkippedOutput>,
    /// The first failure (later URLs were not tried).
    pub error: Option<String>,
}

/// The file-name stem of a job: its name, with path separators and
/// anything unsafe replaced (see `download::sanitize_file_name`).
pub fn stem(name: &str, line: usize) -> String {
    let flat = name.replace(['/', '\\'], "_");
    download::sanitize_file_name(&flat, &format!("line-{line}"))
}

/// The final name of output `index` (of `count`) with extension `ext`.
pub fn output_name(stem: &str, index: usize, count: usize, ext: &str) -> String {
    let base = if count > 1 {
        format!("{stem}-{}", index + 1)
    } else {
        stem.to_string()
    };
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

/// The extension of a downloaded file (short and alphanumeric, else none).
fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Downloads `urls` of the job (`name`, `line`, idempotency `key`) into
/// `dir`, records each file in `ledger`.
pub async fn save_outputs(
    urls: &[String],
    dir: &Path,
    name: &str,
    line: usize,
    policy: &DownloadPolicy,
    ledger: Option<&dyn Ledger>,
    key: &str,
) -> Saved {
    let mut saved = Saved::default();
    if urls.is_empty() {
        return saved;
    }
    let staging = dir
        .join(STAGING)
        .join(format!("L{line}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    // Another process may remove an empty staging root meanwhile: try again.
    let mut made = std::fs::create_dir_all(&staging);
    for _ in 0..3 {
        if made.is_ok() {
            break;
        }
        made = std::fs::create_dir_all(&staging);
    }
    if let Err(e) = made {
        saved.error = Some(format!("cannot create {}: {e}", staging.display()));
        return saved;
    }
    let report = download::download_all(urls, &staging, "", policy).await;
    saved.refused = report.refused;
    saved.error = report.error;
    // Saved files are in URL order, refused URLs left out.
    let fetched = urls
        .iter()
        .enumerate()
        .filter(|(_, u)| !saved.refused.iter().any(|r| &r.url == *u));
    let stem = stem(name, line);
    for ((index, url), tmp_path) in fetched.zip(report.files) {
        let target = output_name(&stem, index, urls.len(), &extension(&tmp_path));
        match move_into(&tmp_path, dir, &target) {
            Ok((path, size, sha)) => {
                record(ledger, key, url, &path, size, sha);
                saved.files.push((url.clone(), path));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_path);
                saved
                    .error
                    .get_or_insert_with(|| format!("cannot save {target}: {e}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&staging);
    saved
}

/// Removes the staging folders a killed run left behind (those of a
/// process that no longer exists; Linux only, elsewhere nothing is removed).
pub fn clean_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir.join(STAGING)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let gone = cfg!(target_os = "linux")
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists();
        if gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir.join(STAGING));
}

/// Moves a finished file to the first free `name` in `dir` (never replacing
/// one), and returns its path, size and SHA-256. A file already there
/// under the job's name with the same content (saved by a run killed
/// before it could record it) is adopted instead of saved a second time.
fn move_into(from: &Path, dir: &Path, name: &str) -> std::io::Result<(PathBuf, u64, String)> {
    let (size, sha) = sha256_file(from)?;
    for i in 0.. {
        let existing = dir.join(download::candidate(name, i));
        if !existing.exists() {
            break;
        }
        let same = std::fs::metadata(&existing).is_ok_and(|m| m.is_file() && m.len() == size)
            && sha256_file(&existing).is_ok_and(|(_, s)| s == sha);
        if same {
            std::fs::remove_file(from)?;
            return Ok((existing, size, sha));
        }
    }
    let file = std::fs::File::open(from)?;
    let tmp = tempfile::NamedTempFile::from_parts(file, tempfile::TempPath::try_from_path(from)?);
    Ok((download::persist_new(tmp, dir, name)?, size, sha))
}

fn record(
    ledger: Option<&dyn Ledger>,
    key: &str,
    url: &str,
    path: &Path,
    size: u64,
    sha256: String,
) {
    let Some(ledger) = ledger else { return };
    crate::commands::jobs::record_saved_file(ledger, key, url, path, Some((size, sha256)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_job() {
        assert_eq!(stem("cat on a mat", 3), "cat_on_a_mat");
        assert_eq!(stem("../../etc/passwd", 3), "etc_passwd");
        assert_eq!(stem("...", 3), "line-3");
        assert_eq!(output_name("cat", 0, 1, "png"), "cat.png");
        assert_eq!(output_name("cat", 1, 2, "mp4"), "cat-2.mp4");
        assert_eq!(output_name("cat", 0, 1, ""), "cat");
    }

    #[test]
    fn a_taken_name_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cat.png"), b"old").unwrap();
        let src = dir.path().join("staged.png");
        std::fs::write(&src, b"new").unwrap();
        let (p, size, _) = move_into(&src, dir.path(), "cat.png").unwrap();
        assert_eq!(p.file_name().unwrap(), "cat-1.png");
        assert_eq!(size, 3);
        assert_eq!(std::fs::read(dir.path().join("cat.png")).unwrap(), b"old");
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert!(!src.exists());
        // The same content again (a killed run saved it, unrecorded): adopted.
        std::fs::write(&src, b"new").unwrap();
        let (again, _, _) = move_into(&src, dir.path(), "cat.png").unwrap();
        assert_eq!(again, p);
        assert!(!src.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
