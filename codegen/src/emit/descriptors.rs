//! Each model's `MODEL` descriptor: routes, field metadata, workflows and
//! error statuses, for tools that build requests at run time (CLI, MCP).

use super::*;

pub(super) fn descriptor(m: &ModelIr) -> TokenStream {
    let name = ident(&m.request.name);
    let id = &m.id;
    let provider = &m.provider;
    let model = &m.model;
    let category = match m.category {
        Category::Images => quote!(crate::model::Category::Images),
        Category::Videos => quote!(crate::model::Category::Videos),
    };
    let summary = &m.summary;
    let description = &m.description;
    let create = opt_str(m.create_route.as_deref());
    let sse = opt_str(m.sse_route.as_deref());
    let schema_name = &m.schema_name;
    let schema_json = serde_json::to_string(&m.schema_json).unwrap_or_default();
    let (fields, discriminator, workflows) = descriptor_fields(m);
    let error_statuses = m.error_statuses.iter().map(|c| Literal::u16_unsuffixed(*c));
    let doc = format!(" Routes and field metadata of `{id}`.");
    quote! {
        #[doc = #doc]
        pub static MODEL: crate::model::ModelDescriptor = crate::model::ModelDescriptor {
            id: #id,
            provider: #provider,
            model: #model,
            category: #category,
            summary: #summary,
            description: #description,
            create_route: #create,
            sse_route: #sse,
            poll_route: super::super::catalog::POLL_ROUTE,
            request_schema: #schema_name,
            request_schema_json: #schema_json,
            fields: &[#(#fields),*],
            error_statuses: &[#(#error_statuses),*],
            discriminator: #discriminator,
            workflows: &[#(#workflows),*],
            check_json: crate::model::check_json::<#name>,
        };
    }
}

/// The descriptor's field list, and for a tagged request its tag and the
/// fields of each workflow. A tagged request lists its tag first (required,
/// its values the workflows), then every workflow's fields once, none
/// required: which are required depends on the workflow.
pub(super) fn descriptor_fields(m: &ModelIr) -> (Vec<TokenStream>, TokenStream, Vec<TokenStream>) {
    match &m.request.kind {
        TypeKind::Struct { fields, .. } => (
            fields.iter().map(field_info).collect(),
            quote!(::std::option::Option::None),
            Vec::new(),
        ),
        TypeKind::Tagged { tag, variants } => {
            let structs: Vec<(&crate::ir::TaggedVariant, &[Field], &TypeDef)> = variants
                .iter()
                .filter_map(|v| {
                    let def = m.local_types.iter().find(|t| t.name == v.ty)?;
                    match &def.kind {
                        TypeKind::Struct { fields, .. } => Some((v, fields.as_slice(), def)),
                        _ => None,
                    }
                })
                .collect();
            let tag_field = Field {
                wire: tag.clone(),
                rust: tag.clone(),
                ty: TypeRef::String,
                required: true,
                nullable: false,
                docs: Vec::new(),
                constraints: Vec::new(),
                item_constraints: Vec::new(),
                default: None,
                example: None,
                allowed: variants
                    .iter()
                    .map(|v| Value::from(v.wire.as_str()))
                    .collect(),
                format: None,
                description: format!(
                    "Selects the workflow; each has its own fields ({}).",
                    variants
                        .iter()
                        .map(|v| v.wire.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let mut union = vec![field_info(&tag_field)];
            let mut seen: Vec<&str> = Vec::new();
            for (_, fields, _) in &structs {
                for f in fields.iter() {
                    if !seen.contains(&f.wire.as_str()) {
                        seen.push(&f.wire);
                        let mut loose = f.clone();
                        loose.required = false;
                        union.push(field_info(&loose));
                    }
                }
            }
            let workflows = structs
                .iter()
                .map(|(v, fields, def)| {
                    let value = &v.wire;
                    let schema = &v.schema_name;
                    let summary = def.docs.first().cloned().unwrap_or_default();
                    let infos = fields.iter().map(field_info);
                    quote! {
                        crate::model::WorkflowInfo {
                            value: #value,
                            schema: #schema,
                            summary: #summary,
                            fields: &[#(#infos),*],
                        }
                    }
                })
                .collect();
            (union, quote!(::std::option::Option::Some(#tag)), workflows)
        }
        _ => (Vec::new(), quote!(::std::option::Option::None), Vec::new()),
    }
}

pub(super) fn field_kind(f: &Field) -> TokenStream {
    let from_allowed = f.allowed.first().map(|v| match v {
        Value::String(_) => "String",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Number",
        Value::Number(_) => "Integer",
        _ => "Json",
    });
    let kind = from_allowed.unwrap_or(match &f.ty {
        TypeRef::String | TypeRef::Media => "String",
        TypeRef::Integer => "Integer",
        TypeRef::Number => "Number",
        TypeRef::Boolean => "Boolean",
        TypeRef::Vec(_) => "Array",
        TypeRef::Map(_) => "Object",
        TypeRef::Json | TypeRef::Shared(_) | TypeRef::Local(_) => "Json",
    });
    let kind = ident(kind);
    quote!(crate::model::FieldKind::#kind)
}

pub(super) fn field_info(f: &Field) -> TokenStream {
    let name = &f.wire;
    let required = f.required;
    let nullable = f.nullable;
    let kind = field_kind(f);
    let description = &f.description;
    let default = json_text(&f.default);
    let example = json_text(&f.example);
    let allowed = f.allowed.iter().map(|v| v.to_string());
    let format = opt_str(f.format.as_deref());
    let some_f64 = |v: Option<f64>| match v {
        Some(v) => {
            let lit = Literal::f64_suffixed(v.abs());
            if v < 0.0 {
                quote!(::std::option::Option::Some(-#lit))
            } else {
                quote!(::std::option::Option::Some(#lit))
            }
        }
        None => quote!(::std::option::Option::None),
    };
    let some_u64 = |v: Option<u64>| match v {
        Some(v) => {
            let v = Literal::u64_unsuffixed(v);
            quote!(::std::option::Option::Some(#v))
        }
        None => quote!(::std::option::Option::None),
    };
    let find_f64 = |min: bool| {
        f.constraints.iter().find_map(|c| match (c, min) {
            (Constraint::Minimum { value, .. }, true)
            | (Constraint::Maximum { value, .. }, false) => Some(*value),
            _ => None,
        })
    };
    let find_u64 = |min: bool| {
        f.constraints.iter().find_map(|c| match (c, min) {
            (Constraint::MinItems(n) | Constraint::MinLength(n), true)
            | (Constraint::MaxItems(n) | Constraint::MaxLength(n), false) => Some(*n),
            _ => None,
        })
    };
    let (minimum, maximum) = (some_f64(find_f64(true)), some_f64(find_f64(false)));
    let (min_length, max_length) = (some_u64(find_u64(true)), some_u64(find_u64(false)));
    quote! {
        crate::model::FieldInfo {
            name: #name,
            required: #required,
            nullable: #nullable,
            kind: #kind,
            description: #description,
            default_json: #default,
            example_json: #example,
            allowed_values_json: &[#(#allowed),*],
            format: #format,
            minimum: #minimum,
            maximum: #maximum,
            min_length: #min_length,
            max_length: #max_length,
        }
    }
}
