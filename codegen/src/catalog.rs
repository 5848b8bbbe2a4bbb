//! Stage 2: the ordered model list. Walks docs.json for `Images` and `Videos`
//! groups at any depth, then pairs each page with its create route, its SSE
//! twin and the poll route in the OpenAPI document.
//!
//! Routes are kept relative to the API base (`.../api/v1`): a model-scoped
//! spec's `/v1/generation/...` paths (with `servers: [{url: "/api"}]`) name the
//! same routes as the platform spec's `/generation/...`.

use openapiv3::{OpenAPI, Operation, ReferenceOr};
use serde_json::Value;

use crate::error::{pointer_segment, CodegenError, Result};

/// Which docs group a model is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Under a group named `Images`.
    Images,
    /// Under a group named `Videos`.
    Videos,
}

/// One model as the docs list it, paired with its routes in the OpenAPI document.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `provider/model...`, e.g. `kling-ai/v3/image`.
    pub id: String,
    /// The docs group it was found under.
    pub category: Category,
    /// The polling create route relative to the API base, if the spec has it.
    pub create_route: Option<String>,
    /// The SSE create route relative to the API base, if the spec has it.
    pub sse_route: Option<String>,
    /// The path key in the OpenAPI document of the operation that defines the request.
    pub spec_path: String,
    /// JSON pointer of the docs page.
    pub docs_pointer: String,
}

/// The platform routes beside the models.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Models in docs order, images first as the docs list them.
    pub endpoints: Vec<Endpoint>,
    /// The poll route relative to the API base, e.g. `/generation/{id}`.
    pub poll_route: String,
}

/// A `POST` page found under a category group.
#[derive(Debug, Clone)]
struct Page {
    category: Category,
    path: String,
    pointer: String,
}

/// Builds the catalog from both specs.
pub fn build(openapi: &OpenAPI, docs: &Value) -> Result<Catalog> {
    let mut pages = Vec::new();
    collect_pages(docs, None, String::new(), &mut pages);
    let prefix = path_prefix(openapi);
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for page in pages {
        let route = strip_v1(&page.path);
        let create = polling_twin(route);
        let sse = sse_twin(&create);
        let create_key = format!("{prefix}{create}");
        let sse_key = format!("{prefix}{sse}");
        let has_create = post_operation(openapi, &create_key).is_some();
        let has_sse = post_operation(openapi, &sse_key).is_some();
        if !has_create && !has_sse {
            return Err(CodegenError::MissingOperation {
                pointer: page.pointer,
                page: format!("POST {}", page.path),
            });
        }
        let Some(id) = create.strip_prefix("/generation/").map(str::to_string) else {
            continue;
        };
        if endpoints.iter().any(|e| e.id == id) {
            continue;
        }
        endpoints.push(Endpoint {
            id,
            category: page.category,
            spec_path: if has_create { create_key } else { sse_key },
            create_route: has_create.then_some(create),
            sse_route: has_sse.then_some(sse),
            docs_pointer: page.pointer,
        });
    }
    Ok(Catalog {
        endpoints,
        poll_route: poll_route(openapi),
    })
}

/// Finds the `POST` operation at a path key.
pub fn post_operation<'a>(openapi: &'a OpenAPI, key: &str) -> Option<&'a Operation> {
    match openapi.paths.paths.get(key)? {
        ReferenceOr::Item(item) => item.post.as_ref(),
        ReferenceOr::Reference { .. } => None,
    }
}

/// `/v1` when the document's generation paths carry it, else empty.
fn path_prefix(openapi: &OpenAPI) -> &'static str {
    let v1 = openapi
        .paths
        .paths
        .keys()
        .any(|k| k.starts_with("/v1/generation/"));
    if v1 {
        "/v1"
    } else {
        ""
    }
}

fn strip_v1(path: &str) -> &str {
    path.strip_prefix("/v1")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path)
}

/// `/generation/sse/x` → `/generation/x` (the reverse of [`sse_twin`]).
pub fn polling_twin(route: &str) -> String {
    match route.strip_prefix("/generation/sse/") {
        Some(rest) => format!("/generation/{rest}"),
        None => route.to_string(),
    }
}

/// The SSE twin: the first `/generation/` becomes `/generation/sse/`.
pub fn sse_twin(route: &str) -> String {
    match route.strip_prefix("/generation/") {
        Some(rest) if !rest.starts_with("sse/") => format!("/generation/sse/{rest}"),
        _ => route.to_string(),
    }
}

/// The `GET /generation/{param}` route, relative to the API base; the
/// platform's `/generation/{id}` when the document does not carry one.
fn poll_route(openapi: &OpenAPI) -> String {
    openapi
        .paths
        .paths
        .iter()
        .filter(|(_, item)| matches!(item, ReferenceOr::Item(i) if i.get.is_some()))
        .map(|(k, _)| strip_v1(k))
        .find(|k| {
            k.strip_prefix("/generation/").is_some_and(|rest| {
                rest.starts_with('{') && rest.ends_with('}') && !rest.contains('/')
            })
        })
        .map(str::to_string)
        .unwrap_or_else(|| "/generation/{id}".to_string())
}

fn category_of(name: &str) -> Option<Category> {
    match name {
        "Images" => Some(Category::Images),
        "Videos" => Some(Category::Videos),
        _ => None,
    }
}

/// Walks any JSON value; a `{group, pages}` object named Images or Videos sets
/// the category for everything below it.
fn collect_pages(value: &Value, category: Option<Category>, pointer: String, out: &mut Vec<Page>) {
    match value {
        Value::Object(map) => {
            let category = map
                .get("group")
                .and_then(Value::as_str)
                .and_then(category_of)
                .or(category);
            for (key, child) in map {
                let child_pointer = format!("{pointer}/{}", pointer_segment(key));
                collect_pages(child, category, child_pointer, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_pages(item, category, format!("{pointer}/{i}"), out);
            }
        }
        Value::String(text) => {
            let Some(category) = category else { return };
            let Some(path) = text.trim().strip_prefix("POST ") else {
                return;
            };
            let path = path.trim();
            if strip_v1(path).starts_with("/generation/") {
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

    #[test]
    fn twins() {
        assert_eq!(sse_twin("/generation/a/b"), "/generation/sse/a/b");
        assert_eq!(sse_twin("/generation/sse/a/b"), "/generation/sse/a/b");
        assert_eq!(polling_twin("/generation/sse/a/b"), "/generation/a/b");
        assert_eq!(strip_v1("/v1/generation/a"), "/generation/a");
        assert_eq!(strip_v1("/v1x/generation/a"), "/v1x/generation/a");
    }
}
