//! `#[function]` on a fn: a braced struct of the same name holds its arguments (a braced
//! struct lives only in the type namespace, so it does not clash with the fn) and
//! implements the endpoint by calling the fn.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, Pat, Type};

use crate::fields::{Field, combine};
use crate::options::Options;

pub fn expand(attr: TokenStream, mut item: ItemFn) -> syn::Result<TokenStream> {
    let options: Options = syn::parse2(attr)?;
    let sig = &mut item.sig;
    if !sig.generics.params.is_empty() || sig.asyncness.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "endpoint functions cannot be generic or async",
        ));
    }

    let mut takes_ctx = false;
    let mut fields = Vec::new();
    let mut errors = None;
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(param) = input else {
            combine(
                &mut errors,
                syn::Error::new_spanned(input, "endpoint functions take no `self`"),
            );
            continue;
        };
        if index == 0 && is_ctx(&param.ty) {
            takes_ctx = true;
            continue;
        }
        let Pat::Ident(pat) = &*param.pat else {
            combine(
                &mut errors,
                syn::Error::new_spanned(&param.pat, "parameters must be plain names"),
            );
            continue;
        };
        match Field::take(pat.ident.clone(), (*param.ty).clone(), &mut param.attrs) {
            Ok(field) => fields.push(field),
            Err(error) => combine(&mut errors, error),
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    options.check_path(&fields)?;

    let ident = sig.ident.clone();
    let name = ident.to_string();
    let vis = &item.vis;
    let spec = options.spec("Function", &name, &item.attrs, &fields);
    let default_fns = fields
        .iter()
        .filter_map(|field| field.default_fn_item(&name));
    let members = fields.iter().map(|field| {
        let (member, ty, serde_default) = (&field.ident, &field.ty, field.serde_default(&ident));
        quote!(#serde_default #member: #ty)
    });
    let cx = takes_ctx.then(|| quote!(cx,));
    let args = fields.iter().map(|field| {
        let member = &field.ident;
        quote!(args.#member)
    });

    Ok(quote! {
        #item

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(::jac_scale_guest::__private::serde::Deserialize)]
        #[serde(crate = "::jac_scale_guest::__private::serde")]
        #vis struct #ident {
            #(#members),*
        }

        impl #ident {
            #(#default_fns)*
        }

        impl ::jac_scale_guest::endpoint::Endpoint for #ident {
            const NAME: &'static str = #name;

            fn spec() -> ::jac_scale_guest::endpoint::EndpointSpec {
                #spec
            }

            #[allow(unused_variables)]
            fn call(
                cx: &::jac_scale_guest::Ctx,
                args: ::jac_scale_guest::__private::serde_json::Value,
                _target: ::core::option::Option<::jac_scale_guest::Id>,
            ) -> ::core::result::Result<
                ::jac_scale_guest::__private::serde_json::Value,
                ::jac_scale_guest::endpoint::CallError,
            > {
                let args: #ident = ::jac_scale_guest::__private::decode_args(args)?;
                ::jac_scale_guest::__private::function_result(#ident(#cx #(#args),*))
            }
        }
    })
}

/// Whether a parameter type is `&Ctx` (the call context, not an input).
fn is_ctx(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    matches!(&*reference.elem, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == "Ctx"))
}
