//! One error type for everything the SDK can report, with the platform
//! reference's categories, a retry verdict and guidance for each.

use std::time::Duration;

use serde_json::Value;

use crate::generation::Generation;
use crate::validation::ValidationErrors;

/// Where to create an API key.
pub const API_KEY_URL: &str = "https://skills.video/dashboard/developer";
/// Where to recharge credits.
pub const RECHARGE_URL: &str = "https://skills.video/dashboard";
/// The pricing page.
pub const PRICING_URL: &str = "https://skills.video/pricing";

/// Phrases that mark an insufficient-credits error whatever its status.
const CREDIT_PHRASES: &[&str] = &[
    "insufficient credit",
    "not enough credit",
    "insufficient balance",
    "credit balance",
    "top up",
    "recharge",
];

/// The reference's error categories (plus the SDK's own outcomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// 402, or a message about credits.
    InsufficientCredits,
    /// 401, or `unauthorized`; also a missing key.
    Auth,
    /// 422, a client-side check, or `validation`.
    Validation,
    /// 404.
    NotFound,
    /// 429, 5xx, connection failures and timeouts, after retries ran out.
    Transient,
    /// The create may have been accepted, but no id was ever seen.
    Ambiguous,
    /// The job ended FAILED or CANCELED.
    Failed,
    /// The poll budget ran out before a terminal status.
    Timeout,
    /// The client is configured wrongly.
    Config,
    /// A response could not be read.
    Decode,
    /// Anything else.
    Unknown,
}

impl ErrorCategory {
    /// The reference's snake-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCategory::InsufficientCredits => "insufficient_credits",
            ErrorCategory::Auth => "auth",
            ErrorCategory::Validation => "validation",
            ErrorCategory::NotFound => "not_found",
            ErrorCategory::Transient => "transient",
            ErrorCategory::Ambiguous => "ambiguous",
            ErrorCategory::Failed => "failed",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::Config => "config",
            ErrorCategory::Decode => "decode",
            ErrorCategory::Unknown => "unknown",
        }
    }

    /// What to do about an error of this category.
    pub fn guidance(&self) -> &'static str {
        match self {
            ErrorCategory::InsufficientCredits => "Your credits are insufficient. Open https://skills.video/dashboard, go to Billing/Credits, recharge, then retry. Check the balance with `Client::credits()`.",
            ErrorCategory::Auth => "The API key is missing or invalid. Create one at https://skills.video/dashboard/developer (Create API Key) and export it: export SKILLS_VIDEO_API_KEY=\"<YOUR_API_KEY>\".",
            ErrorCategory::Validation => "The request does not match the model's schema. Fix the named fields (each model's fields, allowed values and ranges: `ModelDescriptor::fields`); do not resend the same payload.",
            ErrorCategory::NotFound => "The model route or generation id does not exist. Check the model id (`catalog::MODELS` lists them) or the generation id.",
            ErrorCategory::Transient => "A temporary failure (rate limit, server error or network) persisted through every retry. Retry later; rate-limit windows are not published.",
            ErrorCategory::Ambiguous => "The platform may have accepted the job, but no generation id arrived. Do not resubmit blindly: resubmitting with the same Idempotency-Key is safe if the platform deduplicates; otherwise check your dashboard first.",
            ErrorCategory::Failed => "The platform ran the job and it ended FAILED or CANCELED. Read the message; adjust the request before trying again.",
            ErrorCategory::Timeout => "The job did not finish within the poll budget. It may still complete: resume with `Client::wait(id)` instead of creating it again.",
            ErrorCategory::Config => "Fix the client configuration as the message says.",
            ErrorCategory::Decode => "The platform answered with something this SDK could not read; the raw body is attached. Report it if it persists.",
            ErrorCategory::Unknown => "An unexpected error. The status and body are attached; retry only if you know the request was not accepted.",
        }
    }
}

/// One field error from a FastAPI `detail` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The location, e.g. `body.aspect_ratio`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The error type, e.g. `literal_error`.
    pub kind: String,
}

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No API key was given.
    #[error("no API key: set SKILLS_VIDEO_API_KEY or call ClientBuilder::api_key (create a key at https://skills.video/dashboard/developer)")]
    MissingApiKey,
    /// The client is configured wrongly.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The request broke the model's schema; nothing was sent.
    #[error("invalid request for {model}: {errors}")]
    InvalidRequest {
        /// The model id.
        model: String,
        /// Every violation found.
        errors: ValidationErrors,
    },
    /// The platform answered with an error status that is not worth retrying.
    #[error("HTTP {status} ({}): {message}", category.as_str())]
    Api {
        /// The HTTP status.
        status: u16,
        /// The category the status and message map to.
        category: ErrorCategory,
        /// The platform's message.
        message: String,
        /// Field errors from a FastAPI `detail`, if any.
        fields: Vec<FieldError>,
        /// The raw body.
        body: String,
        /// The generation id, when the error came while polling one.
        generation_id: Option<String>,
    },
    /// A transient failure persisted through every retry.
    #[error("transient failure after {attempts} attempt(s): {message}")]
    Transient {
        /// Attempts made.
        attempts: u32,
        /// The last HTTP status, if the failure had one.
        status: Option<u16>,
        /// What failed last.
        message: String,
        /// The generation id, when polling.
        generation_id: Option<String>,
    },
    /// The create may have been accepted, but no id was ever seen: nothing to
    /// poll, and creating again might charge twice.
    #[error("the create request may have been accepted but no generation id was received ({reason}); idempotency key {idempotency_key}")]
    Ambiguous {
        /// The key sent with the create; resubmitting with it is safe where the platform deduplicates.
        idempotency_key: String,
        /// What happened.
        reason: String,
    },
    /// The job ended FAILED or CANCELED.
    #[error("generation {} ended {}: {message}", generation.id().unwrap_or("?"), generation.status())]
    Failed {
        /// The terminal generation, with its raw JSON.
        generation: Box<Generation>,
        /// The platform's message.
        message: String,
    },
    /// The poll budget (or the overall deadline) ran out before a terminal status.
    #[error("generation {generation_id} still {last_status} after {waited:?}; resume with wait(\"{generation_id}\")")]
    Timeout {
        /// The id to resume with `wait`.
        generation_id: String,
        /// The last status seen.
        last_status: String,
        /// How long the SDK waited.
        waited: Duration,
    },
    /// A generation id that cannot name a generation in a URL (empty, `.`,
    /// `..`, control characters, too long); nothing was sent for it.
    #[error("invalid generation id {id}: {reason}")]
    InvalidId {
        /// The id, quoted and escaped (at most 80 characters).
        id: String,
        /// Why it was refused.
        reason: String,
    },
    /// The job ledger failed where a record is required (the intent, before
    /// a create: no paid job without a record), or `resume` without a ledger.
    #[error("ledger: {message}")]
    Ledger {
        /// What failed, and what to do.
        message: String,
    },
    /// The request could not be turned into JSON; nothing was sent.
    #[error("cannot serialise the request: {message}")]
    Serialize {
        /// What serde reported.
        message: String,
    },
    /// The lifecycle's event stream ended without a terminal result or an
    /// error: an SDK bug, never a platform answer.
    #[error("the lifecycle ended without a terminal result (an SDK bug; please report it)")]
    NoTerminalResult,
    /// A response body could not be read.
    #[error("could not read the platform's response: {message}")]
    Decode {
        /// What went wrong.
        message: String,
        /// The raw body.
        body: String,
    },
}

impl Error {
    /// The category, as the reference's tooling names them.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::MissingApiKey => ErrorCategory::Auth,
            Error::Config(_) => ErrorCategory::Config,
            Error::InvalidRequest { .. } => ErrorCategory::Validation,
            Error::Api { category, .. } => *category,
            Error::Transient { .. } => ErrorCategory::Transient,
            Error::Ambiguous { .. } => ErrorCategory::Ambiguous,
            Error::Failed { .. } => ErrorCategory::Failed,
            Error::Timeout { .. } => ErrorCategory::Timeout,
            Error::Decode { .. } => ErrorCategory::Decode,
            Error::Serialize { .. } => ErrorCategory::Validation,
            Error::NoTerminalResult => ErrorCategory::Unknown,
            Error::InvalidId { .. } => ErrorCategory::Validation,
            Error::Ledger { .. } => ErrorCategory::Config,
        }
    }

    /// Whether trying again later may succeed without changing the request:
    /// a transient failure (429/5xx, network) or a wait that ran out of budget.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.category(),
            ErrorCategory::Transient | ErrorCategory::Timeout
        )
    }

    /// The HTTP status, where there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Transient { status, .. } => *status,
            _ => None,
        }
    }

    /// The platform's (or the SDK's) message.
    pub fn message(&self) -> String {
        match self {
            Error::Api { message, .. }
            | Error::Transient { message, .. }
            | Error::Failed { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The generation id, where one is known: resume with `wait`.
    pub fn generation_id(&self) -> Option<&str> {
        match self {
            Error::Timeout { generation_id, .. } => Some(generation_id),
            Error::Failed { generation, .. } => generation.id(),
            Error::Api { generation_id, .. } | Error::Transient { generation_id, .. } => {
                generation_id.as_deref()
            }
            _ => None,
        }
    }

    /// What to do about it.
    pub fn guidance(&self) -> &'static str {
        self.category().guidance()
    }

    /// Builds the error for a non-success HTTP answer.
    pub fn from_response(status: u16, body: &str, generation_id: Option<String>) -> Error {
        let (message, fields) = parse_error_body(body);
        Error::Api {
            status,
            category: classify(Some(status), &message),
            message,
            fields,
            body: body.to_string(),
            generation_id,
        }
    }
}

/// The reference's classification, checked in order: insufficient credits
/// (402 or a credits phrase), auth (401 or `unauthorized`), validation (422 or
/// `validation`), not found (404), transient (429 or ≥ 500), unknown.
pub fn classify(status: Option<u16>, message: &str) -> ErrorCategory {
    let lower = message.to_ascii_lowercase();
    if status == Some(402) || CREDIT_PHRASES.iter().any(|p| lower.contains(p)) {
        ErrorCategory::InsufficientCredits
    } else if status == Some(401) || lower.contains("unauthorized") {
        ErrorCategory::Auth
    } else if status == Some(422) || lower.contains("validation") {
        ErrorCategory::Validation
    } else if status == Some(404) {
        ErrorCategory::NotFound
    } else if status == Some(429) || status.is_some_and(|s| s >= 500) {
        ErrorCategory::Transient
    } else {
        ErrorCategory::Unknown
    }
}

/// Reads an error body: `{message}`, `{error: {message}}`, `{error: "..."}`,
/// FastAPI `{detail: [...]}` or `{detail: "..."}`, else the text itself.
pub fn parse_error_body(body: &str) -> (String, Vec<FieldError>) {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return (body.trim().chars().take(2000).collect(), Vec::new());
    };
    let mut fields = Vec::new();
    if let Some(items) = json.get("detail").and_then(Value::as_array) {
        for item in items {
            let loc = item
                .get("loc")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .map(|p| {
                            p.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| p.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            fields.push(FieldError {
                field: loc,
                message: item
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind: item
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    let message = json
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| json.pointer("/error/message").and_then(Value::as_str))
        .or_else(|| json.get("error").and_then(Value::as_str))
        .or_else(|| json.get("detail").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if fields.is_empty() {
                body.trim().chars().take(2000).collect()
            } else {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                format!("validation failed: {}", parts.join("; "))
            }
        });
    (message, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_reference_order() {
        assert_eq!(classify(Some(402), ""), ErrorCategory::InsufficientCredits);
        assert_eq!(
            classify(Some(400), "Please top up your account"),
            ErrorCategory::InsufficientCredits
        );
        assert_eq!(
            classify(Some(401), "insufficient balance"),
            ErrorCategory::InsufficientCredits
        );
        assert_eq!(classify(Some(401), ""), ErrorCategory::Auth);
        assert_eq!(classify(Some(403), "Unauthorized"), ErrorCategory::Auth);
        assert_eq!(classify(Some(422), ""), ErrorCategory::Validation);
        assert_eq!(classify(Some(404), ""), ErrorCategory::NotFound);
        assert_eq!(classify(Some(429), ""), ErrorCategory::Transient);
        assert_eq!(classify(Some(503), ""), ErrorCategory::Transient);
        assert_eq!(classify(Some(400), "bad"), ErrorCategory::Unknown);
    }

    #[test]
    fn error_bodies_in_every_shape() {
        assert_eq!(parse_error_body(r#"{"message":"m"}"#).0, "m");
        assert_eq!(parse_error_body(r#"{"error":{"message":"n"}}"#).0, "n");
        assert_eq!(parse_error_body("plain text").0, "plain text");
        let (msg, fields) = parse_error_body(
            r#"{"detail":[{"loc":["body","seed"],"msg":"too small","type":"greater_than"}]}"#,
        );
        assert_eq!(fields[0].field, "body.seed");
        assert!(msg.contains("body.seed: too small"));
    }

    #[test]
    fn every_category_has_guidance() {
        let e = Error::from_response(402, r#"{"message":"Insufficient credits"}"#, None);
        assert_eq!(e.category(), ErrorCategory::InsufficientCredits);
        assert!(e.guidance().contains("https://skills.video/dashboard"));
        assert!(Error::MissingApiKey
            .guidance()
            .contains("SKILLS_VIDEO_API_KEY"));
    }
}
