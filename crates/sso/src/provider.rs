//! One OpenID provider as this server uses it: its discovery document, its signing keys
//! (both cached) and its token endpoint. Every answer is read up to
//! [`MAX_RESPONSE_BYTES`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use super::SsoError;
use super::id_token::Header;
use config::{OidcClientSettings, is_secure_origin};

/// Largest discovery document, key set or token response read from a provider.
const MAX_RESPONSE_BYTES: usize = 256 << 10;

/// How long a discovery document is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the key set is used before it is fetched again (providers rotate keys).
const KEYS_TTL: Duration = Duration::from_secs(60 * 60);

/// Least time between two fetches of the key set caused by an unknown key id, so forged
/// tokens cannot make this server hammer the provider.
const KEYS_MIN_REFETCH: Duration = Duration::from_secs(10);

/// The parts of the discovery document this client uses.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    issuer: String,
    pub(crate) authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// A cached value and when it was fetched.
type Cached<T> = Option<(Arc<T>, Instant)>;

/// A provider, found by its issuer.
pub(crate) struct Provider {
    issuer: String,
    http: reqwest::Client,
    metadata: Mutex<Cached<Metadata>>,
    keys: Mutex<Cached<JwkSet>>,
}

impl Provider {
    pub(crate) fn new(issuer: &str, http: reqwest::Client) -> Self {
        Provider {
            issuer: issuer.to_owned(),
            http,
            metadata: Mutex::new(None),
            keys: Mutex::new(None),
        }
    }

    /// The discovery document (`{issuer}/.well-known/openid-configuration`), checked:
    /// it names this issuer and its endpoints are HTTPS (or loopback HTTP).
    pub(crate) async fn metadata(&self) -> Result<Arc<Metadata>, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((metadata, fetched)) = &*cached
            && fetched.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer.trim_end_matches('/') != self.issuer {
            return Err(SsoError::Provider(format!(
                "the discovery document names issuer {:?}, not {:?}",
                metadata.issuer, self.issuer
            )));
        }
        for endpoint in [
            &metadata.authorization_endpoint,
            &metadata.token_endpoint,
            &metadata.jwks_uri,
        ] {
            if !is_secure_origin(endpoint) {
                return Err(SsoError::Provider(format!(
                    "the discovery document names an insecure endpoint {endpoint:?}"
                )));
            }
        }
        let metadata = Arc::new(metadata);
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// The provider's key that signed a token with `header`: from the cached key set,
    /// else from a fresh one (keys rotate), fetched at most every [`KEYS_MIN_REFETCH`].
    pub(crate) async fn key(&self, header: &Header) -> Result<Jwk, SsoError> {
        let mut cached = self.keys.lock().await;
        if let Some((set, fetched)) = &*cached {
            let stale = fetched.elapsed() >= KEYS_TTL;
            match header.find_key(set) {
                Some(key) if !stale => return Ok(key.clone()),
                _ if !stale && fetched.elapsed() < KEYS_MIN_REFETCH => {
                    return Err(SsoError::InvalidIdToken(
                        "signed with a key the provider does not publish".into(),
                    ));
                }
                _ => {}
            }
        }
        let metadata = self.metadata().await?;
        let set: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let set = Arc::new(set);
        *cached = Some((set.clone(), Instant::now()));
        header.find_key(&set).cloned().ok_or_else(|| {
            SsoError::InvalidIdToken("signed with a key the provider does not publish".into())
        })
    }

    /// Exchange `code` for an ID token at the token endpoint, authenticated with the
    /// client secret and proving the PKCE `verifier`.
    pub(crate) async fn exchange(
        &self,
        client: &OidcClientSettings,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
    ) -> Result<String, SsoError> {
        let metadata = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        let mut request = self.http.post(&metadata.token_endpoint);
        // `client_secret_basic` is the default (OpenID Connect Core 9); `_post` only for
        // a provider that does not offer it.
        let basic = metadata
            .token_endpoint_auth_methods_supported
            .as_ref()
            .is_none_or(|methods| methods.iter().any(|m| m == "client_secret_basic"));
        if basic {
            request = request.basic_auth(
                form_encode(&client.client_id),
                Some(form_encode(&client.client_secret)),
            );
        } else {
            form.push(("client_id", &client.client_id));
            form.push(("client_secret", &client.client_secret));
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| SsoError::Provider(format!("token endpoint: {e}")))?;
        let status = response.status();
        let body = read_limited(response).await?;
        if status.is_client_error() {
            #[derive(Deserialize)]
            struct ErrorBody {
                error: Option<String>,
            }
            let error = serde_json::from_slice::<ErrorBody>(&body)
                .ok()
                .and_then(|b| b.error)
                .unwrap_or_else(|| status.to_string());
            return Err(SsoError::CodeRefused(error.chars().take(100).collect()));
        }
        if !status.is_success() {
            return Err(SsoError::Provider(format!(
                "token endpoint answered {status}"
            )));
        }
        #[derive(Deserialize)]
        struct TokenBody {
            id_token: Option<String>,
        }
        serde_json::from_slice::<TokenBody>(&body)
            .map_err(|e| SsoError::Provider(format!("token endpoint: {e}")))?
            .id_token
            .ok_or_else(|| SsoError::InvalidIdToken("the token response has no id_token".into()))
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, SsoError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| SsoError::Provider(format!("{url}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(SsoError::Provider(format!("{url} answered {status}")));
        }
        let body = read_limited(response).await?;
        serde_json::from_slice(&body).map_err(|e| SsoError::Provider(format!("{url}: {e}")))
    }
}

/// The body of `response`, refused past [`MAX_RESPONSE_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, SsoError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SsoError::Provider(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(SsoError::Provider(format!(
                "an answer of more than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `application/x-www-form-urlencoded` of one value: what `client_secret_basic` applies
/// to the client id and secret before Basic encoding (RFC 6749, 2.3.1).
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'*') {
            out.push(char::from(byte));
        } else if byte == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_are_form_encoded() {
        assert_eq!(form_encode("abc-1.2_3*"), "abc-1.2_3*");
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
