//! Verifying an ID token (OpenID Connect Core 3.1.3.7) with the provider's key.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::{SsoError, VerifiedEmail};
use config::OidcClientSettings;

/// Clock skew allowed between the provider and this server, in seconds.
const LEEWAY_SECONDS: u64 = 60;

/// The algorithms an ID token may be signed with: asymmetric only, so a key the provider
/// publishes cannot be used as a shared secret (and never `none`).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// A token's algorithm and key id, read before its signature is checked.
#[derive(Debug)]
pub(crate) struct Header {
    algorithm: Algorithm,
    key_id: Option<String>,
}

impl Header {
    /// The header of `token`, refused unless its algorithm is one of [`ALGORITHMS`].
    pub(crate) fn of(token: &str) -> Result<Self, SsoError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| SsoError::InvalidIdToken(format!("malformed: {e}")))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(SsoError::InvalidIdToken(format!(
                "signed with {:?}, not an asymmetric algorithm",
                header.alg
            )));
        }
        Ok(Header {
            algorithm: header.alg,
            key_id: header.kid,
        })
    }

    /// The key of `set` that can have signed this token: the one with its key id (or
    /// the only signing key, when the token names none), of a matching type.
    pub(crate) fn find_key<'a>(&self, set: &'a JwkSet) -> Option<&'a Jwk> {
        let mut candidates = set.keys.iter().filter(|key| self.fits(key));
        match &self.key_id {
            Some(kid) => candidates.find(|key| key.common.key_id.as_deref() == Some(kid)),
            None => {
                let only = candidates.next()?;
                candidates.next().is_none().then_some(only)
            }
        }
    }

    /// Whether `key` is a public key of the token's algorithm family (and, when the key
    /// names its algorithm, that algorithm).
    fn fits(&self, key: &Jwk) -> bool {
        let family = matches!(
            (&key.algorithm, self.algorithm),
            (
                AlgorithmParameters::RSA(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512,
            ) | (
                AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
        );
        let named = key.common.key_algorithm.is_none_or(|named| {
            matches!(
                (named, self.algorithm),
                (KeyAlgorithm::RS256, Algorithm::RS256)
                    | (KeyAlgorithm::RS384, Algorithm::RS384)
                    | (KeyAlgorithm::RS512, Algorithm::RS512)
                    | (KeyAlgorithm::PS256, Algorithm::PS256)
                    | (KeyAlgorithm::PS384, Algorithm::PS384)
                    | (KeyAlgorithm::PS512, Algorithm::PS512)
                    | (KeyAlgorithm::ES256, Algorithm::ES256)
                    | (KeyAlgorithm::ES384, Algorithm::ES384)
                    | (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
            )
        });
        family && named
    }
}

/// The claims checked beyond what `jsonwebtoken` validates (`iss`, `aud`, `exp`).
#[derive(Deserialize)]
struct Claims {
    sub: String,
    aud: Value,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean; some providers have sent the string `"true"`.
    #[serde(default)]
    email_verified: Option<Value>,
}

/// Verify `token` (whose header is `header`) with `key`: signature, `iss` = the
/// client's issuer, `aud` contains the client id (and `azp`, when there are several
/// audiences or it is present, is the client id), `exp` in the future, `nonce` = the
/// sign-in's nonce; and a verified email.
pub(crate) fn verify(
    token: &str,
    header: &Header,
    key: &Jwk,
    client: &OidcClientSettings,
    nonce: &str,
) -> Result<VerifiedEmail, SsoError> {
    let invalid = |why: &str| SsoError::InvalidIdToken(why.to_owned());
    let key = DecodingKey::from_jwk(key).map_err(|e| invalid(&format!("unusable key: {e}")))?;
    let mut validation = Validation::new(header.algorithm);
    validation.set_issuer(&[&client.issuer]);
    validation.set_audience(&[&client.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| invalid(&e.to_string()))?
        .claims;
    let audiences = match &claims.aud {
        Value::Array(list) => list.len(),
        _ => 1,
    };
    if (audiences > 1 || claims.azp.is_some())
        && claims.azp.as_deref() != Some(client.client_id.as_str())
    {
        return Err(invalid("issued to another party (azp)"));
    }
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(invalid("its nonce is not this sign-in's"));
    }
    let verified = match &claims.email_verified {
        Some(Value::Bool(verified)) => *verified,
        Some(Value::String(text)) => text == "true",
        _ => false,
    };
    match claims.email {
        Some(email) if verified => Ok(VerifiedEmail {
            email,
            subject: claims.sub,
        }),
        _ => Err(SsoError::UnverifiedEmail),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://idp.example.com";
    const CLIENT_ID: &str = "our-app";
    const NONCE: &str = "the-nonce";

    fn client() -> OidcClientSettings {
        OidcClientSettings {
            platform: "google".into(),
            issuer: ISSUER.into(),
            client_id: CLIENT_ID.into(),
            client_secret: "secret".into(),
        }
    }

    /// The provider's key: what it signs with, and what it publishes.
    fn provider_key() -> (EncodingKey, JwkSet) {
        let signing = SigningKey::from_bytes(&[7; 32]);
        let der = signing.to_pkcs8_der().expect("pkcs8");
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        let set = serde_json::from_value(json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"},
        ]}))
        .expect("a key set");
        (EncodingKey::from_ed_der(der.as_bytes()), set)
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }

    fn good_claims() -> Value {
        json!({
            "iss": ISSUER, "aud": CLIENT_ID, "sub": "108", "iat": now(), "exp": now() + 300,
            "nonce": NONCE, "email": "ada@example.com", "email_verified": true,
        })
    }

    /// Sign `claims` with the provider's key and verify them as the callback does.
    fn check(claims: &Value) -> Result<VerifiedEmail, SsoError> {
        let (signing, set) = provider_key();
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".into());
        let token = jsonwebtoken::encode(&header, claims, &signing).expect("signed");
        let header = Header::of(&token)?;
        let key = header.find_key(&set).expect("the provider's key");
        verify(&token, &header, key, &client(), NONCE)
    }

    fn with(change: &[(&str, Value)]) -> Value {
        let mut claims = good_claims();
        for (name, value) in change {
            if value.is_null() {
                claims.as_object_mut().expect("object").remove(*name);
            } else {
                claims[*name] = value.clone();
            }
        }
        claims
    }

    #[test]
    fn a_valid_token_gives_its_verified_email() {
        let verified = check(&good_claims()).expect("valid");
        assert_eq!(verified.email, "ada@example.com");
        assert_eq!(verified.subject, "108");
        // Several audiences are fine when this client is the authorized party.
        check(&with(&[
            ("aud", json!([CLIENT_ID, "other"])),
            ("azp", json!(CLIENT_ID)),
        ]))
        .expect("azp is us");
        // Some providers send the flag as a string.
        check(&with(&[("email_verified", json!("true"))])).expect("\"true\"");
    }

    #[test]
    fn each_claim_is_checked() {
        let refused = [
            with(&[("iss", json!("https://evil.example.com"))]),
            with(&[("iss", Value::Null)]),
            with(&[("aud", json!("another-app"))]),
            with(&[("aud", Value::Null)]),
            with(&[("aud", json!([CLIENT_ID, "other"]))]),
            with(&[("azp", json!("another-app"))]),
            with(&[("exp", json!(now() - 3600))]),
            with(&[("exp", Value::Null)]),
            with(&[("nonce", json!("another sign-in"))]),
            with(&[("nonce", Value::Null)]),
            with(&[("sub", Value::Null)]),
        ];
        for claims in refused {
            assert!(
                matches!(check(&claims), Err(SsoError::InvalidIdToken(_))),
                "accepted: {claims}"
            );
        }
        for claims in [
            with(&[("email_verified", json!(false))]),
            with(&[("email_verified", Value::Null)]),
            with(&[("email_verified", json!("false"))]),
            with(&[("email", Value::Null)]),
        ] {
            assert!(
                matches!(check(&claims), Err(SsoError::UnverifiedEmail)),
                "accepted: {claims}"
            );
        }
    }

    #[test]
    fn symmetric_and_unsigned_tokens_are_refused_before_any_key_is_looked_up() {
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &good_claims(),
            &EncodingKey::from_secret(b"the published key as a secret"),
        )
        .expect("signed");
        assert!(matches!(Header::of(&hs), Err(SsoError::InvalidIdToken(_))));
        let body = URL_SAFE_NO_PAD.encode(good_claims().to_string());
        let none = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
        assert!(matches!(
            Header::of(&none),
            Err(SsoError::InvalidIdToken(_))
        ));
    }

    #[test]
    fn a_key_must_match_the_tokens_key_id_and_type() {
        let (_, set) = provider_key();
        let header = |algorithm, kid: Option<&str>| Header {
            algorithm,
            key_id: kid.map(str::to_owned),
        };
        assert!(
            header(Algorithm::EdDSA, Some("k1"))
                .find_key(&set)
                .is_some()
        );
        assert!(header(Algorithm::EdDSA, None).find_key(&set).is_some());
        assert!(
            header(Algorithm::EdDSA, Some("k2"))
                .find_key(&set)
                .is_none()
        );
        assert!(
            header(Algorithm::RS256, Some("k1"))
                .find_key(&set)
                .is_none()
        );
    }
}
