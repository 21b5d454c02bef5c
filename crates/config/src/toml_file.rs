//! Typed reading of the app's `jac.toml`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Grants;
use super::{ConfigError, Limits};

/// Sections of `[plugins.scale]` this host understands, with their keys.
const KNOWN: &[(&str, &[&str])] = &[
    (
        "server",
        &[
            "host",
            "port",
            "debug",
            "docs_enabled",
            "cors_allowed_origins",
            "login_failures_per_account",
            "login_failures_per_address",
            "registrations_per_address",
            "throttle_window_seconds",
            "max_url_bytes",
            "max_header_bytes",
            "header_read_timeout_ms",
            "max_connections",
        ],
    ),
    (
        "limits",
        &[
            "call_timeout_ms",
            "memory_limit_mib",
            "body_limit_bytes",
            "max_concurrency",
            "queue_timeout_ms",
            "guest_threads",
        ],
    ),
    ("quotas", super::quotas::KEYS),
    (
        "webhook",
        &[
            "secret",
            "signature_header",
            "verify_signature",
            "api_key_expiry_days",
            "replay_tolerance_seconds",
            "require_timestamp",
            "rate_limit_per_minute",
        ],
    ),
    (
        "websocket",
        &[
            "max_connections_per_user",
            "max_connections",
            "max_message_bytes",
        ],
    ),
    ("capabilities", &["kvstore", "storage"]),
    (
        "database",
        &[
            "redis_url",
            "mongodb_uri",
            "mongodb_database",
            "cache_ttl_seconds",
            "local_cache_ttl_seconds",
            "local_cache_capacity",
        ],
    ),
    (
        "metrics",
        &[
            "enabled",
            "endpoint",
            "namespace",
            "walker_metrics",
            "histogram_buckets",
        ],
    ),
    // Sections served by later capabilities; accepted without a warning.
    ("monitoring", &[]),
    // Read by the deploy crate (`jac-scale start --scale`), which checks its keys.
    ("kubernetes", &[]),
    // Any variable names (guest_env).
    ("secrets", &[]),
    ("env", &[]),
];

/// A parsed `jac.toml` (empty when the file does not exist).
#[derive(Debug, Default)]
pub struct JacToml {
    path: PathBuf,
    root: toml::Table,
}

#[cfg(test)]
impl JacToml {
    /// `text` as an app's jac.toml, loaded from a file as the host loads it (tests).
    pub(crate) fn from_text(text: &str) -> Result<Self, ConfigError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jac.toml");
        std::fs::write(&path, text).expect("write jac.toml");
        JacToml::load(&path)
    }
}

impl JacToml {
    /// Parse `path`; a missing file is an empty config, an unreadable or invalid one an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(JacToml {
                    path: path.to_path_buf(),
                    root: toml::Table::new(),
                });
            }
            Err(e) => {
                return Err(ConfigError::File {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        let root: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::File {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?;
        let cfg = JacToml {
            path: path.to_path_buf(),
            root,
        };
        cfg.warn_unknown_keys();
        Ok(cfg)
    }

    /// This file with `settings` (a table shaped like a jac.toml, from `origin`) laid over
    /// it: a key in both takes the value of `settings`; tables merge key by key.
    pub fn overlaid(mut self, settings: &toml::Table, origin: &str) -> Self {
        if settings.is_empty() {
            return self;
        }
        merge(&mut self.root, settings);
        self.path = PathBuf::from(format!("{} (with {origin})", self.path.display()));
        self.warn_unknown_keys();
        self
    }

    /// The file's path (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A top-level entry outside `[plugins]` (e.g. the spec's `[storage]` section).
    pub(super) fn top_level(&self, name: &str) -> Option<&toml::Value> {
        self.root.get(name)
    }

    fn scale(&self) -> Option<&toml::Table> {
        self.root
            .get("plugins")?
            .as_table()?
            .get("scale")?
            .as_table()
    }

    /// The table `[plugins.scale.<name>]`, if present.
    pub fn section(&self, name: &str) -> Option<&toml::Table> {
        self.scale()?.get(name)?.as_table()
    }

    fn value(&self, section: &str, key: &str) -> Option<&toml::Value> {
        self.scale()?.get(section)?.as_table()?.get(key)
    }

    /// The error for `plugins.scale.<section>.<key>` not being `expected`.
    pub fn wrong_type(&self, section: &str, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            path: self.path.clone(),
            key: format!("plugins.scale.{section}.{key}"),
            expected,
        }
    }

    pub(super) fn integer(&self, section: &str, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.value(section, key) {
            None => Ok(None),
            Some(v) => v
                .as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| self.wrong_type(section, key, "an integer")),
        }
    }

    pub(super) fn string(&self, section: &str, key: &str) -> Result<Option<&str>, ConfigError> {
        match self.value(section, key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.wrong_type(section, key, "a string")),
        }
    }

    pub(super) fn boolean(&self, section: &str, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.value(section, key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong_type(section, key, "true or false")),
        }
    }

    /// A list of numbers (integers are taken as floats).
    pub(super) fn number_list(
        &self,
        section: &str,
        key: &str,
    ) -> Result<Option<Vec<f64>>, ConfigError> {
        let wrong = || self.wrong_type(section, key, "a list of numbers");
        match self.value(section, key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    toml::Value::Float(f) => Ok(*f),
                    toml::Value::Integer(i) => Ok(*i as f64),
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(wrong()),
        }
    }

    /// A list of strings.
    pub(super) fn string_list(
        &self,
        section: &str,
        key: &str,
    ) -> Result<Option<Vec<String>>, ConfigError> {
        let wrong = || self.wrong_type(section, key, "a list of strings");
        match self.value(section, key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(wrong))
                .collect::<Result<_, _>>()
                .map(Some),
            Some(_) => Err(wrong()),
        }
    }

    /// `[plugins.scale.capabilities]`: `None` when the section is absent.
    pub fn capabilities(&self) -> Result<Option<Grants>, ConfigError> {
        if self.section("capabilities").is_none() {
            return Ok(None);
        }
        let list = |key| self.string_list("capabilities", key);
        Ok(Some(Grants::declared(list("kvstore")?, list("storage")?)))
    }

    /// `[plugins.scale.server] host`.
    pub fn server_host(&self) -> Result<Option<IpAddr>, ConfigError> {
        self.string("server", "host")?
            .map(|h| {
                h.parse()
                    .map_err(|_| self.wrong_type("server", "host", "an IP address"))
            })
            .transpose()
    }

    /// `[project] name`.
    pub fn project_name(&self) -> Result<Option<&str>, ConfigError> {
        match self.root.get("project").and_then(|p| p.get("name")) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| ConfigError::WrongType {
                path: self.path.clone(),
                key: "project.name".into(),
                expected: "a string",
            }),
        }
    }

    /// `[plugins.scale.server] port`.
    pub fn server_port(&self) -> Result<Option<u16>, ConfigError> {
        self.integer("server", "port")?
            .map(|p| {
                u16::try_from(p).map_err(|_| self.wrong_type("server", "port", "a port number"))
            })
            .transpose()
    }

    /// `[plugins.scale.limits]`, over `defaults`.
    pub fn limits(&self, defaults: Limits) -> Result<Limits, ConfigError> {
        let mut l = defaults;
        if let Some(ms) = self.integer("limits", "call_timeout_ms")? {
            l.call_timeout = Duration::from_millis(ms);
        }
        if let Some(mib) = self.integer("limits", "memory_limit_mib")? {
            l.memory_limit_bytes = usize::try_from(mib)
                .ok()
                .and_then(|m| m.checked_mul(1 << 20))
                .ok_or_else(|| self.wrong_type("limits", "memory_limit_mib", "a size in MiB"))?;
        }
        if let Some(b) = self.integer("limits", "body_limit_bytes")? {
            l.body_limit_bytes = usize::try_from(b).unwrap_or(usize::MAX);
        }
        if let Some(n) = self.integer("limits", "max_concurrency")? {
            l.max_concurrency = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(ms) = self.integer("limits", "queue_timeout_ms")? {
            l.queue_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.integer("limits", "guest_threads")? {
            l.guest_threads = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(l)
    }

    fn warn_unknown_keys(&self) {
        let Some(scale) = self.scale() else { return };
        for (section, value) in scale {
            let Some((_, keys)) = KNOWN.iter().find(|(s, _)| s == section) else {
                tracing::warn!(file = %self.path.display(), "unknown section [plugins.scale.{section}] ignored");
                continue;
            };
            if keys.is_empty() {
                continue;
            }
            if let Some(table) = value.as_table() {
                for key in table.keys().filter(|k| !keys.contains(&k.as_str())) {
                    tracing::warn!(file = %self.path.display(), "unknown key plugins.scale.{section}.{key} ignored");
                }
            }
        }
    }
}

/// Lay `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}
