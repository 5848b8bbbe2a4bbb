//! Rust types for schemas: structs, value enums, untagged unions and
//! workflow (tagged) requests, with their docs.

use super::*;

pub(super) fn type_def(def: &TypeDef, unchecked: &Unchecked) -> TokenStream {
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
    let docs = doc_attrs(&docs);
    match &def.kind {
        TypeKind::Struct { fields, open } => struct_def(def, fields, *open, docs, unchecked),
        TypeKind::Enum { variants } => enum_def(def, variants, docs),
        TypeKind::Untagged { variants } => untagged_def(def, variants, docs, unchecked),
        TypeKind::Tagged { tag, variants } => tagged_def(def, tag, variants, docs),
        TypeKind::Alias(ty) => {
            let name = ident(&def.name);
            let ty = ty_tokens(ty);
            quote!(#docs pub type #name = #ty;)
        }
    }
}

pub(super) fn field_docs(f: &Field) -> Vec<String> {
    let mut docs: Vec<String> = f.docs.iter().map(|l| prose(l)).collect();
    let mut notes = Vec::new();
    if let Some(d) = &f.default {
        notes.push(format!("Default: `{d}`."));
    }
    if !f.allowed.is_empty() {
        let values: Vec<String> = f.allowed.iter().map(|v| format!("`{v}`")).collect();
        notes.push(format!("Allowed: {}.", values.join(", ")));
    }
    for c in f.constraints.iter().chain(&f.item_constraints) {
        notes.push(constraint_doc(c));
    }
    if let Some(e) = &f.example {
        notes.push(format!("Example: `{e}`."));
    }
    if !notes.is_empty() {
        if !docs.is_empty() {
            docs.push(String::new());
        }
        docs.push(notes.join(" "));
    }
    if docs.is_empty() {
        docs.push(format!("`{}`.", f.wire));
    }
    docs
}

pub(super) fn constraint_doc(c: &Constraint) -> String {
    match c {
        Constraint::Minimum { value, exclusive } => format!(
            "Minimum{}: {value}.",
            if *exclusive { " (exclusive)" } else { "" }
        ),
        Constraint::Maximum { value, exclusive } => format!(
            "Maximum{}: {value}.",
            if *exclusive { " (exclusive)" } else { "" }
        ),
        Constraint::MinLength(n) => format!("At least {n} character(s)."),
        Constraint::MaxLength(n) => format!("At most {n} character(s)."),
        Constraint::MinItems(n) => format!("At least {n} item(s)."),
        Constraint::MaxItems(n) => format!("At most {n} item(s)."),
        Constraint::Pattern(p) => format!("Pattern: `{}`.", p.replace('`', "'")),
        Constraint::Uri => "An absolute URI.".to_string(),
    }
}

/// Whether the constructor takes the field.
pub(super) fn is_constructor_arg(f: &Field) -> bool {
    f.required && !f.nullable
}

pub(super) fn is_option(f: &Field, role: Role) -> bool {
    role == Role::Response || !is_constructor_arg(f)
}

pub(super) fn struct_def(
    def: &TypeDef,
    fields: &[Field],
    open: bool,
    docs: TokenStream,
    unchecked: &Unchecked,
) -> TokenStream {
    let open = open && def.role == Role::Request;
    let name = ident(&def.name);
    let role = def.role;
    let field_tokens = fields.iter().map(|f| {
        let fdocs = doc_attrs(&field_docs(f));
        let rust = ident(&f.rust);
        let ty = ty_tokens(&f.ty);
        let wire = &f.wire;
        let rename = (f.rust != f.wire).then(|| quote!(#[serde(rename = #wire)]));
        let attrs = match role {
            Role::Response => quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none", deserialize_with = "crate::lenient::deserialize_option")]),
            Role::Request if !f.required => quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]),
            Role::Request => quote!(),
        };
        let full = if is_option(f, role) { quote!(::std::option::Option<#ty>) } else { ty };
        quote!(#fdocs #rename #attrs pub #rust: #full,)
    });
    let derive_default = role == Role::Response || !fields.iter().any(is_constructor_arg);
    let default = derive_default.then(|| quote!(Default,));
    // A request's `Deserialize` comes from the runtime's `read_fields!`
    // (cheaper to compile than the derive; `deny_unknown_fields` is its
    // default), a response's from the derive.
    let derive_de = (role == Role::Response).then(|| quote!(, ::serde::Deserialize));
    let reader = (role == Role::Request).then(|| read_fields_call(def, fields, open, unchecked));
    // A request that gains an optional field stays source-compatible: callers
    // build it with `new` and setters, never a struct literal.
    let non_exhaustive = (role == Role::Request).then(|| quote!(#[non_exhaustive]));
    let extra = open.then(|| {
        quote! {
            #[doc = " Fields beyond those listed, sent as given: the spec allows more (`additionalProperties`) than it names."]
            #[serde(flatten)]
            pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }
    });
    let builder = (role == Role::Request).then(|| builder(def, fields, open));
    let validate = validate_impl(def, fields, unchecked);
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, #default ::serde::Serialize #derive_de)]
        #non_exhaustive
        pub struct #name {
            #(#field_tokens)*
            #extra
        }
        #reader
        #builder
        #validate
    }
}

/// `crate::request_de::read_fields!(Name [open] { rust = "wire" [required] [choice], ... });`:
/// a request struct's `Deserialize` (`required` marks a field that is not an
/// `Option`, so its absence is serde's `missing field` error; `choice` one
/// whose type is a closed string enum, read through the enum's table).
pub(super) fn read_fields_call(
    def: &TypeDef,
    fields: &[Field],
    open: bool,
    unchecked: &Unchecked,
) -> TokenStream {
    let name = ident(&def.name);
    let open = open.then(|| quote!(open));
    let members = fields.iter().map(|f| {
        let rust = ident(&f.rust);
        let wire = &f.wire;
        let required = (!is_option(f, def.role)).then(|| quote!(required));
        let choice = unchecked.is_choice(&f.ty).then(|| quote!(choice));
        quote!(#rust = #wire #required #choice)
    });
    quote! {
        crate::request_de::read_fields!(#name #open { #(#members),* });
    }
}

pub(super) fn enum_def(
    def: &TypeDef,
    variants: &[crate::ir::Variant],
    docs: TokenStream,
) -> TokenStream {
    let name = ident(&def.name);
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.rust)).collect();
    let items = variants.iter().zip(&idents).map(|(v, i)| {
        let d = format!(" `{}`", v.wire);
        quote!(#[doc = #d] #i,)
    });
    // The declaration carries the docs; the shared code comes from one
    // macro of `sdk/src/wire_enum.rs` fed the variant ↔ wire table.
    if variants.iter().all(|v| v.wire.is_string()) {
        let wires: Vec<&str> = variants
            .iter()
            .map(|v| v.wire.as_str().unwrap_or_default())
            .collect();
        if def.role == Role::Response {
            return quote! {
                #docs
                #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
                #[non_exhaustive]
                pub enum #name {
                    #(#items)*
                    #[doc = " A value this SDK version does not know yet, kept as sent."]
                    Unknown(::std::string::String),
                }
                crate::wire_enum::open_string_enum!(#name { #(#idents = #wires),* });
            };
        }
        return quote! {
            #docs
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#items)*
            }
            crate::wire_enum::string_enum!(#name { #(#idents = #wires),* });
        };
    }
    let ints: Option<Vec<TokenStream>> = variants
        .iter()
        .map(|v| v.wire.as_i64().map(int_literal))
        .collect();
    if let Some(ints) = ints {
        return quote! {
            #docs
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #(#items)*
            }
            crate::wire_enum::int_enum!(#name { #(#idents = #ints),* });
        };
    }
    // Mixed or non-integer literals (none in today's specs): compared as JSON.
    let values: Vec<TokenStream> = variants.iter().map(|v| json_literal(&v.wire)).collect();
    let texts: Vec<String> = variants.iter().map(|v| v.wire.to_string()).collect();
    quote! {
        #docs
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[non_exhaustive]
        pub enum #name {
            #(#items)*
        }
        impl #name {
            #[doc = " Every value, in spec order."]
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];
            #[doc = " The value as sent on the wire."]
            pub fn to_json(&self) -> ::serde_json::Value {
                match self { #(Self::#idents => #values,)* }
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(match self { #(Self::#idents => #texts,)* })
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                ::serde::Serialize::serialize(&self.to_json(), serializer)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| crate::validation::same_literal(&v.to_json(), &value))
                    .ok_or_else(|| ::serde::de::Error::custom(crate::validation::UnknownValue::new(&value.to_string(), Self::ALL.iter().map(|v| v.to_string()))))
            }
        }
    }
}

/// An integer literal token, negative ones as `-n`.
pub(super) fn int_literal(i: i64) -> TokenStream {
    let lit = Literal::u64_unsuffixed(i.unsigned_abs());
    if i < 0 {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

/// How a type reads in a doc comment.
pub(super) fn type_doc_name(ty: &TypeRef) -> String {
    match ty {
        TypeRef::String => "a string".into(),
        TypeRef::Media => "a URL or a local file".into(),
        TypeRef::Integer => "an integer".into(),
        TypeRef::Number => "a number".into(),
        TypeRef::Boolean => "a boolean".into(),
        TypeRef::Json => "free-form JSON".into(),
        TypeRef::Shared(n) | TypeRef::Local(n) => format!("`{n}`"),
        TypeRef::Vec(inner) => format!("a list of {}", type_doc_name(inner)),
        TypeRef::Map(inner) => format!("a map of {}", type_doc_name(inner)),
    }
}

pub(super) fn untagged_def(
    def: &TypeDef,
    variants: &[crate::ir::UntaggedVariant],
    docs: TokenStream,
    unchecked: &Unchecked,
) -> TokenStream {
    let name = ident(&def.name);
    let items = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        let ty = ty_tokens(&v.ty);
        let doc = format!(" The value as {}.", type_doc_name(&v.ty));
        quote!(#[doc = #doc] #rust(#ty),)
    });
    let arms = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        if unchecked.needs_validation(&v.ty) {
            quote!(Self::#rust(value) => crate::validation::Validate::validate_into(value, path, out),)
        } else {
            quote!(Self::#rust(_) => {})
        }
    });
    let mut seen = Vec::new();
    let froms = variants.iter().filter_map(|v| {
        let key = format!("{:?}", v.ty);
        let unique = variants
            .iter()
            .filter(|o| format!("{:?}", o.ty) == key)
            .count()
            == 1;
        if !unique || seen.contains(&key) {
            return None;
        }
        seen.push(key);
        let rust = ident(&v.rust);
        let ty = ty_tokens(&v.ty);
        Some(quote! {
            impl ::std::convert::From<#ty> for #name {
                fn from(value: #ty) -> Self { Self::#rust(value) }
            }
        })
    });
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(untagged)]
        pub enum #name {
            #(#items)*
        }
        #(#froms)*
        impl crate::validation::Validate for #name {
            #[allow(unused_variables)]
            fn validate_into(&self, path: &str, out: &mut ::std::vec::Vec<crate::validation::Violation>) {
                match self { #(#arms)* }
            }
        }
    }
}

/// A request with several workflows: an internally tagged enum over the
/// workflows' structs, so the tag is written from the variant and can never
/// disagree with the fields.
pub(super) fn tagged_def(
    def: &TypeDef,
    tag: &str,
    variants: &[crate::ir::TaggedVariant],
    docs: TokenStream,
) -> TokenStream {
    let name = ident(&def.name);
    let items = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        let ty = ident(&v.ty);
        let wire = &v.wire;
        let doc = format!(" `{tag}: \"{wire}\"`: see [`{}`].", v.ty);
        quote!(#[doc = #doc] #[serde(rename = #wire)] #rust(#ty),)
    });
    let froms = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        let ty = ident(&v.ty);
        quote! {
            impl ::std::convert::From<#ty> for #name {
                fn from(value: #ty) -> Self { Self::#rust(value) }
            }
        }
    });
    let arms = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        quote!(Self::#rust(value) => crate::validation::Validate::validate_into(value, path, out),)
    });
    let tag_arms = variants.iter().map(|v| {
        let rust = ident(&v.rust);
        let wire = &v.wire;
        quote!(Self::#rust(_) => #wire,)
    });
    let tag_doc = format!(" The workflow's `{tag}` value as sent on the wire.");
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(tag = #tag)]
        #[non_exhaustive]
        pub enum #name {
            #(#items)*
        }
        impl #name {
            #[doc = #tag_doc]
            pub fn workflow(&self) -> &'static str {
                match self { #(#tag_arms)* }
            }
        }
        #(#froms)*
        impl crate::validation::Validate for #name {
            fn validate_into(&self, path: &str, out: &mut ::std::vec::Vec<crate::validation::Violation>) {
                match self { #(#arms)* }
            }
        }
    }
}
