//! The route table generated from an app's manifest.
//!
//! Walkers answer at `/walker/{name}` and `/walker/{name}/{node_id}`, functions at
//! `/function/{name}`; `@restspec(path=...)` replaces the default route. Private,
//! webhook and WebSocket endpoints get no HTTP route here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::Method;

use runtime::{Access, Kind, Manifest, Protocol};

/// What a matched route calls.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index into the manifest's endpoints.
    pub endpoint: usize,
    /// The route as documented (`/walker/{name}/{node_id}`): the metrics' `path` label.
    pub template: Arc<str>,
}

/// Result of looking a request up.
#[derive(Debug)]
pub enum Lookup {
    Found {
        target: Target,
        params: Vec<(String, String)>,
    },
    MethodNotAllowed,
    NotFound,
}

/// Path -> method -> target.
#[derive(Debug, Default)]
pub struct Routes {
    paths: matchit::Router<HashMap<Method, Target>>,
}

/// Parameter name of the node id in walker routes; cannot clash with a field name
/// because field names are identifiers and this one is reserved by the host.
pub const NODE_PARAM: &str = "__jac_node_id";

impl Routes {
    /// Build the table; conflicting routes are an error naming both.
    pub fn build(manifest: &Manifest) -> Result<Self, String> {
        let mut table: Vec<(String, Method, Target)> = Vec::new();
        for (i, e) in manifest.endpoints.iter().enumerate() {
            if e.access == Access::Private || e.protocol != Protocol::Http {
                continue;
            }
            let target = |template: String| Target {
                endpoint: i,
                template: template.into(),
            };
            match (&e.path, e.kind) {
                (Some(path), _) => {
                    table.push((path.clone(), e.method.clone(), target(path.clone())))
                }
                (None, Kind::Walker) => {
                    let path = format!("/walker/{}", e.name);
                    table.push((path.clone(), e.method.clone(), target(path.clone())));
                    // The spawn-on-node route; its id arrives as the NODE_PARAM parameter.
                    table.push((
                        format!("{path}/{{{NODE_PARAM}}}"),
                        e.method.clone(),
                        target(format!("{path}/{{node_id}}")),
                    ));
                }
                (None, Kind::Function) => {
                    let path = format!("/function/{}", e.name);
                    table.push((path.clone(), e.method.clone(), target(path)))
                }
            }
        }
        let mut grouped: Vec<(String, HashMap<Method, Target>)> = Vec::new();
        for (path, method, target) in table {
            let slot = match grouped.iter_mut().find(|(p, _)| *p == path) {
                Some((_, m)) => m,
                None => {
                    grouped.push((path.clone(), HashMap::new()));
                    &mut grouped.last_mut().expect("just pushed").1
                }
            };
            if slot.insert(method.clone(), target).is_some() {
                let names: Vec<&str> = slot
                    .values()
                    .map(|t| manifest.endpoints[t.endpoint].name.as_str())
                    .collect();
                return Err(format!(
                    "two endpoints answer {method} {path}: {}",
                    names.join(", ")
                ));
            }
        }
        let mut paths = matchit::Router::new();
        for (path, methods) in grouped {
            paths
                .insert(path.clone(), methods)
                .map_err(|e| format!("route {path}: {e}"))?;
        }
        Ok(Routes { paths })
    }

    /// Find the endpoint for `method` and `path`.
    pub fn lookup(&self, method: &Method, path: &str) -> Lookup {
        let Ok(found) = self.paths.at(path) else {
            return Lookup::NotFound;
        };
        match found.value.get(method) {
            Some(target) => Lookup::Found {
                target: target.clone(),
                params: found
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            None => Lookup::MethodNotAllowed,
        }
    }
}
