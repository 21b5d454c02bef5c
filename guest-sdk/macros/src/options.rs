//! Endpoint options (`@restspec` and the access modifier):
//! `#[walker(public, method = GET, path = "/items/{item_id}", protocol = webhook, broadcast)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

use crate::fields::{Field, doc_of, option_str};

/// The options of one walker or function endpoint.
pub struct Options {
    access: Ident,
    method: Ident,
    protocol: Ident,
    path: Option<LitStr>,
    broadcast: bool,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = Options {
            access: Ident::new("Protected", Span::call_site()),
            method: Ident::new("Post", Span::call_site()),
            protocol: Ident::new("Http", Span::call_site()),
            path: None,
            broadcast: false,
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "public" => options.access = Ident::new("Public", key.span()),
                "protected" => options.access = Ident::new("Protected", key.span()),
                "private" => options.access = Ident::new("Private", key.span()),
                "broadcast" => options.broadcast = true,
                "method" => {
                    options.method = value(input, &["GET", "POST", "PUT", "PATCH", "DELETE"])?
                }
                "protocol" => options.protocol = value(input, &["HTTP", "WEBHOOK", "WEBSOCKET"])?,
                "path" => {
                    input.parse::<Token![=]>()?;
                    let path: LitStr = input.parse()?;
                    if !path.value().starts_with('/') {
                        return Err(syn::Error::new(path.span(), "a path starts with `/`"));
                    }
                    options.path = Some(path);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "expected one of: public, protected, private, method = GET|POST|PUT|PATCH|DELETE, \
                         path = \"/...\", protocol = http|webhook|websocket, broadcast",
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

/// `= NAME` where NAME is one of `allowed` (any case), as the matching enum variant.
fn value(input: ParseStream, allowed: &[&str]) -> syn::Result<Ident> {
    input.parse::<Token![=]>()?;
    let name: Ident = input.parse()?;
    let upper = name.to_string().to_uppercase();
    if !allowed.contains(&upper.as_str()) {
        return Err(syn::Error::new(
            name.span(),
            format!("expected one of {}", allowed.join(", ")),
        ));
    }
    let variant = format!("{}{}", &upper[..1], upper[1..].to_lowercase());
    Ok(Ident::new(&variant, name.span()))
}

impl Options {
    /// Checks that each `{name}` of the path names an input.
    pub fn check_path(&self, fields: &[Field]) -> syn::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = path.value();
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return Err(syn::Error::new(path.span(), "unclosed `{` in path"));
            };
            let name = &rest[open + 1..open + close];
            if !fields.iter().any(|field| field.name() == name) {
                return Err(syn::Error::new(
                    path.span(),
                    format!("path template `{{{name}}}` names no field"),
                ));
            }
            rest = &rest[open + close + 1..];
        }
        Ok(())
    }

    /// `EndpointSpec { ... }` for an endpoint of this kind, name, doc and fields.
    pub fn spec(
        &self,
        kind: &str,
        name: &str,
        attrs: &[syn::Attribute],
        fields: &[Field],
    ) -> TokenStream {
        let Options {
            access,
            method,
            protocol,
            path,
            broadcast,
        } = self;
        let kind = Ident::new(kind, Span::call_site());
        let path = option_str(path.as_ref().map(LitStr::value).as_deref());
        let doc = option_str(doc_of(attrs).as_deref());
        let fields = fields.iter().map(Field::spec);
        quote! {
            ::jac_scale_guest::endpoint::EndpointSpec {
                name: ::std::string::String::from(#name),
                kind: ::jac_scale_guest::endpoint::Kind::#kind,
                protocol: ::jac_scale_guest::endpoint::Protocol::#protocol,
                method: ::jac_scale_guest::endpoint::Method::#method,
                path: #path.map(::std::string::String::from),
                access: ::jac_scale_guest::endpoint::Access::#access,
                broadcast: #broadcast,
                fields: ::std::vec![#(#fields),*],
                doc: #doc.map(::std::string::String::from),
            }
        }
    }
}
