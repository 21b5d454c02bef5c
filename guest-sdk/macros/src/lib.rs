//! The attribute macros of `jac-scale-guest`: `#[node]`, `#[edge]`, `#[walker]` and
//! `#[function]`. Use them through `jac_scale_guest`, whose docs describe them; the code
//! they generate names only `::jac_scale_guest` paths, so apps need no other dependency.

mod archetype;
mod fields;
mod function;
mod options;
mod walker;

use proc_macro::TokenStream;
use syn::{Item, parse_macro_input};

/// Declares a node type: a struct of typed fields, serialized as the node's fields.
#[proc_macro_attribute]
pub fn node(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(archetype::expand(
        archetype::Kind::Node,
        attr.into(),
        parse_macro_input!(item),
    ))
}

/// Declares an edge type: a struct of typed fields, serialized as the edge's fields.
#[proc_macro_attribute]
pub fn edge(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(archetype::expand(
        archetype::Kind::Edge,
        attr.into(),
        parse_macro_input!(item),
    ))
}

/// On a struct: declares a walker endpoint. On its `impl` block: declares its abilities.
#[proc_macro_attribute]
pub fn walker(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(match parse_macro_input!(item as Item) {
        Item::Struct(item) => archetype::expand(archetype::Kind::Walker, attr.into(), item),
        Item::Impl(item) => walker::expand_abilities(attr.into(), item),
        other => Err(syn::Error::new_spanned(
            other,
            "#[walker] goes on a struct (the walker) or on its impl block (its abilities)",
        )),
    })
}

/// Declares a function endpoint: its parameters are the inputs, its `Ok` value the result.
#[proc_macro_attribute]
pub fn function(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(function::expand(attr.into(), parse_macro_input!(item)))
}

fn expand(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}
