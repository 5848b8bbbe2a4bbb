//! Request builders: a constructor taking the required fields and one
//! chainable setter per optional field.

use super::*;

/// Setter names that would clash with the type's own methods get a `with_` prefix.
pub(super) fn setter_name(rust: &str) -> Ident {
    match rust {
        "new" | "validate" | "model" => format_ident!("with_{}", rust),
        _ => ident(rust),
    }
}

pub(super) fn arg_type(ty: &TypeRef) -> (TokenStream, TokenStream) {
    match ty {
        TypeRef::String => (
            quote!(impl ::std::convert::Into<::std::string::String>),
            quote!(.into()),
        ),
        TypeRef::Media => (
            quote!(impl ::std::convert::Into<crate::Media>),
            quote!(.into()),
        ),
        other => (ty_tokens(other), quote!()),
    }
}

pub(super) fn builder(def: &TypeDef, fields: &[Field], open: bool) -> TokenStream {
    let name = ident(&def.name);
    let args = fields.iter().filter(|f| is_constructor_arg(f)).map(|f| {
        let rust = ident(&f.rust);
        let (ty, _) = arg_type(&f.ty);
        quote!(#rust: #ty)
    });
    let inits = fields.iter().map(|f| {
        let rust = ident(&f.rust);
        if is_constructor_arg(f) {
            let (_, conv) = arg_type(&f.ty);
            if conv.is_empty() {
                quote!(#rust)
            } else {
                quote!(#rust: #rust #conv)
            }
        } else {
            quote!(#rust: None)
        }
    });
    let setters = fields.iter().filter(|f| !is_constructor_arg(f)).map(|f| {
        let rust = ident(&f.rust);
        let setter = setter_name(&f.rust);
        let (ty, conv) = arg_type(&f.ty);
        let mut lines = vec![format!("Sets `{}`.", f.wire), String::new()];
        lines.extend(field_docs(f));
        let doc = doc_attrs(&lines);
        quote! {
            #doc
            #[must_use]
            pub fn #setter(mut self, value: #ty) -> Self {
                self.#rust = Some(value #conv);
                self
            }
        }
    });
    let extra_init = open.then(|| quote!(extra: ::serde_json::Map::new(),));
    let extra_setter = open.then(|| {
        quote! {
            #[doc = " Adds a field the spec does not name (it allows additional properties); sent as given, unchecked."]
            #[must_use]
            pub fn extra_field(mut self, name: impl ::std::convert::Into<::std::string::String>, value: impl ::std::convert::Into<::serde_json::Value>) -> Self {
                self.extra.insert(name.into(), value.into());
                self
            }
        }
    });
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| is_constructor_arg(f))
        .map(|f| f.wire.as_str())
        .collect();
    let new_doc = if required.is_empty() {
        " A request with every optional field unset.".to_string()
    } else {
        format!(
            " A request with its required fields ({}); optional fields start unset.",
            required.join(", ")
        )
    };
    quote! {
        impl #name {
            #[doc = #new_doc]
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            pub fn new(#(#args),*) -> Self {
                Self { #(#inits,)* #extra_init }
            }
            #(#setters)*
            #extra_setter
        }
    }
}
