//! The memory hierarchy of the graph: `MONGODB_URI` / `REDIS_URL`, else
//! `[plugins.scale.database]` `mongodb_uri` / `redis_url` (the keys kvstore reads too),
//! plus the cache tier's lifetimes.

use std::time::Duration;

use super::{ConfigError, Env, JacToml};

/// Where the graph, users and API keys live, and whether Redis caches anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// Store of record in MongoDB (L3) instead of the embedded SQLite.
    pub mongodb_uri: Option<String>,
    /// The MongoDB database holding the graph: `mongodb_database`, else the database the
    /// URI names (`mongodb://host/<database>`), else `jac_scale`.
    pub mongodb_database: String,
    /// Redis as cache tier (L2, and L1 invalidation across processes).
    pub redis_url: Option<String>,
    /// Lifetime of an anchor in Redis (`cache_ttl_seconds`).
    pub cache_ttl: Duration,
    /// Lifetime of an anchor in process memory (`local_cache_ttl_seconds`).
    pub local_cache_ttl: Duration,
    /// Most anchors in process memory (`local_cache_capacity`; 0, the default, = no L1:
    /// another process's commit is then seen on the very next call, which an L1 only
    /// guarantees once the invalidation message arrived).
    pub local_cache_capacity: usize,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            mongodb_uri: None,
            mongodb_database: "jac_scale".into(),
            redis_url: None,
            cache_ttl: Duration::from_secs(300),
            local_cache_ttl: Duration::from_secs(60),
            local_cache_capacity: 0,
        }
    }
}

impl DatabaseSettings {
    /// Defaults, then `jac.toml`, then the environment.
    pub(super) fn resolve(toml: &JacToml, env: &dyn Env) -> Result<Self, ConfigError> {
        const S: &str = "database";
        let mut d = Self {
            mongodb_uri: env
                .var("MONGODB_URI")
                .or(toml.string(S, "mongodb_uri")?.map(str::to_owned)),
            redis_url: env
                .var("REDIS_URL")
                .or(toml.string(S, "redis_url")?.map(str::to_owned)),
            ..Self::default()
        };
        let named_by_uri = d.mongodb_uri.as_deref().and_then(database_in_uri);
        if let Some(name) = toml.string(S, "mongodb_database")?.or(named_by_uri) {
            d.mongodb_database = name.to_owned();
        }
        let seconds = |key| -> Result<Option<Duration>, ConfigError> {
            match toml.integer(S, key)? {
                Some(0) => Err(toml.wrong_type(S, key, "a number of seconds above zero")),
                other => Ok(other.map(Duration::from_secs)),
            }
        };
        if let Some(ttl) = seconds("cache_ttl_seconds")? {
            d.cache_ttl = ttl;
        }
        if let Some(ttl) = seconds("local_cache_ttl_seconds")? {
            d.local_cache_ttl = ttl;
        }
        if let Some(n) = toml.integer(S, "local_cache_capacity")? {
            d.local_cache_capacity = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(d)
    }
}

/// The database a MongoDB connection string names (`mongodb://hosts/<database>?...`).
fn database_in_uri(uri: &str) -> Option<&str> {
    let (_scheme, rest) = uri.split_once("://")?;
    let (_hosts, path) = rest.split_once('/')?;
    let database = path.split('?').next().unwrap_or_default();
    (!database.is_empty()).then_some(database)
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
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn environment_beats_jac_toml_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.toml");
        std::fs::write(
            &path,
            "[plugins.scale.database]\nredis_url = \"redis://toml\"\nmongodb_uri = \"mongodb://toml\"\n\
             cache_ttl_seconds = 30\nmongodb_database = \"graphs\"\n",
        )
        .unwrap();
        let toml = JacToml::load(&path).unwrap();
        let d = DatabaseSettings::resolve(&toml, &Vars(&[("REDIS_URL", "redis://env")])).unwrap();
        assert_eq!(d.redis_url.as_deref(), Some("redis://env"));
        assert_eq!(d.mongodb_uri.as_deref(), Some("mongodb://toml"));
        assert_eq!(d.mongodb_database, "graphs");
        assert_eq!(d.cache_ttl, Duration::from_secs(30));
        let none = JacToml::load(&dir.path().join("absent.toml")).unwrap();
        let d = DatabaseSettings::resolve(&none, &Vars(&[])).unwrap();
        assert_eq!(d, DatabaseSettings::default());
    }

    #[test]
    fn the_database_comes_from_jac_toml_then_the_uri() {
        let dir = tempfile::tempdir().unwrap();
        let none = JacToml::load(&dir.path().join("absent.toml")).unwrap();
        for (uri, database) in [
            ("mongodb://h:27017/graphs?replicaSet=rs0", "graphs"),
            ("mongodb://u:p@h1,h2/graphs", "graphs"),
            ("mongodb://h:27017/?replicaSet=rs0", "jac_scale"),
            ("mongodb://h:27017", "jac_scale"),
        ] {
            let env = Vars(Box::leak(Box::new([("MONGODB_URI", uri)])));
            let d = DatabaseSettings::resolve(&none, &env).unwrap();
            assert_eq!(d.mongodb_database, database, "{uri}");
        }
        let path = dir.path().join("jac.toml");
        std::fs::write(
            &path,
            "[plugins.scale.database]\nmongodb_database = \"mine\"\n",
        )
        .unwrap();
        let toml = JacToml::load(&path).unwrap();
        let env = Vars(&[("MONGODB_URI", "mongodb://h/graphs")]);
        let d = DatabaseSettings::resolve(&toml, &env).unwrap();
        assert_eq!(d.mongodb_database, "mine");
    }
}
