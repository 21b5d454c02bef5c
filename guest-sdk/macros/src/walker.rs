//! `#[walker]` on an impl block: each method marked `#[entry(...)]` or `#[exit(...)]`
//! becomes an ability, in declaration order.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{ImplItem, ItemImpl, Token, Type};

use crate::fields::combine;

pub fn expand_abilities(attr: TokenStream, mut item: ItemImpl) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "options go on the walker struct; #[walker] on an impl block takes none",
        ));
    }
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new_spanned(
            path,
            "#[walker] goes on the walker's own impl block",
        ));
    }
    let mut abilities = Vec::new();
    let mut errors = None;
    for member in &mut item.items {
        let ImplItem::Fn(method) = member else {
            continue;
        };
        let ident = method.sig.ident.clone();
        method.attrs.retain(|attr| {
            let event = if attr.path().is_ident("entry") {
                quote!(Entry)
            } else if attr.path().is_ident("exit") {
                quote!(Exit)
            } else {
                return true;
            };
            let types = match &attr.meta {
                syn::Meta::Path(_) => Ok(Punctuated::<Type, Token![,]>::new()),
                _ => attr.parse_args_with(Punctuated::<Type, Token![,]>::parse_terminated),
            };
            match types {
                Ok(types) => {
                    let types = types.iter();
                    abilities.push(quote! {
                        ::jac_scale_guest::Ability {
                            event: ::jac_scale_guest::Event::#event,
                            on: &[#(<#types as ::jac_scale_guest::NodeType>::ARCHETYPE),*],
                            run: Self::#ident,
                        }
                    });
                }
                Err(error) => combine(&mut errors, error),
            }
            false
        });
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let self_ty = &item.self_ty;
    Ok(quote! {
        #item

        impl ::jac_scale_guest::Walker for #self_ty {
            const ABILITIES: &'static [::jac_scale_guest::Ability<Self>] = &[#(#abilities),*];
        }
    })
}
