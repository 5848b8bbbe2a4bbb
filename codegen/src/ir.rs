//! Stage 3 output: a plain-data type IR. Nothing here knows about tokens; tests
//! can assert on it directly, and the emitter only reads it.

use serde_json::Value;

use crate::catalog::Category;

/// Everything the emitter needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Ir {
    /// One entry per model, in docs order.
    pub models: Vec<ModelIr>,
    /// Named component schemas other than models' top-level requests, sorted by name.
    pub shared: Vec<TypeDef>,
    /// The poll route relative to the API base.
    pub poll_route: String,
}

/// One model: its routes, names and request types.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelIr {
    /// `provider/model...`.
    pub id: String,
    /// The first path segment.
    pub provider: String,
    /// The path after the provider.
    pub model: String,
    /// Images or Videos.
    pub category: Category,
    /// Module name, e.g. `google_nano_banana_pro`.
    pub module: String,
    /// Function name on `Images`/`Videos`.
    pub function: String,
    /// The operation's summary.
    pub summary: String,
    /// The operation's description.
    pub description: String,
    /// The error statuses (400 and up) the operation documents, ascending.
    pub error_statuses: Vec<u16>,
    /// Polling create route, if any.
    pub create_route: Option<String>,
    /// SSE create route, if any.
    pub sse_route: Option<String>,
    /// Name of the request schema in the spec (for `inspect`).
    pub schema_name: String,
    /// The request schema as JSON, `$ref`s left as they are.
    pub schema_json: Value,
    /// The request struct (its name is the model's request type name).
    pub request: TypeDef,
    /// Inline types defined inside the request schema.
    pub local_types: Vec<TypeDef>,
}

/// Whether a type is sent (strict) or received (lenient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Part of a request body: strict, validated, unknown fields rejected.
    Request,
    /// Part of a response: every field optional, shape mismatches tolerated.
    Response,
}

/// A named Rust type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// The Rust name.
    pub name: String,
    /// The wire/spec name, when it came from `components/schemas`.
    pub wire_name: Option<String>,
    /// Documentation lines.
    pub docs: Vec<String>,
    /// JSON pointer of the schema.
    pub pointer: String,
    /// Request or response.
    pub role: Role,
    /// Its shape.
    pub kind: TypeKind,
}

/// The shape of a named type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// An object with known properties.
    Struct {
        /// Fields in spec order.
        fields: Vec<Field>,
        /// `additionalProperties` allows more keys than `properties` lists:
        /// a request keeps them in an `extra` map instead of rejecting them.
        open: bool,
    },
    /// A closed set of literal values.
    Enum {
        /// The values in spec order.
        variants: Vec<Variant>,
    },
    /// `oneOf`/`anyOf` of different shapes, tried in order.
    Untagged {
        /// The alternatives in spec order.
        variants: Vec<UntaggedVariant>,
    },
    /// A named alias of another type (a component that is a plain scalar or list).
    Alias(TypeRef),
    /// A `oneOf` of objects told apart by one property (`discriminator`):
    /// one struct per workflow, serialised internally tagged.
    Tagged {
        /// The discriminating property, e.g. `feature`.
        tag: String,
        /// The workflows in spec order.
        variants: Vec<TaggedVariant>,
    },
}

/// One workflow of a tagged request.
#[derive(Debug, Clone, PartialEq)]
pub struct TaggedVariant {
    /// The tag's value on the wire, e.g. `text-to-video`.
    pub wire: String,
    /// The Rust variant name, e.g. `TextToVideo`.
    pub rust: String,
    /// The workflow's struct (a local type of the model).
    pub ty: String,
    /// The workflow's schema name in the spec.
    pub schema_name: String,
}

/// One struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The property name on the wire.
    pub wire: String,
    /// The Rust field name.
    pub rust: String,
    /// The value type (without the `Option` for optional fields).
    pub ty: TypeRef,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true`.
    pub nullable: bool,
    /// Documentation lines.
    pub docs: Vec<String>,
    /// Rules on the value itself.
    pub constraints: Vec<Constraint>,
    /// Rules on each item, for arrays of scalars.
    pub item_constraints: Vec<Constraint>,
    /// The `default`.
    pub default: Option<Value>,
    /// The `example`.
    pub example: Option<Value>,
    /// Allowed literal values, for enum-typed fields.
    pub allowed: Vec<Value>,
    /// The `format`, e.g. `uri`.
    pub format: Option<String>,
    /// The spec's `description`.
    pub description: String,
}

/// One literal of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The Rust variant name.
    pub rust: String,
    /// The wire value (string, number or bool).
    pub wire: Value,
}

/// One alternative of an untagged enum.
#[derive(Debug, Clone, PartialEq)]
pub struct UntaggedVariant {
    /// The Rust variant name.
    pub rust: String,
    /// Its payload.
    pub ty: TypeRef,
}

/// A reference to a type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    /// `String`.
    String,
    /// `crate::Media`: a request's `format: uri` string, which the platform
    /// takes as a URL or, sent as multipart, as a local file.
    Media,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Boolean,
    /// `serde_json::Value`, only where the schema is truly open.
    Json,
    /// A named shared type (in the `schemas` module).
    Shared(String),
    /// A named type local to the model's module.
    Local(String),
    /// `Vec<T>`.
    Vec(Box<TypeRef>),
    /// `BTreeMap<String, T>` (an object with only `additionalProperties`).
    Map(Box<TypeRef>),
}

impl TypeRef {
    /// Whether validation must descend into the value.
    pub fn has_named(&self) -> bool {
        match self {
            TypeRef::Shared(_) | TypeRef::Local(_) => true,
            TypeRef::Vec(inner) | TypeRef::Map(inner) => inner.has_named(),
            _ => false,
        }
    }

    /// The JSON kind a CLI should parse a `--set` value as.
    pub fn kind_name(&self) -> &'static str {
        match self {
            TypeRef::String | TypeRef::Media => "string",
            TypeRef::Integer => "integer",
            TypeRef::Number => "number",
            TypeRef::Boolean => "boolean",
            TypeRef::Vec(_) => "array",
            TypeRef::Map(_) => "object",
            TypeRef::Json | TypeRef::Shared(_) | TypeRef::Local(_) => "json",
        }
    }
}

/// A rule checked by the generated `validate()` before a paid call.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// `minimum` (with `exclusiveMinimum`).
    Minimum {
        /// The bound.
        value: f64,
        /// Whether the bound itself is excluded.
        exclusive: bool,
    },
    /// `maximum` (with `exclusiveMaximum`).
    Maximum {
        /// The bound.
        value: f64,
        /// Whether the bound itself is excluded.
        exclusive: bool,
    },
    /// `minLength`, in characters.
    MinLength(u64),
    /// `maxLength`, in characters.
    MaxLength(u64),
    /// `minItems`.
    MinItems(u64),
    /// `maxItems`.
    MaxItems(u64),
    /// `pattern` (ECMA regex, checked with the `regex` crate).
    Pattern(String),
    /// `format: uri`: an absolute URI.
    Uri,
}
