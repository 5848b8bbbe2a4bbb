//! The six tools (names agents and their prompts rely on), their input
//! schemas, and the reading of their arguments.
//!
//! Arguments are read by hand from the call's JSON object rather than
//! deserialized, so that every bad argument is an `isError` result naming
//! it (as the 2025-11-25 spec asks for input validation), never a JSON-RPC
//! error the agent cannot see.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Value};

use crate::mcp::errors::ToolError;
use crate::suggest::closest;

/// `list_models`.
pub const LIST_MODELS: &str = "list_models";
/// `describe_model`.
pub const DESCRIBE_MODEL: &str = "describe_model";
/// `generate`.
pub const GENERATE: &str = "generate";
/// `wait_generation`.
pub const WAIT_GENERATION: &str = "wait_generation";
/// `get_credits`.
pub const GET_CREDITS: &str = "get_credits";
/// `explain_error`.
pub const EXPLAIN_ERROR: &str = "explain_error";

/// The longest `wait_seconds` a call may ask for.
pub const MAX_WAIT_SECS: f64 = 3600.0;

fn object(schema: Value) -> Arc<JsonObject> {
    match schema {
        Value::Object(m) => Arc::new(m),
        _ => Arc::new(JsonObject::new()),
    }
}

fn wait_seconds_schema() -> Value {
    json!({
        "type": "number", "minimum": 0, "maximum": MAX_WAIT_SECS,
        "description": "How long to wait for the terminal result before returning the id and last status (then call wait_generation). 0 returns as soon as the id is known. Default: the server's --wait (300 s)."
    })
}

fn download_dir_schema() -> Value {
    json!({
        "type": "string",
        "description": "Save every output into this directory (created if missing; existing files are never overwritten). Relative to the server's working directory."
    })
}

/// The six tools, in a fixed order.
pub fn static_tools() -> Vec<Tool> {
    let read_only = |title: &str| {
        ToolAnnotations::with_title(title)
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false)
    };
    vec![
        Tool::new(
            LIST_MODELS,
            "List the image and video models of the catalog: model id, provider, title, category and a one-line description. No key needed.",
            object(json!({
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": ["images", "videos"], "description": "Only image or only video models."}
                },
                "additionalProperties": false
            })),
        )
        .annotate(read_only("List models")),
        Tool::new(
            DESCRIBE_MODEL,
            "Describe one model: every request field with its type, whether it is required, default, allowed values, range and example, the request's JSON Schema, and a request template (`request_template`) to start `generate`'s input from. No key needed.",
            object(json!({
                "type": "object",
                "properties": {
                    "model": {"type": "string", "description": "The model id, e.g. google/nano-banana-pro (from list_models)."}
                },
                "required": ["model"],
                "additionalProperties": false
            })),
        )
        .annotate(read_only("Describe a model")),
        Tool::new(
            GENERATE,
            "Generate an image or video: checks `input` against the model's schema (every bad field is reported and nothing is sent), creates the job once (SSE with polling as the fall-back; a dropped stream never creates a second job), sends progress notifications while it runs, and returns the terminal status, generation id, output URLs and saved files. If wait_seconds passes first, returns the id and last status: call wait_generation with the id (never generate again). Costs credits.",
            object(json!({
                "type": "object",
                "properties": {
                    "model": {"type": "string", "description": "The model id, e.g. google/nano-banana-pro (from list_models)."},
                    "input": {"type": "object", "description": "The request: the model's fields (see describe_model's request_template)."},
                    "wait_seconds": wait_seconds_schema(),
                    "download_dir": download_dir_schema()
                },
                "required": ["model", "input"],
                "additionalProperties": false
            })),
        )
        .annotate(
            ToolAnnotations::with_title("Generate")
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(true),
        ),
        Tool::new(
            WAIT_GENERATION,
            "Wait for an existing generation (by id) to finish, without creating anything; optionally download its outputs. Use it after generate returned before the job ended, or to resume.",
            object(json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "The generation id (from generate)."},
                    "wait_seconds": wait_seconds_schema(),
                    "download_dir": download_dir_schema()
                },
                "required": ["id"],
                "additionalProperties": false
            })),
        )
        .annotate(
            ToolAnnotations::with_title("Wait for a generation")
                .read_only(false)
                .destructive(false)
                .idempotent(true)
                .open_world(true),
        ),
        Tool::new(
            GET_CREDITS,
            "The account's credit balance, and where to recharge.",
            object(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        )
        .annotate(
            ToolAnnotations::with_title("Credit balance")
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(true),
        ),
        Tool::new(
            EXPLAIN_ERROR,
            "Classify a platform HTTP error (status and body): its category (insufficient_credits, auth, validation, not_found, transient, ...), whether to retry, what to do, and the field errors it names. No key needed.",
            object(json!({
                "type": "object",
                "properties": {
                    "status": {"type": "integer", "minimum": 100, "maximum": 599, "description": "The HTTP status."},
                    "body": {"description": "The error body: text, or the JSON as an object.", "type": ["string", "object", "array", "null"]}
                },
                "required": ["status"],
                "additionalProperties": false
            })),
        )
        .annotate(read_only("Explain an error")),
    ]
}

/// A call's arguments, read field by field.
pub struct Args<'a> {
    tool: &'a str,
    map: JsonObject,
}

impl<'a> Args<'a> {
    /// The arguments of `tool`; a name not in `allowed` is an error naming
    /// it (and the closest allowed name).
    pub fn new(
        tool: &'a str,
        map: Option<JsonObject>,
        allowed: &[&str],
    ) -> Result<Self, ToolError> {
        let map = map.unwrap_or_default();
        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| match closest(k, allowed.iter().copied(), 1).first() {
                Some(best) => format!("{k:?} (did you mean {best:?}?)"),
                None => format!("{k:?}"),
            })
            .collect();
        if !unknown.is_empty() {
            return Err(ToolError::argument(format!(
                "{tool}: unknown argument(s) {}; it takes {}",
                unknown.join(", "),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            )));
        }
        Ok(Args { tool, map })
    }

    /// A required string argument (trimmed, not empty).
    pub fn string(&self, name: &str) -> Result<String, ToolError> {
        match self.opt_string(name)? {
            Some(s) => Ok(s),
            None => Err(ToolError::argument(format!(
                "{}: the argument {name:?} is required",
                self.tool
            ))),
        }
    }

    /// An optional string argument (trimmed; empty is absent).
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, ToolError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(other) => Err(ToolError::argument(format!(
                "{}: the argument {name:?} must be a string, not {}",
                self.tool,
                crate::payload::json_kind(other)
            ))),
        }
    }

    /// An optional number of seconds in `0..=MAX_WAIT_SECS`.
    pub fn opt_seconds(&self, name: &str) -> Result<Option<f64>, ToolError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(s) if (0.0..=MAX_WAIT_SECS).contains(&s) => Ok(Some(s)),
                _ => Err(ToolError::argument(format!(
                    "{}: {name:?} must be between 0 and {MAX_WAIT_SECS} seconds, not {n}",
                    self.tool
                ))),
            },
            Some(other) => Err(ToolError::argument(format!(
                "{}: {name:?} must be a number of seconds, not {}",
                self.tool,
                crate::payload::json_kind(other)
            ))),
        }
    }

    /// The raw value of an argument.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_tools_with_object_schemas() {
        let tools = static_tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                LIST_MODELS,
                DESCRIBE_MODEL,
                GENERATE,
                WAIT_GENERATION,
                GET_CREDITS,
                EXPLAIN_ERROR
            ]
        );
        for t in &tools {
            assert_eq!(t.input_schema["type"], "object", "{}", t.name);
        }
    }

    #[test]
    fn arguments_are_checked_by_name_and_kind() {
        let map = |v: Value| v.as_object().cloned();
        let e = Args::new("generate", map(json!({"modle": "x"})), &["model", "input"])
            .err()
            .unwrap();
        assert!(e.message.contains("\"model\""), "{}", e.message);
        let a = Args::new(
            "generate",
            map(json!({"model": 3, "wait_seconds": -1})),
            &["model", "wait_seconds"],
        )
        .unwrap();
        assert!(a.string("model").is_err());
        assert!(a.opt_seconds("wait_seconds").is_err());
    }
}
