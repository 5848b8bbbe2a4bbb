//! Model files and client methods as text, in exactly the layout
//! `prettyplease` prints (issue 18): request structs, builders,
//! `validate_into`, value enums with their macro calls, and the async
//! functions of `images.rs`/`videos.rs` are written directly instead of going
//! tokens → `syn` → prettyplease, which was most of the generator's time.
//!
//! Each piece is written in the layout prettyplease gives it when it fits on
//! its line (margin 89) or, for function signatures and calls, when it
//! clearly does not (one argument per line). A piece whose length is near
//! the margin, or that has a form not handled here (a macro call, an
//! untagged or tagged enum, an alias), is formatted by prettyplease after
//! all, alone and at its own indent, so the result never depends on a guess.
//! `tests/layout.rs` checks every generated file against prettyplease.

use super::*;

/// Lines up to this width (indent included) are printed on one line by
/// prettyplease (its margin: a block is broken when the text up to the next
/// break opportunity would pass it); lines from `SURE_BREAKS` on are broken.
/// A width in between would go through prettyplease.
const SURE_FITS: usize = 89;
const SURE_BREAKS: usize = 90;

/// Whether a piece written on one line at `level` certainly fits, certainly
/// breaks, or may do either.
#[derive(PartialEq, Eq)]
enum Fit {
    Fits,
    Breaks,
    Unsure,
}

fn fit(level: usize, len: usize) -> Fit {
    let width = level * 4 + len;
    if width <= SURE_FITS {
        Fit::Fits
    } else if width >= SURE_BREAKS {
        Fit::Breaks
    } else {
        Fit::Unsure
    }
}

/// Where a piece sits, for formatting it alone with prettyplease.
#[derive(Clone, Copy)]
enum Wrap {
    /// A struct field (indent 1).
    Field,
    /// An item of an `impl` block (indent 1).
    ImplItem,
    /// A statement at this indent (2 or more: inside a function inside an `impl`).
    Stmt(usize),
}

/// Appends `text` (valid Rust for its position, in any layout) as
/// prettyplease prints it at its position.
fn pretty(out: &mut String, wrap: Wrap, text: &str) -> Result<()> {
    let (open, close, depth) = match wrap {
        Wrap::Field => ("struct W {\n".to_string(), "}\n".to_string(), 1),
        Wrap::ImplItem => ("impl W {\n".to_string(), "}\n".to_string(), 1),
        Wrap::Stmt(level) => (
            format!("fn w() {{\n{}", "{\n".repeat(level - 1)),
            "}\n".repeat(level),
            level,
        ),
    };
    let source = format!("{open}{text}\n{close}");
    let file: syn::File = syn::parse_str(&source).map_err(|e| CodegenError::Emit {
        file: "(piece)".to_string(),
        message: format!("{e}: {text}"),
    })?;
    let printed = prettyplease::unparse(&file);
    let lines: Vec<&str> = printed.lines().collect();
    if lines.len() < 2 * depth {
        return Err(CodegenError::Emit {
            file: "(piece)".to_string(),
            message: format!("unexpected layout: {printed}"),
        });
    }
    for l in &lines[depth..lines.len() - depth] {
        out.push_str(l);
        out.push('\n');
    }
    Ok(())
}

/// Items formatted by prettyplease from their tokens (the forms not written as text).
fn pretty_items(out: &mut String, tokens: TokenStream) -> Result<()> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Emit {
        file: "(item)".to_string(),
        message: e.to_string(),
    })?;
    out.push_str(&prettyplease::unparse(&file));
    Ok(())
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn line(out: &mut String, level: usize, text: &str) {
    indent(out, level);
    out.push_str(text);
    out.push('\n');
}

/// `///` lines as prettyplease prints `#[doc = " line"]` (trailing spaces trimmed).
fn docs(out: &mut String, level: usize, lines: &[String]) {
    for l in lines {
        indent(out, level);
        out.push_str("///");
        out.push_str(&one_line_doc(l));
        out.push('\n');
    }
}

/// Whether every doc line can be written as `///` text (prettyplease
/// prints others differently).
fn plain_docs(lines: &[String]) -> bool {
    lines.iter().all(|l| !l.contains('\n') && !l.contains('\r'))
}

fn lit(s: &str) -> String {
    Literal::string(s).to_string()
}

pub(super) fn ty_text(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "::std::string::String".into(),
        TypeRef::Media => "crate::Media".into(),
        TypeRef::Integer => "i64".into(),
        TypeRef::Number => "f64".into(),
        TypeRef::Boolean => "bool".into(),
        TypeRef::Json => "::serde_json::Value".into(),
        TypeRef::Shared(n) => format!("crate::generated::schemas::{n}"),
        TypeRef::Local(n) => n.clone(),
        TypeRef::Vec(inner) => format!("::std::vec::Vec<{}>", ty_text(inner)),
        TypeRef::Map(inner) => format!(
            "::std::collections::BTreeMap<::std::string::String, {}>",
            ty_text(inner)
        ),
    }
}

/// A function signature `{head}({params}){tail} {` at `level`: on one line,
/// or one parameter per line.
pub(super) fn signature(
    out: &mut String,
    level: usize,
    head: &str,
    params: &[String],
    tail: &str,
) -> std::result::Result<(), ()> {
    let one = format!("{head}({}){tail} {{", params.join(", "));
    match fit(level, one.len()) {
        Fit::Fits => {
            line(out, level, &one);
            Ok(())
        }
        Fit::Unsure => Err(()),
        Fit::Breaks => {
            if params.is_empty() {
                return Err(());
            }
            line(out, level, &format!("{head}("));
            for p in params {
                if fit(level + 1, p.len() + 1) != Fit::Fits {
                    return Err(());
                }
                indent(out, level + 1);
                out.push_str(p);
                out.push_str(",\n");
            }
            line(out, level, &format!("){tail} {{"));
            Ok(())
        }
    }
}

/// A call statement `{callee}({args});` at `level`.
pub(super) fn call_stmt(
    out: &mut String,
    level: usize,
    callee: &str,
    args: &[String],
) -> Result<()> {
    let one = format!("{callee}({});", args.join(", "));
    match fit(level, one.len()) {
        Fit::Fits => {
            line(out, level, &one);
            return Ok(());
        }
        Fit::Breaks
            if !args.is_empty()
                && fit(level, callee.len() + 1) == Fit::Fits
                && args
                    .iter()
                    .all(|a| fit(level + 1, a.len() + 1) == Fit::Fits) =>
        {
            line(out, level, &format!("{callee}("));
            for a in args {
                indent(out, level + 1);
                out.push_str(a);
                out.push_str(",\n");
            }
            line(out, level, ");");
            return Ok(());
        }
        _ => {}
    }
    pretty(out, Wrap::Stmt(level), &one)
}

/// A named type's docs as the token path builds them.
fn def_docs(def: &TypeDef) -> Vec<String> {
    let mut docs: Vec<String> = def.docs.iter().map(|l| prose(l)).collect();
    if let Some(wire) = &def.wire_name {
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(format!("Schema `{wire}`."));
    }
    if docs.is_empty() {
        docs.push(format!("`{}`.", def.pointer));
    }
    docs
}

/// One named type: text for structs and string or integer value enums,
/// prettyplease for the rest.
pub(super) fn type_def_text(out: &mut String, def: &TypeDef, unchecked: &Unchecked) -> Result<()> {
    let docs = def_docs(def);
    if !plain_docs(&docs) {
        return pretty_items(out, type_def(def, unchecked));
    }
    match &def.kind {
        TypeKind::Struct { fields, open } => struct_text(out, def, &docs, fields, *open, unchecked),
        TypeKind::Enum { variants } => enum_text(out, def, &docs, variants),
        _ => pretty_items(out, type_def(def, unchecked)),
    }
}

fn struct_text(
    out: &mut String,
    def: &TypeDef,
    def_docs: &[String],
    fields: &[Field],
    open: bool,
    unchecked: &Unchecked,
) -> Result<()> {
    let open = open && def.role == Role::Request;
    let role = def.role;
    let field_docs_all: Vec<Vec<String>> = fields.iter().map(field_docs).collect();
    if !field_docs_all.iter().all(|d| plain_docs(d)) {
        return pretty_items(out, type_def(def, unchecked));
    }
    docs(out, 0, def_docs);
    let derive_default = role == Role::Response || !fields.iter().any(is_constructor_arg);
    // A request's `Deserialize` is the `read_fields!` call below.
    line(
        out,
        0,
        &format!(
            "#[derive(Debug, Clone, PartialEq, {}::serde::Serialize{})]",
            if derive_default { "Default, " } else { "" },
            if role == Role::Response {
                ", ::serde::Deserialize"
            } else {
                ""
            }
        ),
    );
    if role == Role::Request {
        line(out, 0, "#[non_exhaustive]");
    }
    if fields.is_empty() && !open {
        line(out, 0, &format!("pub struct {} {{}}", def.name));
    } else {
        line(out, 0, &format!("pub struct {} {{", def.name));
        for (f, fdocs) in fields.iter().zip(&field_docs_all) {
            let mut piece = String::new();
            docs(&mut piece, 1, fdocs);
            let mut sure = true;
            if f.rust != f.wire {
                let attr = format!("#[serde(rename = {})]", lit(&f.wire));
                sure &= fit(1, attr.len()) == Fit::Fits;
                line(&mut piece, 1, &attr);
            }
            match role {
                Role::Response => {
                    sure = false;
                    line(&mut piece, 1, "#[serde(default, skip_serializing_if = \"::std::option::Option::is_none\", deserialize_with = \"crate::lenient::deserialize_option\")]");
                }
                Role::Request if !f.required => line(
                    &mut piece,
                    1,
                    "#[serde(default, skip_serializing_if = \"::std::option::Option::is_none\")]",
                ),
                Role::Request => {}
            }
            let ty = ty_text(&f.ty);
            let full = if is_option(f, role) {
                format!("::std::option::Option<{ty}>")
            } else {
                ty
            };
            let decl = format!("pub {}: {full},", f.rust);
            sure &= fit(1, decl.len()) == Fit::Fits;
            line(&mut piece, 1, &decl);
            if sure {
                out.push_str(&piece);
            } else {
                pretty(out, Wrap::Field, &piece)?;
            }
        }
        if open {
            line(out, 1, "/// Fields beyond those listed, sent as given: the spec allows more (`additionalProperties`) than it names.");
            line(out, 1, "#[serde(flatten)]");
            line(
                out,
                1,
                "pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,",
            );
        }
        line(out, 0, "}");
    }
    if role == Role::Request {
        read_fields_text(out, def, fields, open, unchecked);
        builder_text(out, def, fields, open)?;
    }
    validate_text(out, def, fields, unchecked)
}

/// A setter's or constructor's parameter type and the conversion of its value.
fn arg_text(ty: &TypeRef) -> (String, &'static str) {
    match ty {
        TypeRef::String => (
            "impl ::std::convert::Into<::std::string::String>".into(),
            ".into()",
        ),
        TypeRef::Media => ("impl ::std::convert::Into<crate::Media>".into(), ".into()"),
        other => (ty_text(other), ""),
    }
}

fn builder_text(out: &mut String, def: &TypeDef, fields: &[Field], open: bool) -> Result<()> {
    line(out, 0, &format!("impl {} {{", def.name));
    // The constructor.
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| is_constructor_arg(f))
        .map(|f| f.wire.as_str())
        .collect();
    let new_doc = if required.is_empty() {
        "A request with every optional field unset.".to_string()
    } else {
        format!(
            "A request with its required fields ({}); optional fields start unset.",
            required.join(", ")
        )
    };
    let params: Vec<String> = fields
        .iter()
        .filter(|f| is_constructor_arg(f))
        .map(|f| format!("{}: {}", f.rust, arg_text(&f.ty).0))
        .collect();
    let mut inits: Vec<String> = fields
        .iter()
        .map(|f| {
            if is_constructor_arg(f) {
                let (_, conv) = arg_text(&f.ty);
                if conv.is_empty() {
                    f.rust.clone()
                } else {
                    format!("{0}: {0}{conv}", f.rust)
                }
            } else {
                format!("{}: None", f.rust)
            }
        })
        .collect();
    if open {
        inits.push("extra: ::serde_json::Map::new()".into());
    }
    let mut piece = String::new();
    docs(&mut piece, 1, std::slice::from_ref(&new_doc));
    line(
        &mut piece,
        1,
        "#[allow(clippy::new_without_default, clippy::too_many_arguments)]",
    );
    let mut sure = signature(&mut piece, 1, "pub fn new", &params, " -> Self").is_ok();
    // A struct literal stays on one line only while it fits in 34 columns
    // (`end_with_max_width(34)`): written broken when it clearly does not.
    let joined = inits.join(", ");
    sure &= !inits.is_empty() && joined.len() > 34;
    if sure {
        line(&mut piece, 2, "Self {");
        for i in &inits {
            let l = format!("{i},");
            sure &= fit(3, l.len()) == Fit::Fits;
            line(&mut piece, 3, &l);
        }
        line(&mut piece, 2, "}");
        line(&mut piece, 1, "}");
    }
    if sure {
        out.push_str(&piece);
    } else {
        let mut one = String::new();
        docs(&mut one, 1, &[new_doc]);
        one.push_str(&format!(
            "#[allow(clippy::new_without_default, clippy::too_many_arguments)]\npub fn new({}) -> Self {{ Self {{ {} }} }}",
            params.join(", "),
            joined
        ));
        pretty(out, Wrap::ImplItem, &one)?;
    }
    // The setters.
    for f in fields.iter().filter(|f| !is_constructor_arg(f)) {
        let setter = setter_name(&f.rust).to_string();
        let (ty, conv) = arg_text(&f.ty);
        let mut lines = vec![format!("Sets `{}`.", f.wire), String::new()];
        lines.extend(field_docs(f));
        let mut piece = String::new();
        docs(&mut piece, 1, &lines);
        line(&mut piece, 1, "#[must_use]");
        let params = ["mut self".to_string(), format!("value: {ty}")];
        let mut sure = signature(
            &mut piece,
            1,
            &format!("pub fn {setter}"),
            &params,
            " -> Self",
        )
        .is_ok();
        let assign = format!("self.{} = Some(value{conv});", f.rust);
        sure &= fit(2, assign.len()) == Fit::Fits;
        if sure {
            line(&mut piece, 2, &assign);
            line(&mut piece, 2, "self");
            line(&mut piece, 1, "}");
            out.push_str(&piece);
        } else {
            let mut one = String::new();
            docs(&mut one, 1, &lines);
            one.push_str(&format!(
                "#[must_use]\npub fn {setter}(mut self, value: {ty}) -> Self {{ {assign} self }}"
            ));
            pretty(out, Wrap::ImplItem, &one)?;
        }
    }
    if open {
        out.push_str(EXTRA_SETTER);
    }
    line(out, 0, "}");
    Ok(())
}

/// The setter of an open request's additional fields, as prettyplease prints it.
const EXTRA_SETTER: &str = "    /// Adds a field the spec does not name (it allows additional properties); sent as given, unchecked.
    #[must_use]
    pub fn extra_field(
        mut self,
        name: impl ::std::convert::Into<::std::string::String>,
        value: impl ::std::convert::Into<::serde_json::Value>,
    ) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
";

/// The checks of one value (`value`, a place expression) against its
/// constraints, as `(callee, args)` calls.
fn check_calls(
    ty: &TypeRef,
    constraints: &[Constraint],
    value: &str,
    field: &str,
) -> Vec<(&'static str, Vec<String>)> {
    let numeric = match ty {
        TypeRef::Integer => Some(format!("*{value} as f64")),
        TypeRef::Number => Some(format!("*{value}")),
        _ => None,
    };
    let base = |rest: Vec<String>| {
        let mut args = vec!["out".to_string(), "path".to_string(), field.to_string()];
        args.extend(rest);
        args
    };
    let num_text = |v: f64| {
        let l = Literal::f64_unsuffixed(v.abs()).to_string();
        if v < 0.0 {
            format!("-{l}")
        } else {
            l
        }
    };
    constraints
        .iter()
        .filter_map(|c| match (c, ty) {
            (
                Constraint::Minimum {
                    value: bound,
                    exclusive,
                },
                _,
            ) => numeric.as_ref().map(|n| {
                (
                    "crate::validation::check_minimum",
                    base(vec![n.clone(), num_text(*bound), exclusive.to_string()]),
                )
            }),
            (
                Constraint::Maximum {
                    value: bound,
                    exclusive,
                },
                _,
            ) => numeric.as_ref().map(|n| {
                (
                    "crate::validation::check_maximum",
                    base(vec![n.clone(), num_text(*bound), exclusive.to_string()]),
                )
            }),
            (Constraint::MinLength(n), TypeRef::String) => Some((
                "crate::validation::check_min_length",
                base(vec![value.to_string(), n.to_string()]),
            )),
            (Constraint::MaxLength(n), TypeRef::String) => Some((
                "crate::validation::check_max_length",
                base(vec![value.to_string(), n.to_string()]),
            )),
            (Constraint::Pattern(p), TypeRef::String) => Some((
                "crate::validation::check_pattern",
                base(vec![value.to_string(), lit(p)]),
            )),
            (Constraint::Uri, TypeRef::String) => Some((
                "crate::validation::check_uri",
                base(vec![value.to_string()]),
            )),
            (Constraint::Uri, TypeRef::Media) => Some((
                "crate::validation::check_media",
                base(vec![value.to_string()]),
            )),
            (Constraint::MinItems(n), TypeRef::Vec(_)) => Some((
                "crate::validation::check_min_items",
                base(vec![format!("{value}.len()"), n.to_string()]),
            )),
            (Constraint::MaxItems(n), TypeRef::Vec(_)) => Some((
                "crate::validation::check_max_items",
                base(vec![format!("{value}.len()"), n.to_string()]),
            )),
            _ => None,
        })
        .collect()
}

fn validate_text(
    out: &mut String,
    def: &TypeDef,
    fields: &[Field],
    unchecked: &Unchecked,
) -> Result<()> {
    let mut body = String::new();
    for f in fields {
        let wire = lit(&f.wire);
        let checks = check_calls(&f.ty, &f.constraints, "value", &wire);
        let item_checks = match &f.ty {
            TypeRef::Vec(item) => check_calls(
                item,
                &f.item_constraints,
                "item",
                &format!("&crate::validation::index({wire}, i)"),
            ),
            _ => Vec::new(),
        };
        let nested = unchecked.needs_validation(&f.ty);
        if checks.is_empty() && item_checks.is_empty() && !nested {
            continue;
        }
        let head = if is_option(f, def.role) {
            format!("if let Some(value) = &self.{} {{", f.rust)
        } else {
            "{".to_string()
        };
        let mut stmts = String::new();
        let level = 3;
        if !is_option(f, def.role) {
            line(&mut stmts, level, &format!("let value = &self.{};", f.rust));
        }
        for (callee, args) in &checks {
            call_stmt(&mut stmts, level, callee, args)?;
        }
        if !item_checks.is_empty() {
            line(
                &mut stmts,
                level,
                "for (i, item) in value.iter().enumerate() {",
            );
            for (callee, args) in &item_checks {
                call_stmt(&mut stmts, level + 1, callee, args)?;
            }
            line(&mut stmts, level, "}");
        }
        if nested {
            call_stmt(
                &mut stmts,
                level,
                "crate::validation::Validate::validate_into",
                &[
                    "value".into(),
                    format!("&crate::validation::join(path, {wire})"),
                    "out".into(),
                ],
            )?;
        }
        if fit(2, head.len()) == Fit::Fits {
            line(&mut body, 2, &head);
            body.push_str(&stmts);
            line(&mut body, 2, "}");
        } else {
            pretty(&mut body, Wrap::Stmt(2), &format!("{head}\n{stmts}}}"))?;
        }
    }
    line(
        out,
        0,
        &format!("impl crate::validation::Validate for {} {{", def.name),
    );
    let (path, outp) = if body.is_empty() {
        ("_path", "_out")
    } else {
        ("path", "out")
    };
    line(out, 1, "fn validate_into(");
    line(out, 2, "&self,");
    line(out, 2, &format!("{path}: &str,"));
    line(
        out,
        2,
        &format!("{outp}: &mut ::std::vec::Vec<crate::validation::Violation>,"),
    );
    if body.is_empty() {
        line(out, 1, ") {}");
    } else {
        line(out, 1, ") {");
        out.push_str(&body);
        line(out, 1, "}");
    }
    line(out, 0, "}");
    Ok(())
}

fn enum_text(
    out: &mut String,
    def: &TypeDef,
    def_docs: &[String],
    variants: &[crate::ir::Variant],
) -> Result<()> {
    let strings = variants.iter().all(|v| v.wire.is_string());
    let ints = variants.iter().all(|v| v.wire.as_i64().is_some());
    if variants.is_empty() || !(strings || ints) {
        return pretty_items(out, enum_def(def, variants, doc_attrs(def_docs)));
    }
    let open = strings && def.role == Role::Response;
    docs(out, 0, def_docs);
    line(
        out,
        0,
        if open {
            "#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]"
        } else {
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
        },
    );
    line(out, 0, "#[non_exhaustive]");
    line(out, 0, &format!("pub enum {} {{", def.name));
    for v in variants {
        docs(out, 1, &[format!("`{}`", v.wire)]);
        line(out, 1, &format!("{},", v.rust));
    }
    if open {
        line(
            out,
            1,
            "/// A value this SDK version does not know yet, kept as sent.",
        );
        line(out, 1, "Unknown(::std::string::String),");
    }
    line(out, 0, "}");
    // The macro call, in the layout prettyplease gives a macro's tokens.
    let macro_name = enum_macro(def.role, variants);
    let mut words = vec![def.name.clone(), "{".to_string()];
    for (i, v) in variants.iter().enumerate() {
        let value = match v.wire.as_str() {
            Some(s) => lit(s),
            // Negative integers are spelled `- n` in a macro's tokens: formatted below.
            None => match v.wire.as_i64() {
                Some(n) if n >= 0 => n.to_string(),
                _ => return pretty_items(out, enum_macro_tokens(def, variants, strings, open)),
            },
        };
        words.push(v.rust.clone());
        words.push("=".into());
        words.push(if i + 1 < variants.len() {
            format!("{value},")
        } else {
            value
        });
    }
    words.push("}".into());
    macro_call(out, &format!("crate::wire_enum::{macro_name}"), &words);
    Ok(())
}

/// [`read_fields_call`] as text, in the layout [`macro_call`] spells.
fn read_fields_text(
    out: &mut String,
    def: &TypeDef,
    fields: &[Field],
    open: bool,
    unchecked: &Unchecked,
) {
    let mut words = vec![def.name.clone()];
    if open {
        words.push("open".into());
    }
    words.push("{".into());
    for (i, f) in fields.iter().enumerate() {
        let mut member = vec![f.rust.clone(), "=".into(), lit(&f.wire)];
        if !is_option(f, def.role) {
            member.push("required".into());
        }
        if unchecked.is_choice(&f.ty) {
            member.push("choice".into());
        }
        if i + 1 < fields.len() {
            if let Some(last) = member.last_mut() {
                last.push(',');
            }
        }
        words.extend(member);
    }
    words.push("}".into());
    macro_call(out, "crate::request_de::read_fields", &words);
}

/// `path!(words);` as prettyplease prints a macro call at the top level:
/// on one line if it fits, else the tokens on the lines between `path!(`
/// and `);`, indented once and filled (a word goes to the next line when it
/// would pass the margin).
pub(super) fn macro_call(out: &mut String, path: &str, words: &[String]) {
    let joined = words.join(" ");
    if path.len() + 1 + 1 + joined.len() + 2 <= SURE_FITS {
        out.push_str(path);
        out.push_str("!(");
        out.push_str(&joined);
        out.push_str(");\n");
        return;
    }
    out.push_str(path);
    out.push_str("!(\n    ");
    let mut col = 4;
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            if col + 1 + w.len() > SURE_FITS {
                out.push_str("\n    ");
                col = 4;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(w);
        col += w.len();
    }
    out.push_str("\n);\n");
}

/// The macro call of a value enum as tokens (for the forms [`macro_call`] does not spell).
fn enum_macro_tokens(
    def: &TypeDef,
    variants: &[crate::ir::Variant],
    strings: bool,
    open: bool,
) -> TokenStream {
    let name = ident(&def.name);
    let idents = variants.iter().map(|v| ident(&v.rust));
    if strings {
        let wires = variants.iter().map(|v| v.wire.as_str().unwrap_or_default());
        if open {
            quote!(crate::wire_enum::open_string_enum!(#name { #(#idents = #wires),* });)
        } else {
            quote!(crate::wire_enum::string_enum!(#name { #(#idents = #wires),* });)
        }
    } else {
        let ints = variants
            .iter()
            .map(|v| int_literal(v.wire.as_i64().unwrap_or_default()));
        quote!(crate::wire_enum::int_enum!(#name { #(#idents = #ints),* });)
    }
}

/// A model file's code above its descriptor, as text.
pub(super) fn model_text(m: &ModelIr, shared: &Unchecked) -> Result<String> {
    let unchecked = Unchecked::of(&m.local_types, Some(shared));
    let mut request_def = m.request.clone();
    let group = match m.category {
        Category::Images => "Images",
        Category::Videos => "Videos",
    };
    let accessor = group.to_ascii_lowercase();
    request_def.docs.push(String::new());
    request_def.docs.push(format!(
        "Send it with [`client.{accessor}().{f}(request)`](crate::client::{group}::{f}).",
        f = m.function
    ));
    let mut out = String::with_capacity(32 * 1024);
    let module_doc = one_line_doc(&format!("`{}`: {}", m.id, one_line(&m.summary)));
    out.push_str("//!");
    out.push_str(&module_doc);
    out.push('\n');
    type_def_text(&mut out, &request_def, &unchecked)?;
    let name = &m.request.name;
    out.push_str(&format!(
        "impl {name} {{
    /// Checks every constraint of the spec (bounds, lengths, item counts, patterns, URIs) before any network traffic.
    pub fn validate(
        &self,
    ) -> ::std::result::Result<(), crate::validation::ValidationErrors> {{
        crate::validation::validate_root(self)
    }}
}}
impl crate::model::GenerationRequest for {name} {{
    fn model() -> &'static crate::model::ModelDescriptor {{
        &MODEL
    }}
}}
"
    ));
    for d in &m.local_types {
        type_def_text(&mut out, d, &unchecked)?;
    }
    Ok(out)
}

/// ` text` with trailing spaces trimmed, as a `//!` or `///` line's rest.
fn one_line_doc(text: &str) -> String {
    let t = text.trim_end_matches(' ');
    if t.is_empty() {
        String::new()
    } else {
        format!(" {t}")
    }
}

/// `images.rs` or `videos.rs` as text: one async function per model of the
/// category (what `methods_rs` builds as tokens).
pub(super) fn methods_text(ir: &Ir, category: Category) -> Result<String> {
    let (doc, ty) = match category {
        Category::Images => (
            "One async function per image model, on `client.images()`.",
            "Images",
        ),
        Category::Videos => (
            "One async function per video model, on `client.videos()`.",
            "Videos",
        ),
    };
    let models: Vec<&ModelIr> = ir
        .models
        .iter()
        .filter(|m| m.category == category)
        .collect();
    if models.is_empty() {
        let mut out = String::new();
        pretty_items(&mut out, methods_rs(ir, category))?;
        return Ok(out);
    }
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("//!");
    out.push_str(&one_line_doc(doc));
    out.push('\n');
    line(&mut out, 0, &format!("impl crate::client::{ty}<'_> {{"));
    for m in models {
        let docs_lines = method_docs(m);
        if !plain_docs(&docs_lines) {
            let mut one: String = docs_lines
                .iter()
                .map(|l| format!("#[doc = {}]\n", lit(&format!(" {l}"))))
                .collect();
            one.push_str(&format!(
                "pub async fn {}(&self, request: impl ::std::convert::Into<super::models::{}::{}>) -> ::std::result::Result<crate::Generation, crate::Error> {{ self.client().generate(request.into()).await }}",
                m.function, m.module, m.request.name
            ));
            pretty(&mut out, Wrap::ImplItem, &one)?;
            continue;
        }
        docs(&mut out, 1, &docs_lines);
        line(&mut out, 1, &format!("pub async fn {}(", m.function));
        line(&mut out, 2, "&self,");
        let target = format!("super::models::{}::{}", m.module, m.request.name);
        let param = format!("request: impl ::std::convert::Into<{target}>,");
        // The trailing comma of a broken list is not counted against the margin.
        if fit(2, param.len() - 1) == Fit::Fits {
            line(&mut out, 2, &param);
        } else {
            // A path has no break in it: it stays whole even past the margin.
            line(&mut out, 2, "request: impl ::std::convert::Into<");
            line(&mut out, 3, &format!("{target},"));
            line(&mut out, 2, ">,");
        }
        line(
            &mut out,
            1,
            ") -> ::std::result::Result<crate::Generation, crate::Error> {",
        );
        line(&mut out, 2, "self.client().generate(request.into()).await");
        line(&mut out, 1, "}");
    }
    line(&mut out, 0, "}");
    Ok(out)
}
