//! Rewrites the constructs that real specs use but OpenAPI 3.0 (and so the
//! `openapiv3` crate) does not model, before deserialising:
//!
//! - `const: X` (pydantic, JSON Schema) becomes `enum: [X]`;
//! - `anyOf`/`oneOf` whose members are all single literals becomes one `enum`;
//! - `anyOf`/`oneOf` with a `{"type": "null"}` member becomes `nullable: true`;
//! - `type: [T, "null"]` (OpenAPI 3.1) becomes `type: T, nullable: true`;
//! - `examples: [...]` becomes `example` (the first one);
//! - a numeric `exclusiveMinimum`/`exclusiveMaximum` (3.1) becomes the 3.0 boolean form.
//!
//! The rewrite is purely structural and deterministic.

use serde_json::{Map, Value};

/// Normalises every schema object found anywhere in `doc`, in place.
pub fn normalize_document(doc: &mut Value) {
    walk(doc);
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if is_name_map_key(key) {
                    walk_name_map(child);
                } else {
                    walk(child);
                }
            }
            normalize_schema(map);
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Keys whose value maps names to schemas: the map itself is never a schema,
/// even when a property is called `type` or `examples`.
fn is_name_map_key(key: &str) -> bool {
    matches!(
        key,
        "properties" | "schemas" | "definitions" | "$defs" | "patternProperties"
    )
}

fn walk_name_map(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(walk),
        other => walk(other),
    }
}

/// Whether the object looks like a schema (and not, say, a `properties` map).
fn is_schema_like(map: &Map<String, Value>) -> bool {
    [
        "type",
        "const",
        "anyOf",
        "oneOf",
        "enum",
        "examples",
        "$ref",
        "properties",
        "items",
    ]
    .iter()
    .any(|k| map.contains_key(*k))
}

fn normalize_schema(map: &mut Map<String, Value>) {
    if !is_schema_like(map) {
        return;
    }
    // `type: [T, "null"]`
    if let Some(Value::Array(types)) = map.get("type") {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() < types.len() {
            map.insert("nullable".into(), Value::Bool(true));
        }
        if non_null.len() == 1 {
            map.insert("type".into(), non_null[0].clone());
        }
    }
    // `const`
    if let Some(c) = map.remove("const") {
        if !map.contains_key("type") {
            if let Some(t) = json_type_of(&c) {
                map.insert("type".into(), Value::String(t.into()));
            }
        }
        map.insert("enum".into(), Value::Array(vec![c]));
    }
    // `examples`
    if let Some(Value::Array(examples)) = map.remove("examples") {
        if let Some(first) = examples.into_iter().next() {
            map.entry("example").or_insert(first);
        }
    }
    // numeric exclusive bounds (3.1)
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
            map.insert(bound.into(), n);
            map.insert(exclusive.into(), Value::Bool(true));
        }
    }
    for key in ["anyOf", "oneOf"] {
        normalize_union(map, key);
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.len() == 1 && e[0].is_null())
}

/// A member that is nothing but one literal: `{"enum": [X]}` plus annotations.
fn single_literal(v: &Value) -> Option<&Value> {
    let map = v.as_object()?;
    let values = map.get("enum")?.as_array()?;
    let only_annotations = map
        .keys()
        .all(|k| matches!(k.as_str(), "enum" | "type" | "title" | "description"));
    (values.len() == 1 && only_annotations).then(|| &values[0])
}

fn normalize_union(map: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(members)) = map.get(key) else {
        return;
    };
    let had_null = members.iter().any(is_null_schema);
    let mut rest: Vec<Value> = members
        .iter()
        .filter(|m| !is_null_schema(m))
        .cloned()
        .collect();
    if had_null {
        map.insert("nullable".into(), Value::Bool(true));
    }
    let literals: Option<Vec<Value>> = rest.iter().map(|m| single_literal(m).cloned()).collect();
    match literals {
        Some(values) if !values.is_empty() => {
            map.remove(key);
            if !map.contains_key("type") {
                if let Some(t) = common_type(&values) {
                    map.insert("type".into(), Value::String(t.into()));
                }
            }
            map.insert("enum".into(), Value::Array(values));
        }
        _ if rest.len() == 1 && had_null => {
            map.remove(key);
            let only = rest.remove(0);
            merge_single(map, only);
        }
        _ if had_null => {
            map.insert(key.into(), Value::Array(rest));
        }
        _ => {}
    }
}

/// Folds the one remaining member of a nullable union into its parent.
fn merge_single(map: &mut Map<String, Value>, member: Value) {
    match member {
        Value::Object(inner) if inner.contains_key("$ref") => {
            // openapiv3 ignores siblings of `$ref`; `allOf: [ref]` keeps `nullable`.
            map.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
        }
        Value::Object(inner) => {
            for (k, v) in inner {
                map.entry(k).or_insert(v);
            }
        }
        other => {
            map.insert("allOf".into(), Value::Array(vec![other]));
        }
    }
}

fn json_type_of(v: &Value) -> Option<&'static str> {
    match v {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    }
}

fn common_type(values: &[Value]) -> Option<&'static str> {
    let first = json_type_of(values.first()?)?;
    let all_numeric = values.iter().all(Value::is_number);
    if values.iter().all(|v| json_type_of(v) == Some(first)) {
        Some(first)
    } else if all_numeric {
        Some("number")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(mut v: Value) -> Value {
        normalize_document(&mut v);
        v
    }

    #[test]
    fn const_becomes_enum() {
        assert_eq!(
            norm(json!({"const": "a"})),
            json!({"type": "string", "enum": ["a"]})
        );
    }

    #[test]
    fn any_of_consts_becomes_enum() {
        let v = norm(json!({"anyOf": [{"const": "16:9"}, {"const": "1:1"}], "description": "d"}));
        assert_eq!(
            v,
            json!({"description": "d", "type": "string", "enum": ["16:9", "1:1"]})
        );
    }

    #[test]
    fn any_of_with_null_becomes_nullable() {
        let v = norm(json!({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}));
        assert_eq!(
            v,
            json!({"nullable": true, "type": "integer", "minimum": 1})
        );
        let r = norm(json!({"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}));
        assert_eq!(r, json!({"nullable": true, "allOf": [{"$ref": "#/x"}]}));
    }

    #[test]
    fn type_array_with_null() {
        assert_eq!(
            norm(json!({"type": ["string", "null"]})),
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn examples_and_exclusive_bounds() {
        assert_eq!(
            norm(json!({"type": "number", "examples": [3, 4], "exclusiveMinimum": 0})),
            json!({"type": "number", "example": 3, "minimum": 0, "exclusiveMinimum": true})
        );
    }

    #[test]
    fn properties_map_named_like_keywords_is_left_alone() {
        let v = norm(
            json!({"properties": {"type": {"type": "string"}, "examples": {"type": "string"}}}),
        );
        assert_eq!(
            v,
            json!({"properties": {"type": {"type": "string"}, "examples": {"type": "string"}}})
        );
    }
}
