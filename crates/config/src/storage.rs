//! `[storage]` and the `JAC_STORAGE_*` environment variables.
//!
//! The spec gives this section its own priority, which is followed here: **`jac.toml` >
//! environment > defaults** (the reverse of the other sections: an app's `[storage]`
//! key wins over the variable).

use super::{ConfigError, Env, JacToml};

/// Where apps' files are kept, and the bounds on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// `storage_type`: the backend.
    pub backend: StorageBackendSettings,
    /// `base_path`: the directory (local, relative to the working directory) or key
    /// prefix (S3) holding one folder per app.
    pub base_path: String,
    /// `create_dirs`: create missing folders (also the default of `store(create_dirs=)`).
    pub create_dirs: bool,
    /// `max_file_bytes`: the largest file an app may store.
    pub max_file_bytes: u64,
    /// `max_upload_bytes`: the most one request may upload, all files together.
    pub max_upload_bytes: u64,
}

/// `storage_type` and the settings of that backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageBackendSettings {
    /// `"local"`: a directory on this host.
    Local,
    /// `"s3"`: an S3-compatible bucket.
    S3(S3Settings),
}

/// An S3-compatible bucket (AWS S3, MinIO, moto, ...).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `bucket` / `JAC_STORAGE_BUCKET` (required).
    pub bucket: String,
    /// `endpoint` / `JAC_STORAGE_ENDPOINT`: e.g. `http://127.0.0.1:9000`; none = AWS.
    pub endpoint: Option<String>,
    /// `region` / `JAC_STORAGE_REGION` (default `us-east-1`).
    pub region: String,
    /// `access_key_id` / `JAC_STORAGE_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `secret_access_key` / `JAC_STORAGE_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            backend: StorageBackendSettings::Local,
            base_path: "./storage".into(),
            create_dirs: true,
            max_file_bytes: 100 << 20,
            max_upload_bytes: 32 << 20,
        }
    }
}

/// Keys of `[storage]` this host understands.
const KEYS: &[&str] = &[
    "storage_type",
    "base_path",
    "create_dirs",
    "max_file_bytes",
    "max_upload_bytes",
    "bucket",
    "endpoint",
    "region",
    "access_key_id",
    "secret_access_key",
];

/// One `[storage]` key and its variable, read with the section's priority.
struct Source<'a> {
    toml: &'a JacToml,
    table: Option<&'a toml::Table>,
    env: &'a dyn Env,
}

impl Source<'_> {
    fn wrong(&self, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            path: self.toml.path().to_path_buf(),
            key: format!("storage.{key}"),
            expected,
        }
    }

    fn string(&self, key: &str, var: &str) -> Result<Option<String>, ConfigError> {
        match self.table.and_then(|t| t.get(key)) {
            Some(value) => value
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| self.wrong(key, "a string")),
            None => Ok(self.env.var(var)),
        }
    }

    fn boolean(&self, key: &str, var: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.table.and_then(|t| t.get(key)) {
            Some(value) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "true or false")),
            None => super::env_bool(self.env, var),
        }
    }

    fn bytes(&self, key: &str, var: &'static str) -> Result<Option<u64>, ConfigError> {
        let positive = "a positive number of bytes";
        match self.table.and_then(|t| t.get(key)) {
            Some(value) => value
                .as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| self.wrong(key, positive)),
            None => self
                .env
                .var(var)
                .map(|value| match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(ConfigError::Env {
                        name: var,
                        value,
                        expected: positive,
                    }),
                })
                .transpose(),
        }
    }
}

impl StorageSettings {
    /// Defaults, under the environment, under `jac.toml` (the spec's order for `[storage]`).
    pub(super) fn resolve(toml: &JacToml, env: &dyn Env) -> Result<Self, ConfigError> {
        let table = match toml.top_level("storage") {
            None => None,
            Some(toml::Value::Table(table)) => Some(table),
            Some(_) => {
                return Err(ConfigError::WrongType {
                    path: toml.path().to_path_buf(),
                    key: "storage".into(),
                    expected: "a table",
                });
            }
        };
        if let Some(table) = table {
            for key in table.keys().filter(|k| !KEYS.contains(&k.as_str())) {
                tracing::warn!(file = %toml.path().display(), "unknown key storage.{key} ignored");
            }
        }
        let source = Source { toml, table, env };
        let mut s = StorageSettings::default();
        if let Some(path) = source.string("base_path", "JAC_STORAGE_PATH")? {
            s.base_path = path;
        }
        if let Some(create) = source.boolean("create_dirs", "JAC_STORAGE_CREATE_DIRS")? {
            s.create_dirs = create;
        }
        if let Some(n) = source.bytes("max_file_bytes", "JAC_STORAGE_MAX_FILE_BYTES")? {
            s.max_file_bytes = n;
        }
        if let Some(n) = source.bytes("max_upload_bytes", "JAC_STORAGE_MAX_UPLOAD_BYTES")? {
            s.max_upload_bytes = n;
        }
        let kind = source.string("storage_type", "JAC_STORAGE_TYPE")?;
        s.backend = match kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("local") => StorageBackendSettings::Local,
            Some("s3") => StorageBackendSettings::S3(S3Settings {
                bucket: source.string("bucket", "JAC_STORAGE_BUCKET")?.ok_or_else(|| {
                    ConfigError::Invalid(
                        "storage_type \"s3\" needs a bucket ([storage] bucket or JAC_STORAGE_BUCKET)"
                            .into(),
                    )
                })?,
                endpoint: source.string("endpoint", "JAC_STORAGE_ENDPOINT")?,
                region: source
                    .string("region", "JAC_STORAGE_REGION")?
                    .unwrap_or_else(|| "us-east-1".into()),
                access_key_id: source.string("access_key_id", "JAC_STORAGE_ACCESS_KEY_ID")?,
                secret_access_key: source
                    .string("secret_access_key", "JAC_STORAGE_SECRET_ACCESS_KEY")?,
            }),
            Some(other) => {
                return Err(ConfigError::Invalid(format!(
                    "unknown storage_type {other:?}: expected \"local\" or \"s3\""
                )));
            }
        };
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    fn resolve(
        toml: &str,
        env: &[(&'static str, &'static str)],
    ) -> Result<StorageSettings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.toml");
        std::fs::write(&path, toml).unwrap();
        StorageSettings::resolve(
            &JacToml::load(&path)?,
            &MapEnv(env.iter().copied().collect()),
        )
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = resolve("", &[]).unwrap();
        assert_eq!(s, StorageSettings::default());
        assert_eq!(s.base_path, "./storage");
        assert!(s.create_dirs);
        assert_eq!(s.backend, StorageBackendSettings::Local);
    }

    #[test]
    fn jac_toml_beats_the_environment_which_beats_defaults() {
        let env = [
            ("JAC_STORAGE_PATH", "/from/env"),
            ("JAC_STORAGE_CREATE_DIRS", "false"),
            ("JAC_STORAGE_MAX_UPLOAD_BYTES", "1000"),
        ];
        let s = resolve("[storage]\nbase_path = \"./files\"\n", &env).unwrap();
        assert_eq!(s.base_path, "./files");
        assert!(!s.create_dirs);
        assert_eq!(s.max_upload_bytes, 1000);
        let s = resolve("", &env).unwrap();
        assert_eq!(s.base_path, "/from/env");
    }

    #[test]
    fn s3_needs_a_bucket_and_reads_its_keys() {
        let err = resolve("[storage]\nstorage_type = \"s3\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("needs a bucket"), "{err}");
        let s = resolve(
            "[storage]\nstorage_type = \"s3\"\nbucket = \"b\"\n",
            &[
                ("JAC_STORAGE_ENDPOINT", "http://127.0.0.1:9"),
                ("JAC_STORAGE_SECRET_ACCESS_KEY", "hush"),
            ],
        )
        .unwrap();
        let StorageBackendSettings::S3(s3) = s.backend else {
            panic!("expected s3")
        };
        assert_eq!(s3.bucket, "b");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s3.region, "us-east-1");
        assert!(!format!("{s3:?}").contains("hush"));
    }

    #[test]
    fn wrong_values_name_the_key() {
        let err = resolve("[storage]\ncreate_dirs = \"yes\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("storage.create_dirs"), "{err}");
        let err = resolve("", &[("JAC_STORAGE_CREATE_DIRS", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("JAC_STORAGE_CREATE_DIRS"), "{err}");
        let err = resolve("[storage]\nstorage_type = \"ftp\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("ftp"), "{err}");
        let err = resolve("[storage]\nmax_file_bytes = 0\n", &[]).unwrap_err();
        assert!(err.to_string().contains("storage.max_file_bytes"), "{err}");
    }
}
