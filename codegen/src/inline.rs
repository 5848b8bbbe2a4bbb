//! Self-contained request schemas: every local `$ref` replaced by the schema
//! it points at, so the one JSON copy of a model's request schema that the
//! SDK carries (`ModelDescriptor::request_schema_json`) needs no other part
//! of the spec to be read (tools such as the MCP server and `inspect` used to
//! compile the whole spec in a second time just to follow references).

use serde_json::{Map, Value};

/// How deep references are followed; the spec's own nesting is far less, and
/// a reference cycle stops here with the `$ref` left in place.
const MAX_DEPTH: usize = 32;

/// `schema` with every `#/...` reference replaced by its target in `doc`
/// (recursively). Keywords beside a `$ref` (a description, say) are kept and
/// win over the target's. A reference that does not resolve is left as it is.
pub fn inline_refs(schema: &Value, doc: &Value) -> Value {
    inline(schema, doc, 0)
}

fn inline(schema: &Value, doc: &Value, depth: usize) -> Value {
    match schema {
        Value::Object(obj) => {
            let target = obj
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|_| depth < MAX_DEPTH)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| doc.pointer(pointer));
            let mut out = match target {
                Some(Value::Object(t)) => match inline(&Value::Object(t.clone()), doc, depth + 1) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                },
                _ => Map::new(),
            };
            let resolved = target.is_some_and(Value::is_object);
            for (k, v) in obj {
                if resolved && k == "$ref" {
                    continue;
                }
                out.insert(k.clone(), inline(v, doc, depth));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, doc, depth)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "Size": {"type": "object", "properties": {"w": {"type": "integer"}}},
            "Req": {"type": "object", "properties": {
                "size": {"$ref": "#/components/schemas/Size", "description": "beside"},
                "many": {"type": "array", "items": {"$ref": "#/components/schemas/Size"}}
            }},
            "Loop": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Loop"}}}
        }}})
    }

    #[test]
    fn references_are_replaced_and_siblings_kept() {
        let d = doc();
        let out = inline_refs(&d["components"]["schemas"]["Req"], &d);
        assert_eq!(
            out["properties"]["size"],
            json!({"type": "object", "properties": {"w": {"type": "integer"}}, "description": "beside"})
        );
        assert_eq!(
            out["properties"]["many"]["items"]["properties"]["w"]["type"],
            "integer"
        );
        assert!(!out.to_string().contains("$ref"), "{out}");
    }

    #[test]
    fn unresolved_and_cyclic_references_stop() {
        let d = doc();
        let dangling = json!({"$ref": "#/components/schemas/Nope"});
        assert_eq!(inline_refs(&dangling, &d), dangling);
        let out = inline_refs(&d["components"]["schemas"]["Loop"], &d);
        // Followed MAX_DEPTH times, then the reference is left in place.
        let mut node = &out;
        for _ in 0..=MAX_DEPTH {
            node = &node["properties"]["next"];
        }
        assert_eq!(node["$ref"], "#/components/schemas/Loop");
    }
}
