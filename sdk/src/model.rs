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
#[derive(Debug, Clone, Copy)]
pub struct WorkflowInfo {
    /// The discriminator's value, e.g. `text-to-video`.
    pub value: &'static str,
    /// The workflow's schema name in the spec.
    pub schema: &'static str,
    /// The workflow's description.
    pub summary: &'static str,
    /// Its fields in spec order, the discriminator left out.
    pub fields: &'static [FieldInfo],
    /// Reads a body as this workflow's struct (the tag taken out), for
    /// [`check_json`]: serde's tagged enum buffers the object and loses
    /// every path under it, so the check reads the chosen struct directly.
    pub(crate) read: ReadPass,
}

impl PartialEq for WorkflowInfo {
    /// The same workflow description (the read, a function, is not compared).
    fn eq(&self, other: &Self) -> bool {
        (self.value, self.schema, self.summary, self.fields)
            == (other.value, other.schema, other.summary, other.fields)
    }
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
/// A request with workflows is read as the workflow its tag names, so the
/// paths inside it are kept too.
pub fn check_json<T>(value: &serde_json::Value) -> Result<(), ValidationErrors>
where
    T: GenerationRequest + serde::de::DeserializeOwned,
{
    check_json_with(value, T::model(), read_and_validate::<T>)
}

/// [`check_json`] for a request with workflows, as its descriptor holds it:
/// the same check without instantiating the tagged enum's own read (which
/// the check never uses, see [`WorkflowInfo`]).
// Only models with workflows use it, and a feature set may have none (`images`).
#[allow(dead_code)]
pub(crate) fn check_workflow_json<T: GenerationRequest>(
    value: &serde_json::Value,
) -> Result<(), ValidationErrors> {
    check_json_with(value, T::model(), no_typed_read)
}

/// The read pass of a request with workflows: never called, since
/// [`collect_violations_with`] reads the chosen workflow's struct instead.
#[allow(dead_code)]
fn no_typed_read(_: &serde_json::Value) -> Result<Vec<Violation>, PathError> {
    Ok(Vec::new())
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
/// path [`crate::json_path`] tracked; a missing field gets a stand-in (a
/// top-level one from the model's field info, a nested one from the
/// request's schema), so the rest, its object's other members included,
/// can still be read. Once the value reads, the generated `validate()` adds the range,
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
/// `serde_path_to_error`). `T` is a request type or a workflow's struct.
pub(crate) fn read_and_validate<T>(value: &serde_json::Value) -> Result<Vec<Violation>, PathError>
where
    T: crate::validation::Validate + serde::de::DeserializeOwned,
{
    // A `match`, not `?`: this is instantiated once per request type, and
    // `?` adds its `Try` and `From` instantiations to each.
    match crate::json_path::deserialize::<T>(value) {
        Ok(request) => Ok(crate::validation::violations_of(&request)),
        Err(error) => Err(error),
    }
}

/// A pass of [`read_and_validate`] for one request type, behind a pointer.
pub(crate) type ReadPass = fn(&serde_json::Value) -> Result<Vec<Violation>, PathError>;

/// The body of [`collect_violations`], shared by every request type: `read`
/// is the only per-type part. A request with workflows is read as the
/// workflow its tag names ([`collect_workflow_violations`]).
fn collect_violations_with(
    value: &serde_json::Value,
    model: &'static ModelDescriptor,
    read: ReadPass,
) -> Vec<Violation> {
    match model.discriminator {
        Some(tag) if !model.workflows.is_empty() => collect_workflow_violations(value, model, tag),
        _ => collect_read_violations(value, model, read),
    }
}

/// The violations of a request with workflows. The tag picks the workflow;
/// the body without the tag is then read as that workflow's struct, so a
/// violation inside it keeps its path (`elements[1].image_url`), where
/// serde's tagged enum, which buffers the object first, reports every error
/// at the body. The tag's errors are the ones the typed read reports, at
/// the tag, with serde's texts: missing (`required`), not a string (`type`)
/// or no workflow's value (`allowed_values`); the rest is then read as the
/// workflow a stand-in tag picks, as the typed read went on after them.
fn collect_workflow_violations(
    value: &serde_json::Value,
    model: &'static ModelDescriptor,
    tag: &'static str,
) -> Vec<Violation> {
    use serde::de::Error as _;
    let Some(object) = value.as_object() else {
        let error =
            serde_json::Error::invalid_type(crate::json_path::unexpected(value), &"a JSON object");
        return vec![Violation {
            field: "body".into(),
            rule: "type",
            message: error.to_string(),
        }];
    };
    let at_tag = |rule: &'static str, message: String| Violation {
        field: tag.into(),
        rule,
        message,
    };
    let (chosen, problem) = match object.get(tag) {
        None => (
            None,
            Some(at_tag(
                "required",
                format!("missing required field `{tag}`"),
            )),
        ),
        Some(serde_json::Value::String(name)) => match model.workflow(name) {
            Some(w) => (Some(w), None),
            None => {
                let names: Vec<&str> = model.workflows.iter().map(|w| w.value).collect();
                (
                    None,
                    Some(at_tag("allowed_values", unknown_variant(name, &names))),
                )
            }
        },
        Some(other) => {
            let error = serde_json::Error::invalid_type(
                crate::json_path::unexpected(other),
                &"variant identifier",
            );
            (None, Some(at_tag("type", error.to_string())))
        }
    };
    let mut out: Vec<Violation> = problem.into_iter().collect();
    // Without a usable tag the rest is read as the workflow a stand-in tag
    // picks (as a missing field gets a stand-in), so its errors still show.
    let workflow = chosen.unwrap_or_else(|| {
        let stand_in = model.field(tag).map(stand_in);
        let name = stand_in.as_ref().and_then(|v| v.as_str());
        model
            .workflows
            .iter()
            .find(|w| Some(w.value) == name)
            .unwrap_or(&model.workflows[0])
    });
    let mut rest = object.clone();
    rest.shift_remove(tag);
    out.extend(collect_read_violations(
        &serde_json::Value::Object(rest),
        model,
        workflow.read,
    ));
    out
}

/// Serde's text for a variant name a tagged enum does not have (as its
/// `Error::unknown_variant` writes it, which needs a `'static` list).
fn unknown_variant(name: &str, variants: &[&str]) -> String {
    let quoted: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
    match quoted.as_slice() {
        [] => format!("unknown variant `{name}`, there are no variants"),
        [one] => format!("unknown variant `{name}`, expected {one}"),
        [a, b] => format!("unknown variant `{name}`, expected {a} or {b}"),
        all => format!(
            "unknown variant `{name}`, expected one of {}",
            all.join(", ")
        ),
    }
}

/// The violations of `value` read by `read` (a request or workflow struct).
fn collect_read_violations(
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
    // Nested members filled with a stand-in from the schema (their path, and
    // the path of the object that lacked them): their findings are not real
    // either.
    let mut nested: Vec<(String, Vec<Segment>)> = Vec::new();
    // The request's schema, parsed once, when a nested stand-in first needs it.
    let mut schema: Option<Option<serde_json::Value>> = None;
    for _ in 0..MAX_PASSES {
        let error = match read(&working) {
            Ok(violations) => {
                out.extend(violations.into_iter().filter_map(|mut v| {
                    v.field = restore_indices(&v.field, &removed);
                    let made_up = stand_ins.iter().any(|s| under(&v.field, s))
                        || nested.iter().any(|(s, _)| under(&v.field, s));
                    (!made_up).then_some(v)
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
        if let Some(i) = nested.iter().position(|(s, _)| under(&path, s)) {
            // A nested stand-in did not read: the object that lacked the
            // member is taken out instead, and the rest is read on.
            let (_, parent) = nested.swap_remove(i);
            if !take_out(&mut working, &parent, &mut removed) {
                return out;
            }
            continue;
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
                // A stand-in from the schema, so the object's other members
                // (and its other missing ones) are still read; without one,
                // the object that lacks it is taken out and the rest read on.
                let schema = schema
                    .get_or_insert_with(|| serde_json::from_str(model.request_schema_json).ok());
                let placed = schema
                    .as_ref()
                    .and_then(|root| nested_stand_in(root, &segments, &name))
                    .is_some_and(|v| {
                        value_at(&mut working, &segments)
                            .and_then(serde_json::Value::as_object_mut)
                            .map(|object| object.insert(name.clone(), v))
                            .is_some()
                    });
                if placed {
                    nested.push((field, segments));
                    continue;
                }
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
        .unwrap_or_else(|| value_of_kind(field.kind, field.format == Some("uri")))
}

/// A value of `kind` that reads (for a `uri` string, an absolute URI).
fn value_of_kind(kind: FieldKind, uri: bool) -> serde_json::Value {
    match kind {
        FieldKind::String if uri => "https://example.com/x".into(),
        FieldKind::String => "x".into(),
        FieldKind::Integer | FieldKind::Number => 1.into(),
        FieldKind::Boolean => false.into(),
        FieldKind::Array => serde_json::Value::Array(Vec::new()),
        FieldKind::Object | FieldKind::Json => serde_json::Value::Object(Default::default()),
    }
}

/// The value at `path` (indices of the value being read).
fn value_at<'v>(
    root: &'v mut serde_json::Value,
    path: &[Segment],
) -> Option<&'v mut serde_json::Value> {
    path.iter()
        .try_fold(root, |node, segment| match (segment, node) {
            (Segment::Map { key }, serde_json::Value::Object(map)) => map.get_mut(key),
            (Segment::Seq { index }, serde_json::Value::Array(items)) => items.get_mut(*index),
            _ => None,
        })
}

/// A value that reads for member `name` of the object at `path`, from the
/// request schema `root` (its default, first allowed value or example, else one
/// of its type); `None` when the schema does not describe the member.
fn nested_stand_in(
    root: &serde_json::Value,
    path: &[Segment],
    name: &str,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    let object = path
        .iter()
        .try_fold(root, |schema, segment| match segment {
            Segment::Map { key } => schema_child(schema, "properties", Some(key)),
            Segment::Seq { .. } => schema_child(schema, "items", None),
        })?;
    let member = schema_child(object, "properties", Some(name))?;
    let member = branch(member);
    let given = ["default", "example"]
        .iter()
        .find_map(|k| member.get(*k).filter(|v| !v.is_null()))
        .or_else(|| member.get("enum").and_then(|e| e.get(0)));
    if let Some(v) = given {
        return Some(v.clone());
    }
    let kind = match member.get("type").and_then(Value::as_str)? {
        "string" => FieldKind::String,
        "integer" => FieldKind::Integer,
        "number" => FieldKind::Number,
        "boolean" => FieldKind::Boolean,
        "array" => FieldKind::Array,
        "object" => FieldKind::Object,
        _ => return None,
    };
    if let (FieldKind::Integer | FieldKind::Number, Some(minimum)) = (kind, member.get("minimum")) {
        return Some(minimum.clone());
    }
    let uri = member.get("format").and_then(Value::as_str) == Some("uri");
    Some(value_of_kind(kind, uri))
}

/// The first branch of an `allOf`/`oneOf`/`anyOf` schema (itself otherwise).
fn branch(schema: &serde_json::Value) -> &serde_json::Value {
    ["allOf", "oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|b| b.get(0)))
        .map_or(schema, branch)
}

/// `schema`'s `properties[key]` (or its `items` when `key` is `None`),
/// looked for in the schema and in each of its `allOf`/`oneOf`/`anyOf`
/// branches.
fn schema_child<'s>(
    schema: &'s serde_json::Value,
    what: &str,
    key: Option<&str>,
) -> Option<&'s serde_json::Value> {
    let here = schema.get(what).and_then(|v| match key {
        Some(k) => v.get(k),
        None => Some(v),
    });
    here.or_else(|| {
        ["allOf", "oneOf", "anyOf"]
            .iter()
            .filter_map(|k| schema.get(*k)?.as_array())
            .flatten()
            .find_map(|b| schema_child(b, what, key))
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
                // Five were given: an item that lacks a required member is
                // no longer taken out, so the count is the one given.
                ("elements", "max_items"),
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

    #[cfg(feature = "videos")]
    #[test]
    fn every_missing_member_of_a_nested_object_is_reported() {
        use crate::models::RunwaymlGen4AlephRequest as Aleph;
        let payload = |references: serde_json::Value| json!({"video_uri": "https://example.com/v.mp4", "prompt": "x", "references": references});
        // `type` has the wrong type and `uri` is missing: once `type` was
        // taken out, the whole reference used to go with it and `uri` was
        // never reported.
        let v = collect_violations::<Aleph>(&payload(json!([
            {"type": "image", "uri": "https://example.com/0.png"},
            {"type": 5},
            {},
            {"type": "video", "uri": "https://example.com/3.png", "extra": 1}
        ])));
        assert_eq!(
            fields(&v),
            [
                ("references[1].type", "type"),
                ("references[1].uri", "required"),
                ("references[2].type", "required"),
                ("references[2].uri", "required"),
                ("references[3].type", "allowed_values"),
                ("references[3].extra", "unknown_field"),
                ("references", "max_items"),
            ],
            "{v:?}"
        );
        // The stand-ins are not checked as if they were given.
        let v = collect_violations::<Aleph>(&payload(json!([{"type": "image"}])));
        assert_eq!(fields(&v), [("references[0].uri", "required")], "{v:?}");
    }

    #[cfg(feature = "videos")]
    #[test]
    fn a_workflow_request_reports_each_error_at_its_path() {
        use crate::models::KlingAiO3VideoRequest as Video;
        let model = find_model("kling-ai/o3/video").expect("in the catalog");
        let payload = json!({
            "feature": "text-image-to-video",
            "prompt": "x",
            "image_urls": ["https://example.com/a.png", 5],
            "quality": "8k",
            "zz": 1
        });
        let errors = (model.check_json)(&payload).expect_err("three errors");
        // Serde's tagged enum buffers the object: each of these was at `body`.
        assert_eq!(
            fields(&errors.violations),
            [
                ("image_urls[1]", "type"),
                ("quality", "allowed_values"),
                ("zz", "unknown_field"),
            ],
            "{errors:?}"
        );
        assert_eq!(check_json::<Video>(&payload), Err(errors));

        // The tag's own errors are at the tag; the rest is still read.
        let v = collect_violations::<Video>(&json!({"feature": "teleport", "prompt": 5}));
        assert_eq!(
            fields(&v),
            [("feature", "allowed_values"), ("prompt", "type")],
            "{v:?}"
        );
        assert_eq!(
            v[0].message,
            "unknown variant `teleport`, expected `text-image-to-video`"
        );
        let v = collect_violations::<Video>(&json!({"duration": "long"}));
        assert_eq!(
            fields(&v),
            [
                ("feature", "required"),
                ("duration", "type"),
                ("prompt", "required")
            ],
            "{v:?}"
        );
        let v = collect_violations::<Video>(&json!(["x"]));
        assert_eq!(fields(&v), [("body", "type")], "{v:?}");
        assert!(collect_violations::<Video>(
            &json!({"feature": "text-image-to-video", "prompt": "x"})
        )
        .is_empty());
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
