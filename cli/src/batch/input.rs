//! The batch file: JSON Lines, one job a line,
//! `{"model": "...", "input": {...}, "name": "optional stable name"}`.
//!
//! Every line is checked before anything is sent: it must be a JSON object
//! with only those keys, name a model of the catalog (with suggestions when
//! it does not), and carry an input that passes the same typed checks as
//! `generate --payload` (every problem of a line is reported, with its field
//! path). Names must be unique. Blank lines are skipped; a file with no job
//! is refused. A line longer than the cap is reported without being read
//! into memory: the file is read through a fixed buffer, and the bytes of an
//! over-long line are skipped up to its newline.
//!
//! The batch id is the SHA-256 of the file's canonical path and its
//! content's SHA-256, computed in the same single pass.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use skills_video::model::find_model;
use skills_video::{ModelDescriptor, RequestBody};

use crate::payload::{self, PayloadInput};
use crate::suggest::closest;

/// Most problems kept in a report (the rest are counted).
pub const MAX_REPORTED: usize = 200;
/// Longest job name (characters).
pub const MAX_NAME_CHARS: usize = 200;
/// The keys a line may have.
const KEYS: [&str; 3] = ["model", "input", "name"];

/// One checked job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its line in the file (1-based).
    pub line: usize,
    /// Its name: the line's `name`, else `line-N`.
    pub name: String,
    /// The model.
    pub model: &'static ModelDescriptor,
    /// The checked request body.
    pub body: RequestBody,
}

/// One problem of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProblem {
    /// The line (1-based).
    pub line: usize,
    /// `too_long`, `not_json`, `not_an_object`, `unknown_key`, `model`,
    /// `input`, `validation`, `name`, `duplicate_name`.
    pub kind: &'static str,
    /// What is wrong, in words.
    pub message: String,
    /// The field-level violations (`validation`), as `generate` reports them.
    pub violations: Vec<Value>,
    /// Did you mean (unknown model or key).
    pub suggestions: Vec<String>,
}

impl LineProblem {
    fn new(line: usize, kind: &'static str, message: impl Into<String>) -> Self {
        LineProblem {
            line,
            kind,
            message: message.into(),
            violations: Vec::new(),
            suggestions: Vec::new(),
        }
    }

    /// The problem as JSON (one `batch_invalid_line` line).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "event": "batch_invalid_line", "line": self.line, "problem": self.kind,
            "message": self.message,
        });
        if !self.violations.is_empty() {
            v["violations"] = Value::Array(self.violations.clone());
        }
        if !self.suggestions.is_empty() {
            v["suggestions"] = json!(self.suggestions);
        }
        v
    }
}

/// A checked batch file.
#[derive(Debug)]
pub struct BatchFile {
    /// The jobs, in line order.
    pub jobs: Vec<Job>,
    /// The content's SHA-256 (hex).
    pub content_sha256: String,
    /// The batch id: SHA-256 (hex) of the canonical path and the content hash.
    pub batch_id: String,
}

/// Why a batch file was refused.
#[derive(Debug)]
pub enum InputError {
    /// The file cannot be read.
    Io(String),
    /// No job in the file (empty, or blank lines only).
    Empty {
        /// Lines read.
        lines: usize,
    },
    /// Some lines are bad: nothing is sent.
    Invalid {
        /// The problems, at most [`MAX_REPORTED`], in line order.
        problems: Vec<LineProblem>,
        /// All problems, including those not kept.
        total: usize,
        /// Distinct bad lines.
        bad_lines: usize,
        /// Lines read.
        lines: usize,
    },
}

/// Reads and checks the whole file. `max_line` is the longest line accepted (bytes).
pub fn read(path: &Path, max_line: u64) -> Result<BatchFile, InputError> {
    let file = std::fs::File::open(path)
        .map_err(|e| InputError::Io(format!("cannot read {}: {e}", path.display())))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(InputError::Io(format!(
            "{} is a directory, not a JSON Lines file",
            path.display()
        )));
    }
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut checker = Checker {
        cap: max_line,
        ..Checker::default()
    };
    let sha = scan_lines(file, max_line, |line, bytes| checker.line(line, bytes))
        .map_err(|e| InputError::Io(format!("cannot read {}: {e}", path.display())))?;
    let lines = checker.lines;
    if checker.total > 0 {
        let mut bad: Vec<usize> = checker.problems.iter().map(|p| p.line).collect();
        bad.dedup();
        return Err(InputError::Invalid {
            problems: checker.problems,
            total: checker.total,
            bad_lines: checker.bad_lines.max(bad.len()),
            lines,
        });
    }
    if checker.jobs.is_empty() {
        return Err(InputError::Empty { lines });
    }
    let mut h = Sha256::new();
    h.update(canonical.to_string_lossy().as_bytes());
    h.update([0u8]);
    h.update(sha.as_bytes());
    Ok(BatchFile {
        jobs: checker.jobs,
        content_sha256: sha,
        batch_id: hex(&h.finalize()),
    })
}

/// What a line of the file was, as [`scan_lines`] hands it over.
#[derive(Debug)]
pub enum LineBytes<'a> {
    /// The line without its `\n` (and `\r`).
    Line(&'a [u8]),
    /// The line was longer than the cap; its length in bytes.
    TooLong(u64),
}

/// Reads `reader` line by line through a fixed buffer, handing each line
/// to `f` (1-based number); a line longer than `max_line` is skipped, not
/// held. Returns the SHA-256 (hex) of everything read.
pub fn scan_lines<R: Read>(
    reader: R,
    max_line: u64,
    mut f: impl FnMut(usize, LineBytes<'_>),
) -> std::io::Result<String> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut hasher = Sha256::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut line_len: u64 = 0;
    let mut too_long = false;
    let mut number = 0usize;
    let mut emit = |buf: &mut Vec<u8>, len: u64, too_long: bool, number: &mut usize| {
        *number += 1;
        if too_long {
            f(*number, LineBytes::TooLong(len));
        } else {
            let mut line: &[u8] = buf;
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            f(*number, LineBytes::Line(line));
        }
        buf.clear();
    };
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if line_len > 0 || too_long {
                emit(&mut buf, line_len, too_long, &mut number);
            }
            break;
        }
        let (part, ends_line) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], true),
            None => (chunk, false),
        };
        line_len += part.len() as u64;
        if !too_long {
            if line_len > max_line {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let consumed = part.len() + usize::from(ends_line);
        hasher.update(&chunk[..consumed]);
        reader.consume(consumed);
        if ends_line {
            emit(&mut buf, line_len, too_long, &mut number);
            line_len = 0;
            too_long = false;
        }
    }
    Ok(hex(&hasher.finalize()))
}

#[derive(Default)]
struct Checker {
    jobs: Vec<Job>,
    problems: Vec<LineProblem>,
    total: usize,
    bad_lines: usize,
    lines: usize,
    cap: u64,
    names: std::collections::HashMap<String, usize>,
}

impl Checker {
    fn push(&mut self, p: LineProblem) {
        self.total += 1;
        if self.problems.len() < MAX_REPORTED {
            self.problems.push(p);
        }
    }

    fn line(&mut self, line: usize, bytes: LineBytes<'_>) {
        self.lines = line;
        let before = self.total;
        match bytes {
            LineBytes::TooLong(len) => self.push(LineProblem::new(
                line,
                "too_long",
                format!(
                    "the line is {} long, over the {} cap (--max-line-bytes); it was not read",
                    crate::download::describe_bytes(len),
                    crate::download::describe_bytes(self.cap)
                ),
            )),
            LineBytes::Line(bytes) => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                self.check(line, bytes);
            }
        }
        if self.total > before {
            self.bad_lines += 1;
        }
    }

    fn check(&mut self, line: usize, bytes: &[u8]) {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                let what = if std::str::from_utf8(bytes).is_err() {
                    "not UTF-8 JSON"
                } else {
                    "not valid JSON"
                };
                self.push(LineProblem::new(
                    line,
                    "not_json",
                    format!("{what}: {e} (each line must be one JSON object)"),
                ));
                return;
            }
        };
        let Value::Object(obj) = value else {
            self.push(LineProblem::new(
                line,
                "not_an_object",
                format!(
                    "{} where a job object is expected: {{\"model\": \"...\", \"input\": {{...}}, \"name\": \"...\"}}",
                    payload::json_kind(&value)
                ),
            ));
            return;
        };
        for key in obj.keys() {
            if !KEYS.contains(&key.as_str()) {
                let suggestions: Vec<String> = closest(key, KEYS, 1)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                let mut p = LineProblem::new(
                    line,
                    "unknown_key",
                    format!(
                        "unknown key {key:?}: a job has only \"model\", \"input\" and \"name\"{}",
                        match suggestions.first() {
                            Some(s) => format!("; did you mean {s:?}?"),
                            None => String::new(),
                        }
                    ),
                );
                p.suggestions = suggestions;
                self.push(p);
            }
        }
        let name = self.check_name(line, &obj);
        let model = match obj.get("model") {
            None => {
                self.push(LineProblem::new(
                    line,
                    "model",
                    "\"model\" is missing (e.g. \"google/nano-banana-pro\"; `skills-video models` lists them)",
                ));
                None
            }
            Some(Value::String(m)) => match find_model(m) {
                Some(model) => Some(model),
                None => {
                    self.push(unknown_model(line, m));
                    None
                }
            },
            Some(other) => {
                self.push(LineProblem::new(
                    line,
                    "model",
                    format!(
                        "\"model\" must be a string, not {}",
                        payload::json_kind(other)
                    ),
                ));
                None
            }
        };
        let input = match obj.get("input") {
            None => {
                self.push(LineProblem::new(
                    line,
                    "input",
                    "\"input\" is missing: the request object (`skills-video inspect MODEL --template` shows one)",
                ));
                None
            }
            Some(Value::Object(i)) => Some(i),
            Some(other) => {
                self.push(LineProblem::new(
                    line,
                    "input",
                    format!(
                        "\"input\" must be a JSON object, not {}",
                        payload::json_kind(other)
                    ),
                ));
                None
            }
        };
        let (Some(model), Some(input)) = (model, input) else {
            return;
        };
        let text = Value::Object(input.clone()).to_string();
        let checked = payload::build(
            model,
            &PayloadInput {
                payload: Some(&text),
                ..PayloadInput::default()
            },
        );
        match checked {
            Ok(body) => {
                if let Some(name) = name {
                    self.jobs.push(Job {
                        line,
                        name,
                        model,
                        body,
                    });
                }
            }
            Err(e) => {
                let violations: Vec<Value> = match e.extra.get("violations") {
                    Some(Value::Array(v)) => v.clone(),
                    _ => Vec::new(),
                };
                let message = if violations.len() > 1 {
                    let items: Vec<&str> = violations
                        .iter()
                        .filter_map(|v| v.get("message").and_then(Value::as_str))
                        .collect();
                    format!(
                        "the input of {} has {} problems: {}",
                        model.id,
                        violations.len(),
                        items.join("; ")
                    )
                } else {
                    format!("the input of {}: {}", model.id, e.message)
                };
                let mut p = LineProblem::new(line, "validation", message);
                p.violations = violations;
                self.push(p);
            }
        }
    }

    /// The job's name (given, or `line-N`), or `None` after reporting a bad one.
    fn check_name(&mut self, line: usize, obj: &Map<String, Value>) -> Option<String> {
        match obj.get("name") {
            None | Some(Value::Null) => Some(format!("line-{line}")),
            Some(Value::String(n)) => {
                let trimmed = n.trim();
                if trimmed.is_empty() {
                    self.push(LineProblem::new(line, "name", "\"name\" is empty"));
                    return None;
                }
                if trimmed.chars().count() > MAX_NAME_CHARS {
                    self.push(LineProblem::new(
                        line,
                        "name",
                        format!("\"name\" is longer than {MAX_NAME_CHARS} characters"),
                    ));
                    return None;
                }
                if trimmed.chars().any(char::is_control) {
                    self.push(LineProblem::new(
                        line,
                        "name",
                        "\"name\" has control characters",
                    ));
                    return None;
                }
                if let Some(first) = self.names.get(trimmed) {
                    self.push(LineProblem::new(
                        line,
                        "duplicate_name",
                        format!("the name {trimmed:?} is already used on line {first}; names must be unique"),
                    ));
                    return None;
                }
                self.names.insert(trimmed.to_string(), line);
                Some(trimmed.to_string())
            }
            Some(other) => {
                self.push(LineProblem::new(
                    line,
                    "name",
                    format!(
                        "\"name\" must be a string, not {}",
                        payload::json_kind(other)
                    ),
                ));
                None
            }
        }
    }
}

fn unknown_model(line: usize, name: &str) -> LineProblem {
    let suggestions = crate::resolve::suggestions(name);
    let mut message = crate::resolve::unknown_model_message(name, &suggestions);
    message.push_str(" (`skills-video models` lists them)");
    let mut p = LineProblem::new(line, "model", message);
    p.suggestions = suggestions.into_iter().map(str::to_string).collect();
    p
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8], cap: u64) -> Vec<String> {
        let mut seen = Vec::new();
        scan_lines(text, cap, |n, l| {
            seen.push(match l {
                LineBytes::Line(b) => format!("{n}:{}", String::from_utf8_lossy(b)),
                LineBytes::TooLong(len) => format!("{n}:too long {len}"),
            })
        })
        .unwrap();
        seen
    }

    #[test]
    fn lines_are_split_and_over_long_ones_skipped() {
        assert_eq!(
            lines_of(b"a\r\nbb\n\nccc", 10),
            ["1:a", "2:bb", "3:", "4:ccc"]
        );
        assert_eq!(
            lines_of(b"short\nthis one is long\nok\n", 6),
            ["1:short", "2:too long 16", "3:ok"]
        );
        assert_eq!(lines_of(b"", 10), Vec::<String>::new());
    }

    #[test]
    fn a_huge_line_is_never_held() {
        // 8 MiB of one line through a 64 KiB buffer: reported, not kept.
        let big = std::io::repeat(b'x').take(8 << 20);
        let tail: &[u8] = b"\n{}\n";
        let mut seen = Vec::new();
        scan_lines(big.chain(tail), 1024, |n, l| {
            seen.push(match l {
                LineBytes::Line(b) => (n, b.len() as u64, false),
                LineBytes::TooLong(len) => (n, len, true),
            })
        })
        .unwrap();
        assert_eq!(seen, vec![(1, 8 << 20, true), (2, 2, false)]);
    }

    #[test]
    fn every_bad_line_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"model\": \"google/nano-banana-pro\", \"input\": {\"prompt\": \"a\"}, \"name\": \"a\"}\n",
                "{not json\n",
                "{\"model\": \"google/nano-banana-prp\", \"input\": {\"prompt\": \"a\"}}\n",
                "\n",
                "{\"model\": \"google/nano-banana-pro\", \"input\": {\"promt\": \"a\"}}\n",
                "[1, 2]\n",
                "{\"model\": \"google/nano-banana-pro\", \"input\": {\"prompt\": \"b\"}, \"name\": \"a\", \"inputs\": 1}\n",
            ),
        )
        .unwrap();
        let Err(InputError::Invalid {
            problems, lines, ..
        }) = read(&path, 1 << 20)
        else {
            panic!("accepted")
        };
        assert_eq!(lines, 7);
        let kinds: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (2, "not_json"),
                (3, "model"),
                (5, "validation"),
                (6, "not_an_object"),
                (7, "unknown_key"),
                (7, "duplicate_name"),
            ]
        );
        assert!(problems[1].message.contains("google/nano-banana-pro"));
        assert_eq!(problems[4].suggestions, vec!["input"]);
    }

    #[test]
    fn a_good_file_has_a_stable_batch_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.jsonl");
        std::fs::write(
            &path,
            "{\"model\": \"google/nano-banana-pro\", \"input\": {\"prompt\": \"a\"}}\n\n",
        )
        .unwrap();
        let a = read(&path, 1 << 20).unwrap();
        let b = read(&path, 1 << 20).unwrap();
        assert_eq!(a.batch_id, b.batch_id);
        assert_eq!(a.jobs.len(), 1);
        assert_eq!(a.jobs[0].name, "line-1");
        std::fs::write(&path, "").unwrap();
        assert!(matches!(read(&path, 10), Err(InputError::Empty { .. })));
    }
}
