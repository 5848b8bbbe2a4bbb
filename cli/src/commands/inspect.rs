//! `inspect`: what the seed's `inspect_openapi --endpoint E --include-template`
//! prints, from the generated catalog (plus status vocabularies and error
//! statuses from the generated descriptors: no spec is parsed at run time).

use serde_json::{json, Map, Value};
use skills_video::{FieldInfo, FieldKind, ModelDescriptor};

use crate::args::InspectArgs;
use crate::exit;
use crate::output::Output;
use crate::payload::allowed_values;
use crate::resolve::resolve_model;

/// The values of a status vocabulary, as the spec lists them.
fn status_values<T: std::fmt::Display>(all: &[T]) -> Value {
    Value::from(all.iter().map(ToString::to_string).collect::<Vec<_>>())
}

fn json_or_null(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

fn is_prompt_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["prompt", "text", "caption", "description", "instruction"]
        .iter()
        .any(|p| n.contains(p))
}

/// The template value of a field by the seed's rule: its default, else its
/// first allowed value, else a placeholder by type.
pub fn template_value(field: &FieldInfo) -> Value {
    if let Some(d) = field
        .default_json
        .and_then(|t| serde_json::from_str(t).ok())
    {
        return d;
    }
    if let Some(first) = allowed_values(field).into_iter().next() {
        return first;
    }
    if field.format == Some("uri") {
        return json!("https://example.com/input.png");
    }
    match field.kind {
        FieldKind::String if is_prompt_like(field.name) => {
            json!("A minimal product photo of a matte black coffee grinder on a white background")
        }
        FieldKind::String => json!(format!("<{}>", field.name)),
        FieldKind::Integer | FieldKind::Number => json!(1),
        FieldKind::Boolean => json!(false),
        FieldKind::Array => json!([]),
        FieldKind::Object | FieldKind::Json => json!({}),
    }
}

/// The request template: every required field, and every optional field with a default.
pub fn template(model: &ModelDescriptor) -> Value {
    let mut map = Map::new();
    for f in model.template_fields() {
        if f.required || f.default_json.is_some() {
            map.insert(f.name.into(), template_value(f));
        }
    }
    Value::Object(map)
}

/// Each field as `inspect` shows it.
fn field_docs(fields: &[FieldInfo]) -> Vec<Value> {
    fields
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "required": f.required,
                "type": f.kind.as_str(),
                "nullable": f.nullable,
                "format": f.format,
                "description": f.description,
                "default": json_or_null(f.default_json),
                "example": json_or_null(f.example_json),
                "allowed_values": allowed_values(f),
                "minimum": f.minimum,
                "maximum": f.maximum,
                "min_length": f.min_length,
                "max_length": f.max_length,
            })
        })
        .collect()
}

/// The inspection document.
pub fn describe(model: &ModelDescriptor, endpoint: &str, with_template: bool) -> Value {
    let fields = field_docs(model.fields);
    let workflows: Vec<Value> = model
        .workflows
        .iter()
        .map(|w| {
            json!({
                "value": w.value,
                "schema": w.schema,
                "summary": w.summary,
                "fields": field_docs(w.fields),
            })
        })
        .collect();
    let sse = model.sse_route.map(|r| format!("POST {r}"));
    let polling = model.create_route.map(|r| format!("POST {r}"));
    let server_url = json!(skills_video::client::DEFAULT_BASE_URL);
    let mut doc = json!({
        "endpoint": endpoint,
        "model": model.id,
        "category": model.category.as_str(),
        "default_result_mode": if model.sse_route.is_some() { "sse" } else { "polling" },
        "default_create_endpoint": sse.clone().or_else(|| polling.clone()),
        "sse_create_endpoint": sse,
        "polling_create_endpoint": polling,
        "summary": model.summary,
        "description": model.description,
        "server_url": server_url,
        "request_schema_name": model.request_schema,
        "request_schema": json_or_null(Some(model.request_schema_json)),
        "fields": fields,
        "discriminator": model.discriminator,
        "workflows": workflows,
        "prediction_status_values": status_values(skills_video::schemas::PredictionStatus::ALL),
        "queue_status_values": status_values(skills_video::schemas::QueueState::ALL),
        "sse_subscribe_endpoint": Value::Null,
        "poll_endpoint": format!("GET {}", model.poll_route),
        "error_status_codes": model.error_statuses,
    });
    if with_template {
        doc["request_template"] = template(model);
    }
    doc
}

/// Runs the command.
pub fn run(args: &InspectArgs, out: &Output) -> u8 {
    let model = match resolve_model(&args.model) {
        Ok(m) => m,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    out.document(&describe(model, args.model.trim(), args.template));
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills_video::catalog::MODELS;
    use skills_video::model::find_model;

    #[test]
    fn fields_show_ranges_and_limits() {
        let m = find_model("bytedance/seedream-4.5").unwrap();
        let doc = describe(m, "bytedance/seedream-4.5", false);
        let field = |name: &str| {
            doc["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .cloned()
                .unwrap()
        };
        let n = field("n");
        assert_eq!(
            (n["minimum"].as_f64(), n["maximum"].as_f64()),
            (Some(1.0), Some(4.0))
        );
        assert!(field("prompt")["minimum"].is_null());
        let kling = find_model("kling-ai/o1-image").unwrap();
        let doc = describe(kling, "kling-ai/o1-image", false);
        let limited = doc["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["max_length"].is_u64())
            .count();
        assert!(
            limited > 0,
            "no length or item limits shown: {}",
            doc["fields"]
        );
    }

    #[test]
    fn template_follows_the_seed_rule() {
        let m = find_model("google/nano-banana-pro").unwrap();
        let t = template(m);
        assert!(t["prompt"].as_str().unwrap().len() > 10);
        assert_eq!(t["aspect_ratio"], "auto");
        assert_eq!(t["num_images"], 1);
        assert!(t.get("seed").is_none());
    }

    #[test]
    fn every_template_validates_or_names_its_placeholders() {
        // Templates are starting points; for most models they validate as they are.
        let valid = MODELS
            .iter()
            .filter(|m| (m.check_json)(&template(m)).is_ok())
            .count();
        assert!(valid * 2 > MODELS.len(), "only {valid} templates validate");
    }

    #[test]
    fn spec_vocabularies_are_found() {
        let m = find_model("google/nano-banana-pro").unwrap();
        let d = describe(m, "x", false);
        assert_eq!(d["queue_status_values"][0], "IN_QUEUE");
        assert!(d["error_status_codes"]
            .as_array()
            .unwrap()
            .contains(&json!(422)));
    }
}
