//! `@restspec(method=..., path=..., protocol=..., broadcast=...)` on an endpoint.

use super::Describer;
use super::manifest::{DescribeError, Endpoint, HttpMethod, Protocol};
use super::schema::type_name;
use crate::syntax::ast::*;

impl Describer<'_> {
    pub(super) fn apply_restspec(
        &self,
        decorators: &[Expr],
        endpoint: &mut Endpoint,
    ) -> Result<(), DescribeError> {
        for decorator in decorators {
            let ExprKind::Call { func, args } = &decorator.kind else {
                continue;
            };
            if type_name(func) != Some("restspec") {
                continue;
            }
            for arg in args {
                let Arg::Keyword(key, value) = arg else {
                    return Err(
                        self.error(decorator.span, "@restspec takes keyword arguments only")
                    );
                };
                match &**key {
                    "method" => endpoint.method = self.method(value)?,
                    "path" => match &value.kind {
                        ExprKind::Str(path) => endpoint.path = Some(path.to_string()),
                        _ => {
                            return Err(self.error(
                                value.span,
                                "@restspec(path=...) must be a string literal",
                            ));
                        }
                    },
                    "protocol" => endpoint.protocol = self.protocol(value)?,
                    "webhook" => {
                        if self.flag(value)? {
                            endpoint.protocol = Protocol::Webhook;
                        }
                    }
                    "broadcast" => endpoint.broadcast = self.flag(value)?,
                    other => {
                        return Err(
                            self.error(value.span, format!("unknown @restspec option '{other}'"))
                        );
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn method(&self, value: &Expr) -> Result<HttpMethod, DescribeError> {
        let word = match &value.kind {
            ExprKind::Str(s) => s.to_string(),
            _ => type_name(value).unwrap_or("").to_string(),
        };
        Ok(match word.to_ascii_uppercase().as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => {
                return Err(self.error(
                    value.span,
                    "@restspec(method=...) must be HTTPMethod.GET, POST, PUT, PATCH or DELETE",
                ));
            }
        })
    }

    pub(super) fn protocol(&self, value: &Expr) -> Result<Protocol, DescribeError> {
        Ok(
            match type_name(value).map(str::to_ascii_uppercase).as_deref() {
                Some("HTTP") => Protocol::Http,
                Some("WEBHOOK") => Protocol::Webhook,
                Some("WEBSOCKET") => Protocol::Websocket,
                _ => {
                    return Err(self.error(
                        value.span,
                        "@restspec(protocol=...) must be APIProtocol.HTTP, WEBHOOK or WEBSOCKET",
                    ));
                }
            },
        )
    }

    pub(super) fn flag(&self, value: &Expr) -> Result<bool, DescribeError> {
        match value.kind {
            ExprKind::Bool(b) => Ok(b),
            _ => Err(self.error(value.span, "expected True or False")),
        }
    }
}
