//! Tool failures as MCP results: every failure a caller can act on (bad
//! arguments, an unknown model, an invalid request, a missing key, the
//! platform's errors, a FAILED job) is a `tools/call` result with
//! `isError: true` whose structured content carries the category, the
//! message, the guidance and, where known, the generation id and the
//! idempotency key. JSON-RPC errors are left to rmcp for protocol faults
//! (an unknown tool name).

use rmcp::model::CallToolResult;
use serde_json::{json, Map, Value};
use skills_video::Error;

use crate::exit::CliError;
use crate::output::cli_wording;

/// What a tool failure says; built from the CLI's [`CliError`] so that the
/// categories and guidance are the CLI's own.
#[derive(Debug, Clone)]
pub struct ToolError {
    /// The category (`validation`, `missing_api_key`, `insufficient_credits`, ...).
    pub category: String,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub guidance: String,
    /// The generation id, when one is known.
    pub generation_id: Option<Box<str>>,
    /// The idempotency key of the create, when one was sent.
    pub idempotency_key: Option<Box<str>>,
    /// Further fields (`violations`, `suggestions`, `http_status`, `status`, ...).
    pub extra: Box<Map<String, Value>>,
}

impl ToolError {
    /// A bad tool argument (not the request of a model: that is `validation`).
    pub fn argument(message: impl Into<String>) -> Self {
        ToolError {
            category: "invalid_arguments".into(),
            message: message.into(),
            guidance: "Fix the tool's arguments (see its input schema); nothing was sent.".into(),
            generation_id: None,
            idempotency_key: None,
            extra: Default::default(),
        }
    }

    /// Adds a field to the structured result.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The SDK's error, worded for an agent: a job that may still finish
    /// points at `wait_generation`, never at creating it again.
    pub fn from_sdk(e: &Error, key: Option<&str>) -> Self {
        let mut t = ToolError::from(CliError::from(e));
        if t.idempotency_key.is_none() {
            t.idempotency_key = key.map(Into::into);
        }
        t.extra.remove("resume_command");
        match e {
            Error::MissingApiKey => t.guidance = missing_key_guidance(),
            Error::Timeout { generation_id, .. } => {
                t.guidance = format!(
                    "The job did not finish within the poll budget and may still complete. Call wait_generation with id {generation_id:?} instead of generating again."
                );
            }
            Error::Ambiguous {
                idempotency_key, ..
            } => {
                t.guidance = format!(
                    "{} Do not call generate again blindly: the platform may already have accepted (and charged) it. The idempotency key was {idempotency_key}; `skills-video jobs --pending` and `skills-video resume` settle it from the ledger.",
                    e.category().guidance()
                );
            }
            Error::Transient {
                generation_id: Some(id),
                ..
            } => {
                t.guidance = format!(
                    "{} The job exists: call wait_generation with id {id:?} instead of generating again.",
                    e.category().guidance()
                );
            }
            _ => {}
        }
        t
    }

    /// The structured content of the result.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("ok".into(), json!(false));
        obj.insert("category".into(), json!(self.category));
        obj.insert("message".into(), json!(cli_wording(&self.message)));
        obj.insert("guidance".into(), json!(self.guidance));
        if let Some(id) = &self.generation_id {
            obj.insert("generation_id".into(), json!(id));
        }
        if let Some(key) = &self.idempotency_key {
            obj.insert("idempotency_key".into(), json!(key));
        }
        for (k, v) in self.extra.iter() {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(obj)
    }

    /// The `isError` result, with `secret` (the API key) redacted.
    pub fn into_result(self, secret: Option<&str>) -> CallToolResult {
        CallToolResult::structured_error(redact(self.to_json(), secret))
    }
}

impl From<CliError> for ToolError {
    fn from(e: CliError) -> Self {
        let mut extra = e.extra;
        let idempotency_key = match extra.remove("idempotency_key") {
            Some(Value::String(k)) => Some(k.into()),
            _ => None,
        };
        // CLI-only hints: the MCP tools say the same in their own terms.
        for k in ["models_command", "raw_command", "exit_code"] {
            extra.remove(k);
        }
        let category = if e.category == "invalid_input" {
            "invalid_arguments".to_string()
        } else {
            e.category
        };
        ToolError {
            category,
            message: e.message,
            guidance: e.guidance,
            generation_id: e.generation_id.map(Into::into),
            idempotency_key,
            extra,
        }
    }
}

/// The first-run guidance, for an MCP client's configuration.
pub fn missing_key_guidance() -> String {
    format!(
        "{}. For an MCP client, put SKILLS_VIDEO_API_KEY in the server's `env` block of the client's configuration and restart the server. list_models, describe_model and explain_error work without a key.",
        crate::commands::check_key::GUIDANCE
    )
}

/// `value` with every occurrence of `secret` replaced by `[redacted]`.
pub fn redact(value: Value, secret: Option<&str>) -> Value {
    let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else {
        return value;
    };
    let text = value.to_string();
    if !text.contains(secret) {
        return value;
    }
    serde_json::from_str(&text.replace(secret, "[redacted]")).unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_redacted_and_categories_kept() {
        let v = redact(json!({"m": "key sk-1 here", "n": ["sk-1"]}), Some("sk-1"));
        assert_eq!(v, json!({"m": "key [redacted] here", "n": ["[redacted]"]}));
        let t = ToolError::from_sdk(&Error::MissingApiKey, None);
        assert_eq!(t.category, "missing_api_key");
        assert!(t.guidance.contains("SKILLS_VIDEO_API_KEY"));
        let t = ToolError::from_sdk(
            &Error::Ambiguous {
                idempotency_key: "k-1".into(),
                reason: "x".into(),
            },
            None,
        );
        assert_eq!(t.to_json()["idempotency_key"], "k-1");
    }
}
