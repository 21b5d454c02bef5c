//! `jac.toml` + environment + flags -> one typed [`Config`].
//!
//! Precedence, highest first: command-line flags, environment variables, the app's
//! `jac.toml` (the file next to the app), built-in defaults. Unknown `jac.toml` keys
//! under `[plugins.scale]` are warned about; a value of the wrong type fails the start
//! with the file, the key and the expected type.
//!
//! Invariant: nothing outside this module reads the process environment for settings.

mod apps;
mod client_limits;
mod database;
mod grants;
pub mod guest_env;
mod jwt;
mod operations;
mod quotas;
mod realtime;
mod sso;
mod storage;
mod toml_file;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use apps::{
    ADMIN_TOKEN_FILE, APP_FILES, AdminClient, DEFAULT_ADMIN_PORT, HostedApp, MAX_APP_NAME_LEN,
    ServeConfig, ServeFlags, check_app_name,
};
pub use client_limits::ClientLimits;
pub use database::DatabaseSettings;
pub use grants::{GrantDefault, Grants};
pub use guest_env::GuestEnv;
pub use jwt::JwtSettings;
pub use operations::{LogFormat, MetricsSettings};
pub use quotas::{Quota, Quotas};
pub use realtime::{WebSocketSettings, WebhookSettings};
pub use sso::{OidcClientSettings, SsoSettings, is_secure_origin};
pub use storage::{S3Settings, StorageBackendSettings, StorageSettings};

pub use toml_file::JacToml;

/// Everything the server needs to start, resolved once.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `.wasm` component to serve.
    pub app_path: PathBuf,
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind; 0 picks a free port.
    pub port: u16,
    /// Tokio worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Swap in a new component when the file changes.
    pub reload: bool,
    /// Put a guest's own trace (its source locations) into error answers
    /// (`JAC_SCALE_DEBUG`, `[plugins.scale.server] debug`; off). The log always has it.
    pub debug: bool,
    /// Where the database, the compile cache and the generated JWT secret live.
    pub data_dir: PathBuf,
    /// Compiled code shared by every app of this machine user (`JAC_SCALE_CACHE_DIR`,
    /// else `$XDG_CACHE_HOME/jac-scale`, else `~/.cache/jac-scale`, else the data dir).
    pub compile_cache_dir: PathBuf,
    /// Per-call and per-request bounds.
    pub limits: Limits,
    /// JWT settings (from the environment only, as the spec says).
    pub jwt: JwtSettings,
    /// `[plugins.scale.webhook]` and `WEBHOOK_SECRET`.
    pub webhook: WebhookSettings,
    /// `[plugins.scale.websocket]` and `REDIS_URL`.
    pub websocket: WebSocketSettings,
    /// `[storage]` and `JAC_STORAGE_*` (jac.toml first, as the spec says for this section).
    pub storage: StorageSettings,
    /// The graph's memory hierarchy: `MONGODB_URI`, `REDIS_URL`, `[plugins.scale.database]`.
    pub database: DatabaseSettings,
    /// `[plugins.scale.capabilities]`, else the operator's default
    /// (`--capabilities`, `JAC_SCALE_CAPABILITIES`; allow when neither is given).
    pub capabilities: Grants,
    /// The name that confines the app's kvstore keys and storage files (see [`tenant_of`]).
    pub tenant: String,
    /// `[plugins.scale.server] docs_enabled`: serve `/openapi.json`, `/docs` and `/redoc`.
    pub docs_enabled: bool,
    /// `[plugins.scale.metrics]`.
    pub metrics: MetricsSettings,
    /// `SSO_*`: single sign-on through OpenID providers.
    pub sso: SsoSettings,
    /// `[plugins.scale.server]`'s limits on clients: CORS, throttles, request heads,
    /// slow clients, connections.
    pub client_limits: ClientLimits,
    /// `[plugins.scale.quotas]`: what this app may take of the host.
    pub quotas: Quotas,
    /// `[plugins.scale.secrets]` and `[plugins.scale.env]`: the guest's only environment.
    pub guest_env: GuestEnv,
}

/// The app's tenant name: `[project] name` of its jac.toml; else the app file's stem
/// (`todo` for `todo.wasm`), except for the generic stems `app` and `main` every Jac
/// app has, where it is the name of the app's folder (`data-jac` for
/// `examples/data-jac/app.jac`), so two Jac apps do not share data by accident.
pub fn tenant_of(app_path: &Path, project_name: Option<&str>) -> String {
    if let Some(name) = project_name.filter(|n| !n.trim().is_empty()) {
        return name.trim().to_string();
    }
    let stem = app_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app".into());
    if stem != "app" && stem != "main" {
        return stem;
    }
    std::path::absolute(app_path)
        .ok()
        .and_then(|p| {
            p.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or(stem)
}

/// Bounds on what one call or request may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Wall-clock (and CPU) budget of one guest call; past it the call answers 504.
    pub call_timeout: Duration,
    /// Linear memory one instance may grow to.
    pub memory_limit_bytes: usize,
    /// Largest request body accepted; larger bodies answer 413 before parsing.
    pub body_limit_bytes: usize,
    /// Guest calls running at once; also sizes the instance pool.
    pub max_concurrency: usize,
    /// How long a request waits for a free instance before answering 503.
    pub queue_timeout: Duration,
    /// Threads that run guest code (the guest pool), apart from the HTTP workers; default
    /// one per core.
    pub guest_threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(30),
            memory_limit_bytes: 64 << 20,
            body_limit_bytes: 1 << 20,
            max_concurrency: 128,
            queue_timeout: Duration::from_secs(10),
            guest_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Values given on the command line; `None` = not given.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub host: Option<IpAddr>,
    pub port: Option<u16>,
    pub workers: Option<usize>,
    pub reload: bool,
    /// `--capabilities allow|deny`: the grants of an app that declares none.
    pub capabilities: Option<GrantDefault>,
}

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: `{key}` must be {expected}")]
    WrongType {
        path: PathBuf,
        key: String,
        expected: &'static str,
    },
    #[error("environment variable {name}={value:?} is invalid: expected {expected}")]
    Env {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Reads one environment variable; a seam so tests can supply their own.
pub trait Env {
    /// The variable's value, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// A test's environment: a map of variables.
#[cfg(test)]
impl Env for std::collections::HashMap<&'static str, &'static str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.to_string())
    }
}

/// The real process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Resolve the configuration for serving `app_path`.
    pub fn resolve(app_path: &Path, flags: Flags, env: &dyn Env) -> Result<Self, ConfigError> {
        let toml = JacToml::load(&app_dir_of(app_path).join("jac.toml"))?;
        Self::resolve_with(app_path, toml, flags, env)
    }

    /// Resolve the configuration for serving `app_path` with `toml` as its jac.toml.
    pub fn resolve_with(
        app_path: &Path,
        toml: JacToml,
        flags: Flags,
        env: &dyn Env,
    ) -> Result<Self, ConfigError> {
        let app_dir = app_dir_of(app_path);

        let host = match flags.host {
            Some(h) => h,
            None => match toml.server_host()? {
                Some(h) => h,
                None => IpAddr::from([0, 0, 0, 0]),
            },
        };
        let port = match flags.port {
            Some(p) => p,
            None => toml.server_port()?.unwrap_or(8000),
        };

        let debug = match env_bool(env, "JAC_SCALE_DEBUG")? {
            Some(on) => on,
            None => toml.boolean("server", "debug")?.unwrap_or(false),
        };

        let defaults = Limits::default();
        let mut limits = toml.limits(defaults)?;
        if let Some(ms) = env_number(env, "JAC_SCALE_CALL_TIMEOUT_MS")? {
            limits.call_timeout = Duration::from_millis(ms);
        }
        if let Some(mib) = env_number(env, "JAC_SCALE_MEMORY_LIMIT_MIB")? {
            limits.memory_limit_bytes = usize::try_from(mib)
                .ok()
                .and_then(|m| m.checked_mul(1 << 20))
                .ok_or_else(|| {
                    ConfigError::Invalid("JAC_SCALE_MEMORY_LIMIT_MIB is too large".into())
                })?;
        }
        if let Some(bytes) = env_number(env, "JAC_SCALE_BODY_LIMIT_BYTES")? {
            limits.body_limit_bytes = usize::try_from(bytes).map_err(|_| {
                ConfigError::Invalid("JAC_SCALE_BODY_LIMIT_BYTES is too large".into())
            })?;
        }
        if let Some(n) = env_number(env, "JAC_SCALE_MAX_CONCURRENCY")? {
            limits.max_concurrency = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = env_number(env, "JAC_SCALE_GUEST_THREADS")? {
            limits.guest_threads = usize::try_from(n).unwrap_or(usize::MAX);
        }
        limits.validate()?;

        let data_dir = match env.var("JAC_DATA_PATH") {
            Some(p) => PathBuf::from(p),
            None => app_dir.join(".jac").join("data"),
        };

        let compile_cache_dir =
            machine_cache_dir(env).unwrap_or_else(|| data_dir.join("cache").join("compiled"));

        let jwt = JwtSettings {
            secret: env.var("JWT_SECRET"),
            algorithm: env
                .var("JWT_ALGORITHM")
                .unwrap_or_else(|| "HS256".to_string()),
            exp_days: env_number(env, "JWT_EXP_DELTA_DAYS")?
                .map(|d| d as i64)
                .unwrap_or(7),
        };

        let webhook = WebhookSettings::resolve(&toml, env)?;
        let websocket = WebSocketSettings::resolve(&toml, env)?;
        let storage = StorageSettings::resolve(&toml, env)?;
        let database = DatabaseSettings::resolve(&toml, env)?;
        let capabilities = match toml.capabilities()? {
            Some(declared) => declared,
            None => {
                let default = match (flags.capabilities, env.var("JAC_SCALE_CAPABILITIES")) {
                    (Some(d), _) => d,
                    (None, Some(value)) => value.parse().map_err(|_| ConfigError::Env {
                        name: "JAC_SCALE_CAPABILITIES",
                        value,
                        expected: "`allow` or `deny`",
                    })?,
                    (None, None) => GrantDefault::default(),
                };
                Grants::by_default(default)
            }
        };

        let tenant = tenant_of(app_path, toml.project_name()?);
        let docs_enabled = toml.boolean("server", "docs_enabled")?.unwrap_or(true);
        let metrics = MetricsSettings::resolve(&toml)?;
        let sso = SsoSettings::resolve(env)?;
        let client_limits = ClientLimits::resolve(&toml)?;
        let quotas = Quotas::resolve(&toml, &limits, &websocket)?;
        let guest_env = GuestEnv::resolve(&toml, env)?;

        Ok(Config {
            tenant,
            app_path: app_path.to_path_buf(),
            host,
            port,
            workers: flags.workers,
            reload: flags.reload,
            debug,
            data_dir,
            compile_cache_dir,
            limits,
            jwt,
            webhook,
            websocket,
            storage,
            database,
            capabilities,
            docs_enabled,
            metrics,
            sso,
            client_limits,
            quotas,
            guest_env,
        })
    }
}

impl Limits {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| {
            Err(ConfigError::Invalid(format!(
                "{what} must be greater than zero"
            )))
        };
        if self.call_timeout.is_zero() {
            return bad("the call timeout");
        }
        if self.memory_limit_bytes == 0 {
            return bad("the memory limit");
        }
        if self.body_limit_bytes == 0 {
            return bad("the body limit");
        }
        if self.max_concurrency == 0 {
            return bad("max_concurrency");
        }
        if self.guest_threads == 0 {
            return bad("guest_threads");
        }
        Ok(())
    }
}

/// The folder of `app_path` (`.` for a bare file name): where its jac.toml is.
pub fn app_dir_of(app_path: &Path) -> PathBuf {
    app_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The machine-wide compile cache: `JAC_SCALE_CACHE_DIR`, else `$XDG_CACHE_HOME/jac-scale`,
/// else `$HOME/.cache/jac-scale`; `None` when none of them is set.
pub fn machine_cache_dir(env: &dyn Env) -> Option<PathBuf> {
    env.var("JAC_SCALE_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            env.var("XDG_CACHE_HOME")
                .map(|d| Path::new(&d).join("jac-scale"))
        })
        .or_else(|| {
            env.var("HOME")
                .map(|d| Path::new(&d).join(".cache").join("jac-scale"))
        })
}

fn env_number(env: &dyn Env, name: &'static str) -> Result<Option<u64>, ConfigError> {
    env.var(name)
        .map(|value| {
            value.trim().parse::<u64>().map_err(|_| ConfigError::Env {
                name,
                value,
                expected: "a non-negative integer",
            })
        })
        .transpose()
}

/// A boolean environment variable: `true`/`1`/`yes` or `false`/`0`/`no`.
fn env_bool(env: &dyn Env, name: &'static str) -> Result<Option<bool>, ConfigError> {
    env.var(name)
        .map(|value| match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ConfigError::Env {
                name,
                value,
                expected: "\"true\" or \"false\"",
            }),
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    fn app_in(dir: &Path, toml: Option<&str>) -> PathBuf {
        if let Some(t) = toml {
            std::fs::write(dir.join("jac.toml"), t).unwrap();
        }
        dir.join("app.wasm")
    }

    #[test]
    fn defaults_match_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::resolve(
            &app_in(dir.path(), None),
            Flags::default(),
            &MapEnv(HashMap::new()),
        )
        .unwrap();
        assert_eq!(cfg.port, 8000);
        assert_eq!(cfg.host, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(cfg.limits, Limits::default());
        assert_eq!(cfg.data_dir, dir.path().join(".jac/data"));
        assert_eq!(cfg.jwt.algorithm, "HS256");
        assert_eq!(cfg.jwt.exp_days, 7);
        assert!(cfg.jwt.secret.is_none());
    }

    #[test]
    fn flags_beat_environment_beats_toml() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_in(
            dir.path(),
            Some(
                "[plugins.scale.server]\nport = 9000\nhost = \"127.0.0.1\"\n[plugins.scale.limits]\ncall_timeout_ms = 5000\nmemory_limit_mib = 32\n",
            ),
        );
        let env = MapEnv(HashMap::from([
            ("JAC_SCALE_CALL_TIMEOUT_MS", "700"),
            ("JAC_DATA_PATH", "/tmp/x"),
        ]));
        let cfg = Config::resolve(
            &app,
            Flags {
                port: Some(1234),
                ..Flags::default()
            },
            &env,
        )
        .unwrap();
        assert_eq!(cfg.port, 1234);
        assert_eq!(cfg.host, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(cfg.limits.call_timeout, Duration::from_millis(700));
        assert_eq!(cfg.limits.memory_limit_bytes, 32 << 20);
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn wrong_type_in_toml_names_file_key_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_in(
            dir.path(),
            Some("[plugins.scale.server]\nport = \"eighty\"\n"),
        );
        let err = Config::resolve(&app, Flags::default(), &MapEnv(HashMap::new())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("jac.toml"), "{msg}");
        assert!(msg.contains("plugins.scale.server.port"), "{msg}");
        assert!(msg.contains("an integer"), "{msg}");
    }

    #[test]
    fn bad_environment_number_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let env = MapEnv(HashMap::from([("JAC_SCALE_MEMORY_LIMIT_MIB", "lots")]));
        let err = Config::resolve(&app_in(dir.path(), None), Flags::default(), &env).unwrap_err();
        assert!(err.to_string().contains("JAC_SCALE_MEMORY_LIMIT_MIB"));
    }

    #[test]
    fn capabilities_section_beats_the_operator_default() {
        let dir = tempfile::tempdir().unwrap();
        let deny = MapEnv(HashMap::from([("JAC_SCALE_CAPABILITIES", "deny")]));
        let cfg = Config::resolve(&app_in(dir.path(), None), Flags::default(), &deny).unwrap();
        assert_eq!(cfg.capabilities, Grants::by_default(GrantDefault::Deny));
        let flags = Flags {
            capabilities: Some(GrantDefault::Allow),
            ..Flags::default()
        };
        let cfg = Config::resolve(&app_in(dir.path(), None), flags, &deny).unwrap();
        assert_eq!(cfg.capabilities, Grants::by_default(GrantDefault::Allow));
        let app = app_in(
            dir.path(),
            Some("[plugins.scale.capabilities]\nkvstore = [\"cache\"]\n"),
        );
        let cfg = Config::resolve(&app, Flags::default(), &MapEnv(HashMap::new())).unwrap();
        assert!(cfg.capabilities.allows_kvstore("cache"));
        assert!(!cfg.capabilities.allows_kvstore("other"));
        assert!(!cfg.capabilities.allows_storage("./uploads"));
    }

    #[test]
    fn capability_lists_must_hold_strings() {
        let dir = tempfile::tempdir().unwrap();
        let app = app_in(
            dir.path(),
            Some("[plugins.scale.capabilities]\nkvstore = \"cache\"\n"),
        );
        let err = Config::resolve(&app, Flags::default(), &MapEnv(HashMap::new())).unwrap_err();
        assert!(
            err.to_string()
                .contains("plugins.scale.capabilities.kvstore"),
            "{err}"
        );
        let env = MapEnv(HashMap::from([("JAC_SCALE_CAPABILITIES", "maybe")]));
        let err =
            Config::resolve(&app_in(dir.path(), Some("")), Flags::default(), &env).unwrap_err();
        assert!(err.to_string().contains("JAC_SCALE_CAPABILITIES"), "{err}");
    }

    #[test]
    fn tenant_is_the_project_name_else_the_stem_else_the_folder() {
        assert_eq!(tenant_of(Path::new("/x/examples/todo.wasm"), None), "todo");
        assert_eq!(
            tenant_of(Path::new("/x/data-jac/app.jac"), None),
            "data-jac"
        );
        assert_eq!(tenant_of(Path::new("/x/notes/main.wasm"), None), "notes");
        assert_eq!(
            tenant_of(Path::new("/x/data-jac/app.jac"), Some("shop")),
            "shop"
        );

        let dir = tempfile::tempdir().unwrap();
        let env = MapEnv(HashMap::new());
        let named = app_in(dir.path(), Some("[project]\nname = \"refapp\"\n"));
        assert_eq!(
            Config::resolve(&named, Flags::default(), &env)
                .unwrap()
                .tenant,
            "refapp"
        );
        let wrong = app_in(dir.path(), Some("[project]\nname = 3\n"));
        let err = Config::resolve(&wrong, Flags::default(), &env).unwrap_err();
        assert!(err.to_string().contains("project.name"), "{err}");
    }
}
