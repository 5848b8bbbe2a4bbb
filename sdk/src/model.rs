//! What the generated code describes about each model: routes, category and
//! field metadata, plus the trait that ties a request type to its model.

use serde::Serialize;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The request schema as JSON text.
    pub request_schema_json: &'static str,
    /// The request fields in spec order. For a request with workflows: the
    /// tag first, then every workflow's fields once, none marked required.
    pub fields: &'static [FieldInfo],
    /// The property that selects a workflow (e.g. `feature`), when the
    /// request is a `oneOf` of workflows.
    pub discriminator: Option<&'static str>,
    /// The workflows, in spec order (empty for a plain request).
    pub workflows: &'static [WorkflowInfo],
    /// Parses a JSON payload as this model's request type and validates it.
    pub check_json: fn(&serde_json::Value) -> Result<(), ValidationErrors>,
}

/// One workflow of a request whose `discriminator` selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A typed request for one model (implemented by every generated request struct).
pub trait GenerationRequest: Serialize + Send + 'static {
    /// The model this request is for.
    fn model() -> &'static ModelDescriptor;
    /// Checks the spec's constraints before any network traffic.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// Deserialises `value` as `T` (unknown fields and wrong types rejected) and validates it.
pub fn check_json<T>(value: &serde_json::Value) -> Result<(), ValidationErrors>
where
    T: GenerationRequest + serde::de::DeserializeOwned,
{
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
    match serde_json::from_value::<T>(value.clone()) {
        Ok(request) => request.validate(),
        Err(e) => Err(ValidationErrors {
            violations: vec![Violation {
                field: String::from("body"),
                rule: "schema",
                message: e.to_string(),
            }],
        }),
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
    let mut s = name.trim();
    s = s.strip_prefix("POST ").unwrap_or(s).trim();
    s = s
        .strip_prefix("/v1")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(s);
    s = s.strip_prefix("/generation/").unwrap_or(s);
    s = s.strip_prefix("sse/").unwrap_or(s);
    s.trim_matches('/')
}

/// Every model in the catalog.
pub fn models() -> &'static [&'static ModelDescriptor] {
    crate::generated::catalog::MODELS
}
