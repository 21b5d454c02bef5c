//! JWT bearer tokens: HMAC-signed, always expiring, bound to one user (and root).

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;
use graph::Id;

/// Longest token accepted; ours are a few hundred bytes.
const MAX_TOKEN_BYTES: usize = 4_096;
/// Longest configurable token lifetime: ten years.
const MAX_LIFETIME_DAYS: i64 = 3_650;
const SECONDS_PER_DAY: i64 = 86_400;

/// What a token says. Ours carry every field; tokens issued by jac-scale 0.2.x (signed
/// with the same `JWT_SECRET`) carry only `user_id`, `exp`, a float `iat` and `role`, and
/// are accepted too, so users keep their sessions across a move from the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (standard subject claim); when present it must equal `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The user id, as the Python jac-scale names it.
    pub user_id: String,
    /// The user's root; when present it must be the user's root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<Id>,
    /// Issued at, Unix seconds (the original writes a float; never checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<serde_json::Number>,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// Issues and checks tokens with one algorithm and secret.
pub(super) struct Tokens {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime_seconds: i64,
}

impl Tokens {
    /// `algorithm` must be HS256, HS384 or HS512; `lifetime_days` 1 to 3650.
    pub(super) fn new(
        algorithm: &str,
        secret: &[u8],
        lifetime_days: i64,
    ) -> Result<Self, AuthError> {
        let algorithm = match algorithm.trim().to_ascii_uppercase().as_str() {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            other => {
                return Err(AuthError::Config(format!(
                    "JWT_ALGORITHM must be HS256, HS384 or HS512, not {other:?}"
                )));
            }
        };
        if !(1..=MAX_LIFETIME_DAYS).contains(&lifetime_days) {
            return Err(AuthError::Config(format!(
                "JWT_EXP_DELTA_DAYS must be 1 to {MAX_LIFETIME_DAYS}, not {lifetime_days}"
            )));
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            algorithm,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime_seconds: lifetime_days * SECONDS_PER_DAY,
        })
    }

    /// How long issued tokens live, in seconds.
    pub(super) fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    /// A signed token for this user, valid from `now` (Unix seconds).
    pub(super) fn issue(&self, user_id: &str, root: Id, now: i64) -> Result<String, AuthError> {
        let claims = Claims {
            sub: Some(user_id.to_owned()),
            user_id: user_id.to_owned(),
            root_id: Some(root),
            iat: Some(now.into()),
            exp: now + self.lifetime_seconds,
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|error| AuthError::Internal(format!("token signing: {error}")))
    }

    /// The claims of a token signed with our secret and algorithm, unexpired.
    pub(super) fn check(&self, token: &str) -> Result<Claims, AuthError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::InvalidToken("token is too long".into()));
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| AuthError::InvalidToken(describe(error.kind()).into()))?
            .claims;
        if claims
            .sub
            .as_ref()
            .is_some_and(|sub| *sub != claims.user_id)
        {
            return Err(AuthError::InvalidToken("subject and user_id differ".into()));
        }
        Ok(claims)
    }
}

/// A short public reason for a rejected token (no key material, no parser internals).
fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "token has expired",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
        _ => "malformed token",
    }
}
