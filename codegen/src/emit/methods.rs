//! The catalog of every model's descriptor, and the client methods: one
//! async function per model on `Images` (`images.rs`) or `Videos` (`videos.rs`).

use super::*;

pub(super) fn catalog_rs(ir: &Ir) -> TokenStream {
    let entries = ir.models.iter().map(|m| {
        let module = ident(&m.module);
        let cfg = category_cfg(m.category);
        quote!(#cfg &super::models::#module::MODEL)
    });
    let poll = &ir.poll_route;
    quote! {
        #![doc = " The model catalog: every model's descriptor, and the poll route."]
        #[doc = " Every model in the specs, in docs.json order (those of the enabled `images`/`videos` features)."]
        pub static MODELS: &[&crate::model::ModelDescriptor] = &[#(#entries),*];
        #[doc = " The route that polls a generation by id, relative to the API base."]
        pub const POLL_ROUTE: &str = #poll;
    }
}

/// `images.rs` or `videos.rs`: one async function per model of the category
/// on `client.images()` or `client.videos()`.
pub(super) fn methods_rs(ir: &Ir, category: Category) -> TokenStream {
    let fns = ir
        .models
        .iter()
        .filter(|m| m.category == category)
        .map(method);
    let (doc, ty) = match category {
        Category::Images => (
            " One async function per image model, on `client.images()`.",
            quote!(Images),
        ),
        Category::Videos => (
            " One async function per video model, on `client.videos()`.",
            quote!(Videos),
        ),
    };
    quote! {
        #![doc = #doc]
        impl crate::client::#ty<'_> {
            #(#fns)*
        }
    }
}

/// One model's function's doc lines: they lead to the request type and say what it returns.
pub(super) fn method_docs(m: &ModelIr) -> Vec<String> {
    let mut docs = vec![format!("{} (`{}`).", one_line(&m.summary), m.id)];
    // The model's own prose (the request schema's description): the
    // operation's description also narrates its route, which is not
    // what this function does.
    let about: Vec<String> = m.request.docs.iter().map(|l| prose(l)).collect();
    if !about.is_empty() {
        docs.push(String::new());
        docs.extend(about);
    }
    docs.push(String::new());
    docs.push(format!(
        "Takes a [`{request}`](super::models::{module}::{request}) (or anything that converts into one), validates it, creates the job (over SSE when the model has it) and returns its terminal result: a [`Generation`](crate::Generation) that COMPLETED or SUCCEEDED, or an error ([`Error::Failed`](crate::Error::Failed) for FAILED or CANCELED).",
        request = m.request.name,
        module = m.module,
    ));
    docs
}

/// One model's function: its docs lead to the request type and say what it returns.
fn method(m: &ModelIr) -> TokenStream {
    let f = ident(&m.function);
    let module = ident(&m.module);
    let request = ident(&m.request.name);
    let docs = doc_attrs(&method_docs(m));
    quote! {
        #docs
        pub async fn #f(&self, request: impl ::std::convert::Into<super::models::#module::#request>) -> ::std::result::Result<crate::Generation, crate::Error> {
            self.client().generate(request.into()).await
        }
    }
}
