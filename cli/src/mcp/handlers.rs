//! One function per tool: read the arguments (every problem a tool error
//! naming the argument), then answer.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use skills_video::{Category, ModelDescriptor};
use tokio_util::sync::CancellationToken;

use crate::mcp::errors::ToolError;
use crate::mcp::progress::Progress;
use crate::mcp::server::Shared;
use crate::mcp::tools::{self, Args};
use crate::mcp::{catalog, lifecycle};
use rmcp::model::JsonObject;

/// `wait_seconds`, or the server's default.
fn wait(shared: &Shared, secs: Option<f64>) -> Duration {
    secs.map(Duration::from_secs_f64)
        .unwrap_or(shared.default_wait)
}

/// `list_models {category?}`.
pub fn list_models(arguments: Option<JsonObject>) -> Result<Value, ToolError> {
    let a = Args::new(tools::LIST_MODELS, arguments, &["category"])?;
    let category = match a.opt_string("category")?.as_deref() {
        None => None,
        Some("images") => Some(Category::Images),
        Some("videos") => Some(Category::Videos),
        Some(other) => {
            return Err(ToolError::argument(format!(
                "list_models: category {other:?} is not one of \"images\", \"videos\""
            )))
        }
    };
    Ok(catalog::list_models(category))
}

/// `describe_model {model}`.
pub fn describe_model(arguments: Option<JsonObject>) -> Result<Value, ToolError> {
    let a = Args::new(tools::DESCRIBE_MODEL, arguments, &["model"])?;
    catalog::describe_model(&a.string("model")?)
}

/// `generate {model, input, wait_seconds?, download_dir?}`.
pub async fn generate(
    shared: &Shared,
    arguments: Option<JsonObject>,
    progress: Progress,
    ct: CancellationToken,
) -> Result<Value, ToolError> {
    let a = Args::new(
        tools::GENERATE,
        arguments,
        &["model", "input", "wait_seconds", "download_dir"],
    )?;
    let model = catalog::resolve(&a.string("model")?)?;
    let input = a.value("input").cloned().ok_or_else(|| {
        ToolError::argument(
            "generate: the argument \"input\" is required (an object of the model's fields; describe_model shows them)",
        )
    })?;
    let wait = wait(shared, a.opt_seconds("wait_seconds")?);
    let dir = a.opt_string("download_dir")?.map(PathBuf::from);
    lifecycle::generate(shared, model, &input, wait, dir, progress, ct).await
}

/// A per-model tool: `generate` with the arguments as the input.
pub async fn per_model(
    shared: &Shared,
    model: &'static ModelDescriptor,
    arguments: Option<JsonObject>,
    progress: Progress,
    ct: CancellationToken,
) -> Result<Value, ToolError> {
    let input = Value::Object(arguments.unwrap_or_default());
    lifecycle::generate(
        shared,
        model,
        &input,
        shared.default_wait,
        None,
        progress,
        ct,
    )
    .await
}

/// `wait_generation {id, wait_seconds?, download_dir?}`.
pub async fn wait_generation(
    shared: &Shared,
    arguments: Option<JsonObject>,
    progress: Progress,
    ct: CancellationToken,
) -> Result<Value, ToolError> {
    let a = Args::new(
        tools::WAIT_GENERATION,
        arguments,
        &["id", "wait_seconds", "download_dir"],
    )?;
    let id = a.string("id")?;
    let wait = wait(shared, a.opt_seconds("wait_seconds")?);
    let dir = a.opt_string("download_dir")?.map(PathBuf::from);
    lifecycle::wait_generation(shared, &id, wait, dir, progress, ct).await
}

/// `get_credits {}`.
pub async fn get_credits(
    shared: &Shared,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    Args::new(tools::GET_CREDITS, arguments, &[])?;
    let (client, _) = shared.client()?;
    let credits = client
        .credits()
        .await
        .map_err(|e| ToolError::from_sdk(&e, None))?;
    Ok(json!({
        "ok": true,
        "credits": credits.balance,
        "response": credits.raw,
        "recharge_url": skills_video::error::RECHARGE_URL,
    }))
}

/// `explain_error {status, body}`: `status` an integer (or its text),
/// `body` text or JSON.
pub fn explain_error(arguments: Option<JsonObject>) -> Result<Value, ToolError> {
    let a = Args::new(tools::EXPLAIN_ERROR, arguments, &["status", "body"])?;
    let bad_status = |given: String| {
        ToolError::argument(format!(
            "explain_error: \"status\" must be an HTTP status (an integer from 100 to 599), not {given}"
        ))
    };
    let status = match a.value("status") {
        Some(Value::Number(n)) => n.as_u64().and_then(|s| u16::try_from(s).ok()),
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(other) => return Err(bad_status(crate::payload::json_kind(other).to_string())),
        None => {
            return Err(ToolError::argument(
                "explain_error: the argument \"status\" is required",
            ))
        }
    }
    .filter(|s| (100..=599).contains(s))
    .ok_or_else(|| bad_status(a.value("status").map(Value::to_string).unwrap_or_default()))?;
    let body = match a.value("body") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let (mut value, _) = crate::commands::explain_error::explain(status, &body);
    if let Value::Object(m) = &mut value {
        m.remove("exit_code");
        m.insert("credits_tool".into(), json!(tools::GET_CREDITS));
    }
    Ok(value)
}
