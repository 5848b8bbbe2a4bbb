//! Stage 3: OpenAPI schemas → the type IR.
//!
//! Inline schemas are named from their parent (`Parent` + `Field`); `$ref`s
//! name shared types. Every name goes through [`crate::naming`] and is checked
//! for collisions: two schemas never silently share one Rust name.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    AdditionalProperties, ObjectType, OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::error::{pointer_segment, CodegenError, Result};
use crate::ir::{
    Constraint, Field, Ir, ModelIr, Role, TaggedVariant, TypeDef, TypeKind, TypeRef,
    UntaggedVariant, Variant,
};
use crate::naming::{generated_type_name, snake_name, type_name, variant_name};

const SCHEMAS: &str = "#/components/schemas/";

/// A schema or a reference to one, whatever box it came in.
#[derive(Clone, Copy)]
enum Node<'a> {
    Ref(&'a str),
    Item(&'a Schema),
}

impl<'a> From<&'a ReferenceOr<Schema>> for Node<'a> {
    fn from(r: &'a ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => Node::Ref(reference),
            ReferenceOr::Item(s) => Node::Item(s),
        }
    }
}

impl<'a> From<&'a ReferenceOr<Box<Schema>>> for Node<'a> {
    fn from(r: &'a ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => Node::Ref(reference),
            ReferenceOr::Item(s) => Node::Item(s),
        }
    }
}

/// Where inline types land: the model's own module, or the shared module.
struct Scope {
    shared: bool,
    types: Vec<TypeDef>,
    names: BTreeMap<String, String>,
}

impl Scope {
    fn new(shared: bool) -> Self {
        Scope {
            shared,
            types: Vec::new(),
            names: BTreeMap::new(),
        }
    }

    fn claim(&mut self, name: &str, pointer: &str) -> Result<()> {
        if let Some(first) = self.names.get(name) {
            return Err(CodegenError::NameCollision {
                name: name.to_string(),
                first: first.clone(),
                second: pointer.to_string(),
            });
        }
        self.names.insert(name.to_string(), pointer.to_string());
        Ok(())
    }

    fn reference(&self, name: String) -> TypeRef {
        if self.shared {
            TypeRef::Shared(name)
        } else {
            TypeRef::Local(name)
        }
    }
}

/// Facts about one schema that a field records.
#[derive(Default)]
struct Facts {
    nullable: bool,
    description: Option<String>,
    title: Option<String>,
    default: Option<Value>,
    example: Option<Value>,
    format: Option<String>,
    constraints: Vec<Constraint>,
    allowed: Vec<Value>,
}

/// Converts the catalog's models and the component schemas into the IR.
pub fn build(openapi: &OpenAPI, openapi_json: &Value, catalog: &Catalog) -> Result<Ir> {
    let conv = Converter::new(openapi, openapi_json);
    let mut shared = Scope::new(true);
    let mut module_names: BTreeMap<String, String> = BTreeMap::new();
    let mut request_names: BTreeMap<String, String> = BTreeMap::new();
    let mut models = Vec::new();
    for endpoint in &catalog.endpoints {
        let model = conv.model(endpoint)?;
        if let Some(first) =
            module_names.insert(model.module.clone(), endpoint.docs_pointer.clone())
        {
            return Err(CodegenError::NameCollision {
                name: model.module,
                first,
                second: endpoint.docs_pointer.clone(),
            });
        }
        // Request structs are re-exported side by side from `models`, so they
        // must be unique too (`a/x-1` and `a/x1` differ as modules, not as types).
        if let Some(first) =
            request_names.insert(model.request.name.clone(), endpoint.docs_pointer.clone())
        {
            return Err(CodegenError::NameCollision {
                name: model.request.name,
                first,
                second: endpoint.docs_pointer.clone(),
            });
        }
        models.push(model);
    }
    for name in conv.shared_schema_names(&models) {
        let pointer = format!("{SCHEMAS}{}", pointer_segment(&name));
        let rust = generated_type_name(&name, "T");
        let Some(schema) = conv.component(&name) else {
            continue;
        };
        let role = if conv.request_reachable.contains(&name) {
            Role::Request
        } else {
            Role::Response
        };
        conv.named_def(schema, &rust, Some(&name), &pointer, role, &mut shared)?;
    }
    let mut shared_types = shared.types;
    shared_types.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Ir {
        models,
        shared: shared_types,
        poll_route: catalog.poll_route.clone(),
    })
}

struct Converter<'a> {
    openapi: &'a OpenAPI,
    json: &'a Value,
    /// Component names reachable from any request body.
    request_reachable: BTreeSet<String>,
}

impl<'a> Converter<'a> {
    fn new(openapi: &'a OpenAPI, json: &'a Value) -> Self {
        let mut request_reachable = BTreeSet::new();
        if let Some(paths) = json.get("paths").and_then(Value::as_object) {
            for item in paths.values() {
                if let Some(ops) = item.as_object() {
                    for op in ops.values() {
                        if let Some(body) = op.get("requestBody") {
                            reachable_refs(json, body, &mut request_reachable);
                        }
                    }
                }
            }
        }
        Converter {
            openapi,
            json,
            request_reachable,
        }
    }

    fn component(&self, name: &str) -> Option<&'a Schema> {
        let schemas = &self.openapi.components.as_ref()?.schemas;
        match schemas.get(name)? {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => {
                let target = reference.strip_prefix(SCHEMAS)?;
                match schemas.get(target)? {
                    ReferenceOr::Item(s) => Some(s),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    }

    /// Resolves a node to its schema, following `$ref` chains.
    fn resolve(&self, node: Node<'a>, pointer: &str) -> Result<(&'a Schema, Option<&'a str>)> {
        let mut node = node;
        for _ in 0..32 {
            match node {
                Node::Item(s) => return Ok((s, None)),
                Node::Ref(reference) => {
                    let name = reference.strip_prefix(SCHEMAS);
                    let target = name.and_then(|n| {
                        self.openapi
                            .components
                            .as_ref()
                            .and_then(|c| c.schemas.get(n))
                            .map(|t| (n, t))
                    });
                    match target {
                        Some((n, ReferenceOr::Item(s))) => return Ok((s, Some(n))),
                        Some((_, ReferenceOr::Reference { reference })) => {
                            node = Node::Ref(reference)
                        }
                        None => {
                            return Err(CodegenError::MissingRef {
                                pointer: pointer.to_string(),
                                reference: reference.to_string(),
                            })
                        }
                    }
                }
            }
        }
        Err(CodegenError::Unsupported {
            pointer: pointer.to_string(),
            what: "a $ref chain longer than 32 links".into(),
            hint: "point the reference at the schema itself".into(),
        })
    }

    /// Names of components to emit in the shared module: every component
    /// except those used only as a model's top-level request body.
    fn shared_schema_names(&self, models: &[ModelIr]) -> Vec<String> {
        let Some(components) = self.openapi.components.as_ref() else {
            return Vec::new();
        };
        let mut referenced_elsewhere = BTreeSet::new();
        collect_refs_outside_bodies(self.json, false, &mut referenced_elsewhere);
        let bodies: BTreeSet<&str> = models.iter().map(|m| m.schema_name.as_str()).collect();
        // A workflow of a tagged request is that model's local type, even
        // though the request component refers to it.
        let workflows: BTreeSet<&str> = models
            .iter()
            .flat_map(|m| match &m.request.kind {
                TypeKind::Tagged { variants, .. } => {
                    variants.iter().map(|v| v.schema_name.as_str()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        let mut names: Vec<String> = components
            .schemas
            .keys()
            .filter(|n| !workflows.contains(n.as_str()))
            .filter(|n| !bodies.contains(n.as_str()) || referenced_elsewhere.contains(n.as_str()))
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn model(&self, endpoint: &crate::catalog::Endpoint) -> Result<ModelIr> {
        let op =
            crate::catalog::post_operation(self.openapi, &endpoint.spec_path).ok_or_else(|| {
                CodegenError::MissingOperation {
                    pointer: endpoint.docs_pointer.clone(),
                    page: endpoint.spec_path.clone(),
                }
            })?;
        let op_pointer = format!("#/paths/{}/post", pointer_segment(&endpoint.spec_path));
        let body = match &op.request_body {
            Some(ReferenceOr::Item(body)) => body,
            Some(ReferenceOr::Reference { reference }) => {
                return Err(CodegenError::Unsupported {
                    pointer: format!("{op_pointer}/requestBody"),
                    what: format!("a requestBody $ref ({reference})"),
                    hint: "inline the requestBody and $ref its schema instead".into(),
                })
            }
            None => {
                return Err(CodegenError::InvalidOperation {
                    pointer: op_pointer,
                    message:
                        "the operation has no requestBody; every model route takes a JSON body"
                            .into(),
                })
            }
        };
        let body_pointer = format!("{op_pointer}/requestBody/content/application~1json/schema");
        let schema_ref = body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
            .ok_or_else(|| CodegenError::InvalidOperation {
                pointer: format!("{op_pointer}/requestBody"),
                message: "no application/json schema; declare the request body's JSON schema"
                    .into(),
            })?;
        let (schema, name) = self.resolve(schema_ref.into(), &body_pointer)?;
        let schema_pointer = match name {
            Some(n) => format!("{SCHEMAS}{}", pointer_segment(n)),
            None => body_pointer.clone(),
        };
        let struct_name = format!("{}Request", type_name(&endpoint.id, "M"));
        let module = snake_name(&endpoint.id, "m_");
        let mut scope = Scope::new(false);
        scope.claim(&struct_name, &schema_pointer)?;
        let kind = match self.tagged_request(schema, &struct_name, &schema_pointer, &mut scope)? {
            Some(kind) => kind,
            None => {
                let object = object_of(schema).ok_or_else(|| CodegenError::Unsupported {
                    pointer: schema_pointer.clone(),
                    what: "a request body that is not an object".into(),
                    hint: "model request bodies must be JSON objects with properties, or a `oneOf` of them with a `discriminator`".into(),
                })?;
                let fields =
                    self.fields(object, None, "", &schema_pointer, Role::Request, &mut scope)?;
                TypeKind::Struct {
                    fields,
                    open: is_open(object),
                }
            }
        };
        let request = TypeDef {
            name: struct_name,
            wire_name: name.map(str::to_string),
            docs: docs_of(schema),
            pointer: schema_pointer.clone(),
            role: Role::Request,
            kind,
        };
        let schema_json = json_at(self.json, &schema_pointer)
            .map(|s| crate::inline::inline_refs(s, self.json))
            .unwrap_or(Value::Null);
        let (provider, model) = endpoint
            .id
            .split_once('/')
            .unwrap_or((endpoint.id.as_str(), ""));
        Ok(ModelIr {
            id: endpoint.id.clone(),
            provider: provider.to_string(),
            model: model.to_string(),
            category: endpoint.category,
            function: module.clone(),
            module,
            summary: op.summary.clone().unwrap_or_default(),
            // What the model is: the request schema's prose, not the route's
            // ("Creates the job and returns its id…" belongs to the route).
            description: schema
                .schema_data
                .description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .or_else(|| op.summary.clone())
                .unwrap_or_default(),
            error_statuses: {
                let mut codes: Vec<u16> = op
                    .responses
                    .responses
                    .keys()
                    .filter_map(|k| match k {
                        openapiv3::StatusCode::Code(c) if *c >= 400 => Some(*c),
                        _ => None,
                    })
                    .collect();
                codes.sort_unstable();
                codes
            },
            create_route: endpoint.create_route.clone(),
            sse_route: endpoint.sse_route.clone(),
            schema_name: name.unwrap_or(&request.name).to_string(),
            schema_json,
            request,
            local_types: scope.types,
        })
    }

    /// A request body that is a `oneOf` of objects with a `discriminator`
    /// (one workflow per member): each member becomes a local struct without
    /// the tag property, named `{Request}` minus `Request` plus the tag value.
    fn tagged_request(
        &self,
        schema: &'a Schema,
        request_name: &str,
        pointer: &str,
        scope: &mut Scope,
    ) -> Result<Option<TypeKind>> {
        let Some(discriminator) = &schema.schema_data.discriminator else {
            return Ok(None);
        };
        let tag = discriminator.property_name.clone();
        let members =
            match &schema.schema_kind {
                SchemaKind::OneOf { one_of } => one_of,
                _ => return Err(CodegenError::Unsupported {
                    pointer: pointer.to_string(),
                    what: "a `discriminator` outside a `oneOf`".into(),
                    hint:
                        "write a request with workflows as `oneOf` of `$ref`s plus `discriminator`"
                            .into(),
                }),
            };
        let base = request_name.strip_suffix("Request").unwrap_or(request_name);
        let mut variants = Vec::new();
        for (i, member) in members.iter().enumerate() {
            let member_pointer = format!("{pointer}/oneOf/{i}");
            let (member_schema, member_name) = self.resolve(member.into(), &member_pointer)?;
            let member_pointer = match member_name {
                Some(n) => format!("{SCHEMAS}{}", pointer_segment(n)),
                None => member_pointer,
            };
            let object = object_of(member_schema).ok_or_else(|| CodegenError::Unsupported {
                pointer: member_pointer.clone(),
                what: "a workflow that is not an object".into(),
                hint: "each `oneOf` member of a discriminated request must be an object".into(),
            })?;
            let tag_schema =
                object
                    .properties
                    .get(&tag)
                    .ok_or_else(|| CodegenError::InvalidOperation {
                        pointer: member_pointer.clone(),
                        message: format!(
                            "the workflow has no `{tag}` property, which the discriminator names"
                        ),
                    })?;
            let (tag_schema, _) = self.resolve(tag_schema.into(), &member_pointer)?;
            let wire = match enum_values(tag_schema).as_deref() {
                Some([Value::String(v)]) => v.clone(),
                _ => {
                    return Err(CodegenError::InvalidOperation {
                        pointer: format!("{member_pointer}/properties/{}", pointer_segment(&tag)),
                        message: format!("`{tag}` must have exactly one string value (an `enum` of one or a `const`) in each workflow"),
                    })
                }
            };
            if !object.required.iter().any(|r| r == &tag) {
                return Err(CodegenError::InvalidOperation {
                    pointer: member_pointer.clone(),
                    message: format!("`{tag}` must be listed in `required` of each workflow"),
                });
            }
            let rust = variant_name(&wire);
            let ty = format!("{base}{rust}");
            scope.claim(&ty, &member_pointer)?;
            let fields = self.fields(
                object,
                Some(&tag),
                &ty,
                &member_pointer,
                Role::Request,
                scope,
            )?;
            let mut docs = docs_of(member_schema);
            if docs.is_empty() {
                docs.push(format!("The `{wire}` workflow."));
            }
            scope.types.push(TypeDef {
                name: ty.clone(),
                wire_name: member_name.map(str::to_string),
                docs,
                pointer: member_pointer.clone(),
                role: Role::Request,
                kind: TypeKind::Struct {
                    fields,
                    open: is_open(object),
                },
            });
            if variants.iter().any(|v: &TaggedVariant| v.wire == wire) {
                return Err(CodegenError::InvalidOperation {
                    pointer: member_pointer,
                    message: format!("two workflows share `{tag}` = `{wire}`"),
                });
            }
            variants.push(TaggedVariant {
                wire,
                rust,
                ty,
                schema_name: member_name.unwrap_or_default().to_string(),
            });
        }
        Ok(Some(TypeKind::Tagged { tag, variants }))
    }

    /// Defines a named type for a schema (a component, or an inline schema given a name).
    fn named_def(
        &self,
        schema: &'a Schema,
        name: &str,
        wire_name: Option<&str>,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<TypeRef> {
        scope.claim(name, pointer)?;
        let kind = self.kind_of(schema, name, pointer, role, scope)?;
        scope.types.push(TypeDef {
            name: name.to_string(),
            wire_name: wire_name.map(str::to_string),
            docs: docs_of(schema),
            pointer: pointer.to_string(),
            role,
            kind,
        });
        Ok(scope.reference(name.to_string()))
    }

    fn kind_of(
        &self,
        schema: &'a Schema,
        name: &str,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<TypeKind> {
        if let Some(values) = enum_values(schema) {
            return Ok(TypeKind::Enum {
                variants: variants_for(&values),
            });
        }
        if let Some(object) = object_of(schema) {
            if !object.properties.is_empty() {
                let fields = self.fields(object, None, name, pointer, role, scope)?;
                return Ok(TypeKind::Struct {
                    fields,
                    open: is_open(object),
                });
            }
        }
        if let Some(members) = union_members(schema) {
            if members.len() > 1 {
                let mut variants = Vec::new();
                for (i, member) in members.iter().enumerate() {
                    let member_pointer = format!("{pointer}/{}/{i}", union_key(schema));
                    let node: Node = member.into();
                    let ty = self.type_ref(
                        node,
                        &format!("{name}Variant{i}"),
                        &member_pointer,
                        role,
                        scope,
                    )?;
                    variants.push(UntaggedVariant {
                        rust: untagged_variant_name(name, &ty),
                        ty,
                    });
                }
                dedupe_names(variants.iter_mut().map(|v| &mut v.rust));
                return Ok(TypeKind::Untagged { variants });
            }
        }
        Ok(TypeKind::Alias(
            self.inline_type(schema, name, pointer, role, scope)?,
        ))
    }

    fn fields(
        &self,
        object: &'a ObjectType,
        skip: Option<&str>,
        prefix: &str,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<Vec<Field>> {
        let mut fields = Vec::new();
        let mut rust_names: BTreeMap<String, String> = BTreeMap::new();
        for (wire, prop) in &object.properties {
            if skip == Some(wire.as_str()) {
                continue;
            }
            let prop_pointer = format!("{pointer}/properties/{}", pointer_segment(wire));
            let rust = snake_name(wire, "f_");
            if let Some(first) = rust_names.insert(rust.clone(), prop_pointer.clone()) {
                return Err(CodegenError::NameCollision {
                    name: rust,
                    first,
                    second: prop_pointer,
                });
            }
            let node: Node = prop.into();
            let hint = generated_type_name(&format!("{prefix}{}", type_name(wire, "T")), "T");
            let ty = self.type_ref(node, &hint, &prop_pointer, role, scope)?;
            let facts = self.facts(node, &prop_pointer)?;
            let item_constraints = match &ty {
                TypeRef::Vec(_) => self.item_facts(node, &prop_pointer)?.constraints,
                _ => Vec::new(),
            };
            let mut docs = Vec::new();
            if let Some(title) = &facts.title {
                if facts.description.is_none() {
                    docs.push(title.clone());
                }
            }
            if let Some(d) = &facts.description {
                docs.extend(d.lines().map(str::to_string));
            }
            fields.push(Field {
                wire: wire.clone(),
                rust,
                ty,
                required: object.required.iter().any(|r| r == wire),
                nullable: facts.nullable,
                docs,
                constraints: facts.constraints,
                item_constraints,
                default: facts.default,
                example: facts.example,
                allowed: facts.allowed,
                format: facts.format,
                description: facts.description.unwrap_or_default(),
            });
        }
        Ok(fields)
    }

    /// The type of a property or item: a `$ref` names a shared type, an
    /// inline schema is converted in place (named from `hint` if it needs a name).
    fn type_ref(
        &self,
        node: Node<'a>,
        hint: &str,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<TypeRef> {
        match node {
            Node::Ref(_) => {
                let (schema, name) = self.resolve(node, pointer)?;
                match name {
                    Some(n) if is_plain_scalar(schema) => {
                        self.inline_type(schema, &generated_type_name(n, "T"), pointer, role, scope)
                    }
                    Some(n) => Ok(TypeRef::Shared(generated_type_name(n, "T"))),
                    None => self.inline_type(schema, hint, pointer, role, scope),
                }
            }
            Node::Item(schema) => self.inline_type(schema, hint, pointer, role, scope),
        }
    }

    fn inline_type(
        &self,
        schema: &'a Schema,
        hint: &str,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<TypeRef> {
        if enum_values(schema).is_some() {
            return self.named_def(schema, hint, None, pointer, role, scope);
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => Ok(match &s.format {
                VariantOrUnknownOrEmpty::Unknown(f)
                    if role == Role::Request && (f == "uri" || f == "url") =>
                {
                    TypeRef::Media
                }
                _ => TypeRef::String,
            }),
            SchemaKind::Type(Type::Integer(_)) => Ok(TypeRef::Integer),
            SchemaKind::Type(Type::Number(_)) => Ok(TypeRef::Number),
            SchemaKind::Type(Type::Boolean(_)) => Ok(TypeRef::Boolean),
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => {
                    let item = self.type_ref(
                        items.into(),
                        &format!("{hint}Item"),
                        &format!("{pointer}/items"),
                        role,
                        scope,
                    )?;
                    Ok(TypeRef::Vec(Box::new(item)))
                }
                None => Ok(TypeRef::Vec(Box::new(TypeRef::Json))),
            },
            SchemaKind::Type(Type::Object(o)) => {
                self.object_type(schema, o, hint, pointer, role, scope)
            }
            SchemaKind::OneOf { one_of: m }
            | SchemaKind::AnyOf { any_of: m }
            | SchemaKind::AllOf { all_of: m }
                if m.len() == 1 =>
            {
                let key = union_key(schema);
                self.type_ref(
                    (&m[0]).into(),
                    hint,
                    &format!("{pointer}/{key}/0"),
                    role,
                    scope,
                )
            }
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => {
                self.named_def(schema, hint, None, pointer, role, scope)
            }
            SchemaKind::AllOf { all_of } => Err(CodegenError::Unsupported {
                pointer: format!("{pointer}/allOf"),
                what: format!("allOf with {} members", all_of.len()),
                hint: "merge the members into one object schema".into(),
            }),
            SchemaKind::Not { .. } => Err(CodegenError::Unsupported {
                pointer: format!("{pointer}/not"),
                what: "`not`".into(),
                hint: "describe the allowed values positively (enum, pattern, bounds)".into(),
            }),
            SchemaKind::Any(any) => {
                if !any.properties.is_empty() {
                    return self.named_def(schema, hint, None, pointer, role, scope);
                }
                if !any.one_of.is_empty() || !any.any_of.is_empty() {
                    return self.named_def(schema, hint, None, pointer, role, scope);
                }
                match any.typ.as_deref() {
                    Some("string") => Ok(TypeRef::String),
                    Some("integer") => Ok(TypeRef::Integer),
                    Some("number") => Ok(TypeRef::Number),
                    Some("boolean") => Ok(TypeRef::Boolean),
                    Some("array") => match &any.items {
                        Some(items) => Ok(TypeRef::Vec(Box::new(self.type_ref(
                            items.into(),
                            &format!("{hint}Item"),
                            &format!("{pointer}/items"),
                            role,
                            scope,
                        )?))),
                        None => Ok(TypeRef::Vec(Box::new(TypeRef::Json))),
                    },
                    _ => Ok(TypeRef::Json),
                }
            }
        }
    }

    fn object_type(
        &self,
        schema: &'a Schema,
        object: &'a ObjectType,
        hint: &str,
        pointer: &str,
        role: Role,
        scope: &mut Scope,
    ) -> Result<TypeRef> {
        if !object.properties.is_empty() {
            return self.named_def(schema, hint, None, pointer, role, scope);
        }
        match &object.additional_properties {
            Some(AdditionalProperties::Schema(inner)) => {
                let node: Node = inner.as_ref().into();
                let value = self.type_ref(
                    node,
                    &format!("{hint}Value"),
                    &format!("{pointer}/additionalProperties"),
                    role,
                    scope,
                )?;
                Ok(TypeRef::Map(Box::new(value)))
            }
            _ => Ok(TypeRef::Json),
        }
    }

    /// Facts of a property: its own annotations first, then those of what it refers to.
    fn facts(&self, node: Node<'a>, pointer: &str) -> Result<Facts> {
        let (schema, _) = self.resolve(node, pointer)?;
        let mut facts = schema_facts(schema);
        // A single-member allOf/anyOf/oneOf wrapper (a nullable $ref): take the member's rules.
        if let Some(members) = union_members(schema).filter(|m| m.len() == 1) {
            let (inner, _) = self.resolve((&members[0]).into(), pointer)?;
            let inner_facts = schema_facts(inner);
            facts.nullable |= inner_facts.nullable;
            facts.description = facts.description.or(inner_facts.description);
            facts.title = facts.title.or(inner_facts.title);
            facts.default = facts.default.or(inner_facts.default);
            facts.example = facts.example.or(inner_facts.example);
            facts.format = facts.format.or(inner_facts.format);
            if facts.constraints.is_empty() {
                facts.constraints = inner_facts.constraints;
            }
            if facts.allowed.is_empty() {
                facts.allowed = inner_facts.allowed;
            }
        }
        Ok(facts)
    }

    fn item_facts(&self, node: Node<'a>, pointer: &str) -> Result<Facts> {
        let (schema, _) = self.resolve(node, pointer)?;
        let items = match &schema.schema_kind {
            SchemaKind::Type(Type::Array(a)) => a.items.as_ref(),
            SchemaKind::Any(a) => a.items.as_ref(),
            _ => None,
        };
        match items {
            Some(items) => self.facts(items.into(), &format!("{pointer}/items")),
            None => Ok(Facts::default()),
        }
    }
}

/// Whether an object takes keys beyond its `properties` (`additionalProperties: true` or a schema).
fn is_open(object: &ObjectType) -> bool {
    matches!(
        object.additional_properties,
        Some(AdditionalProperties::Any(true)) | Some(AdditionalProperties::Schema(_))
    )
}

fn object_of(schema: &Schema) -> Option<&ObjectType> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => Some(o),
        _ => None,
    }
}

fn union_members(schema: &Schema) -> Option<&Vec<ReferenceOr<Schema>>> {
    match &schema.schema_kind {
        SchemaKind::OneOf { one_of: m }
        | SchemaKind::AnyOf { any_of: m }
        | SchemaKind::AllOf { all_of: m } => Some(m),
        SchemaKind::Any(a) if !a.one_of.is_empty() => Some(&a.one_of),
        SchemaKind::Any(a) if !a.any_of.is_empty() => Some(&a.any_of),
        _ => None,
    }
}

fn union_key(schema: &Schema) -> &'static str {
    match &schema.schema_kind {
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::AllOf { .. } => "allOf",
        SchemaKind::Any(a) if a.one_of.is_empty() && !a.any_of.is_empty() => "anyOf",
        _ => "oneOf",
    }
}

/// A referenced component that is only a scalar (no enum) is inlined as that scalar.
fn is_plain_scalar(schema: &Schema) -> bool {
    enum_values(schema).is_none()
        && matches!(
            schema.schema_kind,
            SchemaKind::Type(
                Type::String(_) | Type::Integer(_) | Type::Number(_) | Type::Boolean(_)
            )
        )
}

/// The literal values of an enum schema (nulls dropped), if it is one.
/// A number enum value as the spec most likely wrote it: `openapiv3` reads
/// every `number` as `f64`, so a whole value (`1`) goes back to an integer
/// (sent as `1`, variant `V1`) instead of `1.0`.
fn number_literal(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

fn enum_values(schema: &Schema) -> Option<Vec<Value>> {
    let values: Vec<Value> = match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => s
            .enumeration
            .iter()
            .flatten()
            .map(|v| Value::from(v.as_str()))
            .collect(),
        SchemaKind::Type(Type::Integer(i)) => i
            .enumeration
            .iter()
            .flatten()
            .map(|v| Value::from(*v))
            .collect(),
        SchemaKind::Type(Type::Number(n)) => n
            .enumeration
            .iter()
            .flatten()
            .map(|v| number_literal(*v))
            .collect(),
        SchemaKind::Any(a) => a
            .enumeration
            .iter()
            .filter(|v| !v.is_null())
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    (!values.is_empty()).then_some(values)
}

fn literal_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn variants_for(values: &[Value]) -> Vec<Variant> {
    let mut variants: Vec<Variant> = values
        .iter()
        .map(|v| Variant {
            rust: variant_name(&literal_text(v)),
            wire: v.clone(),
        })
        .collect();
    dedupe_names(variants.iter_mut().map(|v| &mut v.rust));
    variants
}

/// Makes names unique in order: the second `X` becomes `X2`, and so on.
fn dedupe_names<'n>(names: impl Iterator<Item = &'n mut String>) {
    let mut seen = BTreeSet::new();
    for name in names {
        let base = name.clone();
        let mut n = 2;
        while !seen.insert(name.clone()) {
            *name = format!("{base}{n}");
            n += 1;
        }
    }
}

fn untagged_variant_name(parent: &str, ty: &TypeRef) -> String {
    match ty {
        TypeRef::Shared(n) | TypeRef::Local(n) => {
            let short = n.strip_prefix(parent).unwrap_or(n);
            if short.is_empty() || short.starts_with(|c: char| c.is_ascii_digit()) {
                n.clone()
            } else {
                short.to_string()
            }
        }
        TypeRef::String => "String".into(),
        TypeRef::Media => "Media".into(),
        TypeRef::Integer => "Integer".into(),
        TypeRef::Number => "Number".into(),
        TypeRef::Boolean => "Boolean".into(),
        TypeRef::Json => "Json".into(),
        TypeRef::Vec(_) => "List".into(),
        TypeRef::Map(_) => "Map".into(),
    }
}

fn docs_of(schema: &Schema) -> Vec<String> {
    let d = &schema.schema_data;
    let mut docs = Vec::new();
    if let Some(t) = &d.title {
        if d.description.is_none() {
            docs.push(t.clone());
        }
    }
    if let Some(desc) = &d.description {
        docs.extend(desc.lines().map(str::to_string));
    }
    docs
}

fn schema_facts(schema: &Schema) -> Facts {
    let d = &schema.schema_data;
    let mut facts = Facts {
        nullable: d.nullable,
        description: d.description.clone(),
        title: d.title.clone(),
        default: d.default.clone(),
        example: d.example.clone(),
        ..Facts::default()
    };
    if let Some(values) = enum_values(schema) {
        facts.allowed = values;
    }
    let c = &mut facts.constraints;
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            if let Some(n) = s.min_length {
                c.push(Constraint::MinLength(n as u64));
            }
            if let Some(n) = s.max_length {
                c.push(Constraint::MaxLength(n as u64));
            }
            if let Some(p) = &s.pattern {
                c.push(Constraint::Pattern(p.clone()));
            }
            match &s.format {
                VariantOrUnknownOrEmpty::Unknown(f) => {
                    if f == "uri" || f == "url" {
                        c.push(Constraint::Uri);
                    }
                    facts.format = Some(f.clone());
                }
                VariantOrUnknownOrEmpty::Item(f) => {
                    facts.format = Some(
                        match f {
                            StringFormat::Date => "date",
                            StringFormat::DateTime => "date-time",
                            StringFormat::Password => "password",
                            StringFormat::Byte => "byte",
                            StringFormat::Binary => "binary",
                        }
                        .to_string(),
                    )
                }
                VariantOrUnknownOrEmpty::Empty => {}
            }
        }
        SchemaKind::Type(Type::Integer(i)) => {
            if let Some(m) = i.minimum {
                c.push(Constraint::Minimum {
                    value: m as f64,
                    exclusive: i.exclusive_minimum,
                });
            }
            if let Some(m) = i.maximum {
                c.push(Constraint::Maximum {
                    value: m as f64,
                    exclusive: i.exclusive_maximum,
                });
            }
        }
        SchemaKind::Type(Type::Number(n)) => {
            if let Some(m) = n.minimum {
                c.push(Constraint::Minimum {
                    value: m,
                    exclusive: n.exclusive_minimum,
                });
            }
            if let Some(m) = n.maximum {
                c.push(Constraint::Maximum {
                    value: m,
                    exclusive: n.exclusive_maximum,
                });
            }
        }
        SchemaKind::Type(Type::Array(a)) => {
            if let Some(n) = a.min_items {
                c.push(Constraint::MinItems(n as u64));
            }
            if let Some(n) = a.max_items {
                c.push(Constraint::MaxItems(n as u64));
            }
        }
        SchemaKind::Any(a) => {
            if let Some(m) = a.minimum {
                c.push(Constraint::Minimum {
                    value: m,
                    exclusive: a.exclusive_minimum.unwrap_or(false),
                });
            }
            if let Some(m) = a.maximum {
                c.push(Constraint::Maximum {
                    value: m,
                    exclusive: a.exclusive_maximum.unwrap_or(false),
                });
            }
            if let Some(n) = a.min_length {
                c.push(Constraint::MinLength(n as u64));
            }
            if let Some(n) = a.max_length {
                c.push(Constraint::MaxLength(n as u64));
            }
            if let Some(n) = a.min_items {
                c.push(Constraint::MinItems(n as u64));
            }
            if let Some(n) = a.max_items {
                c.push(Constraint::MaxItems(n as u64));
            }
            if let Some(p) = &a.pattern {
                c.push(Constraint::Pattern(p.clone()));
            }
            if let Some(f) = &a.format {
                if f == "uri" || f == "url" {
                    c.push(Constraint::Uri);
                }
                facts.format = Some(f.clone());
            }
        }
        _ => {}
    }
    facts
}

/// The JSON value at a `#/...` pointer.
fn json_at<'v>(doc: &'v Value, pointer: &str) -> Option<&'v Value> {
    doc.pointer(pointer.strip_prefix('#').unwrap_or(pointer))
}

/// Adds every component name reachable (through `$ref`s) from `value`.
fn reachable_refs(doc: &Value, value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS))
            {
                if out.insert(name.to_string()) {
                    if let Some(target) =
                        json_at(doc, &format!("{SCHEMAS}{}", pointer_segment(name)))
                    {
                        reachable_refs(doc, target, out);
                    }
                }
            }
            map.values().for_each(|v| reachable_refs(doc, v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| reachable_refs(doc, v, out)),
        _ => {}
    }
}

/// Component names referenced anywhere except directly as a request body schema.
fn collect_refs_outside_bodies(value: &Value, is_body_schema: bool, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if !is_body_schema {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(SCHEMAS))
                {
                    out.insert(name.to_string());
                }
            }
            for (key, child) in map {
                if key == "requestBody" {
                    let schemas = child
                        .get("content")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flat_map(|c| c.values())
                        .filter_map(|media| media.get("schema"));
                    for schema in schemas {
                        collect_refs_outside_bodies(schema, true, out);
                    }
                } else {
                    collect_refs_outside_bodies(child, false, out);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_refs_outside_bodies(v, false, out)),
        _ => {}
    }
}
