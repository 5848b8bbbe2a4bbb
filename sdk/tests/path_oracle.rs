//! A differential test of the field paths `check_json` reports.
//!
//! The SDK reads a payload with its own path-tracking deserializer (the crate
//! does not depend on `serde_path_to_error`). Here `serde_path_to_error` is
//! the oracle: for every bad payload of a deterministic set (each made by one
//! or several mutations of a valid payload built from the model's
//! descriptor), the first violation `collect_violations`/`check_json` report
//! must be the oracle's first error, at the same field path, with serde's
//! text. The relationship, as `collect_violations` defines it:
//!
//! - ``missing field `n` ``: field `path.n`, rule `required`, message
//!   ``missing required field `n` `` (the only rewritten message);
//! - ``unknown field `n` ``: field `path`, with `.n` added when the oracle's path
//!   does not already end with the key `n` (it does not when serde read the
//!   object from its buffered `Content`), rule `unknown_field`;
//! - `unknown value`/`unknown variant`: rule `allowed_values`; `invalid type`/
//!   `invalid value`: rule `type`; anything else: rule `schema`; the message
//!   is serde's text unchanged;
//! - an empty path is the field `body`.
//!
//! For a request with workflows the oracle reads the workflow the tag names,
//! from the body without the tag, as `check_json` does (serde's tagged enum
//! buffers the object and would report every error under it at the body);
//! a payload whose tag names none is read as the enum, whose first error is
//! then the tag's.
//!
//! A payload the oracle reads has no violation of those read rules (only
//! `validate()`'s: bounds, lengths, patterns, URIs). A payload with several
//! independent errors reports each of them at its own path (edits that can
//! hide each other are not combined: see [`overlapping`]).

#![cfg(all(feature = "images", feature = "videos"))]

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use skills_video::model::{check_json, collect_violations, FieldKind, GenerationRequest};
use skills_video::models::{
    BlackForestLabsFlux2ProRequest, GoogleNanoBanana2Request, KlingAiO3EditRequest,
    KlingAiO3VideoRequest, RunwaymlGen4AlephRequest, RunwaymlGen4TurboRequest,
};
use skills_video::{ModelDescriptor, ValidationErrors, Violation};

/// The rules of the read (serde's errors); `validate()` has its own.
const READ_RULES: [&str; 5] = [
    "unknown_field",
    "allowed_values",
    "type",
    "required",
    "schema",
];

/// Items given to an array of objects, so an error can sit at `[2]`.
const OBJECT_ITEMS: usize = 3;

/// One request type under test.
struct Subject {
    /// Its descriptor.
    model: &'static ModelDescriptor,
    /// The oracle's first error: the field path and serde's text.
    oracle: fn(&Value) -> Option<OracleError>,
    /// `collect_violations::<T>`.
    collect: fn(&Value) -> Vec<Violation>,
    /// `check_json::<T>`.
    check: fn(&Value) -> Result<(), ValidationErrors>,
}

/// The request types: a plain request (nano-banana-2), a workflow `oneOf`
/// with a discriminator (kling o3 video), arrays of objects (kling o3 edit's
/// `elements`, gen4-aleph's `references`), an integer enum and a nullable
/// nested object (gen4-turbo), an untagged `oneOf` (flux-2-pro's
/// `image_size`). Nullable fields: `image_urls`, `seed`, `prompt`.
fn subjects() -> Vec<Subject> {
    vec![
        subject::<GoogleNanoBanana2Request>(),
        Subject {
            oracle: workflow_oracle,
            ..subject::<KlingAiO3VideoRequest>()
        },
        subject::<KlingAiO3EditRequest>(),
        subject::<RunwaymlGen4AlephRequest>(),
        subject::<RunwaymlGen4TurboRequest>(),
        subject::<BlackForestLabsFlux2ProRequest>(),
    ]
}

fn subject<T: GenerationRequest + DeserializeOwned>() -> Subject {
    Subject {
        model: T::model(),
        oracle: oracle::<T>,
        collect: collect_violations::<T>,
        check: check_json::<T>,
    }
}

/// The oracle's error, its path rendered as `check_json` renders one.
#[derive(Debug)]
struct OracleError {
    /// `elements[2].image_url`; empty for the body.
    path: String,
    /// The key of the path's last segment, when it is an object key.
    last_key: Option<String>,
    /// Serde's text (the inner error, no path).
    message: String,
}

/// `serde_path_to_error`'s first error reading `value` as `T`.
fn oracle<T: DeserializeOwned>(value: &Value) -> Option<OracleError> {
    use serde_path_to_error::Segment;
    let error = serde_path_to_error::deserialize::<_, T>(value).err()?;
    let mut path = String::new();
    let mut last_key = None;
    for segment in error.path() {
        match segment {
            Segment::Map { key } => {
                path = join(&path, key);
                last_key = Some(key.clone());
            }
            Segment::Seq { index } => {
                path = format!("{path}[{index}]");
                last_key = None;
            }
            // `check_json` renders neither (no externally tagged enum is
            // among these types' fields).
            _ => {}
        }
    }
    Some(OracleError {
        path,
        last_key,
        message: error.into_inner().to_string(),
    })
}

/// The oracle of a request with workflows (kling o3 video): when the tag
/// names a workflow, that workflow's struct read from the body without the
/// tag, as `check_json` reads it (so errors inside it have their paths);
/// otherwise the enum itself, whose first error is then the tag's.
fn workflow_oracle(value: &Value) -> Option<OracleError> {
    use skills_video::models::kling_ai_o3_video::KlingAiO3VideoTextImageToVideo as Workflow;
    match value.get("feature").and_then(Value::as_str) {
        Some("text-image-to-video") => {
            let mut rest = value.clone();
            rest.as_object_mut()
                .expect("a tag is found in an object")
                .shift_remove("feature");
            oracle::<Workflow>(&rest)
        }
        _ => oracle::<KlingAiO3VideoRequest>(value),
    }
}

/// `path.field`, or `field` at the root.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The violation `collect_violations` must report first for the oracle's error.
fn expected(error: &OracleError) -> Violation {
    let message = error.message.as_str();
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(name) = named("missing field `") {
        return Violation {
            field: join(&error.path, &name),
            rule: "required",
            message: format!("missing required field `{name}`"),
        };
    }
    let (field, rule) = if let Some(name) = named("unknown field `") {
        let field = if error.last_key.as_deref() == Some(name.as_str()) {
            error.path.clone()
        } else {
            join(&error.path, &name)
        };
        (field, "unknown_field")
    } else if message.starts_with("unknown value") || message.starts_with("unknown variant") {
        (error.path.clone(), "allowed_values")
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        (error.path.clone(), "type")
    } else {
        (error.path.clone(), "schema")
    };
    Violation {
        field: if field.is_empty() {
            "body".into()
        } else {
            field
        },
        rule,
        message: message.to_string(),
    }
}

/// One step of a path inside a payload.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// One change to a payload.
#[derive(Debug, Clone)]
enum Edit {
    /// Sets (or adds, for an object key) the value at the path.
    Set(Vec<Step>, Value),
    /// Removes the object member at the path.
    Remove(Vec<Step>),
}

impl Edit {
    fn path(&self) -> &[Step] {
        match self {
            Edit::Set(path, _) | Edit::Remove(path) => path,
        }
    }
}

/// `base` with `edits` applied.
fn apply(base: &Value, edits: &[Edit]) -> Value {
    let mut out = base.clone();
    for edit in edits {
        let (parents, last) = match edit.path().split_last() {
            Some((last, parents)) => (parents, last),
            None => panic!("an edit of the root: {edit:?}"),
        };
        let mut node = &mut out;
        for step in parents {
            node = match (step, node) {
                (Step::Key(key), Value::Object(map)) => map.get_mut(key).expect("a parent"),
                (Step::Index(i), Value::Array(items)) => items.get_mut(*i).expect("a parent"),
                (step, node) => panic!("no {step:?} in {node}"),
            };
        }
        match (edit, last, node) {
            (Edit::Set(_, v), Step::Key(key), Value::Object(map)) => {
                map.insert(key.clone(), v.clone());
            }
            (Edit::Set(_, v), Step::Index(i), Value::Array(items)) => items[*i] = v.clone(),
            (Edit::Remove(_), Step::Key(key), Value::Object(map)) => {
                map.shift_remove(key);
            }
            (edit, _, node) => panic!("cannot apply {edit:?} to {node}"),
        }
    }
    out
}

/// The wrong values each value is replaced with: the corpus's fifteen and a
/// few more (an empty string, a whole-number float, the smallest `i64`).
fn wrong_values() -> Vec<Value> {
    vec![
        json!(5),
        json!(-3),
        json!(2.5),
        json!("x"),
        Value::Null,
        json!(true),
        json!([]),
        json!([5]),
        json!([{}]),
        json!(["https://e.com/a.png", 5, "x"]),
        json!({}),
        json!({"a": 1}),
        json!({"url": 5}),
        json!(1e300),
        json!(u64::MAX),
        json!(""),
        json!(5.0),
        json!(i64::MIN),
    ]
}

/// The property schemas of a request schema (a `oneOf`'s first branch for
/// a request with workflows, as `template_fields` takes the first workflow).
fn properties(model: &ModelDescriptor) -> serde_json::Map<String, Value> {
    let schema: Value = serde_json::from_str(model.request_schema_json).expect("schema JSON");
    let branch = schema
        .get("oneOf")
        .and_then(|branches| branches.get(0))
        .unwrap_or(&schema);
    branch["properties"]
        .as_object()
        .cloned()
        .expect("the request's properties")
}

/// `allOf`/`oneOf`/`anyOf` of one schema: its first branch.
fn resolved(schema: &Value) -> &Value {
    ["allOf", "oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|b| b.get(0)))
        .map_or(schema, resolved)
}

/// A valid value of a schema: every property of an object, three items for
/// an array of objects, else the example, default or first allowed value.
fn sample(schema: &Value) -> Value {
    let schema = resolved(schema);
    if schema["type"] == "array" && resolved(&schema["items"])["type"] == "object" {
        let most = schema["maxItems"]
            .as_u64()
            .map_or(OBJECT_ITEMS, |m| m as usize);
        let item = sample(&schema["items"]);
        return Value::Array(vec![item; OBJECT_ITEMS.min(most)]);
    }
    if let Some(v) = schema.get("example").or_else(|| schema.get("default")) {
        return v.clone();
    }
    if let Some(v) = schema.get("enum").and_then(|e| e.get(0)) {
        return v.clone();
    }
    match schema["type"].as_str() {
        Some("object") => Value::Object(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, s)| (k.clone(), sample(s)))
                .collect(),
        ),
        Some("array") => Value::Array(vec![sample(&schema["items"])]),
        Some("string") if schema["format"] == "uri" => json!("https://example.com/input.png"),
        Some("string") => json!("x"),
        Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("number") => json!(1.5),
        Some("boolean") => json!(false),
        _ => panic!("no sample for {schema}"),
    }
}

/// The valid payload mutations start from: the template fields with their
/// example, default or first allowed value from the descriptor, nested
/// objects and arrays of objects from the schema.
fn base(model: &ModelDescriptor) -> Value {
    let properties = properties(model);
    let mut out = serde_json::Map::new();
    for field in model.template_fields() {
        let parsed = |text: Option<&str>| text.map(|t| serde_json::from_str(t).expect("JSON"));
        let schema = &properties[field.name];
        let nested = matches!(field.kind, FieldKind::Json | FieldKind::Object)
            || (field.kind == FieldKind::Array && resolved(&schema["items"])["type"] == "object");
        let value = if nested {
            None
        } else {
            parsed(field.example_json)
                .or_else(|| parsed(field.default_json))
                .or_else(|| parsed(field.allowed_values_json.first().copied()))
        };
        out.insert(
            field.name.to_string(),
            value.unwrap_or_else(|| sample(schema)),
        );
    }
    Value::Object(out)
}

/// Every path below the root of `value`, parents first.
fn paths(value: &Value, prefix: &[Step], out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::Index(i), v))
            .collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        let mut path = prefix.to_vec();
        path.push(step);
        out.push(path.clone());
        paths(child, &path, out);
    }
}

/// Every single-error edit of `base`: each value replaced by each wrong
/// value, each object member removed, an unknown member added to each object.
fn single_edits(base: &Value) -> Vec<Edit> {
    let mut all = Vec::new();
    paths(base, &[], &mut all);
    let mut edits = Vec::new();
    let mut objects = vec![Vec::new()];
    for path in &all {
        for v in wrong_values() {
            edits.push(Edit::Set(path.clone(), v));
        }
        if matches!(path.last(), Some(Step::Key(_))) {
            edits.push(Edit::Remove(path.clone()));
        }
        let mut node = base;
        for step in path {
            node = match step {
                Step::Key(k) => &node[k.as_str()],
                Step::Index(i) => &node[*i],
            };
        }
        if node.is_object() {
            objects.push(path.clone());
        }
    }
    for object in objects {
        let mut path = object;
        path.push(Step::Key("zz_unknown".into()));
        edits.push(Edit::Set(path, json!(1)));
    }
    edits
}

/// Checks one payload; the violation the oracle's error must be reported as
/// (none when the oracle reads it).
fn check_one(subject: &Subject, payload: &Value) -> Option<Violation> {
    let id = subject.model.id;
    let found = (subject.collect)(payload);
    let checked = (subject.check)(payload);
    match &checked {
        Ok(()) => assert!(
            found.is_empty(),
            "{id} {payload}: check_json passed {found:?}"
        ),
        Err(errors) => assert_eq!(errors.violations, found, "{id} {payload}"),
    }
    assert_eq!(
        (subject.model.check_json)(payload),
        checked,
        "{id} {payload}"
    );
    match (subject.oracle)(payload) {
        None => {
            let read: Vec<&Violation> = found
                .iter()
                .filter(|v| READ_RULES.contains(&v.rule))
                .collect();
            assert!(
                read.is_empty(),
                "{id} {payload}: the oracle reads it, check_json reports {read:?}"
            );
            None
        }
        Some(error) => {
            let want = expected(&error);
            assert_eq!(
                found.first(),
                Some(&want),
                "{id} {payload}: the oracle's first error is at `{}`: {} (all found: {found:?})",
                error.path,
                error.message
            );
            Some(want)
        }
    }
}

/// Two edits that can hide each other's error: one path is the other or
/// inside it. (Two errors in the same nested object, one of them a missing
/// member, are each reported: the missing member gets a stand-in from the
/// schema instead of the object being taken out.)
fn overlapping(a: &Edit, b: &Edit) -> bool {
    let (pa, pb) = (a.path(), b.path());
    pa.starts_with(pb) || pb.starts_with(pa)
}

/// A small deterministic generator (a 64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn every_base_payload_is_valid() {
    for subject in subjects() {
        let base = base(subject.model);
        assert!(
            (subject.oracle)(&base).is_none(),
            "{} {base}",
            subject.model.id
        );
        assert_eq!(
            (subject.collect)(&base),
            Vec::<Violation>::new(),
            "{} {base}",
            subject.model.id
        );
    }
}

#[test]
fn the_first_violation_is_the_oracles_first_error() {
    let mut errors = 0;
    let mut deep = 0;
    for subject in subjects() {
        let base = base(subject.model);
        for edit in single_edits(&base) {
            let payload = apply(&base, std::slice::from_ref(&edit));
            if let Some(want) = check_one(&subject, &payload) {
                errors += 1;
                deep += usize::from(want.field.contains("]."));
            }
        }
    }
    // The set reaches errors inside array items' objects, and most edits break the read.
    assert!(deep > 0 && errors > 1000, "{errors} errors, {deep} deep");
}

#[test]
fn several_errors_are_each_reported_at_their_own_path() {
    let mut rng = Lcg(0x5eed_0ac1_e000);
    let mut combined = 0;
    for subject in subjects() {
        let base = base(subject.model);
        // The single edits the oracle reports at a field (an error at the
        // body stops the check: there is no value to take out).
        let singles: Vec<(Edit, Violation)> = single_edits(&base)
            .into_iter()
            .filter_map(|edit| {
                let payload = apply(&base, std::slice::from_ref(&edit));
                let want = expected(&(subject.oracle)(&payload)?);
                (want.field != "body").then_some((edit, want))
            })
            .collect();
        assert!(singles.len() > 20, "{}", subject.model.id);
        for round in 0..60 {
            let size = 2 + round % 4;
            let mut picked: Vec<&(Edit, Violation)> = Vec::new();
            for _ in 0..size * 4 {
                let candidate = &singles[rng.below(singles.len())];
                if picked
                    .iter()
                    .all(|(edit, _)| !overlapping(edit, &candidate.0))
                {
                    picked.push(candidate);
                }
                if picked.len() == size {
                    break;
                }
            }
            if picked.len() < 2 {
                continue;
            }
            let edits: Vec<Edit> = picked.iter().map(|(edit, _)| edit.clone()).collect();
            let payload = apply(&base, &edits);
            check_one(&subject, &payload);
            let found = (subject.collect)(&payload);
            for (_, want) in &picked {
                assert!(
                    found.contains(want),
                    "{} {payload}: {want:?} is missing from {found:?}",
                    subject.model.id
                );
            }
            combined += 1;
        }
    }
    assert!(combined > 200, "{combined} payloads with several errors");
}
