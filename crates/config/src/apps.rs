//! Many apps in one process (`jac-scale serve`): the operator's settings, the apps to
//! serve (folders of `--apps DIR`, entries of `apps.toml`) and each app's [`Config`].
//!
//! An app's `Config` is resolved exactly like a single app's (its jac.toml, then the
//! `settings` of its `apps.toml` entry laid over it, then the environment), and then made
//! the app's alone: its tenant is its name, its data (SQLite, kvstore, generated JWT and
//! webhook secrets, local files) lives in `<data>/apps/<name>/`, its MongoDB database is
//! suffixed with its name, and the process-wide `JWT_SECRET` / `WEBHOOK_SECRET` are not
//! used (they would be one secret for every app).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, Env, Flags, GrantDefault, JacToml, StorageBackendSettings};

/// Longest app name: one DNS label, so `<name>.<domain>` is a valid host name.
pub const MAX_APP_NAME_LEN: usize = 63;
/// Default port of the admin listener.
pub const DEFAULT_ADMIN_PORT: u16 = 8001;
/// File in the data dir keeping the generated operator token of the admin API.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
/// File names an app folder may hold its app under, in order of preference.
pub const APP_FILES: [&str; 2] = ["app.wasm", "app.jac"];

/// Command-line values of `jac-scale serve`; `None` = not given.
#[derive(Debug, Default, Clone)]
pub struct ServeFlags {
    /// `--apps DIR`: one folder per app.
    pub apps_dir: Option<PathBuf>,
    /// `--config apps.toml`.
    pub apps_file: Option<PathBuf>,
    /// `--host`, `--port`, `--workers`, `--capabilities`: as for `start`.
    pub host: Option<IpAddr>,
    pub port: Option<u16>,
    pub workers: Option<usize>,
    pub capabilities: Option<GrantDefault>,
    /// `--domain`: apps answer on `<name>.<domain>` too.
    pub domain: Option<String>,
    /// `--admin ADDR`: where the admin API listens.
    pub admin: Option<SocketAddr>,
}

/// One app to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct HostedApp {
    /// Its name: the path prefix `/apps/<name>/`, the host `<name>.<domain>`.
    pub name: String,
    /// `app.wasm` or `app.jac`.
    pub path: PathBuf,
    /// jac.toml-shaped settings from its `apps.toml` entry, laid over its own jac.toml.
    pub settings: toml::Table,
    /// Listed in `apps.toml` with a `path`: the file is the operator's, deploys are refused.
    pub pinned: bool,
}

/// Settings of `jac-scale serve`, resolved once.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The process's own settings (bind address, workers, data dir, runtime limits,
    /// compile cache, the metrics of every app): resolved like a single app's, its
    /// jac.toml being the `[serve.settings]` table of apps.toml.
    pub base: Config,
    /// Where the apps' folders are and where deploys write: `--apps`, `[serve] apps_dir`,
    /// else `<data>/deployed`.
    pub apps_dir: PathBuf,
    /// Apps answer on `<name>.<domain>` (`--domain`, `[serve] domain`).
    pub domain: Option<String>,
    /// The admin API's address (`--admin`, `[serve] admin`; `127.0.0.1:8001`).
    pub admin: SocketAddr,
    /// `JAC_SCALE_ADMIN_TOKEN`; `None` = generated and kept in `<data>/admin-token`.
    pub admin_token: Option<String>,
    /// `[apps.<name>]` entries of apps.toml.
    listed: BTreeMap<String, HostedApp>,
    flags: Flags,
}

/// Settings only the process has: an app's must not take them from the environment.
const PROCESS_WIDE_SECRETS: [&str; 2] = ["JWT_SECRET", "WEBHOOK_SECRET"];

/// The environment without the process-wide secrets.
struct AppEnv<'a>(&'a dyn Env);

impl Env for AppEnv<'_> {
    fn var(&self, name: &str) -> Option<String> {
        if PROCESS_WIDE_SECRETS.contains(&name) {
            return None;
        }
        self.0.var(name)
    }
}

impl ServeConfig {
    /// Resolve the settings of `jac-scale serve`.
    pub fn resolve(flags: ServeFlags, env: &dyn Env) -> Result<Self, ConfigError> {
        let (serve, listed, file_dir) = match &flags.apps_file {
            Some(path) => {
                let (serve, listed) = read_apps_file(path)?;
                (serve, listed, app_dir(path))
            }
            None => (toml::Table::new(), BTreeMap::new(), PathBuf::from(".")),
        };
        let serve_string = |key: &str| -> Result<Option<String>, ConfigError> {
            match serve.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ConfigError::Invalid(format!(
                    "apps.toml: `serve.{key}` must be a string"
                ))),
            }
        };
        let single = Flags {
            host: flags.host,
            port: flags.port,
            workers: flags.workers,
            reload: false,
            capabilities: flags.capabilities,
        };
        // The process itself: a "program" in the working directory whose jac.toml is the
        // `[serve.settings]` of apps.toml (metrics, limits: the operator's, for every app).
        let process_settings = match serve.get("settings") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => {
                return Err(ConfigError::Invalid(
                    "apps.toml: `serve.settings` must be a table shaped like a jac.toml".into(),
                ));
            }
        };
        let base = Config::resolve_with(
            Path::new("apps"),
            JacToml::default().overlaid(&process_settings, "[serve.settings] of apps.toml"),
            single.clone(),
            env,
        )?;
        for name in PROCESS_WIDE_SECRETS {
            if env.var(name).is_some() {
                tracing::warn!(
                    "{name} is ignored by `serve`: each app signs with its own generated secret"
                );
            }
        }
        let apps_dir = match (&flags.apps_dir, serve_string("apps_dir")?) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => file_dir.join(dir),
            (None, None) => base.data_dir.join("deployed"),
        };
        let domain = match flags.domain.or(serve_string("domain")?) {
            Some(d) => Some(valid_domain(&d)?),
            None => None,
        };
        let admin = match (flags.admin, serve_string("admin")?) {
            (Some(addr), _) => addr,
            (None, Some(text)) => text.parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "apps.toml: `serve.admin` must be an address like 127.0.0.1:{DEFAULT_ADMIN_PORT}, not {text:?}"
                ))
            })?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], DEFAULT_ADMIN_PORT)),
        };
        let listed = listed
            .into_iter()
            .map(|(name, mut app)| {
                if app.pinned {
                    app.path = file_dir.join(&app.path);
                }
                (name, app)
            })
            .collect();
        Ok(ServeConfig {
            base,
            apps_dir,
            domain,
            admin,
            admin_token: env.var("JAC_SCALE_ADMIN_TOKEN"),
            listed,
            flags: single,
        })
    }

    /// The apps to serve at start: every folder of the apps dir holding an app, and every
    /// `apps.toml` entry with a path. A folder whose name is not a valid app name is
    /// skipped with a warning.
    pub fn apps(&self) -> Result<Vec<HostedApp>, ConfigError> {
        let mut apps: BTreeMap<String, HostedApp> = self
            .listed
            .iter()
            .filter(|(_, app)| app.pinned)
            .map(|(name, app)| (name.clone(), app.clone()))
            .collect();
        let entries = match std::fs::read_dir(&self.apps_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(apps.into_values().collect());
            }
            Err(e) => {
                return Err(ConfigError::File {
                    path: self.apps_dir.clone(),
                    message: e.to_string(),
                });
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            if let Err(reason) = check_app_name(&name) {
                tracing::warn!(folder = %entry.path().display(), "skipped: {reason}");
                continue;
            }
            let Some(path) = self.app_file(&name) else {
                continue;
            };
            if apps.contains_key(&name) {
                return Err(ConfigError::Invalid(format!(
                    "app `{name}` is both listed with a path in apps.toml and a folder of {}",
                    self.apps_dir.display()
                )));
            }
            apps.insert(name.clone(), self.hosted(&name, path));
        }
        Ok(apps.into_values().collect())
    }

    /// The app `name` served from `path` (a deploy), with its apps.toml settings.
    pub fn hosted(&self, name: &str, path: PathBuf) -> HostedApp {
        HostedApp {
            name: name.to_owned(),
            path,
            settings: self
                .listed
                .get(name)
                .map(|app| app.settings.clone())
                .unwrap_or_default(),
            pinned: false,
        }
    }

    /// Whether apps.toml lists `name` with its own path (deploys may not replace it).
    pub fn is_pinned(&self, name: &str) -> bool {
        self.listed.get(name).is_some_and(|app| app.pinned)
    }

    /// The folder of app `name` in the apps dir.
    pub fn app_folder(&self, name: &str) -> PathBuf {
        self.apps_dir.join(name)
    }

    /// The app file in `name`'s folder of the apps dir, if there is one.
    pub fn app_file(&self, name: &str) -> Option<PathBuf> {
        APP_FILES
            .iter()
            .map(|file| self.app_folder(name).join(file))
            .find(|path| path.is_file())
    }

    /// Where app `name` keeps its data: `<data>/apps/<name>/`.
    pub fn app_data_dir(&self, name: &str) -> PathBuf {
        self.base.data_dir.join("apps").join(name)
    }

    /// The configuration of `app`: its jac.toml with its apps.toml settings over it, the
    /// environment without the process-wide secrets, and everything that names data
    /// made the app's own (see the module documentation).
    pub fn app_config(&self, app: &HostedApp, env: &dyn Env) -> Result<Config, ConfigError> {
        let toml = JacToml::load(&app_dir(&app.path).join("jac.toml"))?
            .overlaid(&app.settings, &format!("[apps.{}.settings]", app.name));
        let mut config = Config::resolve_with(&app.path, toml, self.flags.clone(), &AppEnv(env))?;
        config.tenant = app.name.clone();
        config.data_dir = self.app_data_dir(&app.name);
        config.host = self.base.host;
        config.port = self.base.port;
        config.compile_cache_dir = self.base.compile_cache_dir.clone();
        if matches!(config.storage.backend, StorageBackendSettings::Local) {
            config.storage.base_path = config.data_dir.join("files").display().to_string();
        }
        config.database.mongodb_database =
            format!("{}_{}", config.database.mongodb_database, app.name);
        Ok(config)
    }
}

/// Where `jac-scale apps ...` finds the admin API and the operator token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminClient {
    /// `--admin URL`, else `JAC_SCALE_ADMIN_URL`, else `http://127.0.0.1:8001`.
    pub url: String,
    /// `JAC_SCALE_ADMIN_TOKEN`; else read `token_file`.
    pub token: Option<String>,
    /// `--token-file`, else `<JAC_DATA_PATH or ./.jac/data>/admin-token`.
    pub token_file: PathBuf,
}

impl AdminClient {
    /// Resolve the client's settings from its flags and the environment.
    pub fn resolve(url: Option<String>, token_file: Option<PathBuf>, env: &dyn Env) -> Self {
        let data_dir = env
            .var("JAC_DATA_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(".jac").join("data"));
        AdminClient {
            url: url
                .or_else(|| env.var("JAC_SCALE_ADMIN_URL"))
                .unwrap_or_else(|| format!("http://127.0.0.1:{DEFAULT_ADMIN_PORT}"))
                .trim_end_matches('/')
                .to_owned(),
            token: env.var("JAC_SCALE_ADMIN_TOKEN"),
            token_file: token_file.unwrap_or_else(|| data_dir.join(ADMIN_TOKEN_FILE)),
        }
    }
}

/// Checks an app name: 1 to 63 of `a-z`, `0-9` and `-`, starting with a letter and not
/// ending with `-` (a DNS label, a path segment and a folder name at once, with no `..`,
/// `/` or upper case that could reach another app's folder or route).
pub fn check_app_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_APP_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid app name {:?}: use 1 to {MAX_APP_NAME_LEN} of a-z, 0-9 and '-', starting with a letter and not ending with '-'",
            name.chars().take(80).collect::<String>()
        ))
    }
}

fn app_dir(path: &Path) -> PathBuf {
    super::app_dir_of(path)
}

/// A domain for `<name>.<domain>` host names: lower-cased, labels of a-z, 0-9, '-'.
fn valid_domain(domain: &str) -> Result<String, ConfigError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_APP_NAME_LEN
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Ok(domain)
    } else {
        Err(ConfigError::Invalid(format!(
            "invalid domain {domain:?}: expected a host name like apps.example.com"
        )))
    }
}

/// `apps.toml`: its `[serve]` table and its `[apps.<name>]` entries.
fn read_apps_file(path: &Path) -> Result<(toml::Table, BTreeMap<String, HostedApp>), ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let mut root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.message().to_string()))?;
    let serve = match root.remove("serve") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t,
        Some(_) => return Err(file_error("`serve` must be a table".into())),
    };
    let apps = match root.remove("apps") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t,
        Some(_) => return Err(file_error("`apps` must be a table of [apps.<name>]".into())),
    };
    if let Some(key) = root.keys().next() {
        return Err(file_error(format!(
            "unknown top-level key `{key}` (expected [serve] and [apps.<name>])"
        )));
    }
    let mut listed = BTreeMap::new();
    for (name, entry) in apps {
        check_app_name(&name).map_err(file_error)?;
        let toml::Value::Table(mut entry) = entry else {
            return Err(file_error(format!("`apps.{name}` must be a table")));
        };
        let path = match entry.remove("path") {
            None => None,
            Some(toml::Value::String(p)) => Some(PathBuf::from(p)),
            Some(_) => return Err(file_error(format!("`apps.{name}.path` must be a string"))),
        };
        let settings = match entry.remove("settings") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(_) => {
                return Err(file_error(format!(
                    "`apps.{name}.settings` must be a table shaped like a jac.toml"
                )));
            }
        };
        if let Some(key) = entry.keys().next() {
            return Err(file_error(format!(
                "unknown key `apps.{name}.{key}` (expected `path` and `settings`)"
            )));
        }
        listed.insert(
            name.clone(),
            HostedApp {
                name,
                pinned: path.is_some(),
                path: path.unwrap_or_default(),
                settings,
            },
        );
    }
    Ok((serve, listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, String>);
    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    #[test]
    fn app_names_are_dns_labels() {
        for good in ["todo", "a", "todo-jac", "x1", &"a".repeat(MAX_APP_NAME_LEN)] {
            assert!(check_app_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "..",
            "a/b",
            "Todo",
            "-x",
            "x-",
            "1x",
            "a.b",
            "a b",
            "a\\b",
            &"a".repeat(MAX_APP_NAME_LEN + 1),
        ] {
            assert!(check_app_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_app_config_is_the_apps_own() {
        let dir = tempfile::tempdir().unwrap();
        let apps = dir.path().join("apps");
        std::fs::create_dir_all(apps.join("shop")).unwrap();
        std::fs::write(apps.join("shop/app.wasm"), b"").unwrap();
        std::fs::write(
            apps.join("shop/jac.toml"),
            "[project]\nname = \"todo\"\n[plugins.scale.limits]\ncall_timeout_ms = 100\n",
        )
        .unwrap();
        let file = dir.path().join("apps.toml");
        std::fs::write(
            &file,
            "[serve]\ndomain = \"Apps.Example.com\"\n\
             [apps.shop.settings.plugins.scale.limits]\ncall_timeout_ms = 200\n",
        )
        .unwrap();
        let env = MapEnv(HashMap::from([
            (
                "JAC_DATA_PATH",
                dir.path().join("data").display().to_string(),
            ),
            ("JWT_SECRET", "shared-by-everyone".to_string()),
        ]));
        let serve = ServeConfig::resolve(
            ServeFlags {
                apps_dir: Some(apps.clone()),
                apps_file: Some(file),
                ..ServeFlags::default()
            },
            &env,
        )
        .unwrap();
        assert_eq!(serve.domain.as_deref(), Some("apps.example.com"));
        assert_eq!(
            serve.admin,
            SocketAddr::from(([127, 0, 0, 1], DEFAULT_ADMIN_PORT))
        );
        let found = serve.apps().unwrap();
        assert_eq!(found.len(), 1);
        let config = serve.app_config(&found[0], &env).unwrap();
        // The project name does not pick the tenant: two apps never share by name.
        assert_eq!(config.tenant, "shop");
        assert_eq!(config.data_dir, dir.path().join("data/apps/shop"));
        assert!(config.jwt.secret.is_none());
        assert_eq!(
            config.limits.call_timeout,
            std::time::Duration::from_millis(200)
        );
        assert!(
            config
                .storage
                .base_path
                .starts_with(&*config.data_dir.display().to_string())
        );
        assert_eq!(config.database.mongodb_database, "jac_scale_shop");
    }

    #[test]
    fn serve_settings_are_the_processs_own() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("apps.toml");
        std::fs::write(
            &file,
            "[serve.settings.plugins.scale.metrics]\nenabled = true\nnamespace = \"host\"\n",
        )
        .unwrap();
        let flags = ServeFlags {
            apps_file: Some(file.clone()),
            ..ServeFlags::default()
        };
        let serve = ServeConfig::resolve(flags.clone(), &MapEnv(HashMap::new())).unwrap();
        assert!(serve.base.metrics.enabled);
        assert_eq!(serve.base.metrics.namespace, "host");

        std::fs::write(&file, "[serve]\nsettings = 1\n").unwrap();
        let err = ServeConfig::resolve(flags, &MapEnv(HashMap::new())).unwrap_err();
        assert!(err.to_string().contains("serve.settings"), "{err}");
    }

    #[test]
    fn apps_toml_refuses_bad_names_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("apps.toml");
        for (text, expected) in [
            ("[apps.\"..\"]\npath = \"x.wasm\"\n", "invalid app name"),
            ("[apps.todo]\nsource = \"x.wasm\"\n", "apps.todo.source"),
            ("[other]\n", "other"),
        ] {
            std::fs::write(&file, text).unwrap();
            let err = ServeConfig::resolve(
                ServeFlags {
                    apps_file: Some(file.clone()),
                    ..ServeFlags::default()
                },
                &MapEnv(HashMap::new()),
            )
            .unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
