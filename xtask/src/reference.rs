//! `cargo xtask specs-from-reference`: rewrites the model request schemas of
//! `specs/openapi.json` (and the model pages of `specs/docs.json`) from the
//! fixtures in `specs/reference/pages/`, one file per page of the platform's
//! published API reference. The fixtures are the record of what the pages
//! say; this command is the only way their content reaches the specs, and
//! `tests/tests/reference.rs` checks the two still agree field by field.
//!
//! Models the reference has no page for are left as they are, marked with
//! `x-unverified` and the reason (see `specs/README.md`).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

const SCHEMAS: &str = "#/components/schemas/";

/// Why a model without a reference page stays in the specs.
const UNVERIFIED: &str = "No page for this model was found in the stored copies of the platform's API reference; it stays because the platform's navigation (snapshot of 2026-03-20) lists it. Its fields follow the upstream model's public parameters and are not verified against the platform.";

/// One page fixture, as `specs/reference/pages/*.json` holds it.
struct Page {
    file: String,
    json: Value,
}

impl Page {
    fn str(&self, key: &str) -> Result<&str> {
        self.json
            .get(key)
            .and_then(Value::as_str)
            .with_context(|| format!("{}: `{key}` is missing or not a string", self.file))
    }

    /// `provider/model...`: the route after `/generation/`.
    fn id(&self) -> Result<&str> {
        let route = self.str("route")?;
        route
            .strip_prefix("/generation/")
            .with_context(|| format!("{}: route `{route}` is not under /generation/", self.file))
    }
}

/// The Rust-side schema name rule the specs use: `bytedance/seedream-4.5` → `BytedanceSeedream45`.
pub fn schema_base(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn load_pages(dir: &Path) -> Result<Vec<Page>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)?;
            let json: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            Ok(Page {
                file: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into(),
                json,
            })
        })
        .collect()
}

/// A fixture field → an OpenAPI 3.0 property schema.
fn property(field: &Value, file: &str) -> Result<Value> {
    let mut out = Map::new();
    let mut description = field
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let default = field.get("default");
    match field.get("type").and_then(Value::as_str) {
        Some("object") if field.get("fields").is_some() => {
            let (props, required) = properties(field.get("fields"), file)?;
            out.insert("type".into(), json!("object"));
            if !required.is_empty() {
                out.insert("required".into(), json!(required));
            }
            out.insert("properties".into(), Value::Object(props));
        }
        Some(t) => {
            out.insert("type".into(), json!(t));
        }
        None => match default {
            Some(Value::Number(_)) => {
                out.insert("type".into(), json!("number"));
                description.push_str(
                    " (The reference page prints a default but no type: taken as a number.)",
                );
            }
            Some(Value::String(_)) => {
                out.insert("type".into(), json!("string"));
                description.push_str(
                    " (The reference page prints a default but no type: taken as a string.)",
                );
            }
            _ => {
                description
                    .push_str(" (The reference page prints no type: any JSON value is accepted.)");
            }
        },
    }
    if let Some(format) = field.get("format").and_then(Value::as_str) {
        out.insert("format".into(), json!(format));
    }
    if let Some(items) = field.get("items") {
        out.insert("items".into(), property(items, file)?);
    }
    for (from, to) in [
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("min_items", "minItems"),
        ("max_items", "maxItems"),
        ("min_length", "minLength"),
        ("max_length", "maxLength"),
    ] {
        if let Some(v) = field.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    for (from, to) in [
        ("exclusive_minimum", "minimum"),
        ("exclusive_maximum", "maximum"),
    ] {
        if let Some(v) = field.get(from) {
            out.insert(to.into(), v.clone());
            let flag = if to == "minimum" {
                "exclusiveMinimum"
            } else {
                "exclusiveMaximum"
            };
            out.insert(flag.into(), json!(true));
        }
    }
    if let Some(values) = field.get("enum") {
        out.insert("enum".into(), values.clone());
    }
    if let Some(d) = default {
        out.insert("default".into(), d.clone());
    }
    if field.get("nullable").and_then(Value::as_bool) == Some(true) {
        out.insert("nullable".into(), json!(true));
    }
    let is_item = field.get("name").is_none();
    if description.is_empty() && !is_item {
        description = "(The reference page gives no description.)".into();
    }
    if !description.is_empty() {
        out.insert("description".into(), json!(description.trim()));
    }
    // The pages print no examples; tools that build a request template need
    // one for constrained strings, so give a neutral one that meets the rules.
    if out.get("type") == Some(&json!("string")) && out.get("enum").is_none() {
        if out.get("format").and_then(Value::as_str) == Some("uri") {
            out.insert("example".into(), json!("https://example.com/input.png"));
        } else if out.contains_key("minLength")
            || out.contains_key("maxLength")
            || out.contains_key("pattern")
        {
            let max = out
                .get("maxLength")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            let text: String = "A lighthouse on a cliff at dusk, waves below"
                .chars()
                .take(usize::try_from(max).unwrap_or(usize::MAX))
                .collect();
            out.insert("example".into(), json!(text));
        }
    }
    Ok(Value::Object(out))
}

fn properties(fields: Option<&Value>, file: &str) -> Result<(Map<String, Value>, Vec<String>)> {
    let mut props = Map::new();
    let mut required = Vec::new();
    for field in fields.and_then(Value::as_array).into_iter().flatten() {
        let name = field
            .get("name")
            .and_then(Value::as_str)
            .with_context(|| format!("{file}: a field without a name"))?;
        if props.contains_key(name) {
            bail!("{file}: field `{name}` appears twice");
        }
        props.insert(name.to_string(), property(field, file)?);
        if field.get("required").and_then(Value::as_bool) == Some(true) {
            required.push(name.to_string());
        }
    }
    Ok((props, required))
}

fn object_schema(
    title: &str,
    description: &str,
    fields: Option<&Value>,
    open: bool,
    file: &str,
) -> Result<Value> {
    let (props, required) = properties(fields, file)?;
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("title".into(), json!(title));
    if !description.is_empty() {
        out.insert("description".into(), json!(description));
    }
    if !required.is_empty() {
        out.insert("required".into(), json!(required));
    }
    out.insert("properties".into(), Value::Object(props));
    if open {
        out.insert("additionalProperties".into(), json!(true));
    }
    Ok(Value::Object(out))
}

/// The request schemas for one page: one, or the tagged request plus one per workflow.
fn request_schemas(page: &Page) -> Result<Vec<(String, Value)>> {
    let id = page.id()?;
    let base = schema_base(id);
    let name = format!("{base}Request");
    let description = page.str("description").unwrap_or_default();
    let source = page.str("source")?;
    let open = page
        .json
        .get("additional_properties")
        .and_then(Value::as_bool)
        == Some(true);
    let Some(tag) = page.json.get("discriminator").and_then(Value::as_str) else {
        let mut schema = object_schema(
            &name,
            description,
            page.json.get("fields"),
            open,
            &page.file,
        )?;
        schema["x-source"] = json!(source);
        return Ok(vec![(name, schema)]);
    };
    let variants = page
        .json
        .get("variants")
        .and_then(Value::as_array)
        .with_context(|| format!("{}: `discriminator` without `variants`", page.file))?;
    let mut out = Vec::new();
    let mut refs = Vec::new();
    let mut mapping = Map::new();
    for variant in variants {
        let value = variant
            .get("value")
            .and_then(Value::as_str)
            .with_context(|| format!("{}: a variant without `value`", page.file))?;
        let variant_name = format!("{base}{}Request", schema_base(value));
        let title = variant
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(value);
        let open = open
            || variant
                .get("additional_properties")
                .and_then(Value::as_bool)
                == Some(true);
        let mut schema = object_schema(
            &variant_name,
            &format!("The `{tag}: \"{value}\"` workflow ({title})."),
            variant.get("fields"),
            open,
            &page.file,
        )?;
        // The SDK selects the workflow by the tag, so each workflow requires it
        // and allows only its own value, whatever the page says of it.
        let props = schema["properties"].as_object_mut().context("properties")?;
        let tag_schema = props
            .entry(tag.to_string())
            .or_insert_with(|| json!({"type": "string"}));
        tag_schema["enum"] = json!([value]);
        if tag_schema.get("description").is_none() {
            tag_schema["description"] = json!("Selects the workflow.");
        }
        if let Some(obj) = tag_schema.as_object_mut() {
            obj.remove("default");
        }
        let required = schema
            .as_object_mut()
            .context("schema")?
            .entry("required")
            .or_insert_with(|| json!([]));
        if let Some(list) = required.as_array_mut() {
            if !list.iter().any(|r| r == tag) {
                list.push(json!(tag));
            }
        }
        let reference = format!("{SCHEMAS}{variant_name}");
        refs.push(json!({"$ref": reference}));
        mapping.insert(value.to_string(), json!(reference));
        out.push((variant_name, schema));
    }
    let mut text = description.to_string();
    if let Some(missing) = page.json.get("unread_workflows").and_then(Value::as_array) {
        let names: Vec<&str> = missing.iter().filter_map(Value::as_str).collect();
        if !names.is_empty() {
            text.push_str(&format!(
                " The reference page also names these workflows, whose fields no stored copy shows, so they are not modelled yet: {}.",
                names.join(", ")
            ));
        }
    }
    let tagged = json!({
        "title": name,
        "description": text.trim(),
        "x-source": source,
        "oneOf": refs,
        "discriminator": {"propertyName": tag, "mapping": mapping},
    });
    out.insert(0, (name, tagged));
    Ok(out)
}

fn operation(
    template: &Value,
    id: &str,
    sse: bool,
    page: &Page,
    schema: &str,
    tag: &str,
) -> Result<Value> {
    let mut op = template.clone();
    let snake: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let title = page.str("title")?;
    let description = page.str("description").unwrap_or_default();
    let (op_id, summary, tail) = if sse {
        (
            format!("stream_{snake}"),
            format!("{title} (streaming)"),
            "Creates the job and streams its progress as Server-Sent Events until a terminal event.",
        )
    } else {
        (
            format!("create_{snake}"),
            title.to_string(),
            "Creates the job and returns its id; poll GET /generation/{id} for the result.",
        )
    };
    op["operationId"] = json!(op_id);
    op["summary"] = json!(summary);
    op["description"] = json!(format!("{} {tail}", description.trim()).trim().to_string());
    op["tags"] = json!([tag]);
    op["requestBody"]["content"]["application/json"]["schema"] =
        json!({"$ref": format!("{SCHEMAS}{schema}")});
    Ok(op)
}

fn category_tag(page: &Page) -> Result<&'static str> {
    match page.str("category")? {
        "images" => Ok("Images"),
        "videos" => Ok("Videos"),
        other => bail!(
            "{}: category `{other}` is neither images nor videos",
            page.file
        ),
    }
}

/// Every `POST /generation/...` page in docs.json, depth first.
fn docs_pages(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("POST /generation/") => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| docs_pages(i, out)),
        Value::Object(map) => map.values().for_each(|i| docs_pages(i, out)),
        _ => {}
    }
}

fn remove_docs_page(v: &mut Value, page: &str) {
    match v {
        Value::Array(items) => {
            items.retain(|i| i.as_str() != Some(page));
            items.iter_mut().for_each(|i| remove_docs_page(i, page));
        }
        Value::Object(map) => map.values_mut().for_each(|i| remove_docs_page(i, page)),
        _ => {}
    }
}

/// The `pages` list of the group named `name` (first found, depth first).
fn group_pages<'v>(v: &'v mut Value, name: &str) -> Option<&'v mut Vec<Value>> {
    match v {
        Value::Object(map) => {
            if map.get("group").and_then(Value::as_str) == Some(name) {
                return map.get_mut("pages").and_then(Value::as_array_mut);
            }
            map.values_mut().find_map(|c| group_pages(c, name))
        }
        Value::Array(items) => items.iter_mut().find_map(|c| group_pages(c, name)),
        _ => None,
    }
}

/// Rewrites both specs from the page fixtures; returns a one-line summary per change.
pub fn run(root: &Path) -> Result<Vec<String>> {
    let openapi_path = root.join("specs/openapi.json");
    let docs_path = root.join("specs/docs.json");
    let pages = load_pages(&root.join("specs/reference/pages"))?;
    let mut openapi: Value = serde_json::from_str(&std::fs::read_to_string(&openapi_path)?)?;
    let mut docs: Value = serde_json::from_str(&std::fs::read_to_string(&docs_path)?)?;
    let mut report = Vec::new();

    let template_create = openapi["paths"]["/generation/google/nano-banana-pro"]["post"].clone();
    let template_sse = openapi["paths"]["/generation/sse/google/nano-banana-pro"]["post"].clone();
    if template_create.is_null() || template_sse.is_null() {
        bail!("the template routes of google/nano-banana-pro are missing from specs/openapi.json");
    }

    let mut verified: BTreeSet<String> = BTreeSet::new();
    for page in &pages {
        let id = page.id()?.to_string();
        let tag = category_tag(page)?;
        for old in page
            .json
            .get("previous_routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(old) = old.as_str() else { continue };
            let old_id = old.trim_start_matches("/generation/");
            let paths = openapi["paths"].as_object_mut().context("paths")?;
            if paths.remove(old).is_some() {
                paths.remove(&format!("/generation/sse/{old_id}"));
                let schema = format!("{}Request", schema_base(old_id));
                openapi["components"]["schemas"]
                    .as_object_mut()
                    .context("schemas")?
                    .remove(&schema);
                remove_docs_page(&mut docs, &format!("POST {old}"));
                report.push(format!("moved: {old_id} -> {id} ({})", page.file));
            }
        }
        let schemas = request_schemas(page)?;
        let name = schemas[0].0.clone();
        let components = openapi["components"]["schemas"]
            .as_object_mut()
            .context("schemas")?;
        // Workflow schemas of an earlier run that the page no longer has.
        let base = schema_base(&id);
        let stale: Vec<String> = components
            .keys()
            .filter(|k| {
                k.starts_with(&base)
                    && k.ends_with("Request")
                    && k.len() > name.len()
                    && !schemas.iter().any(|(n, _)| n == *k)
            })
            .filter(|k| {
                components[k.as_str()]
                    .get("x-workflow-of")
                    .and_then(Value::as_str)
                    == Some(&id)
            })
            .cloned()
            .collect();
        for k in stale {
            components.remove(&k);
        }
        let existed = components.contains_key(&name);
        for (i, (schema_name, mut schema)) in schemas.into_iter().enumerate() {
            if i > 0 {
                schema["x-workflow-of"] = json!(id);
            }
            components.insert(schema_name, schema);
        }
        let create = format!("/generation/{id}");
        let sse = format!("/generation/sse/{id}");
        let paths = openapi["paths"].as_object_mut().context("paths")?;
        let create_template = paths
            .get(&create)
            .map(|p| p["post"].clone())
            .unwrap_or_else(|| template_create.clone());
        let sse_template = paths
            .get(&sse)
            .map(|p| p["post"].clone())
            .unwrap_or_else(|| template_sse.clone());
        paths.insert(
            create.clone(),
            json!({"post": operation(&create_template, &id, false, page, &name, tag)?}),
        );
        paths.insert(
            sse,
            json!({"post": operation(&sse_template, &id, true, page, &name, tag)?}),
        );
        let docs_page = format!("POST {create}");
        let mut listed = Vec::new();
        docs_pages(&docs, &mut listed);
        if !listed.contains(&docs_page) {
            let group = group_pages(&mut docs, tag)
                .with_context(|| format!("docs.json has no `{tag}` group"))?;
            group.push(json!(docs_page));
            report.push(format!("added: {id} ({tag}, {})", page.file));
        } else {
            report.push(format!(
                "{}: {id} ({})",
                if existed { "refreshed" } else { "added" },
                page.file
            ));
        }
        verified.insert(id);
    }

    // Models listed in docs.json without a page stay, marked unverified.
    let mut listed = Vec::new();
    docs_pages(&docs, &mut listed);
    for page in listed {
        let id = page.trim_start_matches("POST /generation/");
        if verified.contains(id) {
            continue;
        }
        let name = format!("{}Request", schema_base(id));
        if let Some(schema) = openapi["components"]["schemas"].get_mut(&name) {
            schema["x-unverified"] = json!(UNVERIFIED);
            report.push(format!("unverified: {id}"));
        }
    }

    let mut text = serde_json::to_string_pretty(&openapi)?;
    text.push('\n');
    std::fs::write(&openapi_path, text)?;
    let mut text = serde_json::to_string_pretty(&docs)?;
    text.push('\n');
    std::fs::write(&docs_path, text)?;
    Ok(report)
}
