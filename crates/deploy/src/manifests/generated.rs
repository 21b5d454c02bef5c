//! Secrets we make ourselves, once per app: the JWT and webhook signing keys (every
//! replica must sign alike) and the database passwords. They live in the Secret
//! `{app}-generated`; a later deploy reads it back and keeps every value.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use rand::RngCore;

use super::meta;
use crate::settings::Settings;

const JWT_SECRET: &str = "JWT_SECRET";
const WEBHOOK_SECRET: &str = "WEBHOOK_SECRET";
/// The MongoDB root password (the StatefulSet reads it too).
pub(super) const MONGODB_PASSWORD: &str = "MONGODB_PASSWORD";
/// The Redis password (the Redis Deployment reads it too).
pub(super) const REDIS_PASSWORD: &str = "REDIS_PASSWORD";

/// The generated values of one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    values: BTreeMap<String, String>,
}

impl Generated {
    /// The Secret's name.
    pub fn secret_name(settings: &Settings) -> String {
        format!("{}-generated", settings.app)
    }

    /// The values `settings` needs: those of `existing` (the Secret as the cluster has it)
    /// kept, missing ones made now; the connection URLs follow the passwords.
    pub fn complete(settings: &Settings, existing: BTreeMap<String, String>) -> Self {
        let mut values = existing;
        let mut ensure = |key: &str| {
            values
                .entry(key.to_string())
                .or_insert_with(random_secret)
                .clone()
        };
        ensure(JWT_SECRET);
        ensure(WEBHOOK_SECRET);
        let mongodb = settings.mongodb.then(|| ensure(MONGODB_PASSWORD));
        let redis = settings.redis.then(|| ensure(REDIS_PASSWORD));
        if let Some(password) = mongodb {
            values.insert(
                "MONGODB_URI".into(),
                format!(
                    "mongodb://root:{password}@{}-mongodb:27017/?authSource=admin",
                    settings.app
                ),
            );
        }
        if let Some(password) = redis {
            values.insert(
                "REDIS_URL".into(),
                format!("redis://:{password}@{}-redis:6379", settings.app),
            );
        }
        Generated { values }
    }

    /// The values, by name.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// The Secret holding them.
    pub(super) fn secret(&self, settings: &Settings) -> Secret {
        Secret {
            metadata: meta(settings, Self::secret_name(settings), "app"),
            type_: Some("Opaque".into()),
            data: Some(
                self.values
                    .iter()
                    .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

/// 32 random bytes, hex: a signing key or password with 256 bits of entropy.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
