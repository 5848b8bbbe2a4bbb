//! Each model's `MODEL` descriptor: routes, field metadata, workflows and
//! error statuses, for tools that build requests at run time (CLI, MCP).

use super::*;

// The descriptor as text. It is plain data (string, number and path
// literals in struct literals), about half of each model file, and the
// dearest part to parse with `syn`; it is written directly in
// prettyplease's layout (four-space indents, one field per line, trailing
// commas), except that no line is wrapped at 100 columns. Literals are
// spelled by `proc_macro2::Literal`, as the token path spells them.

fn lit_str(s: &str) -> String {
    Literal::string(s).to_string()
}

fn opt_lit_str(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("Some({})", lit_str(s)),
        None => "None".into(),
    }
}

fn opt_json_text(v: &Option<Value>) -> String {
    opt_lit_str(v.as_ref().map(Value::to_string).as_deref())
}

/// One line at an indent of `level` × 4 spaces.
fn line(out: &mut String, level: usize, text: &str) {
    for _ in 0..level {
        out.push_str("    ");
    }
    out.push_str(text);
    out.push('\n');
}

/// A `&[..]` of struct literals, one per entry, at `level` (the field's indent).
fn list(out: &mut String, level: usize, name: &str, items: &[String]) {
    if items.is_empty() {
        line(out, level, &format!("{name}: &[],"));
        return;
    }
    line(out, level, &format!("{name}: &["));
    for item in items {
        out.push_str(item);
    }
    line(out, level, "],");
}

/// The `MODEL` static of one model, formatted.
pub(super) fn descriptor_text(m: &ModelIr) -> String {
    let mut out = String::with_capacity(16 * 1024);
    line(
        &mut out,
        0,
        &format!("/// Routes and field metadata of `{}`.", m.id),
    );
    line(
        &mut out,
        0,
        "pub static MODEL: crate::model::ModelDescriptor = crate::model::ModelDescriptor {",
    );
    let category = match m.category {
        Category::Images => "Images",
        Category::Videos => "Videos",
    };
    let schema_json = serde_json::to_string(&m.schema_json).unwrap_or_default();
    for (name, value) in [
        ("id", lit_str(&m.id)),
        ("provider", lit_str(&m.provider)),
        ("model", lit_str(&m.model)),
        ("category", format!("crate::model::Category::{category}")),
        ("summary", lit_str(&m.summary)),
        ("description", lit_str(&m.description)),
        ("create_route", opt_lit_str(m.create_route.as_deref())),
        ("sse_route", opt_lit_str(m.sse_route.as_deref())),
        ("poll_route", "super::super::catalog::POLL_ROUTE".into()),
        ("request_schema", lit_str(&m.schema_name)),
        ("request_schema_json", lit_str(&schema_json)),
    ] {
        line(&mut out, 1, &format!("{name}: {value},"));
    }
    let (fields, discriminator, workflows) = descriptor_parts(m);
    let fields: Vec<String> = fields
        .iter()
        .map(|f| field_info_text(f, 2, &m.local_types))
        .collect();
    list(&mut out, 1, "fields", &fields);
    let statuses: Vec<String> = m
        .error_statuses
        .iter()
        .map(|c| Literal::u16_unsuffixed(*c).to_string())
        .collect();
    line(
        &mut out,
        1,
        &format!("error_statuses: &[{}],", statuses.join(", ")),
    );
    line(
        &mut out,
        1,
        &format!("discriminator: {},", opt_lit_str(discriminator.as_deref())),
    );
    let workflows: Vec<String> = workflows
        .iter()
        .map(|(value, schema, summary, fields, ty)| {
            let mut w = String::new();
            line(&mut w, 2, "crate::model::WorkflowInfo {");
            line(&mut w, 3, &format!("value: {},", lit_str(value)));
            line(&mut w, 3, &format!("schema: {},", lit_str(schema)));
            line(&mut w, 3, &format!("summary: {},", lit_str(summary)));
            let infos: Vec<String> = fields
                .iter()
                .map(|f| field_info_text(f, 4, &m.local_types))
                .collect();
            list(&mut w, 3, "fields", &infos);
            line(
                &mut w,
                3,
                &format!("read: crate::model::read_and_validate::<{ty}>,"),
            );
            line(&mut w, 2, "},");
            w
        })
        .collect();
    list(&mut out, 1, "workflows", &workflows);
    line(
        &mut out,
        1,
        &format!(
            // A request with workflows is checked by reading the chosen
            // workflow's struct (`WorkflowInfo::read`), never its enum.
            "check_json: crate::model::{}::<{}>,",
            if discriminator.is_some() {
                "check_workflow_json"
            } else {
                "check_json"
            },
            m.request.name
        ),
    );
    line(&mut out, 0, "};");
    out
}

/// A workflow of the descriptor: its tag value, schema, summary, fields and
/// the Rust name of its struct.
type WorkflowParts = (String, String, String, Vec<Field>, String);

/// [`descriptor_fields`] as data: the field list, the discriminator and the workflows.
fn descriptor_parts(m: &ModelIr) -> (Vec<Field>, Option<String>, Vec<WorkflowParts>) {
    match &m.request.kind {
        TypeKind::Struct { fields, .. } => (fields.clone(), None, Vec::new()),
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
            let mut union = vec![tag_field(tag, variants)];
            let mut seen: Vec<&str> = Vec::new();
            for (_, fields, _) in &structs {
                for f in fields.iter() {
                    if !seen.contains(&f.wire.as_str()) {
                        seen.push(&f.wire);
                        let mut loose = f.clone();
                        loose.required = false;
                        union.push(loose);
                    }
                }
            }
            let workflows = structs
                .iter()
                .map(|(v, fields, def)| {
                    (
                        v.wire.clone(),
                        v.schema_name.clone(),
                        def.docs.first().cloned().unwrap_or_default(),
                        fields.to_vec(),
                        def.name.clone(),
                    )
                })
                .collect();
            (union, Some(tag.clone()), workflows)
        }
        _ => (Vec::new(), None, Vec::new()),
    }
}

/// The tag of a request with workflows, as a descriptor field.
fn tag_field(tag: &str, variants: &[crate::ir::TaggedVariant]) -> Field {
    Field {
        wire: tag.to_string(),
        rust: tag.to_string(),
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
    }
}

fn field_kind_name(f: &Field) -> &'static str {
    let from_allowed = f.allowed.first().map(|v| match v {
        Value::String(_) => "String",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Number",
        Value::Number(_) => "Integer",
        _ => "Json",
    });
    from_allowed.unwrap_or(match &f.ty {
        TypeRef::String | TypeRef::Media => "String",
        TypeRef::Integer => "Integer",
        TypeRef::Number => "Number",
        TypeRef::Boolean => "Boolean",
        TypeRef::Vec(_) => "Array",
        TypeRef::Map(_) => "Object",
        TypeRef::Json | TypeRef::Shared(_) | TypeRef::Local(_) => "Json",
    })
}

/// A field's allowed values as JSON texts: the typed enum's `ALL_JSON` (the
/// values written once, by the enum's macro) when the field is a local value
/// enum with exactly those values and the macro can spell their JSON
/// (strings needing no escapes, non-negative integers); else a literal list.
fn allowed_text(f: &Field, locals: &[TypeDef]) -> String {
    let typed =
        match &f.ty {
            TypeRef::Local(name) => locals
                .iter()
                .find(|d| &d.name == name)
                .and_then(|d| match &d.kind {
                    TypeKind::Enum { variants } => Some((name, variants)),
                    _ => None,
                }),
            _ => None,
        };
    if let Some((name, variants)) = typed {
        let same = variants.len() == f.allowed.len()
            && variants.iter().zip(&f.allowed).all(|(v, a)| &v.wire == a);
        let all_strings = variants.iter().all(|v| {
            v.wire
                .as_str()
                .is_some_and(|s| !s.chars().any(|c| c == '"' || c == '\\' || c < ' '))
        });
        let all_ints = variants.iter().all(|v| v.wire.as_u64().is_some());
        if same && !variants.is_empty() && (all_strings || all_ints) {
            return format!("{name}::ALL_JSON");
        }
    }
    let allowed: Vec<String> = f.allowed.iter().map(|v| lit_str(&v.to_string())).collect();
    format!("&[{}]", allowed.join(", "))
}

/// One `FieldInfo` literal at an indent of `level`, with its trailing comma.
fn field_info_text(f: &Field, level: usize, locals: &[TypeDef]) -> String {
    let some_f64 = |v: Option<f64>| match v {
        Some(v) => {
            let lit = Literal::f64_suffixed(v.abs());
            if v < 0.0 {
                format!("Some(-{lit})")
            } else {
                format!("Some({lit})")
            }
        }
        None => "None".to_string(),
    };
    let some_u64 = |v: Option<u64>| match v {
        Some(v) => format!("Some({})", Literal::u64_unsuffixed(v)),
        None => "None".to_string(),
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
    let mut out = String::with_capacity(768);
    line(&mut out, level, "crate::model::FieldInfo {");
    for (name, value) in [
        ("name", lit_str(&f.wire)),
        ("required", f.required.to_string()),
        ("nullable", f.nullable.to_string()),
        (
            "kind",
            format!("crate::model::FieldKind::{}", field_kind_name(f)),
        ),
        ("description", lit_str(&f.description)),
        ("default_json", opt_json_text(&f.default)),
        ("example_json", opt_json_text(&f.example)),
        ("allowed_values_json", allowed_text(f, locals)),
        ("format", opt_lit_str(f.format.as_deref())),
        ("minimum", some_f64(find_f64(true))),
        ("maximum", some_f64(find_f64(false))),
        ("min_length", some_u64(find_u64(true))),
        ("max_length", some_u64(find_u64(false))),
    ] {
        line(&mut out, level + 1, &format!("{name}: {value},"));
    }
    line(&mut out, level, "},");
    out
}
