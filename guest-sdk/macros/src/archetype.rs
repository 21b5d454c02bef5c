//! `#[node]`, `#[edge]` and `#[walker]` on a struct: serde derives with defaults, a
//! `new` taking the fields without a default, and the archetype or endpoint impl.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, ItemStruct};

use crate::fields::{Field, combine};
use crate::options::Options;

/// Which archetype the struct declares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    Edge,
    Walker,
}

pub fn expand(kind: Kind, attr: TokenStream, mut item: ItemStruct) -> syn::Result<TokenStream> {
    let options = match kind {
        Kind::Walker => Some(syn::parse2::<Options>(attr)?),
        Kind::Node | Kind::Edge if !attr.is_empty() => {
            return Err(syn::Error::new_spanned(
                attr,
                "#[node] and #[edge] take no options",
            ));
        }
        Kind::Node | Kind::Edge => None,
    };
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "archetypes cannot be generic",
        ));
    }
    let Fields::Named(named) = &mut item.fields else {
        return Err(syn::Error::new_spanned(
            &item,
            "an archetype needs named fields: `struct Todo { title: String }`",
        ));
    };

    let owner = item.ident.clone();
    let mut fields = Vec::new();
    let mut errors = None;
    for field in &mut named.named {
        let ident = field.ident.clone().expect("named fields have names");
        match Field::take(ident, field.ty.clone(), &mut field.attrs) {
            Ok(parsed) => {
                if let Some(serde_default) = parsed.serde_default(&owner) {
                    field.attrs.push(syn::parse_quote!(#serde_default));
                }
                fields.push(parsed);
            }
            Err(error) => combine(&mut errors, error),
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }

    let name = owner.to_string();
    let vis = &item.vis;
    let default_fns = fields
        .iter()
        .filter_map(|field| field.default_fn_item(&name));
    let required: Vec<&Field> = fields
        .iter()
        .filter(|field| field.default.is_none())
        .collect();
    let params = required
        .iter()
        .map(|Field { ident, ty, .. }| quote!(#ident: impl ::core::convert::Into<#ty>));
    let inits = fields.iter().map(|field| {
        let ident = &field.ident;
        match field.default {
            Some(_) => {
                let make = field.default_fn();
                quote!(#ident: Self::#make())
            }
            None => quote!(#ident: ::core::convert::Into::into(#ident)),
        }
    });
    let new_doc =
        format!("A `{name}` from its fields without a default; the others take their defaults.");

    let kind_impl = match (kind, &options) {
        (Kind::Node, _) => quote! {
            impl ::jac_scale_guest::NodeType for #owner {
                const ARCHETYPE: &'static str = #name;
            }
        },
        (Kind::Edge, _) => quote! {
            impl ::jac_scale_guest::EdgeType for #owner {
                const ARCHETYPE: &'static str = #name;
            }
        },
        (Kind::Walker, Some(options)) => {
            options.check_path(&fields)?;
            let spec = options.spec("Walker", &name, &item.attrs, &fields);
            quote! {
                impl ::jac_scale_guest::endpoint::Endpoint for #owner {
                    const NAME: &'static str = #name;

                    fn spec() -> ::jac_scale_guest::endpoint::EndpointSpec {
                        #spec
                    }

                    fn call(
                        cx: &::jac_scale_guest::Ctx,
                        args: ::jac_scale_guest::__private::serde_json::Value,
                        target: ::core::option::Option<::jac_scale_guest::Id>,
                    ) -> ::core::result::Result<
                        ::jac_scale_guest::__private::serde_json::Value,
                        ::jac_scale_guest::endpoint::CallError,
                    > {
                        ::jac_scale_guest::__private::call_walker::<Self>(cx, args, target)
                    }
                }
            }
        }
        (Kind::Walker, None) => unreachable!("walker options were parsed above"),
    };

    Ok(quote! {
        #[derive(
            ::jac_scale_guest::__private::serde::Serialize,
            ::jac_scale_guest::__private::serde::Deserialize,
            ::core::clone::Clone,
            ::core::fmt::Debug,
        )]
        #[serde(crate = "::jac_scale_guest::__private::serde")]
        #item

        impl #owner {
            #[doc = #new_doc]
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            #vis fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }

            #(#default_fns)*
        }

        #kind_impl
    })
}
