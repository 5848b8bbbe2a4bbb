//! Reading docs.json the way the seed's tooling does, independently of the
//! generator, so tests can hold the generated code against the docs.

use serde_json::Value;

/// Every `POST /generation/...` page found anywhere under a group named
/// `category`, at any depth, in order, without duplicates.
pub fn category_pages(docs: &Value, category: &str) -> Vec<String> {
    fn walk(node: &Value, category: &str, inside: bool, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                let inside = inside || map.get("group").and_then(Value::as_str) == Some(category);
                for value in map.values() {
                    walk(value, category, inside, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, category, inside, out);
                }
            }
            Value::String(page)
                if inside && page.starts_with("POST /generation/") && !out.contains(page) =>
            {
                out.push(page.clone());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&docs["navigation"], category, false, &mut out);
    out
}
