//! `--per-model-tools`: each model's request schema from the spec, as an
//! MCP `inputSchema` (JSON Schema 2020-12 with an object root).
//!
//! The generated descriptor holds the request schema as the spec wrote it
//! (`request_schema_json`, references already inlined by codegen), which is
//! OpenAPI 3.0: `nullable`/`example` are OpenAPI words. Here `nullable: true`
//! becomes a `null` type, `example` becomes `examples`, and a `oneOf` root
//! gets `type: object`. Nothing is kept by hand: a spec change reaches the
//! tools with the next build.

use serde_json::{json, Map, Value};
use skills_video::ModelDescriptor;

/// The model's input schema: its request schema with OpenAPI words turned
/// into JSON Schema, with an object root.
pub fn input_schema(model: &ModelDescriptor) -> Map<String, Value> {
    let raw: Value = serde_json::from_str(model.request_schema_json).unwrap_or_else(|_| json!({}));
    let mut schema = match convert(&raw) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    schema.entry("type").or_insert_with(|| json!("object"));
    schema.remove("x-source");
    schema
}

/// One schema converted (see the module docs).
fn convert(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        // `true`/`false` schemas and anything else pass as they are.
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in obj {
        out.insert(k.clone(), convert_keyword(k, v));
    }
    finish(out)
}

/// A keyword's value: subschemas converted, everything else as it is.
fn convert_keyword(key: &str, value: &Value) -> Value {
    match (key, value) {
        ("properties" | "patternProperties" | "$defs" | "definitions", Value::Object(props)) => {
            Value::Object(
                props
                    .iter()
                    .map(|(name, s)| (name.clone(), convert(s)))
                    .collect(),
            )
        }
        (
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems",
            s,
        ) => convert(s),
        ("oneOf" | "anyOf" | "allOf" | "prefixItems", Value::Array(list)) => {
            Value::Array(list.iter().map(convert).collect())
        }
        _ => value.clone(),
    }
}

/// OpenAPI 3.0 words in one schema object: `nullable`, `example`.
fn finish(mut obj: Map<String, Value>) -> Value {
    if let Some(example) = obj.remove("example") {
        obj.entry("examples").or_insert_with(|| json!([example]));
    }
    if obj.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(Value::Array(values)) = obj.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
        }
        match obj.get("type").cloned() {
            Some(Value::String(t)) => {
                obj.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(mut types)) => {
                if !types.contains(&json!("null")) {
                    types.push(json!("null"));
                }
                obj.insert("type".into(), Value::Array(types));
            }
            Some(_) => {}
            None => {
                // No type (a reference or a combination): null or the schema.
                return json!({"anyOf": [Value::Object(obj), {"type": "null"}]});
            }
        }
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills_video::catalog::MODELS;
    use skills_video::model::find_model;

    #[test]
    fn every_schema_is_self_contained_with_an_object_root() {
        for m in MODELS {
            let s = Value::Object(input_schema(m));
            assert_eq!(s["type"], "object", "{}", m.id);
            let text = s.to_string();
            assert!(!text.contains("$ref"), "{}: {text}", m.id);
            assert!(!text.contains("\"nullable\""), "{}", m.id);
        }
    }

    #[test]
    fn nullable_becomes_a_null_type() {
        let m = find_model("google/veo-3.1").unwrap();
        let s = Value::Object(input_schema(m));
        assert_eq!(s["properties"]["seed"]["type"], json!(["integer", "null"]));
    }
}
