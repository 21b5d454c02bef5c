//! Single sign-on settings: `SSO_HOST` and each platform's OpenID Connect client
//! (`SSO_GOOGLE_CLIENT_ID`, `SSO_GOOGLE_CLIENT_SECRET`, `SSO_GOOGLE_ISSUER`), from the
//! environment only, as the spec says.

use super::{ConfigError, Env};

/// The spec's default of `SSO_HOST`.
pub const DEFAULT_SSO_HOST: &str = "http://localhost:8000/sso";

/// Google's OpenID issuer, the default of `SSO_GOOGLE_ISSUER`.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// `SSO_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettings {
    /// Where browsers reach the SSO routes (`SSO_HOST`, no trailing slash): the provider
    /// sends them back to `{host}/{platform}/login/callback`.
    pub host: String,
    /// The platforms with a client configured, by name (`google`).
    pub platforms: Vec<OidcClientSettings>,
}

/// One platform's OpenID Connect client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClientSettings {
    /// The name in `/sso/{platform}/...`.
    pub platform: String,
    /// The provider's issuer identifier; its discovery document is
    /// `{issuer}/.well-known/openid-configuration`. HTTPS, or HTTP on a loopback host.
    pub issuer: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret registered with the provider.
    pub client_secret: String,
}

impl SsoSettings {
    /// From the environment; a platform is configured when its client id is set, and
    /// then its secret must be set too.
    pub(super) fn resolve(env: &dyn Env) -> Result<Self, ConfigError> {
        let host = env
            .var("SSO_HOST")
            .unwrap_or_else(|| DEFAULT_SSO_HOST.to_owned());
        let host = host.trim_end_matches('/').to_owned();
        if authority_of(&host).is_none() || host.contains(['?', '#']) {
            return Err(ConfigError::Env {
                name: "SSO_HOST",
                value: host,
                expected: "an http:// or https:// URL without query, like https://example.com/sso",
            });
        }
        let mut platforms = Vec::new();
        let id = env.var("SSO_GOOGLE_CLIENT_ID");
        let secret = env.var("SSO_GOOGLE_CLIENT_SECRET");
        match (id, secret) {
            (None, None) => {}
            (Some(client_id), Some(client_secret)) => {
                let issuer = env
                    .var("SSO_GOOGLE_ISSUER")
                    .unwrap_or_else(|| GOOGLE_ISSUER.to_owned());
                let issuer = issuer.trim_end_matches('/').to_owned();
                if !is_secure_origin(&issuer) {
                    return Err(ConfigError::Env {
                        name: "SSO_GOOGLE_ISSUER",
                        value: issuer,
                        expected: "an https:// URL (http:// only on a loopback host)",
                    });
                }
                platforms.push(OidcClientSettings {
                    platform: "google".into(),
                    issuer,
                    client_id,
                    client_secret,
                });
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError::Invalid(
                    "SSO_GOOGLE_CLIENT_ID and SSO_GOOGLE_CLIENT_SECRET must be set together".into(),
                ));
            }
        }
        Ok(SsoSettings { host, platforms })
    }

    /// The redirect URI registered with the provider for `platform`.
    pub fn callback_url(&self, platform: &str) -> String {
        format!("{}/{platform}/login/callback", self.host)
    }

    /// The path part of [`SsoSettings::host`] (`/sso` by default): where the browser
    /// sends the SSO cookie back.
    pub fn path(&self) -> &str {
        let authority = authority_of(&self.host).unwrap_or_default();
        let after = self.host.split_once("://").map_or("", |(_, rest)| rest);
        match after.get(authority.len()..) {
            Some(path) if !path.is_empty() => path,
            _ => "/",
        }
    }

    /// Whether browsers reach the SSO routes over HTTPS (the cookie is then `Secure`).
    pub fn is_https(&self) -> bool {
        self.host.starts_with("https://")
    }
}

/// The `host[:port]` of an `http://` or `https://` URL, if it is one and names a host.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

/// An `https://` URL, or an `http://` one whose host is loopback (a provider on the
/// same machine, as in tests): tokens and keys never cross a network in the clear.
pub fn is_secure_origin(url: &str) -> bool {
    let Some(authority) = authority_of(url) else {
        return false;
    };
    if url.starts_with("https://") {
        return true;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(pairs: &[(&'static str, &'static str)]) -> Result<SsoSettings, ConfigError> {
        SsoSettings::resolve(&pairs.iter().copied().collect::<HashMap<_, _>>())
    }

    #[test]
    fn defaults_are_the_spec_host_and_no_platform() {
        let sso = resolve(&[]).unwrap();
        assert_eq!(sso.host, DEFAULT_SSO_HOST);
        assert!(sso.platforms.is_empty());
        assert_eq!(
            sso.callback_url("google"),
            "http://localhost:8000/sso/google/login/callback"
        );
        assert_eq!(sso.path(), "/sso");
        assert!(!sso.is_https());
    }

    #[test]
    fn google_needs_id_and_secret_and_defaults_to_googles_issuer() {
        let sso = resolve(&[
            ("SSO_GOOGLE_CLIENT_ID", "id"),
            ("SSO_GOOGLE_CLIENT_SECRET", "secret"),
            ("SSO_HOST", "https://example.com/"),
        ])
        .unwrap();
        assert_eq!(sso.platforms[0].issuer, GOOGLE_ISSUER);
        assert_eq!(sso.platforms[0].client_id, "id");
        assert_eq!(sso.host, "https://example.com");
        assert_eq!(sso.path(), "/");
        assert!(resolve(&[("SSO_GOOGLE_CLIENT_ID", "id")]).is_err());
        assert!(resolve(&[("SSO_GOOGLE_CLIENT_SECRET", "s")]).is_err());
    }

    #[test]
    fn issuers_must_be_https_or_loopback() {
        let with_issuer = |issuer: &'static str| {
            resolve(&[
                ("SSO_GOOGLE_CLIENT_ID", "id"),
                ("SSO_GOOGLE_CLIENT_SECRET", "secret"),
                ("SSO_GOOGLE_ISSUER", issuer),
            ])
        };
        assert!(with_issuer("http://127.0.0.1:4000").is_ok());
        assert!(with_issuer("http://localhost").is_ok());
        assert!(with_issuer("https://id.example.com/realms/x").is_ok());
        for bad in [
            "http://id.example.com",
            "http://127.0.0.1.example.com",
            "ftp://x",
            "idp",
        ] {
            let err = with_issuer(bad).unwrap_err();
            assert!(
                err.to_string().contains("SSO_GOOGLE_ISSUER"),
                "{bad}: {err}"
            );
        }
        assert!(resolve(&[("SSO_HOST", "localhost:8000/sso")]).is_err());
    }
}
