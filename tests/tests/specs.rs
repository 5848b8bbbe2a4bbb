//! Consistency checks for `specs/openapi.json` and `specs/docs.json`.
//!
//! No model list is kept here: the models are whatever `POST /generation/...`
//! pages the docs navigation lists under the `Images` and `Videos` groups.
//! Each check returns every problem it finds, so one run reports them all,
//! and the `*_reports_*` tests prove that each check really fails.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use skills_video_tests::docs::category_pages;

/// Model counts of docs.json: the 2026-03-20 navigation snapshot (23 image,
/// 38 video models), less the two routes the reference moved (`vidu/q2`,
/// `ltx-2.3`), plus the models the reference lists that the snapshot lacked.
const IMAGE_MODELS: usize = 26;
const VIDEO_MODELS: usize = 45;

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../specs")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn assert_no_problems(check: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{check}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// `/generation/x/y` -> `/generation/sse/x/y` (first occurrence only).
fn sse_twin(path: &str) -> String {
    path.replacen("/generation/", "/generation/sse/", 1)
}

/// The request body `$ref` of an operation, if it has one.
fn request_ref(op: &Value) -> Option<&str> {
    op.pointer("/requestBody/content/application~1json/schema/$ref")
        .and_then(Value::as_str)
}

/// Resolves a local `#/...` reference.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    reference.strip_prefix('#').and_then(|ptr| doc.pointer(ptr))
}

fn operations(openapi: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    if let Some(paths) = openapi["paths"].as_object() {
        for (path, item) in paths {
            for method in HTTP_METHODS {
                if let Some(op) = item.get(method) {
                    out.push((method.to_uppercase(), path.clone(), op));
                }
            }
        }
    }
    out
}

fn check_counts(docs: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (category, expected) in [("Images", IMAGE_MODELS), ("Videos", VIDEO_MODELS)] {
        let found = category_pages(docs, category).len();
        if found != expected {
            problems.push(format!(
                "docs.json: {category} lists {found} models, expected {expected}"
            ));
        }
    }
    problems
}

/// Every docs page is a POST operation, has an SSE twin, and both twins send
/// the same request schema.
fn check_docs_pages(openapi: &Value, docs: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let paths = &openapi["paths"];
    for category in ["Images", "Videos"] {
        for page in category_pages(docs, category) {
            let path = page.trim_start_matches("POST ");
            let Some(create) = paths.get(path).and_then(|item| item.get("post")) else {
                problems.push(format!(
                    "{category}: page `{page}` has no POST operation in paths"
                ));
                continue;
            };
            let twin = sse_twin(path);
            let Some(stream) = paths.get(&twin).and_then(|item| item.get("post")) else {
                problems.push(format!(
                    "{category}: page `{page}` has no SSE twin `POST {twin}`"
                ));
                continue;
            };
            if request_ref(create) != request_ref(stream) {
                problems.push(format!(
                    "{category}: `{path}` and `{twin}` use different request schemas ({:?} vs {:?})",
                    request_ref(create),
                    request_ref(stream)
                ));
            }
        }
    }
    problems
}

/// Every POST operation has a JSON request `$ref` into components/schemas that
/// resolves, and every other `$ref` in the document resolves too.
fn check_refs(openapi: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (method, path, op) in operations(openapi) {
        if method != "POST" {
            continue;
        }
        match request_ref(op) {
            None => problems.push(format!("{method} {path}: no application/json request $ref")),
            Some(r) if !r.starts_with("#/components/schemas/") => problems.push(format!(
                "{method} {path}: request $ref `{r}` is not a component schema"
            )),
            Some(r) if resolve(openapi, r).is_none() => problems.push(format!(
                "{method} {path}: request $ref `{r}` does not resolve"
            )),
            Some(_) => {}
        }
    }
    fn walk(doc: &Value, node: &Value, at: &str, problems: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    if resolve(doc, r).is_none() {
                        problems.push(format!("{at}: $ref `{r}` does not resolve"));
                    }
                }
                for (key, value) in map {
                    walk(
                        doc,
                        value,
                        &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        problems,
                    );
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(doc, item, &format!("{at}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
    walk(openapi, openapi, "#", &mut problems);
    problems
}

fn check_operation_ids(openapi: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (method, path, op) in operations(openapi) {
        match op.get("operationId").and_then(Value::as_str) {
            None => problems.push(format!("{method} {path}: no operationId")),
            Some(id) if !seen.insert(id.to_owned()) => {
                problems.push(format!("{method} {path}: duplicate operationId `{id}`"))
            }
            Some(_) => {}
        }
    }
    problems
}

/// A schema has a type directly, through a resolvable `$ref`, or through
/// `oneOf`/`anyOf`/`allOf` members that all have one.
fn has_type(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    if schema.get("type").is_some_and(Value::is_string) {
        return true;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return resolve(doc, r).is_some_and(|target| has_type(doc, target, depth + 1));
    }
    ["oneOf", "anyOf", "allOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|members| {
                !members.is_empty() && members.iter().all(|m| has_type(doc, m, depth + 1))
            })
    })
}

/// Calls `visit(pointer, schema)` on every schema node under components/schemas.
fn for_each_schema(openapi: &Value, visit: &mut dyn FnMut(&str, &Value)) {
    fn walk(node: &Value, at: &str, visit: &mut dyn FnMut(&str, &Value)) {
        let Some(map) = node.as_object() else { return };
        visit(at, node);
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                walk(prop, &format!("{at}/properties/{name}"), visit);
            }
        }
        if let Some(items) = map.get("items") {
            walk(items, &format!("{at}/items"), visit);
        }
        if let Some(extra) = map.get("additionalProperties") {
            walk(extra, &format!("{at}/additionalProperties"), visit);
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(members) = map.get(key).and_then(Value::as_array) {
                for (i, member) in members.iter().enumerate() {
                    walk(member, &format!("{at}/{key}/{i}"), visit);
                }
            }
        }
    }
    if let Some(schemas) = openapi
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            walk(schema, &format!("#/components/schemas/{name}"), visit);
        }
    }
}

/// Every property of every component schema, at any depth, has a type and a
/// description.
fn check_property_types(openapi: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for_each_schema(openapi, &mut |at, schema| {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, prop) in props {
            if !has_type(openapi, prop, 0) {
                problems.push(format!("{at}/properties/{name}: no type"));
            }
            let described = prop
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty());
            if !described {
                problems.push(format!("{at}/properties/{name}: no description"));
            }
        }
    });
    problems
}

/// Every string with a pattern, a length bound or `format: uri` carries an
/// example.
fn check_constrained_examples(openapi: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for_each_schema(openapi, &mut |at, schema| {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            return;
        }
        let constrained = ["pattern", "minLength", "maxLength"]
            .iter()
            .any(|key| schema.get(*key).is_some())
            || schema.get("format").and_then(Value::as_str) == Some("uri");
        if constrained && schema.get("example").is_none() {
            problems.push(format!("{at}: constrained string without an example"));
        }
    });
    problems
}

fn all_problems(openapi: &Value, docs: &Value) -> Vec<String> {
    let mut problems = check_counts(docs);
    problems.extend(check_docs_pages(openapi, docs));
    problems.extend(check_refs(openapi));
    problems.extend(check_operation_ids(openapi));
    problems.extend(check_property_types(openapi));
    problems.extend(check_constrained_examples(openapi));
    problems
}

// ---------------------------------------------------------------------------
// The real files
// ---------------------------------------------------------------------------

#[test]
fn docs_list_the_snapshot_model_counts() {
    assert_no_problems("counts", &check_counts(&load("docs.json")));
}

#[test]
fn every_docs_page_has_a_create_route_and_an_sse_twin() {
    let problems = check_docs_pages(&load("openapi.json"), &load("docs.json"));
    assert_no_problems("docs pages", &problems);
}

#[test]
fn every_request_ref_resolves() {
    assert_no_problems("refs", &check_refs(&load("openapi.json")));
}

#[test]
fn operation_ids_are_unique() {
    assert_no_problems("operationIds", &check_operation_ids(&load("openapi.json")));
}

#[test]
fn every_property_has_a_type_and_a_description() {
    assert_no_problems("properties", &check_property_types(&load("openapi.json")));
}

#[test]
fn every_constrained_string_has_an_example() {
    assert_no_problems(
        "examples",
        &check_constrained_examples(&load("openapi.json")),
    );
}

#[test]
fn spec_header_follows_the_platform_conventions() {
    let openapi = load("openapi.json");
    let docs = load("docs.json");
    assert_eq!(openapi["openapi"], "3.0.3");
    assert_eq!(
        openapi["servers"][0]["url"],
        "https://open.skills.video/api/v1"
    );
    assert_eq!(
        openapi["components"]["securitySchemes"]["bearerAuth"],
        serde_json::json!({"type": "http", "scheme": "bearer"})
    );
    assert_eq!(docs["openapi"], "openapi.json");
    for path in ["/generation/{id}", "/credits"] {
        assert!(
            openapi["paths"][path]["get"].is_object(),
            "missing GET {path}"
        );
    }
}

// ---------------------------------------------------------------------------
// The checks fail when they should
// ---------------------------------------------------------------------------

fn first_image_path(docs: &Value) -> String {
    category_pages(docs, "Images")
        .first()
        .expect("at least one image page")
        .trim_start_matches("POST ")
        .to_owned()
}

#[test]
fn files_are_clean_before_mutation() {
    assert_no_problems(
        "all",
        &all_problems(&load("openapi.json"), &load("docs.json")),
    );
}

#[test]
fn missing_sse_twin_is_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let twin = sse_twin(&first_image_path(&docs));
    let removed = openapi["paths"].as_object_mut().unwrap().remove(&twin);
    assert!(removed.is_some(), "{twin} was not in paths");
    let problems = check_docs_pages(&openapi, &docs);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(&twin), "{problems:?}");
}

#[test]
fn missing_create_route_is_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let path = first_image_path(&docs);
    openapi["paths"].as_object_mut().unwrap().remove(&path);
    let problems = check_docs_pages(&openapi, &docs);
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&path) && p.contains("no POST")),
        "{problems:?}"
    );
}

#[test]
fn missing_request_schema_is_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let path = first_image_path(&docs);
    let reference = request_ref(&openapi["paths"][&path]["post"])
        .expect("request ref")
        .to_owned();
    let name = reference.rsplit('/').next().unwrap().to_owned();
    openapi["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove(&name);
    let problems = check_refs(&openapi);
    // the create route and its SSE twin
    let request_problems: Vec<_> = problems
        .iter()
        .filter(|p| p.contains("request $ref") && p.contains(&reference))
        .collect();
    assert_eq!(request_problems.len(), 2, "{problems:?}");
}

#[test]
fn twins_with_different_schemas_are_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let twin = sse_twin(&first_image_path(&docs));
    openapi["paths"][&twin]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ["$ref"] = "#/components/schemas/ErrorResponse".into();
    let problems = check_docs_pages(&openapi, &docs);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("different request schemas")),
        "{problems:?}"
    );
}

#[test]
fn dropped_page_changes_the_count() {
    let openapi = load("openapi.json");
    let mut docs = load("docs.json");
    let target = format!("POST {}", first_image_path(&docs));
    fn drop_page(node: &mut Value, target: &str) {
        match node {
            Value::Array(items) => {
                items.retain(|v| v.as_str() != Some(target));
                items.iter_mut().for_each(|v| drop_page(v, target));
            }
            Value::Object(map) => map.values_mut().for_each(|v| drop_page(v, target)),
            _ => {}
        }
    }
    drop_page(&mut docs, &target);
    let problems = check_counts(&docs);
    assert!(
        problems.iter().any(|p| p.contains("Images lists 25")),
        "{problems:?}"
    );
    // the other checks still pass: only the count notices a missing page
    assert!(check_docs_pages(&openapi, &docs).is_empty());
}

#[test]
fn duplicate_operation_id_is_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let path = first_image_path(&docs);
    openapi["paths"][sse_twin(&path)]["post"]["operationId"] =
        openapi["paths"][&path]["post"]["operationId"].clone();
    let problems = check_operation_ids(&openapi);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("duplicate"), "{problems:?}");
}

#[test]
fn property_without_type_or_description_is_reported() {
    let mut openapi = load("openapi.json");
    let prop = openapi
        .pointer_mut("/components/schemas/ErrorResponse/properties/message")
        .unwrap();
    let map = prop.as_object_mut().unwrap();
    map.remove("type");
    map.remove("description");
    let problems = check_property_types(&openapi);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.ends_with("no type")));
    assert!(problems.iter().any(|p| p.ends_with("no description")));
}

#[test]
fn typeless_union_member_is_reported() {
    let mut openapi = load("openapi.json");
    let loc_items = openapi
        .pointer_mut("/components/schemas/ValidationErrorItem/properties/loc")
        .unwrap();
    // a property whose only type comes from a union with an untyped member
    *loc_items = serde_json::json!({"anyOf": [{"type": "string"}, {}], "description": "d"});
    let problems = check_property_types(&openapi);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ValidationErrorItem/properties/loc"));
}

#[test]
fn constrained_string_without_example_is_reported() {
    let mut openapi = load("openapi.json");
    let docs = load("docs.json");
    let path = first_image_path(&docs);
    let reference = request_ref(&openapi["paths"][&path]["post"])
        .unwrap()
        .to_owned();
    let pointer = format!("{}/properties/prompt", reference.trim_start_matches('#'));
    let prompt = openapi.pointer_mut(&pointer).expect("prompt property");
    prompt.as_object_mut().unwrap().remove("example");
    prompt["minLength"] = 1.into();
    let problems = check_constrained_examples(&openapi);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("properties/prompt"), "{problems:?}");
}
