//! The model routes of an OpenAPI document and their request validators.
//!
//! Every `POST /generation/...` operation is a model route: the path after
//! `/generation/` (or `/generation/sse/` for the SSE twin) is the model id,
//! e.g. `kling-ai/v3/image`. Paths written as `/v1/generation/...` (specs
//! whose server URL is `/api`) are accepted too.
//!
//! Request schemas are OpenAPI 3.0 schemas; they are converted to JSON Schema
//! 2020-12 before compiling: `nullable: true` adds `"null"` to a schema's
//! `type` (and to its `enum`), or wraps an untyped schema as
//! `anyOf: [schema, {"type": "null"}]`; boolean `exclusiveMinimum` /
//! `exclusiveMaximum` become numeric ones, `example` is dropped, and
//! `#/components/schemas/X` references are rewritten to `#/$defs/X` in a root
//! document that carries every component schema under `$defs`.

use std::collections::HashMap;

use anyhow::{anyhow, Context};
use jsonschema::{error::ValidationErrorKind, Validator};
use serde_json::{json, Map, Value};

/// The category of a model, from its operation's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Tagged `Images`: outputs are PNG images.
    Image,
    /// Tagged `Videos`: outputs are MP4 videos.
    Video,
}

/// One model of the spec.
pub struct ModelRoute {
    /// The model id, e.g. `google/nano-banana-pro`.
    pub model: String,
    /// Image or video.
    pub category: Category,
    /// Whether the spec has the polling create route.
    pub has_poll: bool,
    /// Whether the spec has the SSE create route.
    pub has_sse: bool,
    validator: Validator,
    /// The kind of each request property, for multipart bodies.
    kinds: HashMap<String, crate::multipart::Kind>,
}

impl std::fmt::Debug for ModelRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRoute")
            .field("model", &self.model)
            .field("category", &self.category)
            .field("has_poll", &self.has_poll)
            .field("has_sse", &self.has_sse)
            .finish_non_exhaustive()
    }
}

/// One FastAPI-style validation error item.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `["body", field, index, ...]`.
    pub loc: Vec<Value>,
    /// Human-readable message.
    pub msg: String,
    /// Pydantic-style error type, e.g. `missing`, `string_type`.
    pub kind: String,
}

impl Violation {
    /// The JSON of this item: `{"loc": [...], "msg": "...", "type": "..."}`.
    pub fn to_json(&self) -> Value {
        json!({"loc": self.loc, "msg": self.msg, "type": self.kind})
    }
}

impl ModelRoute {
    /// The kind of each request property (multipart text conversion).
    pub(crate) fn kinds(&self) -> &HashMap<String, crate::multipart::Kind> {
        &self.kinds
    }

    /// Validates a request body, returning the violations (at most 50).
    pub fn validate(&self, body: &Value) -> Result<(), Vec<Violation>> {
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(body)
            .take(50)
            .flat_map(|e| violation(&e))
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

/// Every model route of a spec, by model id.
#[derive(Debug, Default)]
pub struct SpecIndex {
    models: HashMap<String, ModelRoute>,
}

impl SpecIndex {
    /// Reads the model routes of an OpenAPI document and compiles their
    /// request validators.
    pub fn load(spec: &Value, docs: &Value) -> anyhow::Result<Self> {
        let listed = skills_video_routes::docs::categories(docs);
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("the OpenAPI document has no `paths` object"))?;
        let components = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut defs = Map::new();
        for (name, schema) in &components {
            defs.insert(name.clone(), convert(schema));
        }
        let defs = Value::Object(defs);

        struct Found {
            poll: bool,
            sse: bool,
            tags: Vec<String>,
            schema: Option<Value>,
        }
        let mut found: HashMap<String, Found> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for (path, item) in paths {
            let Some(op) = item.get("post") else { continue };
            let Some((model, sse)) = skills_video_routes::route::parse(path) else {
                continue;
            };
            let entry = found.entry(model.to_string()).or_insert_with(|| {
                order.push(model.to_string());
                Found {
                    poll: false,
                    sse: false,
                    tags: Vec::new(),
                    schema: None,
                }
            });
            if sse {
                entry.sse = true;
            } else {
                entry.poll = true;
            }
            if let Some(tags) = op.get("tags").and_then(Value::as_array) {
                entry
                    .tags
                    .extend(tags.iter().filter_map(Value::as_str).map(str::to_string));
            }
            let schema = op.pointer("/requestBody/content/application~1json/schema");
            if let Some(schema) = schema {
                // Prefer the polling route's schema; the twins should agree.
                if entry.schema.is_none() || !sse {
                    entry.schema = Some(schema.clone());
                }
            }
        }

        let mut models = HashMap::new();
        for model in order {
            let Some(f) = found.remove(&model) else {
                continue;
            };
            // docs.json decides, as it does for the generator; the operation's
            // tag only for a model it does not list (extra or custom models).
            let tagged_videos = f.tags.iter().any(|t| t.eq_ignore_ascii_case("videos"));
            let category = match listed.iter().find(|(id, _)| *id == model) {
                Some((_, skills_video_routes::Category::Videos)) => Category::Video,
                Some((_, skills_video_routes::Category::Images)) => Category::Image,
                None if tagged_videos => Category::Video,
                None => Category::Image,
            };
            let mut root = match f.schema {
                Some(s) => convert(&s),
                None => json!({}),
            };
            // Only the component schemas this model reaches: compiling (and
            // meta-validating) every component for every model made a
            // full-catalog start take seconds in a debug build.
            let defs = reachable_defs(&root, &defs);
            if let Value::Object(obj) = &mut root {
                obj.insert("$defs".to_string(), defs);
            } else {
                root = json!({"allOf": [root], "$defs": defs});
            }
            let kinds = crate::multipart::property_kinds(&root);
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("request schema of model {model}"))?;
            models.insert(
                model.clone(),
                ModelRoute {
                    model,
                    category,
                    has_poll: f.poll,
                    has_sse: f.sse,
                    validator,
                    kinds,
                },
            );
        }
        Ok(Self { models })
    }

    /// The route of a model id.
    pub fn get(&self, model: &str) -> Option<&ModelRoute> {
        self.models.get(model)
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether there is no model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Every model id, sorted.
    pub fn model_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.models.keys().cloned().collect();
        ids.sort();
        ids
    }
}

/// The part of `defs` (an object of converted component schemas) that
/// `root` reaches through `#/$defs/NAME` references, transitively. Any other
/// reference that names `$defs` (a name it does not know, an escaped name)
/// keeps every definition, so pruning never changes what validates.
fn reachable_defs(root: &Value, defs: &Value) -> Value {
    let Value::Object(all) = defs else {
        return defs.clone();
    };
    let mut kept = Map::new();
    let mut pending = vec![root];
    while let Some(schema) = pending.pop() {
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for reference in refs {
            let Some(rest) = reference.strip_prefix("#/$defs/") else {
                if reference.contains("$defs") {
                    return defs.clone();
                }
                continue;
            };
            let name = rest.split('/').next().unwrap_or(rest);
            match all.get_key_value(name) {
                Some((key, target)) => {
                    if !kept.contains_key(key) {
                        kept.insert(key.clone(), Value::Null);
                        pending.push(target);
                    }
                }
                None => return defs.clone(),
            }
        }
    }
    // In the components' order, with their schemas.
    Value::Object(
        all.iter()
            .filter(|(name, _)| kept.contains_key(*name))
            .map(|(name, schema)| (name.clone(), schema.clone()))
            .collect(),
    )
}

/// Every `$ref` / `$dynamicRef` string in `schema`, at any depth.
fn collect_refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
    match schema {
        Value::Object(obj) => {
            for (key, value) in obj {
                match (key.as_str(), value) {
                    ("$ref" | "$dynamicRef", Value::String(r)) => out.push(r),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The errors of `instance` against a JSON Schema document (its draft taken
/// from `$schema`, 2020-12 by default), each as `message at /pointer`; an
/// error when the schema does not compile. The validator the simulator
/// checks requests with, for code that publishes JSON Schemas of its own:
/// the CLI's MCP tests check its tools' input schemas with it, so the CLI
/// itself needs no schema validator, not even to test.
pub fn json_schema_errors(schema: &Value, instance: &Value) -> Result<Vec<String>, String> {
    let validator = jsonschema::validator_for(schema).map_err(|e| e.to_string())?;
    Ok(validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect())
}

/// Converts an OpenAPI 3.0 schema object to JSON Schema 2020-12.
pub fn convert(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (key, value) in obj {
        match key.as_str() {
            "nullable" => nullable = value.as_bool().unwrap_or(false),
            "example" | "xml" | "externalDocs" | "discriminator" => {}
            "$ref" => {
                let target = value
                    .as_str()
                    .map(|r| match r.strip_prefix("#/components/schemas/") {
                        Some(name) => Value::String(format!("#/$defs/{name}")),
                        None => value.clone(),
                    })
                    .unwrap_or_else(|| value.clone());
                out.insert(key.clone(), target);
            }
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                let converted = match value {
                    Value::Object(map) => {
                        Value::Object(map.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                    }
                    other => other.clone(),
                };
                out.insert(key.clone(), converted);
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                let converted = match value {
                    Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
                    other => other.clone(),
                };
                out.insert(key.clone(), converted);
            }
            "items" => {
                // OpenAPI 3.0 has a single `items` schema; a tuple form is
                // mapped to 2020-12 `prefixItems`.
                match value {
                    Value::Array(items) => {
                        out.insert(
                            "prefixItems".to_string(),
                            Value::Array(items.iter().map(convert).collect()),
                        );
                    }
                    other => {
                        out.insert(key.clone(), convert(other));
                    }
                }
            }
            "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "additionalItems" => {
                out.insert(key.clone(), convert(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    // OpenAPI 3.0 boolean exclusive bounds.
    for (excl, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(flag) = out.get(excl).and_then(Value::as_bool) {
            out.remove(excl);
            if flag {
                if let Some(limit) = out.remove(bound) {
                    out.insert(excl.to_string(), limit);
                }
            }
        }
    }
    if !nullable {
        return Value::Object(out);
    }
    // A typed schema admits null through its `type` (and `enum`), so that
    // errors inside it keep their precise location; any other schema is
    // wrapped in `anyOf: [schema, {"type": "null"}]`.
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".to_string(), json!([t, "null"]));
            if let Some(Value::Array(options)) = out.get_mut("enum") {
                if !options.contains(&Value::Null) {
                    options.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        _ => json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
    }
}

/// Splits a JSON pointer into `loc` segments (indices as numbers).
fn pointer_segments(pointer: &str) -> Vec<Value> {
    pointer
        .split('/')
        .skip(1)
        .map(|seg| {
            let seg = seg.replace("~1", "/").replace("~0", "~");
            match seg.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(seg),
            }
        })
        .collect()
}

fn violation(err: &jsonschema::ValidationError<'_>) -> Vec<Violation> {
    let mut loc = vec![Value::String("body".to_string())];
    loc.extend(pointer_segments(err.instance_path.as_str()));
    let one = |loc: Vec<Value>, msg: String, kind: &str| Violation {
        loc,
        msg,
        kind: kind.to_string(),
    };
    match &err.kind {
        ValidationErrorKind::Required { property } => {
            let mut loc = loc;
            loc.push(match property {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            });
            vec![one(loc, "Field required".to_string(), "missing")]
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                let mut loc = loc.clone();
                loc.push(Value::String(name.clone()));
                one(
                    loc,
                    "Extra inputs are not permitted".to_string(),
                    "extra_forbidden",
                )
            })
            .collect(),
        ValidationErrorKind::Type { kind } => {
            use jsonschema::primitive_type::PrimitiveType;
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => Some(*t),
                jsonschema::error::TypeKind::Multiple(types) => {
                    types.into_iter().find(|t| *t != PrimitiveType::Null)
                }
            };
            let (msg, ty) = match expected {
                Some(PrimitiveType::String) => ("Input should be a valid string", "string_type"),
                Some(PrimitiveType::Integer) => ("Input should be a valid integer", "int_type"),
                Some(PrimitiveType::Number) => ("Input should be a valid number", "float_type"),
                Some(PrimitiveType::Boolean) => ("Input should be a valid boolean", "bool_type"),
                Some(PrimitiveType::Array) => ("Input should be a valid list", "list_type"),
                Some(PrimitiveType::Object) => ("Input should be a valid dictionary", "dict_type"),
                Some(PrimitiveType::Null) | None => ("Input should be None", "none_required"),
            };
            vec![one(loc, msg.to_string(), ty)]
        }
        ValidationErrorKind::Enum { options } => vec![one(
            loc,
            format!("Input should be one of {options}"),
            "enum",
        )],
        ValidationErrorKind::Constant { expected_value } => vec![one(
            loc,
            format!("Input should be {expected_value}"),
            "literal_error",
        )],
        ValidationErrorKind::Minimum { limit } => vec![one(
            loc,
            format!("Input should be greater than or equal to {limit}"),
            "greater_than_equal",
        )],
        ValidationErrorKind::Maximum { limit } => vec![one(
            loc,
            format!("Input should be less than or equal to {limit}"),
            "less_than_equal",
        )],
        ValidationErrorKind::ExclusiveMinimum { limit } => vec![one(
            loc,
            format!("Input should be greater than {limit}"),
            "greater_than",
        )],
        ValidationErrorKind::ExclusiveMaximum { limit } => vec![one(
            loc,
            format!("Input should be less than {limit}"),
            "less_than",
        )],
        ValidationErrorKind::MinLength { limit } => vec![one(
            loc,
            format!(
                "String should have at least {limit} character{}",
                plural(*limit)
            ),
            "string_too_short",
        )],
        ValidationErrorKind::MaxLength { limit } => vec![one(
            loc,
            format!(
                "String should have at most {limit} character{}",
                plural(*limit)
            ),
            "string_too_long",
        )],
        ValidationErrorKind::MinItems { limit } => vec![one(
            loc,
            format!("List should have at least {limit} item{}", plural(*limit)),
            "too_short",
        )],
        ValidationErrorKind::MaxItems { limit } => vec![one(
            loc,
            format!("List should have at most {limit} item{}", plural(*limit)),
            "too_long",
        )],
        ValidationErrorKind::Pattern { pattern } => vec![one(
            loc,
            format!("String should match pattern '{pattern}'"),
            "string_pattern_mismatch",
        )],
        ValidationErrorKind::Format { format } => {
            let kind = if format.starts_with("uri") || format == "url" {
                "url_parsing"
            } else {
                "value_error"
            };
            vec![one(loc, format!("Input should be a valid {format}"), kind)]
        }
        ValidationErrorKind::AnyOf | ValidationErrorKind::OneOfNotValid => vec![one(
            loc,
            "Input does not match any allowed value or shape".to_string(),
            "union_tag_invalid",
        )],
        ValidationErrorKind::OneOfMultipleValid => vec![one(
            loc,
            "Input matches more than one allowed shape".to_string(),
            "union_ambiguous",
        )],
        _ => vec![one(loc, err.to_string(), "value_error")],
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_json_decides_the_category_and_tags_only_for_unlisted_models() {
        let op = |tag: &str| json!({"post": {"tags": [tag], "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}});
        let spec = json!({"paths": {
            "/generation/acme/still": op("Images"),
            "/generation/sse/acme/still": op("Images"),
            "/generation/acme/motion-video": op("Images"),
            "/generation/acme/unlisted": op("Videos"),
            "/generation/acme/unlisted-video": op("Images"),
        }});
        let docs = json!({"navigation": {"groups": [
            {"group": "Videos", "pages": ["POST /generation/acme/still"]},
            {"group": "Images", "pages": ["POST /generation/acme/motion-video"]}
        ]}});
        let index = SpecIndex::load(&spec, &docs).unwrap();
        let category = |m: &str| index.get(m).map(|r| r.category);
        // Listed: docs.json wins over the tag, and over a name that says "video".
        assert_eq!(category("acme/still"), Some(Category::Video));
        assert_eq!(category("acme/motion-video"), Some(Category::Image));
        // Unlisted: the tag, else images (no guessing from the name).
        assert_eq!(category("acme/unlisted"), Some(Category::Video));
        assert_eq!(category("acme/unlisted-video"), Some(Category::Image));
        assert!(index
            .get("acme/still")
            .is_some_and(|r| r.has_sse && r.has_poll));
    }

    #[test]
    fn nullable_and_refs_convert() {
        let s = convert(&json!({
            "type": "object",
            "properties": {
                "nullable": {"type": "string", "nullable": true, "example": "x"},
                "r": {"$ref": "#/components/schemas/A"},
                "n": {"type": "number", "minimum": 0, "exclusiveMinimum": true}
            }
        }));
        assert_eq!(
            s["properties"]["nullable"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(s["properties"]["r"], json!({"$ref": "#/$defs/A"}));
        assert_eq!(
            s["properties"]["n"],
            json!({"type": "number", "exclusiveMinimum": 0})
        );
    }

    #[test]
    fn a_model_carries_the_components_it_reaches_and_only_those() {
        let defs = json!({
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "array", "items": {"$ref": "#/$defs/C"}},
            "C": {"type": "integer", "maximum": 3},
            "Unused": {"type": "string"}
        });
        let root = json!({"$ref": "#/$defs/A"});
        let kept = reachable_defs(&root, &defs);
        let names: Vec<&String> = kept.as_object().unwrap().keys().collect();
        assert_eq!(names, ["A", "B", "C"]);
        // A reference it cannot resolve by name keeps everything.
        for unknown in ["#/$defs/Missing", "#/$defs/A%20B", "other.json#/$defs/A"] {
            let root = json!({"properties": {"x": {"$ref": unknown}}});
            assert_eq!(reachable_defs(&root, &defs), defs, "{unknown}");
        }
        // No reference: no definition.
        assert_eq!(reachable_defs(&json!({"type": "object"}), &defs), json!({}));
    }

    #[test]
    fn a_violation_three_references_deep_is_still_found() {
        let post = json!({"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/A"}}}}}});
        let spec = json!({
            "paths": {"/generation/acme/deep": post},
            "components": {"schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "array", "items": {"$ref": "#/components/schemas/C"}},
                "C": {"type": "integer", "maximum": 3},
                "Unused": {"type": "string"}
            }}
        });
        let index = SpecIndex::load(&spec, &json!({})).unwrap();
        let route = index.get("acme/deep").unwrap();
        assert!(route.validate(&json!({"b": [1, 3]})).is_ok());
        let errors = route.validate(&json!({"b": [1, 4]})).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].loc, vec![json!("body"), json!("b"), json!(1)]);
        assert_eq!(errors[0].kind, "less_than_equal");
    }

    #[test]
    fn pointer_to_loc() {
        assert_eq!(
            pointer_segments("/a~1b/0/c"),
            vec![json!("a/b"), json!(0), json!("c")]
        );
        assert!(pointer_segments("").is_empty());
    }
}
