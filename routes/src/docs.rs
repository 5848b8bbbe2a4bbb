//! The catalog in docs.json (Mintlify navigation): every `POST /generation/...`
//! page under a group named `Images` or `Videos`, at any depth, in order.

use serde_json::Value;

use crate::route::{strip_v1, GENERATION};

/// Which docs group a model is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Under a group named `Images`.
    Images,
    /// Under a group named `Videos`.
    Videos,
}

impl Category {
    /// The category a group name stands for.
    pub fn of_group(name: &str) -> Option<Category> {
        match name {
            "Images" => Some(Category::Images),
            "Videos" => Some(Category::Videos),
            _ => None,
        }
    }
}

/// A `POST` page found under a category group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The group it is under (the innermost `Images`/`Videos` group).
    pub category: Category,
    /// The page's path as written, e.g. `/generation/google/veo-3.1`.
    pub path: String,
    /// JSON pointer of the page in docs.json, e.g. `#/navigation/groups/0/pages/3`.
    pub pointer: String,
}

/// Every model page of docs.json, in document order (duplicates kept: the
/// caller decides what a second listing means).
pub fn pages(docs: &Value) -> Vec<Page> {
    let mut out = Vec::new();
    collect(docs, None, String::new(), &mut out);
    out
}

/// Each model id of docs.json with its category, first listing wins.
pub fn categories(docs: &Value) -> Vec<(String, Category)> {
    let mut out: Vec<(String, Category)> = Vec::new();
    for page in pages(docs) {
        let id = crate::route::model_id(&page.path).to_string();
        if !out.iter().any(|(seen, _)| *seen == id) {
            out.push((id, page.category));
        }
    }
    out
}

fn collect(value: &Value, category: Option<Category>, pointer: String, out: &mut Vec<Page>) {
    match value {
        Value::Object(map) => {
            let category = map
                .get("group")
                .and_then(Value::as_str)
                .and_then(Category::of_group)
                .or(category);
            for (key, child) in map {
                let segment = key.replace('~', "~0").replace('/', "~1");
                collect(child, category, format!("{pointer}/{segment}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, category, format!("{pointer}/{i}"), out);
            }
        }
        Value::String(text) => {
            let Some(category) = category else { return };
            let Some(path) = text.trim().strip_prefix("POST ") else {
                return;
            };
            let path = path.trim();
            if strip_v1(path).starts_with(GENERATION) {
                out.push(Page {
                    category,
                    path: path.to_string(),
                    pointer: format!("#{pointer}"),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_at_any_depth_set_the_category() {
        let docs = json!({"navigation": {"groups": [
            {"group": "APIs", "pages": [
                {"group": "Images", "pages": ["POST /generation/a/img", "GET /credits"]},
                {"group": "Videos", "pages": [
                    {"group": "Kling", "pages": ["POST /v1/generation/k/vid"]},
                    "POST /generation/a/img"
                ]},
                "POST /generation/outside/any"
            ]}
        ]}});
        assert_eq!(
            categories(&docs),
            [
                ("a/img".to_string(), Category::Images),
                ("k/vid".to_string(), Category::Videos)
            ]
        );
        let p = pages(&docs);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[1].pointer,
            "#/navigation/groups/0/pages/1/pages/0/pages/0"
        );
    }
}
