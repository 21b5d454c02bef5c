//! Single sign-on through OpenID providers: the authorization code flow of OpenID
//! Connect, done by the server (a "confidential client").
//!
//! [`Sso::start`] makes a login attempt: a random `state` (what the provider hands
//! back), a `nonce` (what the ID token must carry) and a PKCE verifier, kept here
//! (bounded, for [`PENDING_TTL`], used once) and bound to the browser that started it
//! by a random key the HTTP layer keeps in a cookie. It answers the provider's
//! authorization URL, found through the provider's discovery document.
//! [`Sso::finish`] takes the attempt back by its `state` (unknown, expired, used, or
//! from another browser: refused), exchanges the code at the token endpoint with the
//! client secret and the PKCE verifier, and verifies the ID token against the
//! provider's published keys: signature (asymmetric algorithms only), `iss`, `aud`
//! (and `azp`), `exp`, `nonce`; then it answers the verified email.
//!
//! Invariant: no HTTP server types and no accounts here; `http` serves the routes and
//! `auth` links the email to an account.

mod id_token;
mod pending;
mod provider;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use config::{OidcClientSettings, SsoSettings};
use pending::{Pending, PendingLogins};
use provider::Provider;

pub use pending::{MAX_PENDING, PENDING_TTL};

/// How long one request to a provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Length of a browser key, `state`, `nonce` and PKCE verifier in characters: 32 random
/// bytes, base64url.
const RANDOM_TEXT_LEN: usize = 43;

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No platform of that name is configured.
    #[error("no single sign-on platform named `{0}` is configured")]
    UnknownPlatform(String),
    /// The `state` is unknown, expired, used already, or was started by another browser
    /// or for another platform.
    #[error("this sign-in attempt is unknown, expired or already used; start again")]
    InvalidState,
    /// The provider answered the authorization request with an error (the user declined).
    #[error("the provider refused the sign-in: {0}")]
    Denied(String),
    /// The token endpoint refused the code (used already, expired, or for another client).
    #[error("the provider refused the authorization code: {0}")]
    CodeRefused(String),
    /// The ID token failed verification.
    #[error("the provider's ID token is not valid: {0}")]
    InvalidIdToken(String),
    /// The ID token has no email, or one the provider has not verified.
    #[error("the provider has not verified this account's email address")]
    UnverifiedEmail,
    /// [`MAX_PENDING`] sign-ins are under way.
    #[error("too many sign-ins under way; try again in a minute")]
    TooManyPending,
    /// The provider could not be reached or answered something unusable.
    #[error("the identity provider is unavailable: {0}")]
    Provider(String),
    /// The HTTP client could not be built.
    #[error("single sign-on configuration: {0}")]
    Config(String),
}

/// Why the browser is sent to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in (an account is created on first use).
    Login,
    /// Create the account: also asks the provider to show its consent screen
    /// (`prompt=consent`), so the user agrees to share the email explicitly.
    Register,
}

/// A sign-in that was started: where to send the browser, and the key that browser
/// must present at the callback.
#[derive(Debug, Clone)]
pub struct Started {
    /// The provider's authorization URL with this attempt's parameters.
    pub authorization_url: String,
    /// The browser's key (unchanged when the browser sent a well-formed one).
    pub browser_key: String,
}

/// What the provider's redirect to the callback carried.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    /// `state`, as issued by [`Sso::start`].
    pub state: &'a str,
    /// `code`, on success.
    pub code: Option<&'a str>,
    /// `error`, when the provider refused.
    pub error: Option<&'a str>,
}

/// A person the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEmail {
    /// The verified email address, as the provider wrote it.
    pub email: String,
    /// The provider's stable id of the account (`sub`).
    pub subject: String,
}

/// One configured platform: its client and its provider.
struct Platform {
    client: OidcClientSettings,
    redirect_uri: String,
    provider: Provider,
}

/// The configured platforms and the sign-ins under way.
pub struct Sso {
    settings: SsoSettings,
    platforms: Vec<Platform>,
    pending: PendingLogins,
}

impl Sso {
    /// The platforms of `settings`; `None` when none is configured.
    pub fn new(settings: &SsoSettings) -> Result<Option<Self>, SsoError> {
        if settings.platforms.is_empty() {
            return Ok(None);
        }
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SsoError::Config(e.to_string()))?;
        let platforms = settings
            .platforms
            .iter()
            .map(|client| Platform {
                redirect_uri: settings.callback_url(&client.platform),
                provider: Provider::new(&client.issuer, http.clone()),
                client: client.clone(),
            })
            .collect();
        Ok(Some(Sso {
            settings: settings.clone(),
            platforms,
            pending: PendingLogins::default(),
        }))
    }

    /// `SSO_*`.
    pub fn settings(&self) -> &SsoSettings {
        &self.settings
    }

    /// The names of the configured platforms.
    pub fn platform_names(&self) -> impl Iterator<Item = &str> {
        self.platforms.iter().map(|p| p.client.platform.as_str())
    }

    fn platform(&self, name: &str) -> Result<&Platform, SsoError> {
        self.platforms
            .iter()
            .find(|p| p.client.platform == name)
            .ok_or_else(|| SsoError::UnknownPlatform(name.to_owned()))
    }

    /// Start a sign-in on `platform` for the browser holding `browser_key` (a new key
    /// when it has none or a malformed one).
    pub async fn start(
        &self,
        platform: &str,
        purpose: Purpose,
        browser_key: Option<&str>,
    ) -> Result<Started, SsoError> {
        let platform = self.platform(platform)?;
        let metadata = platform.provider.metadata().await?;
        let browser_key = browser_key
            .filter(|key| is_random_text(key))
            .map_or_else(random_text, str::to_owned);
        let state = random_text();
        let nonce = random_text();
        let verifier = random_text();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", platform.client.client_id.as_str()),
            ("redirect_uri", platform.redirect_uri.as_str()),
            ("scope", "openid email"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if purpose == Purpose::Register {
            query.push(("prompt", "consent"));
        }
        let query = serde_urlencoded::to_string(&query)
            .map_err(|e| SsoError::Provider(format!("authorization URL: {e}")))?;
        let endpoint = &metadata.authorization_endpoint;
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        self.pending.insert(
            state,
            Pending::new(
                platform.client.platform.clone(),
                browser_key.clone(),
                nonce,
                verifier,
            ),
        )?;
        Ok(Started {
            authorization_url: format!("{endpoint}{separator}{query}"),
            browser_key,
        })
    }

    /// Finish the sign-in the provider redirected back with, for the browser holding
    /// `browser_key`. The attempt is used up whatever the outcome.
    pub async fn finish(
        &self,
        platform: &str,
        callback: Callback<'_>,
        browser_key: Option<&str>,
    ) -> Result<VerifiedEmail, SsoError> {
        let platform = self.platform(platform)?;
        let pending = self
            .pending
            .take(callback.state)
            .filter(|p| p.belongs_to(&platform.client.platform, browser_key))
            .ok_or(SsoError::InvalidState)?;
        if let Some(error) = callback.error {
            return Err(SsoError::Denied(error.chars().take(100).collect()));
        }
        let code = callback
            .code
            .ok_or_else(|| SsoError::CodeRefused("the callback has no code".into()))?;
        let id_token = platform
            .provider
            .exchange(
                &platform.client,
                &platform.redirect_uri,
                code,
                pending.verifier(),
            )
            .await?;
        let header = id_token::Header::of(&id_token)?;
        let key = platform.provider.key(&header).await?;
        id_token::verify(&id_token, &header, &key, &platform.client, pending.nonce())
    }
}

/// 32 random bytes, base64url (43 characters).
fn random_text() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Whether `text` could have come from [`random_text`].
fn is_random_text(text: &str) -> bool {
    text.len() == RANDOM_TEXT_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
