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

/// The checked request body (JSON, plus the local files given with `@PATH`).
pub fn build(model: &ModelDescriptor, input: &PayloadInput<'_>) -> Result<RequestBody, CliError> {
    let mut body = match (input.payload, input.payload_file) {
        (Some(text), _) => parse_object(text, "--payload")?,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::input(format!(
                    "cannot read --payload-file {}: {e}",
                    path.display()
                ))
            })?;
            parse_object(&text, "--payload-file")?
        }
        (None, None) => Map::new(),
    };
    for key in body.keys() {
        if model.field(key).is_none() {
            return Err(unknown_field(model, key));
        }
    }
    if let Some(prompt) = input.prompt {
        let Some(field) = model.field("prompt") else {
            return Err(unknown_field(model, "prompt")
                .with("hint", "this model has no `prompt` field; use --set"));
        };
        body.insert(field.name.into(), Value::String(prompt.to_string()));
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
        let field = model
            .field(name)
            .ok_or_else(|| unknown_field(model, name))?;
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
            None => parse_value(field, &unescape(raw))?,
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
    (model.check_json)(&body.validation_json()).map_err(|errors| {
        let violations: Vec<Value> = errors
            .violations
            .iter()
            .map(|v| serde_json::json!({"field": v.field, "rule": v.rule, "message": v.message}))
            .collect();
        CliError::validation(format!("invalid request for {}: {errors}", model.id))
            .with("violations", violations)
    })?;
    Ok(body)
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
            kind_of(&other)
        ))),
        Err(e) => Err(CliError::input(format!("{what} is not valid JSON: {e}"))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unknown_field(model: &ModelDescriptor, name: &str) -> CliError {
    let names: Vec<&str> = model.fields.iter().map(|f| f.name).collect();
    let suggestions = closest(name, names.iter().copied(), 3);
    let mut message = format!("{} has no field {name:?}", model.id);
    if let Some(best) = suggestions.first() {
        message.push_str(&format!("; did you mean {best:?}?"));
    }
    message.push_str(&format!(" Fields: {}", names.join(", ")));
    CliError::validation(message)
        .with("field", name)
        .with("suggestions", suggestions)
}

/// The allowed values of a field, decoded.
pub fn allowed_values(field: &FieldInfo) -> Vec<Value> {
    field
        .allowed_values_json
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect()
}

fn invalid(field: &FieldInfo, raw: &str, expected: &str) -> CliError {
    let allowed = allowed_values(field);
    let mut message = format!(
        "invalid value {raw:?} for field {:?}: expected {expected}",
        field.name
    );
    if !allowed.is_empty() {
        let list: Vec<String> = allowed.iter().map(display_value).collect();
        message.push_str(&format!("; allowed values: {}", list.join(", ")));
    }
    CliError::validation(message)
        .with("field", field.name)
        .with("allowed_values", allowed)
}

fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses one `--set` value by the field's kind and checks the allowed values.
pub fn parse_value(field: &FieldInfo, raw: &str) -> Result<Value, CliError> {
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
                _ => return Err(invalid(field, raw, "an integer")),
            },
        },
        FieldKind::Number => match (
            text.parse::<i64>(),
            text.parse::<f64>().ok().and_then(Number::from_f64),
        ) {
            (Ok(i), _) => Value::Number(i.into()),
            (_, Some(n)) => Value::Number(n),
            _ => return Err(invalid(field, raw, "a number")),
        },
        FieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => return Err(invalid(field, raw, "a boolean (true or false)")),
        },
        FieldKind::Array => {
            if text.starts_with('[') {
                match serde_json::from_str::<Value>(text) {
                    Ok(v @ Value::Array(_)) => v,
                    _ => {
                        return Err(invalid(
                            field,
                            raw,
                            "a JSON array or comma-separated values",
                        ))
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
            Err(_) => return Err(invalid(field, raw, "JSON")),
        },
    };
    let allowed = allowed_values(field);
    if !allowed.is_empty() && !allowed.iter().any(|a| same(a, &value)) {
        let expected = format!("one of the allowed values ({})", field.kind.as_str());
        return Err(invalid(field, raw, &expected));
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

    fn run(sets: &[&str]) -> Result<RequestBody, CliError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        build(
            nano(),
            &PayloadInput {
                prompt: Some("a cat"),
                sets: &sets,
                ..Default::default()
            },
        )
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
}
