//! What each job came to: `DIR/results.jsonl` (one line per job, in file
//! order: line, name, model, status, id, outputs, files, error) and the
//! summary counts.
//!
//! `results.jsonl` is the batch's own file, rewritten whole (through a
//! temporary file and a rename) at the end of every run, so after a re-run
//! it covers every line, those finished by earlier runs included.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::output::to_line;

/// The name of the results file inside DIR.
pub const RESULTS_FILE: &str = "results.jsonl";

/// Where a job stands at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Terminal success, outputs saved.
    Completed,
    /// Terminal FAILED or CANCELED: only this job failed.
    Failed,
    /// The create was refused (a 422, a transient failure after retries, an
    /// unknown model route): nothing was charged; a re-run sends it again.
    Rejected,
    /// Not sent (a 402 or an auth error stopped the creates): a re-run sends it.
    Queued,
    /// The create may have been accepted but no id arrived: a re-run reports
    /// it again; `--retry-ambiguous` re-sends it with its idempotency key.
    Ambiguous,
    /// Created (its id is known) but not finished in this run: a re-run
    /// polls it by id.
    Pending,
}

impl Status {
    /// The status as written in `results.jsonl`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
            Status::Queued => "queued",
            Status::Ambiguous => "ambiguous",
            Status::Pending => "pending",
        }
    }

    /// Every status, in summary order.
    pub const ALL: [Status; 6] = [
        Status::Completed,
        Status::Failed,
        Status::Rejected,
        Status::Queued,
        Status::Ambiguous,
        Status::Pending,
    ];
}

/// One job's result.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// Where it stands.
    pub status: Status,
    /// The generation id, when known.
    pub id: Option<String>,
    /// The platform's terminal status (`COMPLETED`, `FAILED`, ...), when known.
    pub platform_status: Option<String>,
    /// The output URLs.
    pub outputs: Vec<String>,
    /// The saved files.
    pub files: Vec<PathBuf>,
    /// What went wrong, if anything (a download failure included).
    pub error: Option<String>,
    /// Finished by an earlier run (nothing was done for it in this one).
    pub earlier: bool,
}

impl JobResult {
    /// A result with only a status.
    pub fn new(status: Status) -> Self {
        JobResult {
            status,
            id: None,
            platform_status: None,
            outputs: Vec::new(),
            files: Vec::new(),
            error: None,
            earlier: false,
        }
    }

    /// The `results.jsonl` line (also the last `job` event of `--json`).
    pub fn to_json(&self, line: usize, name: &str, model: &str, key: &str) -> Value {
        json!({
            "line": line,
            "name": name,
            "model": model,
            "status": self.status.as_str(),
            "id": self.id,
            "outputs": self.outputs,
            "files": self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "error": self.error,
            "platform_status": self.platform_status,
            "idempotency_key": key,
            "from_earlier_run": self.earlier,
        })
    }
}

/// Writes `lines` (already JSON) to `DIR/results.jsonl`, replacing it whole.
pub fn write(dir: &Path, lines: impl IntoIterator<Item = Value>) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(RESULTS_FILE);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        for v in lines {
            writeln!(w, "{}", to_line(&v))?;
        }
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// How many jobs ended in each status.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    counts: [usize; 6],
    /// Of the completed and failed, how many were finished by an earlier run.
    pub earlier: usize,
}

impl Counts {
    /// Counts one result.
    pub fn add(&mut self, r: &JobResult) {
        let i = Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0);
        self.counts[i] += 1;
        if r.earlier {
            self.earlier += 1;
        }
    }

    /// The count of `status`.
    pub fn of(&self, status: Status) -> usize {
        let i = Status::ALL.iter().position(|s| *s == status).unwrap_or(0);
        self.counts[i]
    }

    /// `{"completed": n, ...}`.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for s in Status::ALL {
            m.insert(s.as_str().into(), json!(self.of(s)));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = JobResult::new(Status::Completed);
        r.id = Some("g1".into());
        write(dir.path(), vec![r.to_json(1, "cat", "m", "k")]).unwrap();
        let p = write(
            dir.path(),
            vec![
                r.to_json(1, "cat", "m", "k"),
                r.to_json(2, "dog", "m", "k2"),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with(r#"{"line": 1, "name": "cat""#), "{text}");
        let mut c = Counts::default();
        c.add(&r);
        c.add(&JobResult::new(Status::Queued));
        assert_eq!(c.of(Status::Completed), 1);
        assert_eq!(c.to_json()["queued"], 1);
    }
}
