//! The generated `validate()`: every constraint of the spec checked before
//! any network traffic.

use super::*;

/// The checks for one value of a given type against its constraints.
pub(super) fn checks(
    ty: &TypeRef,
    constraints: &[Constraint],
    value: TokenStream,
    field: TokenStream,
) -> Vec<TokenStream> {
    let numeric = match ty {
        TypeRef::Integer => Some(quote!(*#value as f64)),
        TypeRef::Number => Some(quote!(*#value)),
        _ => None,
    };
    constraints
        .iter()
        .filter_map(|c| match (c, ty) {
            (Constraint::Minimum { value: bound, exclusive }, _) => numeric.as_ref().map(|n| {
                let b = num(*bound);
                quote!(crate::validation::check_minimum(out, path, #field, #n, #b, #exclusive);)
            }),
            (Constraint::Maximum { value: bound, exclusive }, _) => numeric.as_ref().map(|n| {
                let b = num(*bound);
                quote!(crate::validation::check_maximum(out, path, #field, #n, #b, #exclusive);)
            }),
            (Constraint::MinLength(n), TypeRef::String) => {
                let n = Literal::u64_unsuffixed(*n);
                Some(quote!(crate::validation::check_min_length(out, path, #field, #value, #n);))
            }
            (Constraint::MaxLength(n), TypeRef::String) => {
                let n = Literal::u64_unsuffixed(*n);
                Some(quote!(crate::validation::check_max_length(out, path, #field, #value, #n);))
            }
            (Constraint::Pattern(p), TypeRef::String) => Some(quote!(crate::validation::check_pattern(out, path, #field, #value, #p);)),
            (Constraint::Uri, TypeRef::String) => Some(quote!(crate::validation::check_uri(out, path, #field, #value);)),
            (Constraint::Uri, TypeRef::Media) => Some(quote!(crate::validation::check_media(out, path, #field, #value);)),
            (Constraint::MinItems(n), TypeRef::Vec(_)) => {
                let n = Literal::u64_unsuffixed(*n);
                Some(quote!(crate::validation::check_min_items(out, path, #field, #value.len(), #n);))
            }
            (Constraint::MaxItems(n), TypeRef::Vec(_)) => {
                let n = Literal::u64_unsuffixed(*n);
                Some(quote!(crate::validation::check_max_items(out, path, #field, #value.len(), #n);))
            }
            _ => None,
        })
        .collect()
}

pub(super) fn validate_impl(def: &TypeDef, fields: &[Field], unchecked: &Unchecked) -> TokenStream {
    let name = ident(&def.name);
    let body = fields.iter().filter_map(|f| {
        let rust = ident(&f.rust);
        let wire = &f.wire;
        let mut stmts = checks(&f.ty, &f.constraints, quote!(value), quote!(#wire));
        if let TypeRef::Vec(item) = &f.ty {
            let item_checks = checks(item, &f.item_constraints, quote!(item), quote!(&crate::validation::index(#wire, i)));
            if !item_checks.is_empty() {
                stmts.push(quote! {
                    for (i, item) in value.iter().enumerate() {
                        #(#item_checks)*
                    }
                });
            }
        }
        if unchecked.needs_validation(&f.ty) {
            stmts.push(quote!(crate::validation::Validate::validate_into(value, &crate::validation::join(path, #wire), out);));
        }
        if stmts.is_empty() {
            return None;
        }
        Some(if is_option(f, def.role) {
            quote!(if let Some(value) = &self.#rust { #(#stmts)* })
        } else {
            quote!({ let value = &self.#rust; #(#stmts)* })
        })
    });
    let body: Vec<TokenStream> = body.collect();
    let (path, out) = if body.is_empty() {
        (quote!(_path), quote!(_out))
    } else {
        (quote!(path), quote!(out))
    };
    quote! {
        impl crate::validation::Validate for #name {
            fn validate_into(&self, #path: &str, #out: &mut ::std::vec::Vec<crate::validation::Violation>) {
                #(#body)*
            }
        }
    }
}
