//! The offline tools: `list_models` and `describe_model`, from the
//! generated catalog (no key, no request).

use serde_json::{json, Value};
use skills_video::catalog::MODELS;
use skills_video::{Category, ModelDescriptor};

use crate::mcp::errors::ToolError;

/// The SDK's function for a model (`client.images().google_nano_banana_pro(..)`):
/// the id's letter/digit runs, lower-cased, joined by `_` (the generator's
/// `snake_name` rule; the `mcp` tests check it against the generated code).
pub fn sdk_function_name(model: &ModelDescriptor) -> String {
    let name = model
        .id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|r| !r.is_empty())
        .map(snake)
        .collect::<Vec<_>>()
        .join("_");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m_{name}")
    } else {
        name
    }
}

/// One run in snake case (`gen4` stays, `FluxPro` becomes `flux_pro`).
fn snake(run: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = run.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_ascii_lowercase());
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// The first sentence (or line) of a description.
fn one_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    let line = line.unwrap_or_default();
    match line.find(". ") {
        Some(i) => line[..=i].to_string(),
        None => line.to_string(),
    }
}

/// One model as `list_models` lists it.
pub fn list_entry(m: &ModelDescriptor) -> Value {
    json!({
        "model": m.id,
        "provider": m.provider,
        "title": m.summary,
        "category": m.category.as_str(),
        "description": one_line(m.description),
        "sdk_function": sdk_function_name(m),
    })
}

/// `list_models {category?}`.
pub fn list_models(category: Option<Category>) -> Value {
    let list: Vec<Value> = MODELS
        .iter()
        .filter(|m| category.is_none_or(|c| m.category == c))
        .map(|m| list_entry(m))
        .collect();
    json!({
        "count": list.len(),
        "models": list,
        "next": "describe_model {model} shows a model's fields and a request template; generate {model, input} runs it",
    })
}

/// `describe_model {model}`: `inspect --template`'s document (fields with
/// type, required, default, allowed values, ranges and examples; the request
/// schema; the request template by the seed rule) plus the per-model tool name.
pub fn describe_model(name: &str) -> Result<Value, ToolError> {
    let model = resolve(name)?;
    let mut doc = crate::commands::inspect::describe(model, name.trim(), true);
    doc["sdk_function"] = json!(sdk_function_name(model));
    doc["generate_example"] = json!({
        "model": model.id,
        "input": doc["request_template"].clone(),
    });
    Ok(doc)
}

/// The model named by any accepted spelling, or a tool error naming the
/// closest models.
pub fn resolve(name: &str) -> Result<&'static ModelDescriptor, ToolError> {
    match crate::resolve::resolve_model(name) {
        Ok(m) => Ok(m),
        Err(_) => {
            let suggestions = crate::resolve::suggestions(name);
            let message = crate::resolve::unknown_model_message(name, &suggestions);
            Err(ToolError {
                category: "unknown_model".into(),
                message,
                guidance: "Use a model id from list_models (e.g. google/nano-banana-pro); nothing was sent.".into(),
                generation_id: None,
                idempotency_key: None,
                extra: Default::default(),
            }
            .with("suggestions", suggestions))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills_video::model::find_model;

    #[test]
    fn function_names_follow_the_generator() {
        let m = find_model("openai/gpt-image-1.5").unwrap();
        assert_eq!(sdk_function_name(m), "openai_gpt_image_1_5");
        let m = find_model("kling-ai/v3/image").unwrap();
        assert_eq!(sdk_function_name(m), "kling_ai_v3_image");
    }

    #[test]
    fn unknown_models_suggest() {
        let e = resolve("google/nano-banana-prp").unwrap_err();
        assert_eq!(e.category, "unknown_model");
        assert!(
            e.message.contains("google/nano-banana-pro"),
            "{}",
            e.message
        );
    }
}
