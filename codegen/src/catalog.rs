//! Stage 2: the ordered model list. Walks docs.json for `Images` and `Videos`
//! groups at any depth, then pairs each page with its create route, its SSE
//! twin and the poll route in the OpenAPI document.
//!
//! Routes are kept relative to the API base (`.../api/v1`): a model-scoped
//! spec's `/v1/generation/...` paths (with `servers: [{url: "/api"}]`) name the
//! same routes as the platform spec's `/generation/...`.

use openapiv3::{OpenAPI, Operation, ReferenceOr};
use serde_json::Value;

use crate::error::{CodegenError, Result};

use skills_video_routes::docs::Page;
use skills_video_routes::route::strip_v1;
pub use skills_video_routes::route::{polling_twin, sse_twin};
pub use skills_video_routes::Category;

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

/// Builds the catalog from both specs.
pub fn build(openapi: &OpenAPI, docs: &Value) -> Result<Catalog> {
    let pages: Vec<Page> = skills_video_routes::docs::pages(docs);
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
        .unwrap_or_else(|| skills_video_routes::route::DEFAULT_POLL_ROUTE.to_string())
}
