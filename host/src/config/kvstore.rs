//! Where kvstores live: `REDIS_URL` / `MONGODB_URI`, else `[plugins.scale.database]`
//! `redis_url` / `mongodb_uri` in jac.toml, else the embedded store (the spec's
//! priority after a URI the app passes explicitly).

use super::{ConfigError, Env, JacToml};
use crate::kvstore::KvSettings;

/// The kvstore servers of this app.
pub(super) fn resolve(toml: &JacToml, env: &dyn Env) -> Result<KvSettings, ConfigError> {
    let pick = |var: &str, key: &str| -> Result<Option<String>, ConfigError> {
        match env.var(var) {
            Some(uri) => Ok(Some(uri)),
            None => Ok(toml.string("database", key)?.map(str::to_string)),
        }
    };
    Ok(KvSettings {
        redis_url: pick("REDIS_URL", "redis_url")?,
        mongodb_uri: pick("MONGODB_URI", "mongodb_uri")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars(&'static [(&'static str, &'static str)]);
    impl Env for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_beats_jac_toml_beats_embedded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.toml");
        std::fs::write(
            &path,
            "[plugins.scale.database]\nredis_url = \"redis://toml:6379\"\nmongodb_uri = \"mongodb://toml\"\n",
        )
        .unwrap();
        let toml = JacToml::load(&path).unwrap();
        let s = resolve(&toml, &Vars(&[("REDIS_URL", "redis://env:6379")])).unwrap();
        assert_eq!(s.redis_url.as_deref(), Some("redis://env:6379"));
        assert_eq!(s.mongodb_uri.as_deref(), Some("mongodb://toml"));
        let empty = JacToml::load(&dir.path().join("none.toml")).unwrap();
        assert_eq!(resolve(&empty, &Vars(&[])).unwrap(), KvSettings::default());
    }
}
