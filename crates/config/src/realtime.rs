//! `[plugins.scale.webhook]` and `[plugins.scale.websocket]`, with their environment
//! overrides (`WEBHOOK_SECRET`, `REDIS_URL`).

use std::time::Duration;

use super::{ConfigError, Env, JacToml};

/// Webhook and API key settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Signing secret of API keys (`WEBHOOK_SECRET` beats `secret`); `None` = the secret
    /// generated once and kept in the data dir. There is no well-known default.
    pub secret: Option<String>,
    /// Header holding the HMAC signature of the body.
    pub signature_header: String,
    /// `false` skips the signature check (the API key is still required).
    pub verify_signature: bool,
    /// Lifetime of a new key when the request names none; 0 = never expires.
    pub api_key_expiry_days: u64,
    /// How far `X-Webhook-Timestamp` may be from now.
    pub replay_tolerance: Duration,
    /// Refuse calls without `X-Webhook-Timestamp`.
    pub require_timestamp: bool,
    /// Webhook calls one key may make per minute; 0 = unlimited.
    pub rate_limit_per_minute: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            secret: None,
            signature_header: "X-Webhook-Signature".into(),
            verify_signature: true,
            api_key_expiry_days: 365,
            replay_tolerance: Duration::from_secs(300),
            require_timestamp: false,
            rate_limit_per_minute: 600,
        }
    }
}

/// WebSocket settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketSettings {
    /// `REDIS_URL`: broadcasts go through Redis pub/sub to every process sharing it.
    pub redis_url: Option<String>,
    /// Open connections one user may hold (anonymous connections count under the total).
    pub max_connections_per_user: usize,
    /// Open connections in all.
    pub max_connections: usize,
    /// Largest client message, in bytes.
    pub max_message_bytes: usize,
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        WebSocketSettings {
            redis_url: None,
            max_connections_per_user: 32,
            max_connections: 10_000,
            max_message_bytes: 64 << 10,
        }
    }
}

impl WebhookSettings {
    /// Defaults, then `jac.toml`, then the environment.
    pub(super) fn resolve(toml: &JacToml, env: &dyn Env) -> Result<Self, ConfigError> {
        const S: &str = "webhook";
        let mut w = WebhookSettings::default();
        if let Some(secret) = toml.string(S, "secret")? {
            w.secret = Some(secret.to_owned()).filter(|s| !s.is_empty());
        }
        if let Some(secret) = env.var("WEBHOOK_SECRET") {
            w.secret = Some(secret);
        }
        if let Some(header) = toml.string(S, "signature_header")? {
            if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(toml.wrong_type(S, "signature_header", "an HTTP header name"));
            }
            w.signature_header = header.to_owned();
        }
        if let Some(v) = toml.boolean(S, "verify_signature")? {
            w.verify_signature = v;
        }
        if let Some(days) = toml.integer(S, "api_key_expiry_days")? {
            w.api_key_expiry_days = days;
        }
        if let Some(seconds) = toml.integer(S, "replay_tolerance_seconds")? {
            w.replay_tolerance = Duration::from_secs(seconds);
        }
        if let Some(v) = toml.boolean(S, "require_timestamp")? {
            w.require_timestamp = v;
        }
        if let Some(n) = toml.integer(S, "rate_limit_per_minute")? {
            w.rate_limit_per_minute = u32::try_from(n).unwrap_or(u32::MAX);
        }
        Ok(w)
    }
}

impl WebSocketSettings {
    /// Defaults, then `jac.toml`, then the environment.
    pub(super) fn resolve(toml: &JacToml, env: &dyn Env) -> Result<Self, ConfigError> {
        const S: &str = "websocket";
        let mut w = WebSocketSettings::default();
        let size = |key| -> Result<Option<usize>, ConfigError> {
            Ok(toml
                .integer(S, key)?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
        };
        if let Some(n) = size("max_connections_per_user")? {
            w.max_connections_per_user = n;
        }
        if let Some(n) = size("max_connections")? {
            w.max_connections = n;
        }
        if let Some(n) = size("max_message_bytes")? {
            w.max_message_bytes = n;
        }
        if w.max_connections_per_user == 0 || w.max_connections == 0 || w.max_message_bytes == 0 {
            return Err(ConfigError::Invalid(
                "[plugins.scale.websocket] limits must be greater than zero".into(),
            ));
        }
        w.redis_url = env.var("REDIS_URL");
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OneVar(&'static str, &'static str);
    impl Env for OneVar {
        fn var(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| self.1.to_owned())
        }
    }

    fn toml(text: &str) -> (tempfile::TempDir, JacToml) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.toml");
        std::fs::write(&path, text).unwrap();
        let parsed = JacToml::load(&path).unwrap();
        (dir, parsed)
    }

    #[test]
    fn webhook_settings_from_toml_and_environment() {
        let (_dir, t) = toml(
            "[plugins.scale.webhook]\nsecret = \"from-toml\"\nsignature_header = \"X-Sig\"\n\
             verify_signature = false\napi_key_expiry_days = 0\nreplay_tolerance_seconds = 60\n\
             require_timestamp = true\nrate_limit_per_minute = 5\n",
        );
        let w = WebhookSettings::resolve(&t, &OneVar("WEBHOOK_SECRET", "from-env")).unwrap();
        assert_eq!(
            w,
            WebhookSettings {
                secret: Some("from-env".into()),
                signature_header: "X-Sig".into(),
                verify_signature: false,
                api_key_expiry_days: 0,
                replay_tolerance: Duration::from_secs(60),
                require_timestamp: true,
                rate_limit_per_minute: 5,
            }
        );
        let w = WebhookSettings::resolve(&t, &OneVar("OTHER", "")).unwrap();
        assert_eq!(w.secret.as_deref(), Some("from-toml"));
    }

    #[test]
    fn bad_values_are_refused() {
        let (_dir, t) = toml("[plugins.scale.webhook]\nverify_signature = \"yes\"\n");
        let e = WebhookSettings::resolve(&t, &OneVar("", "")).unwrap_err();
        assert!(e.to_string().contains("true or false"), "{e}");
        let (_dir, t) = toml("[plugins.scale.webhook]\nsignature_header = \"bad header\"\n");
        assert!(WebhookSettings::resolve(&t, &OneVar("", "")).is_err());
        let (_dir, t) = toml("[plugins.scale.websocket]\nmax_message_bytes = 0\n");
        assert!(WebSocketSettings::resolve(&t, &OneVar("", "")).is_err());
    }

    #[test]
    fn websocket_settings_take_redis_url_from_the_environment() {
        let (_dir, t) = toml("[plugins.scale.websocket]\nmax_connections_per_user = 3\n");
        let w = WebSocketSettings::resolve(&t, &OneVar("REDIS_URL", "redis://r:6379")).unwrap();
        assert_eq!(w.max_connections_per_user, 3);
        assert_eq!(w.redis_url.as_deref(), Some("redis://r:6379"));
    }
}
