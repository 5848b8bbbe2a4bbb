//! The exit-code table, and the CLI's one error type that carries its code.

use serde_json::{json, Map, Value};
use skills_video::{Error, ErrorCategory};

/// Terminal success.
pub const OK: u8 = 0;
/// Missing key, or invalid input caught before any request (other than schema validation).
pub const INPUT: u8 = 1;
/// Command-line usage (clap).
pub const USAGE: u8 = 2;
/// The create may have been accepted but no id was received.
pub const AMBIGUOUS: u8 = 3;
/// The poll budget ran out before a terminal status.
pub const TIMEOUT: u8 = 4;
/// The job ended FAILED or CANCELED.
pub const FAILED: u8 = 10;
/// Insufficient credits.
pub const CREDITS: u8 = 20;
/// Authentication.
pub const AUTH: u8 = 21;
/// Validation (server 422 or client-side schema check).
pub const VALIDATION: u8 = 22;
/// Not found.
pub const NOT_FOUND: u8 = 23;
/// Transient failure after retries (also: a download failed).
pub const TRANSIENT: u8 = 24;
/// Anything else.
pub const UNKNOWN: u8 = 25;

/// The table, shown by `--help`.
pub const EXIT_CODE_HELP: &str = "\
Exit codes:
   0  terminal success (COMPLETED / SUCCEEDED)
  10  terminal FAILED or CANCELED
   1  missing API key, or invalid input caught before any request
      (unknown model, malformed --set/--payload, unreadable file)
   2  command-line usage error
   3  the create may have been accepted but no generation id was received:
      nothing to poll; the idempotency key is printed
   4  the poll budget ran out before a terminal status: the id and the
      `skills-video wait ID` command to resume are printed
  20  insufficient credits      21  authentication
  22  validation (server 422, or the client-side schema check: unknown field,
      wrong type, value not allowed)
  23  not found                 24  transient failure after retries
                                    (also: an --out download failed)
  25  unknown error

Environment: SKILLS_VIDEO_API_KEY, SKILLS_VIDEO_BASE_URL, NO_COLOR, RUST_LOG (with -v).
First run: `skills-video demo` (no key, no network).";

/// The exit code of an error category.
pub fn code_of(category: ErrorCategory) -> u8 {
    match category {
        ErrorCategory::InsufficientCredits => CREDITS,
        ErrorCategory::Auth => AUTH,
        ErrorCategory::Validation => VALIDATION,
        ErrorCategory::NotFound => NOT_FOUND,
        ErrorCategory::Transient => TRANSIENT,
        ErrorCategory::Ambiguous => AMBIGUOUS,
        ErrorCategory::Failed => FAILED,
        ErrorCategory::Timeout => TIMEOUT,
        ErrorCategory::Config => INPUT,
        // Decode, Unknown, and categories a later SDK adds.
        _ => UNKNOWN,
    }
}

/// A failure of a command: what to print and how to exit.
#[derive(Debug, Clone)]
pub struct CliError {
    /// The category name printed as `error`.
    pub category: String,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub guidance: String,
    /// The exit code.
    pub code: u8,
    /// The generation id, when known.
    pub generation_id: Option<String>,
    /// Extra fields for the JSON `error` line.
    pub extra: Box<Map<String, Value>>,
}

impl CliError {
    /// Invalid input caught before any request (exit 1).
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            category: "invalid_input".into(),
            message: message.into(),
            guidance: "Fix the arguments; nothing was sent.".into(),
            code: INPUT,
            generation_id: None,
            extra: Default::default(),
        }
    }

    /// A client-side schema violation (exit 22); nothing was sent.
    pub fn validation(message: impl Into<String>) -> Self {
        CliError {
            category: ErrorCategory::Validation.as_str().into(),
            message: message.into(),
            guidance: format!("{} Nothing was sent.", ErrorCategory::Validation.guidance()),
            code: VALIDATION,
            generation_id: None,
            extra: Default::default(),
        }
    }

    /// Adds a field to the JSON `error` line.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The JSON `error` line.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("event".into(), json!("error"));
        obj.insert("ok".into(), json!(false));
        obj.insert("error".into(), json!(self.category));
        obj.insert("message".into(), json!(self.message));
        obj.insert("generation_id".into(), json!(self.generation_id));
        obj.insert("guidance".into(), json!(self.guidance));
        obj.insert("exit_code".into(), json!(self.code));
        for (k, v) in self.extra.iter() {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj)
    }
}

impl From<&Error> for CliError {
    fn from(e: &Error) -> Self {
        let category = e.category();
        let mut out = CliError {
            category: category.as_str().into(),
            message: e.message(),
            guidance: e.guidance().into(),
            code: code_of(category),
            generation_id: e.generation_id().map(str::to_string),
            extra: Default::default(),
        };
        if let Some(status) = e.status() {
            out.extra.insert("http_status".into(), json!(status));
        }
        match e {
            Error::MissingApiKey => {
                out.category = "missing_api_key".into();
                out.code = INPUT;
                out.guidance = crate::commands::check_key::GUIDANCE.into();
            }
            Error::Ambiguous {
                idempotency_key, ..
            } => {
                out.extra
                    .insert("idempotency_key".into(), json!(idempotency_key));
                out.guidance = format!(
                    "{} Resubmit with --idempotency-key {idempotency_key} to let the platform deduplicate.",
                    out.guidance
                );
            }
            Error::Timeout {
                generation_id,
                last_status,
                ..
            } => {
                let cmd = format!("skills-video wait {generation_id}");
                out.extra.insert("last_status".into(), json!(last_status));
                out.extra.insert("resume_command".into(), json!(cmd));
                out.guidance = format!(
                    "The job did not finish within the poll budget and may still complete. Resume with `{cmd}` instead of creating it again."
                );
            }
            Error::InvalidRequest { errors, .. } => {
                let violations: Vec<Value> = errors
                    .violations
                    .iter()
                    .map(|v| json!({"field": v.field, "rule": v.rule, "message": v.message}))
                    .collect();
                out.extra.insert("violations".into(), json!(violations));
                out.guidance = format!("{} Nothing was sent.", out.guidance);
            }
            Error::Api { fields, .. } if !fields.is_empty() => {
                let f: Vec<Value> = fields
                    .iter()
                    .map(|f| json!({"field": f.field, "message": f.message, "type": f.kind}))
                    .collect();
                out.extra.insert("fields".into(), json!(f));
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_map_to_the_table() {
        assert_eq!(code_of(ErrorCategory::InsufficientCredits), 20);
        assert_eq!(code_of(ErrorCategory::Auth), 21);
        assert_eq!(code_of(ErrorCategory::Validation), 22);
        assert_eq!(code_of(ErrorCategory::NotFound), 23);
        assert_eq!(code_of(ErrorCategory::Transient), 24);
        assert_eq!(code_of(ErrorCategory::Unknown), 25);
        assert_eq!(code_of(ErrorCategory::Ambiguous), 3);
        assert_eq!(code_of(ErrorCategory::Timeout), 4);
        assert_eq!(code_of(ErrorCategory::Failed), 10);
        assert_eq!(CliError::from(&Error::MissingApiKey).code, 1);
    }
}
