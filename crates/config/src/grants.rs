//! Which kvstores and storage paths an app may open: the one place that decides.
//!
//! An app's `jac.toml` may declare what it uses (Spin's manifest model):
//!
//! ```toml
//! [plugins.scale.capabilities]
//! kvstore = ["my_app", "cache"]   # store names; "*" = any
//! storage = ["./uploads"]          # base paths (and what lies under them); "*" = any
//! ```
//!
//! When the section is present, anything it does not list is `access-denied` (a kind it
//! omits grants nothing). When it is absent, the operator's default applies: allow
//! everything (a single app started with `jac-scale start`, so the spec's examples run
//! unchanged), or deny everything (`--capabilities deny`, `JAC_SCALE_CAPABILITIES=deny`).

use std::path::{Component, Path, PathBuf};

/// What an app gets when its `jac.toml` declares no capabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GrantDefault {
    /// Every store and path (one trusted app per host).
    #[default]
    Allow,
    /// Nothing (many tenants per host).
    Deny,
}

impl std::str::FromStr for GrantDefault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow" => Ok(GrantDefault::Allow),
            "deny" => Ok(GrantDefault::Deny),
            other => Err(format!("`{other}`: expected `allow` or `deny`")),
        }
    }
}

/// One kind's grant: everything, or the listed names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Any,
    Only(Vec<String>),
}

impl Allowed {
    fn from_list(list: Vec<String>) -> Self {
        if list.iter().any(|n| n == "*") {
            Allowed::Any
        } else {
            Allowed::Only(list)
        }
    }
}

/// An app's capability grants (carried by every call's `HostState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    kvstore: Allowed,
    storage: Allowed,
}

impl Grants {
    /// The grants of an app whose `jac.toml` declares none.
    pub fn by_default(default: GrantDefault) -> Self {
        let all = match default {
            GrantDefault::Allow => Allowed::Any,
            GrantDefault::Deny => Allowed::Only(Vec::new()),
        };
        Grants {
            kvstore: all.clone(),
            storage: all,
        }
    }

    /// The grants a `[plugins.scale.capabilities]` section declares; a kind it does not
    /// mention (`None`) grants nothing.
    pub fn declared(kvstore: Option<Vec<String>>, storage: Option<Vec<String>>) -> Self {
        Grants {
            kvstore: Allowed::from_list(kvstore.unwrap_or_default()),
            storage: Allowed::from_list(storage.unwrap_or_default()),
        }
    }

    /// Whether the app may open the kvstore `name`.
    pub fn allows_kvstore(&self, name: &str) -> bool {
        match &self.kvstore {
            Allowed::Any => true,
            Allowed::Only(names) => names.iter().any(|n| n == name),
        }
    }

    /// Whether the app may open storage at `base_path`: the path, normalised (`./a/`
    /// = `a`), is a granted base path or lies under one. A path with `..` is never
    /// granted by a list (only by `"*"`); the storage backend refuses escapes anyway.
    pub fn allows_storage(&self, base_path: &str) -> bool {
        match &self.storage {
            Allowed::Any => true,
            Allowed::Only(paths) => normalise(base_path).is_some_and(|wanted| {
                paths
                    .iter()
                    .filter_map(|p| normalise(p))
                    .any(|granted| wanted.starts_with(&granted))
            }),
        }
    }
}

/// `path` without `.` components and trailing slashes; `None` if it has `..`.
fn normalise(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => return None,
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn default_allow_grants_everything() {
        let g = Grants::by_default(GrantDefault::Allow);
        assert!(g.allows_kvstore("cache"));
        assert!(g.allows_storage("./anything/at/all"));
    }

    #[test]
    fn default_deny_grants_nothing() {
        let g = Grants::by_default(GrantDefault::Deny);
        assert!(!g.allows_kvstore("cache"));
        assert!(!g.allows_storage("./uploads"));
    }

    #[test]
    fn declared_lists_grant_only_what_they_name() {
        let g = Grants::declared(list(&["my_app", "cache"]), list(&["./uploads"]));
        assert!(g.allows_kvstore("cache"));
        assert!(g.allows_kvstore("my_app"));
        assert!(!g.allows_kvstore("other"));
        assert!(!g.allows_kvstore("Cache"));
        assert!(g.allows_storage("uploads"));
        assert!(g.allows_storage("./uploads/"));
        assert!(g.allows_storage("uploads/avatars"));
        assert!(!g.allows_storage("uploads2"));
        assert!(!g.allows_storage("./uploads/../secrets"));
        assert!(!g.allows_storage("/etc"));
    }

    #[test]
    fn a_kind_the_section_omits_grants_nothing() {
        let g = Grants::declared(list(&["cache"]), None);
        assert!(g.allows_kvstore("cache"));
        assert!(!g.allows_storage("./uploads"));
        let g = Grants::declared(None, list(&["*"]));
        assert!(!g.allows_kvstore("cache"));
        assert!(g.allows_storage("/anywhere"));
    }

    #[test]
    fn star_grants_any_name() {
        let g = Grants::declared(list(&["*"]), list(&[]));
        assert!(g.allows_kvstore("whatever"));
        assert!(!g.allows_storage("./uploads"));
    }

    #[test]
    fn the_operator_switch_parses() {
        assert_eq!("deny".parse(), Ok(GrantDefault::Deny));
        assert_eq!(" Allow ".parse(), Ok(GrantDefault::Allow));
        assert!("maybe".parse::<GrantDefault>().is_err());
    }
}
