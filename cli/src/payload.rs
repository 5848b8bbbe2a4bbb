//! Builds a model's request from `--payload`/`--payload-file`, `--prompt`
//! and `--set NAME=VALUE`, typed by the generated field metadata, then runs
//! the model's full client-side check. Nothing is sent when any step fails.
//!
//! Local files follow curl's convention: `--set image_url=@./photo.png` sends
//! that file (the request becomes `multipart/form-data`). Repeating `--set`
//! for an array field appends to it, so `--set image_urls=@a.png --set
//! image_urls=https://example.com/b.png` mixes a file and a URL. A literal
//! leading `@` is written `@@` or `\@`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};
use skills_video::{FieldInfo, FieldKind, Media, ModelDescriptor, RequestBody};

use crate::exit::CliError;
use crate::suggest::closest;

/// The inputs of a request.
#[derive(Debug, Default)]
pub struct PayloadInput<'a> {
    /// `--payload`.
    pub payload: Option<&'a str>,
    /// `--payload-file`.
    pub payload_file: Option<&'a Path>,
    /// `--prompt`.
    pub prompt: Option<&'a str>,
    /// `--set` entries.
    pub sets: &'a [String],
}

/// Stands for a local file in the map until the [`RequestBody`] is built.
const FILE_MARKER: &str = "\u{0}skills-video-cli-file:";

/// `--payload` or `--payload-file` as a JSON object (empty when neither is given).
fn read_payload(input: &PayloadInput<'_>) -> Result<Map<String, Value>, CliError> {
    match (input.payload, input.payload_file) {
        (Some(text), _) => parse_object(text, "--payload"),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::input(format!(
                    "cannot read --payload-file {}: {e}",
                    path.display()
                ))
            })?;
            parse_object(&text, "--payload-file")
        }
        (None, None) => Ok(Map::new()),
    }
}

/// The request body of `--raw`: the payload as given, `--prompt` as
/// `prompt`, and each `--set NAME=VALUE` with VALUE read as JSON when it
/// parses, else as text (`@PATH` a local file). A NAME given again makes an
/// array of its values. Nothing is checked against a schema.
pub fn build_raw(input: &PayloadInput<'_>) -> Result<RequestBody, CliError> {
    let mut body = read_payload(input)?;
    if let Some(prompt) = input.prompt {
        body.insert("prompt".into(), Value::String(prompt.to_string()));
    }
    let mut files: Vec<PathBuf> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut arrays: HashSet<String> = HashSet::new();
    for entry in input.sets {
        let Some((name, raw)) = entry.split_once('=') else {
            return Err(CliError::input(format!(
                "--set {entry:?} is not NAME=VALUE"
            )));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(CliError::input(format!("--set {entry:?} names no field")));
        }
        let value = match local_file(raw) {
            Some(path) => {
                check_file(name, path)?;
                files.push(PathBuf::from(path));
                Value::String(format!("{FILE_MARKER}{}", files.len() - 1))
            }
            None => {
                let text = unescape(raw);
                serde_json::from_str(text.trim()).unwrap_or(Value::String(text))
            }
        };
        if !seen.insert(name.to_string()) {
            // Given again: the values become an array, in order.
            if arrays.insert(name.to_string()) {
                let first = body.remove(name).unwrap_or(Value::Null);
                body.insert(name.into(), Value::Array(vec![first]));
            }
            if let Some(Value::Array(items)) = body.get_mut(name) {
                items.push(value);
            }
        } else {
            body.insert(name.into(), value);
        }
    }
    with_files(body, &files)
}

/// The checked request body (JSON, plus the local files given with `@PATH`).
///
/// Every problem is reported at once, in one shape whatever the input gave
/// the value (`--payload`, `--payload-file`, `--set`, `--prompt`): see
/// [`Problem`]. The payload is checked by the SDK's `check_json` (with field
/// paths, then the generated `validate()`), and each
/// finding is worded with the model's field info, as `--set` words its own.
pub fn build(model: &ModelDescriptor, input: &PayloadInput<'_>) -> Result<RequestBody, CliError> {
    let mut body = read_payload(input)?;
    let mut problems: Vec<Problem> = Vec::new();
    if let Some(prompt) = input.prompt {
        match model.field("prompt") {
            Some(field) => {
                body.insert(field.name.into(), Value::String(prompt.to_string()));
            }
            None => {
                let mut p = unknown_field(model, "prompt");
                p.message
                    .push_str(" (--prompt sets `prompt`; this model has none: use --set)");
                problems.push(p);
            }
        }
    }
    let mut files: Vec<PathBuf> = Vec::new();
    // Array fields already given by a --set: a further --set appends.
    let mut set_arrays: HashSet<&'static str> = HashSet::new();
    for entry in input.sets {
        let Some((name, raw)) = entry.split_once('=') else {
            return Err(CliError::input(format!(
                "--set {entry:?} is not NAME=VALUE"
            )));
        };
        let name = name.trim();
        let Some(field) = model.field(name) else {
            problems.push(unknown_field(model, name));
            continue;
        };
        let value = match local_file(raw) {
            Some(path) => {
                check_local_file(field, path)?;
                files.push(PathBuf::from(path));
                let marker = Value::String(format!("{FILE_MARKER}{}", files.len() - 1));
                if field.kind == FieldKind::Array {
                    Value::Array(vec![marker])
                } else {
                    marker
                }
            }
            None => match parse_value(field, &unescape(raw)) {
                Ok(v) => v,
                Err(p) => {
                    // Not set: the payload's value (if any) is not checked again.
                    body.remove(field.name);
                    problems.push(*p);
                    continue;
                }
            },
        };
        let appended = field.kind == FieldKind::Array && !set_arrays.insert(field.name);
        match (appended, body.get_mut(field.name), value) {
            (true, Some(Value::Array(items)), Value::Array(more)) => items.extend(more),
            (_, _, value) => {
                body.insert(field.name.into(), value);
            }
        }
    }
    let body = with_files(body, &files)?;
    let checked = body.validation_json();
    if let Err(errors) = (model.check_json)(&checked) {
        let flagged: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
        for v in &errors.violations {
            // A field whose --set was refused is missing here: already reported.
            if v.rule == "required" && flagged.contains(&v.field) {
                continue;
            }
            problems.push(word(model, &checked, v));
        }
    }
    fold_required_into_suggestions(&mut problems);
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(report(model, problems))
    }
}

/// One problem with a request, in the one shape every input reports it:
/// the field's path (nested and indexed, `elements[2].image_url`), the rule
/// (`unknown_field`, `allowed_values`, `type`, `required`, `minimum`,
/// `maximum`, `uri`, ...), a message that names the field, and what is
/// allowed: the allowed values, the range, or the closest field names.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The field's path in the request.
    pub field: String,
    /// The rule broken.
    pub rule: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The allowed values (empty when any value of the kind is allowed).
    pub allowed_values: Vec<Value>,
    /// The least value allowed, when the schema sets one.
    pub minimum: Option<Value>,
    /// The greatest value allowed, when the schema sets one.
    pub maximum: Option<Value>,
    /// Did you mean: the closest field names (unknown fields).
    pub suggestions: Vec<String>,
}

impl Problem {
    fn new(field: impl Into<String>, rule: impl Into<String>, message: String) -> Self {
        Problem {
            field: field.into(),
            rule: rule.into(),
            message,
            allowed_values: Vec::new(),
            minimum: None,
            maximum: None,
            suggestions: Vec::new(),
        }
    }

    /// The JSON of one entry of the error line's `violations`.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({
            "field": self.field, "rule": self.rule, "message": self.message,
        });
        if !self.allowed_values.is_empty() {
            v["allowed_values"] = Value::Array(self.allowed_values.clone());
        }
        if let Some(min) = &self.minimum {
            v["minimum"] = min.clone();
        }
        if let Some(max) = &self.maximum {
            v["maximum"] = max.clone();
        }
        if !self.suggestions.is_empty() {
            v["suggestions"] = serde_json::json!(self.suggestions);
        }
        v
    }
}

/// The validation error (exit 22) carrying every problem. With one problem
/// its `field`, `allowed_values` and `suggestions` are also top-level keys.
fn report(model: &ModelDescriptor, problems: Vec<Problem>) -> CliError {
    let n = problems.len();
    let head = if n == 1 {
        format!("invalid request for {}", model.id)
    } else {
        format!("invalid request for {} ({n} problems)", model.id)
    };
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    let mut e = CliError::validation(format!("{head}: {}", messages.join("; ")));
    if let [only] = problems.as_slice() {
        e = e.with("field", only.field.as_str());
        if !only.allowed_values.is_empty() {
            e = e.with("allowed_values", only.allowed_values.clone());
        }
        if !only.suggestions.is_empty() {
            e = e.with("suggestions", only.suggestions.clone());
        }
    }
    let violations: Vec<Value> = problems.iter().map(Problem::to_json).collect();
    e.with("violations", violations)
}

/// A missing required field that an unknown field's did-you-mean names
/// (`promt` for `prompt`) is one problem, not two.
fn fold_required_into_suggestions(problems: &mut Vec<Problem>) {
    let missing: Vec<String> = problems
        .iter()
        .filter(|p| p.rule == "required")
        .map(|p| p.field.clone())
        .collect();
    let mut folded: Vec<String> = Vec::new();
    for p in problems.iter_mut().filter(|p| p.rule == "unknown_field") {
        let parent = parent_of(&p.field);
        if let Some(best) = p.suggestions.first() {
            let target = join_path(parent, best);
            if missing.contains(&target) && !folded.contains(&target) {
                p.message
                    .push_str(&format!(" ({best:?} is required and missing)"));
                folded.push(target);
            }
        }
    }
    problems.retain(|p| !(p.rule == "required" && folded.contains(&p.field)));
}

/// The path of the object holding `field` (`""` at the top).
fn parent_of(field: &str) -> &str {
    match field.rfind(['.', '[']) {
        Some(i) if field[i..].starts_with('.') => &field[..i],
        _ => "",
    }
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// The top-level field a path starts at, when the path is that field itself.
fn top_field<'m>(model: &'m ModelDescriptor, path: &str) -> Option<&'m FieldInfo> {
    model.field(path)
}

/// The SDK's finding, worded like `--set` words its own (field info, allowed
/// values, range, did-you-mean).
fn word(model: &ModelDescriptor, body: &Value, v: &skills_video::Violation) -> Problem {
    let given = body.get(&v.field).map(Value::to_string);
    match (v.rule, top_field(model, &v.field)) {
        ("unknown_field", _) if !v.field.contains(['.', '[']) => unknown_field(model, &v.field),
        ("unknown_field", _) => {
            // Nested: serde names the fields it expected there.
            let expected: Vec<&str> = v
                .message
                .split_once("expected")
                .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
                .unwrap_or_default();
            let name = v.field.rsplit(['.', ']']).next().unwrap_or(&v.field);
            let suggestions = closest(name, expected.iter().copied(), 3);
            let mut message = format!("unknown field {:?}", v.field);
            if let Some(best) = suggestions.first() {
                message.push_str(&format!("; did you mean {best:?}?"));
            }
            if !expected.is_empty() {
                message.push_str(&format!(" Fields there: {}", expected.join(", ")));
            }
            let mut p = Problem::new(v.field.as_str(), "unknown_field", message);
            p.suggestions = suggestions.into_iter().map(str::to_string).collect();
            p
        }
        ("allowed_values", Some(field)) => invalid(
            field,
            given.as_deref().unwrap_or("?"),
            &format!("one of the allowed values ({})", field.kind.as_str()),
        ),
        ("type", Some(field)) => invalid(
            field,
            given.as_deref().unwrap_or("?"),
            expected_kind(field.kind),
        ),
        ("required", _) => Problem::new(
            v.field.as_str(),
            "required",
            format!("missing required field {:?}", v.field),
        ),
        (rule, field) => {
            let mut p = Problem::new(
                v.field.as_str(),
                rule,
                format!("field {:?}: {}", v.field, v.message),
            );
            if let Some(field) = field {
                p.allowed_values = allowed_values(field);
                let (min, max) = range_of(model, field.name);
                if let (Some(lo), Some(hi)) = (&min, &max) {
                    p.message
                        .push_str(&format!("; allowed range: {lo} to {hi}"));
                }
                p.minimum = min;
                p.maximum = max;
            }
            p
        }
    }
}

/// What a field of this kind expects, as `--set` says it.
fn expected_kind(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::String => "a string",
        FieldKind::Integer => "an integer",
        FieldKind::Number => "a number",
        FieldKind::Boolean => "a boolean (true or false)",
        FieldKind::Array => "an array",
        FieldKind::Object | FieldKind::Json => "an object",
    }
}

/// The `minimum` and `maximum` the request schema sets on a top-level
/// field (looked up in the plain properties, then in each workflow's).
fn range_of(model: &ModelDescriptor, name: &str) -> (Option<Value>, Option<Value>) {
    let Ok(schema) = serde_json::from_str::<Value>(model.request_schema_json) else {
        return (None, None);
    };
    let mut holders = vec![&schema];
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(items)) = schema.get(key) {
            holders.extend(items.iter());
        }
    }
    for holder in holders {
        let Some(prop) = holder.pointer(&format!("/properties/{name}")) else {
            continue;
        };
        let mut candidates = vec![prop];
        if let Some(Value::Array(items)) = prop.get("anyOf") {
            candidates.extend(items.iter());
        }
        for c in candidates {
            let min = c
                .get("minimum")
                .or_else(|| c.get("exclusiveMinimum"))
                .cloned();
            let max = c
                .get("maximum")
                .or_else(|| c.get("exclusiveMaximum"))
                .cloned();
            if min.is_some() || max.is_some() {
                return (min, max);
            }
        }
    }
    (None, None)
}

/// The path of a `@PATH` value (curl's convention); `@@x` and `\@x` are literal.
fn local_file(raw: &str) -> Option<&str> {
    let text = raw.trim_start();
    match text.strip_prefix('@') {
        Some(rest) if !rest.starts_with('@') => Some(rest.trim_end()),
        _ => None,
    }
}

/// A value with its escaped leading `@` (`@@x`, `\@x`) made literal.
fn unescape(raw: &str) -> String {
    let text = raw.trim_start();
    let lead = &raw[..raw.len() - text.len()];
    match text.strip_prefix("@@").or_else(|| text.strip_prefix("\\@")) {
        Some(rest) => format!("{lead}@{rest}"),
        None => raw.to_string(),
    }
}

/// A `@PATH` must name an existing regular file, for a field that takes text.
fn check_local_file(field: &FieldInfo, path: &str) -> Result<(), CliError> {
    let fail = |what: String| {
        CliError::validation(format!("--set {}=@{path}: {what}", field.name))
            .with("field", field.name)
            .with("path", path)
    };
    if !matches!(field.kind, FieldKind::String | FieldKind::Array) {
        return Err(fail(format!(
            "field {:?} is {}, it cannot take a local file (write @@ for a literal @)",
            field.name,
            field.kind.as_str()
        )));
    }
    check_file(field.name, path)
}

/// A `@PATH` must name an existing regular file.
fn check_file(name: &str, path: &str) -> Result<(), CliError> {
    let fail = |what: String| {
        CliError::validation(format!("--set {name}=@{path}: {what}"))
            .with("field", name)
            .with("path", path)
    };
    if path.is_empty() {
        return Err(fail("no path after @".into()));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(fail(format!("local file {path} is not a regular file"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(fail(format!("local file {path} does not exist")))
        }
        Err(e) => Err(fail(format!("local file {path} cannot be read ({e})"))),
    }
}

/// The request body: fields that hold a file marker are rebuilt with
/// [`RequestBody::with_file`], in order, so files and URLs keep their places.
fn with_files(mut body: Map<String, Value>, files: &[PathBuf]) -> Result<RequestBody, CliError> {
    let file_of = |v: &Value| {
        v.as_str()
            .and_then(|s| s.strip_prefix(FILE_MARKER))
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| files.get(i))
    };
    let holds_file = |v: &Value| match v {
        Value::Array(items) => items.iter().any(|i| file_of(i).is_some()),
        other => file_of(other).is_some(),
    };
    let fields: Vec<String> = body
        .iter()
        .filter(|(_, v)| holds_file(v))
        .map(|(k, _)| k.clone())
        .collect();
    let mut moved = Vec::new();
    for name in fields {
        if let Some(v) = body.remove(&name) {
            moved.push((name, v));
        }
    }
    let mut request = RequestBody::json(Value::Object(body));
    for (name, value) in moved {
        let (items, is_array) = match value {
            Value::Array(items) => (items, true),
            other => (vec![other], false),
        };
        for item in items {
            let media = match (file_of(&item), item) {
                (Some(path), _) => Media::file(path),
                (None, Value::String(url)) => Media::url(url),
                (None, other) => {
                    return Err(CliError::validation(format!(
                        "field {name:?} mixes a local file with the non-text value {other}"
                    ))
                    .with("field", name.as_str()))
                }
            };
            request = request.with_file(name.as_str(), media, is_array);
        }
    }
    Ok(request)
}

fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CliError::input(format!(
            "{what} must be a JSON object, got {}",
            json_kind(&other)
        ))),
        Err(e) => Err(CliError::input(format!("{what} is not valid JSON: {e}"))),
    }
}

/// A JSON value's kind with its article (`a string`, `null`), for messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unknown_field(model: &ModelDescriptor, name: &str) -> Problem {
    let names: Vec<&str> = model.fields.iter().map(|f| f.name).collect();
    let suggestions = closest(name, names.iter().copied(), 3);
    let mut message = format!("{} has no field {name:?}", model.id);
    match suggestions.first() {
        Some(best) => message.push_str(&format!("; did you mean {best:?}?")),
        None => message.push_str(&format!(". Fields: {}", names.join(", "))),
    }
    let mut p = Problem::new(name, "unknown_field", message);
    p.suggestions = suggestions.into_iter().map(str::to_string).collect();
    p
}

/// The allowed values of a field, decoded.
pub fn allowed_values(field: &FieldInfo) -> Vec<Value> {
    field
        .allowed_values_json
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect()
}

/// `shown` is the value as given: the `--set` text quoted, or the payload's JSON.
fn invalid(field: &FieldInfo, shown: &str, expected: &str) -> Problem {
    let allowed = allowed_values(field);
    let mut message = format!(
        "invalid value {shown} for field {:?}: expected {expected}",
        field.name
    );
    if !allowed.is_empty() {
        let list: Vec<String> = allowed.iter().map(display_value).collect();
        message.push_str(&format!("; allowed values: {}", list.join(", ")));
    }
    let rule = if allowed.is_empty() {
        "type"
    } else {
        "allowed_values"
    };
    let mut p = Problem::new(field.name, rule, message);
    p.allowed_values = allowed;
    p
}

fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses one `--set` value by the field's kind and checks the allowed values.
pub fn parse_value(field: &FieldInfo, raw: &str) -> Result<Value, Box<Problem>> {
    let text = raw.trim();
    if field.nullable && text == "null" {
        return Ok(Value::Null);
    }
    let value = match field.kind {
        FieldKind::String => {
            // A JSON-quoted string is unquoted; anything else is taken verbatim.
            match serde_json::from_str::<Value>(text) {
                Ok(Value::String(s)) if text.starts_with('"') => Value::String(s),
                _ => Value::String(raw.to_string()),
            }
        }
        FieldKind::Integer => match text.parse::<i64>() {
            Ok(n) => Value::Number(n.into()),
            Err(_) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Value::Number((f as i64).into())
                }
                _ => return Err(Box::new(invalid(field, &format!("{raw:?}"), "an integer"))),
            },
        },
        FieldKind::Number => match (
            text.parse::<i64>(),
            text.parse::<f64>().ok().and_then(Number::from_f64),
        ) {
            (Ok(i), _) => Value::Number(i.into()),
            (_, Some(n)) => Value::Number(n),
            _ => return Err(Box::new(invalid(field, &format!("{raw:?}"), "a number"))),
        },
        FieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => {
                return Err(Box::new(invalid(
                    field,
                    &format!("{raw:?}"),
                    "a boolean (true or false)",
                )))
            }
        },
        FieldKind::Array => {
            if text.starts_with('[') {
                match serde_json::from_str::<Value>(text) {
                    Ok(v @ Value::Array(_)) => v,
                    _ => {
                        return Err(Box::new(invalid(
                            field,
                            &format!("{raw:?}"),
                            "a JSON array or comma-separated values",
                        )))
                    }
                }
            } else if text.is_empty() {
                Value::Array(Vec::new())
            } else {
                Value::Array(
                    text.split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                )
            }
        }
        FieldKind::Object | FieldKind::Json => match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(_) => return Err(Box::new(invalid(field, &format!("{raw:?}"), "JSON"))),
        },
    };
    let allowed = allowed_values(field);
    if !allowed.is_empty() && !allowed.iter().any(|a| same(a, &value)) {
        let expected = format!("one of the allowed values ({})", field.kind.as_str());
        return Err(Box::new(invalid(field, &format!("{raw:?}"), &expected)));
    }
    Ok(value)
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skills_video::model::find_model;

    fn nano() -> &'static ModelDescriptor {
        find_model("google/nano-banana-pro").unwrap()
    }

    /// `build` for nano-banana-pro with `--prompt "a cat"` and `sets`.
    fn run(sets: &[&str]) -> Result<RequestBody, CliError> {
        build_for("google/nano-banana-pro", None, Some("a cat"), sets)
    }

    #[test]
    fn typed_values() {
        let body = run(&[
            "num_images=2",
            "aspect_ratio=16:9",
            "enable_web_search=true",
            "seed=null",
            "image_urls=https://example.com/a.png,https://example.com/b.png",
        ])
        .unwrap()
        .as_json()
        .clone();
        assert_eq!(body["num_images"], 2);
        assert_eq!(body["aspect_ratio"], "16:9");
        assert_eq!(body["enable_web_search"], true);
        assert!(body["seed"].is_null());
        assert_eq!(body["image_urls"][1], "https://example.com/b.png");
        assert_eq!(body["prompt"], "a cat");
    }

    #[test]
    fn type_errors_name_the_field() {
        let e = run(&["num_images=two"]).unwrap_err();
        assert_eq!(e.code, 22);
        assert!(e.message.contains("num_images") && e.message.contains("integer"));
        let e = run(&["aspect_ratio=7:5"]).unwrap_err();
        assert!(
            e.message.contains("aspect_ratio") && e.message.contains("16:9"),
            "{}",
            e.message
        );
        let e = run(&["enable_web_search=maybe"]).unwrap_err();
        assert!(e.message.contains("boolean"));
    }

    #[test]
    fn unknown_fields_suggest_the_closest() {
        let e = run(&["aspect_ration=16:9"]).unwrap_err();
        assert!(e.message.contains("\"aspect_ratio\""), "{}", e.message);
        let e = run(&["no-equals"]).unwrap_err();
        assert_eq!(e.code, 1);
    }

    #[test]
    fn schema_checks_run_last() {
        let e = run(&["num_images=9"]).unwrap_err();
        assert_eq!(e.code, 22);
        assert!(e.message.contains("num_images"), "{}", e.message);
        let e = build(nano(), &PayloadInput::default()).unwrap_err();
        assert!(e.message.contains("prompt"), "{}", e.message);
    }

    #[test]
    fn payload_must_be_an_object() {
        let e = build(
            nano(),
            &PayloadInput {
                payload: Some("[1]"),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.code, 1);
        let e = build(
            nano(),
            &PayloadInput {
                payload: Some(r#"{"prompt":"x","colour":"red"}"#),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.code, 22);
    }

    fn png(dir: &tempfile::TempDir, name: &str) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n").unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn at_path_is_a_local_file_and_repeated_array_sets_append() {
        let dir = tempfile::tempdir().unwrap();
        let a = png(&dir, "a.png");
        let body = run(&[
            "image_urls=https://example.com/0.png",
            &format!("image_urls=@{a}"),
            "image_urls=https://example.com/2.png,https://example.com/3.png",
        ])
        .unwrap();
        assert!(body.is_multipart());
        let checked = body.validation_json();
        assert_eq!(
            checked["image_urls"],
            serde_json::json!([
                "https://example.com/0.png",
                "https://upload.invalid/a.png",
                "https://example.com/2.png",
                "https://example.com/3.png"
            ])
        );
        assert_eq!(checked["prompt"], "a cat");
        let files = body.local_files();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0.to_string(), "image_urls[1]");
        assert_eq!(files[0].1.path(), Some(Path::new(&a)));
        // Without @, no file and plain JSON.
        assert!(!run(&["image_urls=https://example.com/0.png"])
            .unwrap()
            .is_multipart());
    }

    #[test]
    fn a_missing_file_is_a_validation_error_naming_field_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.png");
        let e = run(&[&format!("image_urls=@{}", missing.display())]).unwrap_err();
        assert_eq!(e.code, 22);
        assert!(
            e.message.contains("image_urls")
                && e.message.contains("nope.png")
                && e.message.contains("does not exist"),
            "{}",
            e.message
        );
        let e = run(&[&format!("image_urls=@{}", dir.path().display())]).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{}", e.message);
        let e = run(&[&format!("num_images=@{}", png(&dir, "n.png"))]).unwrap_err();
        assert_eq!(e.code, 22);
        assert!(
            e.message.contains("cannot take a local file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn raw_bodies_are_sent_as_given() {
        let sets: Vec<String> = [
            "n=2",
            "ratio=7:5",
            "flag=true",
            "urls=https://example.com/a.png",
            "urls=https://example.com/b.png",
            "quoted=\"12\"",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let body = build_raw(&PayloadInput {
            payload: Some(r#"{"anything": {"goes": [1]}, "promt": "typo kept"}"#),
            prompt: Some("x"),
            sets: &sets,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            body.as_json(),
            &serde_json::json!({
                "anything": {"goes": [1]}, "promt": "typo kept", "prompt": "x", "n": 2,
                "ratio": "7:5", "flag": true,
                "urls": ["https://example.com/a.png", "https://example.com/b.png"],
                "quoted": "12"
            })
        );
        let e = build_raw(&PayloadInput {
            payload: Some("[1]"),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.code, 1);
    }

    #[test]
    fn a_doubled_or_escaped_at_is_literal() {
        let body = build(
            nano(),
            &PayloadInput {
                sets: &["prompt=@@cat".to_string()],
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!body.is_multipart());
        assert_eq!(body.as_json()["prompt"], "@cat");
        let body = build(
            nano(),
            &PayloadInput {
                sets: &["prompt=\\@dog".to_string()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(body.as_json()["prompt"], "@dog");
    }

    /// `build` with `--payload`, `--prompt` and `--set`s, for `model`.
    fn build_for(
        model: &str,
        payload: Option<&str>,
        prompt: Option<&str>,
        sets: &[&str],
    ) -> Result<RequestBody, CliError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        build(
            find_model(model).unwrap(),
            &PayloadInput {
                payload,
                prompt,
                sets: &sets,
                ..Default::default()
            },
        )
    }

    /// The `violations` of a validation error.
    fn violations(e: &CliError) -> Vec<Value> {
        assert_eq!(e.code, 22, "{}", e.message);
        e.extra["violations"].as_array().unwrap().clone()
    }

    /// An integer field takes a whole number only: `2.0` is 2, but a
    /// fraction, an exponent past 2^53 or a non-number is an error, never a
    /// silently changed value in a paid request.
    #[test]
    fn an_integer_field_takes_whole_numbers_only() {
        let body = run(&["num_images=2.0", "seed=1e3"]).unwrap();
        assert_eq!(body.as_json()["num_images"], 2);
        assert_eq!(body.as_json()["seed"], 1000);
        // From 9e15 on, a float may no longer be exact: refused.
        for bad in [
            "num_images=2.5",
            "seed=9e15",
            "seed=1e16",
            "seed=-1e16",
            "seed=inf",
            "seed=NaN",
        ] {
            let e = run(&[bad]).unwrap_err();
            let field = bad.split('=').next().unwrap();
            assert_eq!(e.extra["field"], field, "{bad}: {}", e.message);
            assert!(e.message.contains("an integer"), "{bad}: {}", e.message);
        }
    }

    /// A number field keeps an integer an integer (`8`, not `8.0`) and
    /// takes a fraction; anything else is an error.
    #[test]
    fn a_number_field_keeps_integers_and_takes_fractions() {
        let duration = |raw: &str| {
            build_for(
                "google/veo-3.1",
                None,
                Some("x"),
                &[&format!("duration={raw}")],
            )
            .map(|body| body.as_json()["duration"].clone())
        };
        let eight = duration("8").unwrap();
        assert!(eight.is_i64(), "{eight}");
        assert_eq!(eight, 8);
        assert_eq!(duration("7.5").unwrap(), 7.5);
        let e = duration("eight").unwrap_err();
        assert!(e.message.contains("a number"), "{}", e.message);
    }

    /// A JSON-quoted string is unquoted; an unquoted one is kept verbatim.
    #[test]
    fn a_quoted_string_value_is_unquoted() {
        let body = run(&["prompt=\"a \\\"quoted\\\" cat\""]).unwrap();
        assert_eq!(body.as_json()["prompt"], "a \"quoted\" cat");
        let body = run(&["prompt=a \"cat\""]).unwrap();
        assert_eq!(body.as_json()["prompt"], "a \"cat\"");
    }

    /// A boolean field takes true/yes/on/1 and false/no/off/0, any case.
    #[test]
    fn a_boolean_field_takes_the_usual_words() {
        for (raw, want) in [("true", true), ("Yes", true), ("on", true), ("1", true)]
            .into_iter()
            .chain([
                ("false", false),
                ("NO", false),
                ("off", false),
                ("0", false),
            ])
        {
            let body = run(&[&format!("enable_web_search={raw}")]).unwrap();
            assert_eq!(body.as_json()["enable_web_search"], want, "{raw}");
        }
        let e = run(&["enable_web_search=2"]).unwrap_err();
        assert!(e.message.contains("a boolean"), "{}", e.message);
    }

    /// An array field takes a JSON array, or comma-separated text.
    #[test]
    fn an_array_field_takes_a_json_array() {
        let body =
            run(&[r#"image_urls=["https://e.com/a,b.png", "https://e.com/c.png"]"#]).unwrap();
        assert_eq!(
            body.as_json()["image_urls"],
            serde_json::json!(["https://e.com/a,b.png", "https://e.com/c.png"])
        );
        let e = run(&["image_urls=[not json"]).unwrap_err();
        assert!(e.message.contains("a JSON array"), "{}", e.message);
    }

    /// The first `--set` of an array field replaces the payload's array;
    /// the next ones append to it.
    #[test]
    fn a_set_replaces_the_payloads_array_then_appends() {
        let body = build_for(
            "google/nano-banana-pro",
            Some(r#"{"prompt": "x", "image_urls": ["https://e.com/p.png"]}"#),
            None,
            &[
                "image_urls=https://e.com/a.png",
                "image_urls=https://e.com/b.png",
            ],
        )
        .unwrap();
        assert_eq!(
            body.as_json()["image_urls"],
            serde_json::json!(["https://e.com/a.png", "https://e.com/b.png"])
        );
    }

    /// A refused `--set` of a required field is one problem: the field is
    /// not reported missing as well.
    #[test]
    fn a_refused_required_field_is_one_problem() {
        let e = build_for(
            "bytedance/seedance-2.0",
            None,
            Some("x"),
            &["feature=bogus"],
        )
        .unwrap_err();
        let vs = violations(&e);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(vs[0]["field"], "feature");
        assert_eq!(vs[0]["rule"], "allowed_values");
    }

    /// One problem: its field, allowed values or suggestions are top-level
    /// keys, and the head has no count. Several: the head counts them.
    #[test]
    fn the_report_shape_follows_the_number_of_problems() {
        let e = run(&["aspect_ratio=7:5"]).unwrap_err();
        assert!(!e.message.contains("problems"), "{}", e.message);
        assert_eq!(e.extra["field"], "aspect_ratio");
        assert!(e.extra["allowed_values"]
            .as_array()
            .unwrap()
            .contains(&"16:9".into()));
        assert!(!e.extra.contains_key("suggestions"));
        let e = run(&["aspect_ration=16:9"]).unwrap_err();
        assert_eq!(e.extra["suggestions"][0], "aspect_ratio");
        assert!(!e.extra.contains_key("allowed_values"));
        let e = run(&["aspect_ratio=7:5", "num_images=two"]).unwrap_err();
        assert!(
            e.message
                .starts_with("invalid request for google/nano-banana-pro (2 problems): "),
            "{}",
            e.message
        );
        assert!(!e.extra.contains_key("field"));
        assert_eq!(violations(&e).len(), 2);
    }

    /// A misspelt required field that is missing is one problem (the
    /// did-you-mean says it is required); a misspelt optional one is not
    /// said to be required.
    #[test]
    fn a_misspelt_missing_required_field_is_folded_into_its_suggestion() {
        let e = build_for("google/nano-banana-pro", None, None, &["promt=x"]).unwrap_err();
        let vs = violations(&e);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert!(
            e.message.contains("(\"prompt\" is required and missing)"),
            "{}",
            e.message
        );
        let e = run(&["aspect_ration=16:9"]).unwrap_err();
        assert!(!e.message.contains("required"), "{}", e.message);
    }

    #[test]
    fn the_parent_of_a_path_is_the_object_holding_it() {
        assert_eq!(parent_of("prompt"), "");
        assert_eq!(parent_of("a.b"), "a");
        assert_eq!(parent_of("elements[2].image_url"), "elements[2]");
        assert_eq!(parent_of("image_urls[3]"), "");
        assert_eq!(parent_of("a.list[1]"), "");
    }

    /// A payload value of the wrong type is worded as `--set` words it,
    /// and a range rule carries the range the schema sets (here only a
    /// minimum).
    #[test]
    fn payload_findings_are_worded_with_the_field_info() {
        let e = build_for(
            "google/nano-banana-pro",
            Some(r#"{"prompt": "x", "num_images": "two"}"#),
            None,
            &[],
        )
        .unwrap_err();
        assert!(e.message.contains("an integer"), "{}", e.message);
        let e = run(&["seed=-1"]).unwrap_err();
        assert_eq!(e.extra["violations"][0]["minimum"], 0, "{}", e.message);
    }

    /// `@PATH` that is not there, and `@PATH` that cannot be read for
    /// another reason, are told apart.
    #[test]
    fn a_local_file_that_cannot_be_read_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = png(&dir, "a.png");
        let e = run(&[&format!("image_urls=@{file}/inner.png")]).unwrap_err();
        assert!(e.message.contains("cannot be read"), "{}", e.message);
        let e = run(&[&format!("image_urls=@{}/missing.png", dir.path().display())]).unwrap_err();
        assert!(e.message.contains("does not exist"), "{}", e.message);
    }

    #[test]
    fn json_kinds_read_with_their_article() {
        use serde_json::json;
        let kinds: Vec<&str> = [
            json!(null),
            json!(true),
            json!(1),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(json_kind)
        .collect();
        assert_eq!(
            kinds,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
    }
}
