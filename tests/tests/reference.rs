//! `specs/openapi.json` says what the platform's published API reference says.
//!
//! Each file in `specs/reference/pages/` records one reference page's request
//! fields as the page prints them. This test compares the spec with them
//! field by field (names, type, format, required-ness, nullability, default,
//! allowed values, ranges, item and length limits, description), so a hand
//! edit of the spec that drifts from the reference fails here. The comparison
//! is written independently of `cargo xtask specs-from-reference`, which
//! produces the spec from the same files.

use std::path::PathBuf;

use serde_json::{json, Value};
use skills_video_tests::docs::category_pages;

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

fn load(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every page fixture, by file name.
fn pages() -> Vec<(String, Value)> {
    let dir = specs_dir().join("reference/pages");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, load(p))
        })
        .collect()
}

fn deref<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => schema,
    }
}

/// Numbers compare by value (`8` and `8.0` are the same default).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(Some(x), Some(y)))
        }
        (a, b) => a == b,
    }
}

/// Differences between one fixture field and the spec's property.
fn compare_field(at: &str, field: &Value, prop: &Value, required: bool, out: &mut Vec<String>) {
    let mut found = Vec::new();
    let mut differ = |what: &str, page: Option<&Value>, spec: Option<&Value>| {
        if !same(page, spec) {
            found.push(format!(
                "{at}: {what}: the page says {page:?}, the spec {spec:?}"
            ));
        }
    };
    match field.get("type") {
        Some(t) => differ("type", Some(t), prop.get("type")),
        // The page printed no type: the spec's reading must be stated in its description.
        None => {
            let said = prop
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("The reference page prints"));
            if !said {
                differ("type (unstated reading)", Some(&json!("stated")), None);
            }
        }
    }
    if field.get("name").is_some() {
        differ(
            "required",
            Some(&json!(field.get("required") == Some(&json!(true)))),
            Some(&json!(required)),
        );
    }
    differ("format", field.get("format"), prop.get("format"));
    differ(
        "nullable",
        Some(&json!(field.get("nullable") == Some(&json!(true)))),
        Some(&json!(prop.get("nullable") == Some(&json!(true)))),
    );
    differ("default", field.get("default"), prop.get("default"));
    differ("enum", field.get("enum"), prop.get("enum"));
    let min = field
        .get("minimum")
        .or_else(|| field.get("exclusive_minimum"));
    let max = field
        .get("maximum")
        .or_else(|| field.get("exclusive_maximum"));
    differ("minimum", min, prop.get("minimum"));
    differ("maximum", max, prop.get("maximum"));
    differ(
        "exclusive minimum",
        Some(&json!(field.get("exclusive_minimum").is_some())),
        Some(&json!(prop.get("exclusiveMinimum") == Some(&json!(true)))),
    );
    differ(
        "exclusive maximum",
        Some(&json!(field.get("exclusive_maximum").is_some())),
        Some(&json!(prop.get("exclusiveMaximum") == Some(&json!(true)))),
    );
    differ("min items", field.get("min_items"), prop.get("minItems"));
    differ("max items", field.get("max_items"), prop.get("maxItems"));
    differ("min length", field.get("min_length"), prop.get("minLength"));
    differ("max length", field.get("max_length"), prop.get("maxLength"));
    out.append(&mut found);
    if let Some(d) = field.get("description").and_then(Value::as_str) {
        let spec = prop
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !d.trim().is_empty() && !spec.starts_with(d.trim()) {
            out.push(format!(
                "{at}: description: the page says {d:?}, the spec {spec:?}"
            ));
        }
    }
    match (field.get("items"), prop.get("items")) {
        (Some(items), Some(spec_items)) => {
            compare_field(&format!("{at}[]"), items, spec_items, false, out)
        }
        (None, None) => {}
        (page, spec) => out.push(format!(
            "{at}: items: the page says {page:?}, the spec {spec:?}"
        )),
    }
    if let Some(nested) = field.get("fields") {
        compare_fields(at, nested, prop, None, out);
    }
}

/// Compares a fixture's field list with an object schema; `tag` is the
/// discriminator, which the spec requires in every workflow by design.
fn compare_fields(
    at: &str,
    fields: &Value,
    object: &Value,
    tag: Option<&str>,
    out: &mut Vec<String>,
) {
    let props = object.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let fields = fields.as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
    for name in props.into_iter().flat_map(|p| p.keys()) {
        if !names.contains(&name.as_str()) && Some(name.as_str()) != tag {
            out.push(format!("{at}.{name}: in the spec but not on the page"));
        }
    }
    for field in &fields {
        let name = field["name"].as_str().unwrap_or("?");
        let Some(prop) = props.and_then(|p| p.get(name)) else {
            out.push(format!("{at}.{name}: on the page but not in the spec"));
            continue;
        };
        if Some(name) == tag {
            // One value per workflow, always required: check the value only.
            let value = field.get("enum").and_then(|e| e.get(0));
            if prop.get("enum").and_then(|e| e.get(0)) != value || !required.contains(&name) {
                out.push(format!("{at}.{name}: the workflow tag must be required with the page's value {value:?}"));
            }
            continue;
        }
        compare_field(
            &format!("{at}.{name}"),
            field,
            prop,
            required.contains(&name),
            out,
        );
    }
}

/// Every difference between the spec and the page fixtures.
fn differences(openapi: &Value, pages: &[(String, Value)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, page) in pages {
        let route = page["route"].as_str().unwrap_or_default();
        let Some(op) = openapi["paths"].get(route).and_then(|p| p.get("post")) else {
            out.push(format!("{file}: the spec has no POST {route}"));
            continue;
        };
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        let schema = deref(openapi, body);
        if schema.get("x-source") != page.get("source") {
            out.push(format!(
                "{file}: x-source is {:?}, the page is {:?}",
                schema.get("x-source"),
                page.get("source")
            ));
        }
        match page.get("discriminator").and_then(Value::as_str) {
            None => compare_fields(file, &page["fields"], schema, None, &mut out),
            Some(tag) => {
                if schema["discriminator"]["propertyName"].as_str() != Some(tag) {
                    out.push(format!(
                        "{file}: the spec's request is not discriminated by `{tag}`"
                    ));
                    continue;
                }
                let members: Vec<&Value> = schema["oneOf"]
                    .as_array()
                    .map(|m| m.iter().map(|m| deref(openapi, m)).collect())
                    .unwrap_or_default();
                let variants = page["variants"].as_array().cloned().unwrap_or_default();
                if members.len() != variants.len() {
                    out.push(format!(
                        "{file}: {} workflow(s) on the page, {} in the spec",
                        variants.len(),
                        members.len()
                    ));
                }
                for variant in &variants {
                    let value = &variant["value"];
                    let member = members
                        .iter()
                        .find(|m| m["properties"][tag]["enum"].get(0) == Some(value));
                    match member {
                        Some(m) => compare_fields(
                            &format!("{file}[{value}]"),
                            &variant["fields"],
                            m,
                            Some(tag),
                            &mut out,
                        ),
                        None => out.push(format!("{file}: workflow {value} is not in the spec")),
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_spec_matches_every_reference_page_field_by_field() {
    let openapi = load(specs_dir().join("openapi.json"));
    let pages = pages();
    assert!(pages.len() >= 40, "only {} page fixtures", pages.len());
    let diffs = differences(&openapi, &pages);
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n  {}",
        diffs.len(),
        diffs.join("\n  ")
    );
}

#[test]
fn every_listed_model_has_a_page_or_says_why_not() {
    let openapi = load(specs_dir().join("openapi.json"));
    let docs = load(specs_dir().join("docs.json"));
    let routes: Vec<String> = pages()
        .iter()
        .map(|(_, p)| p["route"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut problems = Vec::new();
    for category in ["Images", "Videos"] {
        for page in category_pages(&docs, category) {
            let route = page.trim_start_matches("POST ");
            let body = &openapi["paths"][route]["post"]["requestBody"]["content"]
                ["application/json"]["schema"];
            let schema = deref(&openapi, body);
            let has_page = routes.iter().any(|r| r == route);
            let unverified = schema.get("x-unverified").and_then(Value::as_str).is_some();
            if has_page == unverified {
                problems.push(format!(
                    "{route}: page fixture {has_page}, x-unverified {unverified}"
                ));
            }
        }
    }
    for route in &routes {
        let listed = ["Images", "Videos"].iter().any(|c| {
            category_pages(&docs, c)
                .iter()
                .any(|p| p == &format!("POST {route}"))
        });
        if !listed {
            problems.push(format!(
                "{route}: has a reference page but docs.json does not list it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A named edit of the Seedream 4.5 request's properties.
type Edit = (&'static str, fn(&mut Value));

/// The comparison notices a hand edit: one enum value removed, a range
/// widened, a required field made optional, a field renamed.
#[test]
fn hand_edits_of_the_spec_are_reported() {
    let pages = pages();
    let original = load(specs_dir().join("openapi.json"));
    let pointer = "/components/schemas/BytedanceSeedream45Request/properties";
    let edits: [Edit; 4] = [
        ("enum", |p| {
            p["resolution"]["enum"].as_array_mut().unwrap().pop();
        }),
        ("maximum", |p| p["n"]["maximum"] = json!(6)),
        ("required", |_| {}),
        ("not on the page", |p| {
            let v = p.as_object_mut().unwrap().shift_remove("n").unwrap();
            p["num_images"] = v;
        }),
    ];
    for (expect, edit) in edits {
        let mut openapi = original.clone();
        if expect == "required" {
            openapi
                .pointer_mut("/components/schemas/BytedanceSeedream45Request/required")
                .unwrap()
                .as_array_mut()
                .unwrap()
                .clear();
        } else {
            edit(
                openapi
                    .pointer_mut(pointer)
                    .expect("seedream 4.5 properties"),
            );
        }
        let diffs = differences(&openapi, &pages);
        assert_eq!(
            diffs.len(),
            if expect == "not on the page" { 2 } else { 1 },
            "{expect}: {diffs:?}"
        );
        assert!(
            diffs
                .iter()
                .any(|d| d.contains("bytedance__seedream-4.5.json") && d.contains(expect)),
            "{expect}: {diffs:?}"
        );
    }
    // A workflow's field edited inside a discriminated request is noticed too.
    let mut openapi = original.clone();
    let member = openapi
        .pointer_mut(
            "/components/schemas/KlingAiO3VideoTextImageToVideoRequest/properties/duration",
        )
        .expect("kling o3 text-image-to-video duration");
    member["maximum"] = json!(10);
    let diffs = differences(&openapi, &pages);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(
        diffs[0].contains("[\"text-image-to-video\"].duration"),
        "{diffs:?}"
    );
}
