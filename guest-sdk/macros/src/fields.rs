//! Inputs shared by every macro: `#[jac(default = <json>)]` on fields and parameters,
//! doc comments, and the code for defaults and manifest field entries.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Attribute, Expr, Lit, Meta, Token, Type};

/// One typed input: a struct field or a function parameter.
pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    /// The default as JSON tokens (fed to `json!`), if any.
    pub default: Option<TokenStream>,
    pub doc: Option<String>,
}

impl Field {
    /// Reads a field, removing its `#[jac(...)]` attribute.
    pub fn take(ident: Ident, ty: Type, attrs: &mut Vec<Attribute>) -> syn::Result<Self> {
        let doc = doc_of(attrs);
        let mut default = None;
        let mut error: Option<syn::Error> = None;
        attrs.retain(|attr| {
            if !attr.path().is_ident("jac") {
                return true;
            }
            match attr.parse_args_with(parse_default) {
                Ok(tokens) if default.is_none() => default = Some(tokens),
                Ok(_) => combine(
                    &mut error,
                    syn::Error::new_spanned(attr, "only one #[jac(default = ...)] per field"),
                ),
                Err(e) => combine(&mut error, e),
            }
            false
        });
        match error {
            Some(error) => Err(error),
            None => Ok(Self {
                ident,
                ty,
                default,
                doc,
            }),
        }
    }

    /// The name of the generated fn that makes the default.
    pub fn default_fn(&self) -> Ident {
        format_ident!("__jac_default_{}", self.ident.unraw())
    }

    /// The field's name as JSON sees it (`r#type` is `type`).
    pub fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The fn that makes the default: the JSON read as the field's type.
    pub fn default_fn_item(&self, owner: &str) -> Option<TokenStream> {
        let json = self.default.as_ref()?;
        let (name, ty, field) = (self.default_fn(), &self.ty, self.name());
        Some(quote! {
            #[doc(hidden)]
            fn #name() -> #ty {
                ::jac_scale_guest::__private::default_value(
                    #owner,
                    #field,
                    ::jac_scale_guest::__private::serde_json::json!(#json),
                )
            }
        })
    }

    /// `#[serde(default = "Owner::__jac_default_x")]` when the field has a default.
    pub fn serde_default(&self, owner: &Ident) -> Option<TokenStream> {
        self.default.as_ref()?;
        let path = format!("{owner}::{}", self.default_fn());
        Some(quote!(#[serde(default = #path)]))
    }

    /// The manifest entry of the field.
    pub fn spec(&self) -> TokenStream {
        let (name, ty) = (self.name(), &self.ty);
        let default = match self.default {
            Some(_) => {
                let make = self.default_fn();
                quote!(::core::option::Option::Some(Self::#make()))
            }
            None => quote!(::core::option::Option::None),
        };
        let doc = option_str(self.doc.as_deref());
        quote!(::jac_scale_guest::__private::field::<#ty>(#name, #default, #doc))
    }
}

fn parse_default(input: ParseStream) -> syn::Result<TokenStream> {
    let key: Ident = input.parse()?;
    if key != "default" {
        return Err(syn::Error::new(
            key.span(),
            "expected `default = <JSON value>`",
        ));
    }
    input.parse::<Token![=]>()?;
    let value: TokenStream = input.parse()?;
    if value.is_empty() {
        return Err(input.error("expected a JSON value after `default =`"));
    }
    Ok(value)
}

/// The doc comment of an item, lines joined, or `None`.
pub fn doc_of(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(expr) => match &expr.lit {
                    Lit::Str(text) => Some(text.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let doc = lines.join("\n").trim().to_owned();
    (!doc.is_empty()).then_some(doc)
}

/// `Some("text")` or `None` as tokens.
pub fn option_str(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None::<&'static str>),
    }
}

/// Adds `next` to the errors gathered so far.
pub fn combine(errors: &mut Option<syn::Error>, next: syn::Error) {
    match errors {
        Some(errors) => errors.combine(next),
        None => *errors = Some(next),
    }
}
