//! What the generated code describes about each model: routes, category and
//! field metadata, plus the trait that ties a request type to its model.

use serde::Serialize;

use crate::json_path::{PathError, Segment};
use crate::validation::{ValidationErrors, Violation};

/// The docs group a model is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Image models.
    Images,
    /// Video models.
    Videos,
}

impl Category {
    /// `images` or `videos`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Images => "images",
            Category::Videos => "videos",
        }
    }
}

/// The JSON kind of a request field, for tools that build requests from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A string (or a string enum).
    String,
    /// An integer (or an integer enum).
    Integer,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// An array.
    Array,
    /// An object with arbitrary keys.
    Object,
    /// A nested object or a union: given as JSON.
    Json,
}

impl FieldKind {
    /// The kind's name as the spec writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Integer => "integer",
            FieldKind::Number => "number",
            FieldKind::Boolean => "boolean",
            FieldKind::Array => "array",
            FieldKind::Object => "object",
            FieldKind::Json => "object",
        }
    }
}

/// One request field as the spec describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldInfo {
    /// The wire name.
    pub name: &'static str,
    /// Listed in `required`.
    pub required: bool,
    /// May be `null`.
    pub nullable: bool,
    /// Its JSON kind.
    pub kind: FieldKind,
    /// The spec's description.
    pub description: &'static str,
    /// The default, as JSON text.
    pub default_json: Option<&'static str>,
    /// The example, as JSON text.
    pub example_json: Option<&'static str>,
    /// Allowed literal values, as JSON texts (empty when any value of the kind is allowed).
    pub allowed_values_json: &'static [&'static str],
    /// The `format`, e.g. `uri`.
    pub format: Option<&'static str>,
    /// The lower bound of a number, if the spec gives one (`exclusiveMinimum` noted in the description).
    pub minimum: Option<f64>,
    /// The upper bound of a number, if the spec gives one.
    pub maximum: Option<f64>,
    /// The fewest items (arrays) or characters (strings), if the spec gives it.
    pub min_length: Option<u64>,
    /// The most items (arrays) or characters (strings), if the spec gives it.
    pub max_length: Option<u64>,
}

/// One model's routes and request metadata (generated per model).
#[derive(Debug, Clone, Copy)]
pub struct ModelDescriptor {
    /// `provider/model...`, e.g. `google/nano-banana-pro`.
    pub id: &'static str,
    /// The provider segment.
    pub provider: &'static str,
    /// The model path after the provider.
    pub model: &'static str,
    /// Images or videos.
    pub category: Category,
    /// The operation summary.
    pub summary: &'static str,
    /// The operation description.
    pub description: &'static str,
    /// The polling create route relative to the API base, if the model has one.
    pub create_route: Option<&'static str>,
    /// The SSE create route relative to the API base, if the model has one.
    pub sse_route: Option<&'static str>,
    /// The poll route, e.g. `/generation/{id}`.
    pub poll_route: &'static str,
    /// The request schema's name in the spec.
    pub request_schema: &'static str,
    /// The request schema as JSON text: OpenAPI 3.0 as the spec writes it,
    /// with every `$ref` inlined, so it is self-contained (the one JSON copy
    /// of the schema the crate carries).
    pub request_schema_json: &'static str,
    /// The request fields in spec order. For a request with workflows: the
    /// tag first, then every workflow's fields once, none marked required.
    pub fields: &'static [FieldInfo],
    /// The error statuses (400 and up) the spec documents for the model's routes.
    pub error_statuses: &'static [u16],
    /// The property that selects a workflow (e.g. `feature`), when the
    /// request is a `oneOf` of workflows.
    pub discriminator: Option<&'static str>,
    /// The workflows, in spec order (empty for a plain request).
    pub workflows: &'static [WorkflowInfo],
    /// Parses a JSON payload as this model's request type and validates it.
    pub check_json: fn(&serde_json::Value) -> Result<(), ValidationErrors>,
}

/// One workflow of a request whose `discriminator` selects it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkflowInfo {
    /// The discriminator's value, e.g. `text-to-video`.
    pub value: &'static str,
    /// The workflow's schema name in the spec.
    pub schema: &'static str,
    /// The workflow's description.
    pub summary: &'static str,
    /// Its fields in spec order, the discriminator left out.
    pub fields: &'static [FieldInfo],
}

impl ModelDescriptor {
    /// The field with this wire name.
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The workflow whose discriminator value is `value`.
    pub fn workflow(&self, value: &str) -> Option<&'static WorkflowInfo> {
        self.workflows.iter().find(|w| w.value == value)
    }

    /// The fields a request starts from: a plain request's fields, or for a
    /// request with workflows the discriminator (first) and the first
    /// workflow's fields, with their own required-ness.
    pub fn template_fields(&self) -> Vec<&'static FieldInfo> {
        match (self.discriminator, self.workflows.first()) {
            (Some(tag), Some(first)) => self
                .field(tag)
                .into_iter()
                .chain(first.fields.iter())
                .collect(),
            _ => self.fields.iter().collect(),
        }
    }
}

/// A typed request for one model (implemented by every generated request
/// struct). Its checks are [`Validate`](crate::validation::Validate); each
/// request also has an inherent `validate()` for callers.
pub trait GenerationRequest: Serialize + crate::validation::Validate + Send + 'static {
    /// The model this request is for.
    fn model() -> &'static ModelDescriptor;
}

/// Deserialises `value` as `T` (unknown fields and wrong types rejected) and
/// validates it, reporting every violation at once, each under its field
/// path (`aspect_ratio`, `elements[2].image_url`): see [`collect_violations`].
pub fn check_json<T>(value: &serde_json::Value) -> Result<(), ValidationErrors>
where
    T: GenerationRequest + serde::de::DeserializeOwned,
{
    check_json_with(value, T::model(), read_and_validate::<T>)
}

/// The body of [`check_json`], shared by every request type.
fn check_json_with(
    value: &serde_json::Value,
    model: &'static ModelDescriptor,
    read: ReadPass,
) -> Result<(), ValidationErrors> {
    // Serde reads a struct from a positional array too; a request body is
    // always a JSON object.
    if !value.is_object() {
        let kind = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        return Err(ValidationErrors {
            violations: vec![Violation {
                field: String::from("body"),
                rule: "schema",
                message: format!("the request body must be a JSON object, got {kind}"),
            }],
        });
    }
    let violations = collect_violations_with(value, model, read);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors { violations })
    }
}

/// At most this many deserialisation passes per check (one per bad value).
const MAX_PASSES: usize = 64;

/// Every violation of `value` as `T`. Serde stops at the first error, so the
/// value is read again after each: the bad value is taken out (an unknown
/// field, a wrong type, a value not allowed) and its error kept with the
/// path [`crate::json_path`] tracked; a missing top-level field gets a
/// stand-in built from the model's field info, so the rest can still be
/// read. Once the value reads, the generated `validate()` adds the range,
/// length, pattern and URI rules (not for the stand-ins). Rules: `unknown_field`,
/// `allowed_values`, `type`, `required`, `schema`, then `validate()`'s own.
pub fn collect_violations<T>(value: &serde_json::Value) -> Vec<Violation>
where
    T: GenerationRequest + serde::de::DeserializeOwned,
{
    // Only the read (`T`'s `Deserialize` and `validate()`) depends on `T`;
    // the rest is one non-generic function shared by every model, so it is
    // compiled once instead of once per request type.
    collect_violations_with(value, T::model(), read_and_validate::<T>)
}

/// One deserialisation pass of `value` as `T`: the path-tracked serde error,
/// or `validate()`'s violations (none when the value is valid).
/// The path comes from [`crate::json_path`] (see there why not
/// `serde_path_to_error`).
fn read_and_validate<T>(value: &serde_json::Value) -> Result<Vec<Violation>, PathError>
where
    T: GenerationRequest + serde::de::DeserializeOwned,
{
    let request = crate::json_path::deserialize::<T>(value)?;
    let mut out = Vec::new();
    crate::validation::Validate::validate_into(&request, "", &mut out);
    Ok(out)
}

/// A pass of [`read_and_validate`] for one request type, behind a pointer.
type ReadPass = fn(&serde_json::Value) -> Result<Vec<Violation>, PathError>;

/// The body of [`collect_violations`], shared by every request type: `read`
/// is the only per-type part.
fn collect_violations_with(
    value: &serde_json::Value,
    model: &'static ModelDescriptor,
    read: ReadPass,
) -> Vec<Violation> {
    let mut working = value.clone();
    let mut out: Vec<Violation> = Vec::new();
    // Original indices taken out of each array (by the array's original path).
    let mut removed: std::collections::HashMap<String, Vec<usize>> = Default::default();
    // Top-level fields filled with a stand-in: their later findings are not real.
    let mut stand_ins: Vec<String> = Vec::new();
    for _ in 0..MAX_PASSES {
        let error = match read(&working) {
            Ok(violations) => {
                out.extend(violations.into_iter().filter_map(|mut v| {
                    v.field = restore_indices(&v.field, &removed);
                    (!stand_ins.iter().any(|s| under(&v.field, s))).then_some(v)
                }));
                return out;
            }
            Err(e) => e,
        };
        let PathError {
            path: segments,
            error,
        } = error;
        let message = error.to_string();
        // The original path of the value (indices as given, before removals).
        let mut path = String::new();
        for segment in &segments {
            match segment {
                Segment::Map { key } => path = crate::validation::join(&path, key),
                Segment::Seq { index } => {
                    path = crate::validation::index(&path, original_index(*index, &path, &removed));
                }
            }
        }
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string)
        };
        if stand_ins.iter().any(|s| under(&path, s)) {
            // A stand-in did not read: nothing more can be learned.
            return out;
        }
        if let Some(name) = named("missing field `") {
            let field = crate::validation::join(&path, &name);
            // Not again for a value this check took out.
            if !out.iter().any(|v| v.field == field) {
                out.push(Violation {
                    field: field.clone(),
                    rule: "required",
                    message: format!("missing required field `{name}`"),
                });
            }
            if !path.is_empty() {
                // The object that lacks it is taken out; the rest is read on.
                if !take_out(&mut working, &segments, &mut removed) {
                    return out;
                }
                continue;
            }
            match (model.field(&name).map(stand_in), working.as_object_mut()) {
                (Some(v), Some(root)) => {
                    root.insert(name, v);
                    stand_ins.push(field);
                }
                _ => return out,
            }
            continue;
        }
        let (rule, target) = match named("unknown field `") {
            Some(name) => {
                let mut target = segments.clone();
                if !matches!(target.last(), Some(Segment::Map { key }) if *key == name) {
                    target.push(Segment::Map { key: name.clone() });
                    path = crate::validation::join(&path, &name);
                }
                ("unknown_field", target)
            }
            // `unknown value` is `UnknownValue` (the generated enums); `unknown variant` serde's own.
            None if message.starts_with("unknown value")
                || message.starts_with("unknown variant") =>
            {
                ("allowed_values", segments)
            }
            None if message.starts_with("invalid type") || message.starts_with("invalid value") => {
                ("type", segments)
            }
            None => ("schema", segments),
        };
        out.push(Violation {
            field: if path.is_empty() { "body".into() } else { path },
            rule,
            message,
        });
        if !take_out(&mut working, &target, &mut removed) {
            return out;
        }
    }
    out
}

/// The index of an array item before `removed` items were taken out of its array.
fn original_index(
    index: usize,
    array: &str,
    removed: &std::collections::HashMap<String, Vec<usize>>,
) -> usize {
    let mut original = index;
    for r in removed.get(array).into_iter().flatten() {
        if *r <= original {
            original += 1;
        }
    }
    original
}

/// A path of the value read (`elements[2].url`) with the indices as given.
fn restore_indices(path: &str, removed: &std::collections::HashMap<String, Vec<usize>>) -> String {
    if removed.is_empty() {
        return path.to_string();
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').unwrap_or(inner.len());
            match inner[..end].parse::<usize>() {
                Ok(i) => {
                    let o = original_index(i, &out, removed);
                    out.push_str(&format!("[{o}]"));
                }
                Err(_) => out.push_str(&format!("[{}]", &inner[..end])),
            }
            rest = inner.get(end + 1..).unwrap_or("");
        } else {
            let end = rest[1..].find(['[', '.']).map_or(rest.len(), |e| e + 1);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

/// `field` is `base` or inside it.
fn under(field: &str, base: &str) -> bool {
    field
        .strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// A value of a field's kind that reads, to stand in for a missing one.
fn stand_in(field: &FieldInfo) -> serde_json::Value {
    let parsed = |text: Option<&str>| text.and_then(|t| serde_json::from_str(t).ok());
    parsed(field.default_json)
        .or_else(|| parsed(field.allowed_values_json.first().copied()))
        .or_else(|| parsed(field.example_json))
        .unwrap_or_else(|| match field.kind {
            FieldKind::String if field.format == Some("uri") => "https://example.com/x".into(),
            FieldKind::String => "x".into(),
            FieldKind::Integer | FieldKind::Number => 1.into(),
            FieldKind::Boolean => false.into(),
            FieldKind::Array => serde_json::Value::Array(Vec::new()),
            FieldKind::Object | FieldKind::Json => serde_json::Value::Object(Default::default()),
        })
}

/// Removes the value at `path` from `root`; false when there is none (or
/// the path is the root). A removed array item is recorded by its original
/// index so later paths keep the indices as given.
fn take_out(
    root: &mut serde_json::Value,
    path: &[Segment],
    removed: &mut std::collections::HashMap<String, Vec<usize>>,
) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = root;
    let mut original = String::new();
    for segment in parents {
        node = match (segment, node) {
            (Segment::Map { key }, serde_json::Value::Object(map)) => {
                original = crate::validation::join(&original, key);
                match map.get_mut(key) {
                    Some(v) => v,
                    None => return false,
                }
            }
            (Segment::Seq { index }, serde_json::Value::Array(items)) => {
                original =
                    crate::validation::index(&original, original_index(*index, &original, removed));
                match items.get_mut(*index) {
                    Some(v) => v,
                    None => return false,
                }
            }
            _ => return false,
        };
    }
    match (last, node) {
        (Segment::Map { key }, serde_json::Value::Object(map)) => map.shift_remove(key).is_some(),
        (Segment::Seq { index }, serde_json::Value::Array(items)) if *index < items.len() => {
            let o = original_index(*index, &original, removed);
            let gone = removed.entry(original).or_default();
            items.remove(*index);
            gone.push(o);
            gone.sort_unstable();
            true
        }
        _ => false,
    }
}

/// Finds a model in the generated catalog by any of its spellings:
/// `google/nano-banana-pro`, `/generation/google/nano-banana-pro`,
/// `POST /generation/sse/google/nano-banana-pro`, and the `/v1/...` forms.
pub fn find_model(name: &str) -> Option<&'static ModelDescriptor> {
    let id = model_id_of(name);
    crate::generated::catalog::MODELS
        .iter()
        .copied()
        .find(|m| m.id == id)
}

/// Reduces any accepted spelling of a model to its id.
pub fn model_id_of(name: &str) -> &str {
    skills_video_routes::route::model_id(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: &[Violation]) -> Vec<(&str, &str)> {
        v.iter().map(|v| (v.field.as_str(), v.rule)).collect()
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        use crate::models::BytedanceSeedream4_5Request as Seedream;
        let v =
            collect_violations::<Seedream>(&json!({"aspect_ratio": "7:5", "n": 99, "promt": "x"}));
        assert_eq!(
            fields(&v),
            [
                ("aspect_ratio", "allowed_values"),
                ("promt", "unknown_field"),
                ("prompt", "required"),
                ("n", "maximum"),
            ],
            "{v:?}"
        );
        assert!(
            v[0].message.contains("7:5") && v[0].message.contains("16:9"),
            "{}",
            v[0].message
        );
        // A wrong type on a required field is reported once.
        let v = collect_violations::<Seedream>(&json!({"prompt": 5, "n": "two"}));
        assert_eq!(fields(&v), [("prompt", "type"), ("n", "type")], "{v:?}");
        assert!(collect_violations::<Seedream>(&json!({"prompt": "x", "n": 2})).is_empty());
    }

    #[test]
    fn nested_and_indexed_paths_keep_the_indices_as_given() {
        use crate::models::KlingAiO1EditRequest as Edit;
        let v = collect_violations::<Edit>(&json!({
            "prompt": "x",
            "video_url": "https://example.com/v.mp4",
            "elements": [
                {"frontal_image_url": "https://example.com/0.png"},
                {"frontal_image_url": 5},
                {"frontal_image_url": "https://example.com/2.png", "extra": 1},
                {},
                {"frontal_image_url": "not a url"}
            ]
        }));
        assert_eq!(
            fields(&v),
            [
                ("elements[1].frontal_image_url", "type"),
                ("elements[2].extra", "unknown_field"),
                ("elements[3].frontal_image_url", "required"),
                ("elements[4].frontal_image_url", "uri"),
            ],
            "{v:?}"
        );
        let removed = [
            ("a".to_string(), vec![0, 2]),
            ("a[1].b".to_string(), vec![1]),
        ]
        .into_iter()
        .collect();
        assert_eq!(restore_indices("a[0].b[1].c", &removed), "a[1].b[2].c");
        assert_eq!(restore_indices("a[1]", &removed), "a[3]");
        assert_eq!(restore_indices("x.y[0]", &removed), "x.y[0]");
    }

    #[cfg(all(feature = "images", feature = "videos"))]
    #[test]
    fn errors_are_worded_as_serde_json_words_them() {
        use crate::models::BytedanceSeedream4_5Request as Seedream;
        let v = collect_violations::<Seedream>(&json!({"prompt": null, "n": 2.5}));
        let found: Vec<(&str, &str, &str)> = v
            .iter()
            .map(|v| (v.field.as_str(), v.rule, v.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("prompt", "type", "invalid type: null, expected a string"),
                (
                    "n",
                    "type",
                    "invalid type: floating point `2.5`, expected i64"
                ),
            ]
        );
        // A workflow tag that is not a string: the typed read refuses it
        // before the tag's visitor sees it (no `variant index` wording).
        let model = find_model("kling-ai/o3/video").expect("in the catalog");
        let errors = (model.check_json)(&json!({"feature": 5, "prompt": "x"}))
            .expect_err("a number is not a workflow");
        assert!(
            errors.violations.iter().any(|v| v.field == "feature"
                && v.rule == "type"
                && v.message == "invalid type: integer `5`, expected variant identifier"),
            "{errors:?}"
        );
    }
}
