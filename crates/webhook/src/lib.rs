//! Webhook request checks that do not depend on HTTP types: the HMAC signature with its
//! optional timestamp (the per-key rate limit is `rate_limit::RateLimiter`).
//!
//! The signature is `hex(HMAC-SHA256(key = the API key string, message = body))`, or,
//! when the caller sends a timestamp, over `"<timestamp>." + body`; an optional
//! `sha256=` prefix is accepted. Comparison is constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing signature header {0}")]
    Missing(String),
    #[error("the signature is not a hex HMAC-SHA256 digest")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("missing X-Webhook-Timestamp (this server requires it)")]
    TimestampRequired,
    #[error("X-Webhook-Timestamp is not Unix seconds")]
    TimestampMalformed,
    #[error("X-Webhook-Timestamp is more than {0} seconds away from the server's clock")]
    Stale(u64),
}

impl SignatureError {
    /// A short label for the metrics (`webhook_refusals_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            SignatureError::Missing(_) => "missing_signature",
            SignatureError::Malformed => "malformed_signature",
            SignatureError::Mismatch => "bad_signature",
            SignatureError::TimestampRequired => "timestamp_required",
            SignatureError::TimestampMalformed => "malformed_timestamp",
            SignatureError::Stale(_) => "stale_timestamp",
        }
    }
}

/// What a webhook request presented for its signature check.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The API key string (the HMAC key).
    pub api_key: &'a str,
    /// The raw body.
    pub body: &'a [u8],
    /// The signature header's value, if sent.
    pub signature: Option<&'a str>,
    /// `X-Webhook-Timestamp`, if sent.
    pub timestamp: Option<&'a str>,
}

/// How requests are checked (from `[plugins.scale.webhook]`).
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Name of the signature header, for messages.
    pub header: &'a str,
    pub verify_signature: bool,
    pub require_timestamp: bool,
    /// Largest allowed distance between the timestamp and `now`, in seconds.
    pub tolerance_seconds: u64,
}

/// Checks the timestamp (if sent or required) and the signature (unless disabled).
pub fn check(request: &Signed<'_>, policy: &Policy<'_>, now: i64) -> Result<(), SignatureError> {
    let timestamp = match request.timestamp.map(str::trim) {
        None if policy.require_timestamp => return Err(SignatureError::TimestampRequired),
        None => None,
        Some(text) => {
            let seconds: i64 = text
                .parse()
                .map_err(|_| SignatureError::TimestampMalformed)?;
            if seconds.abs_diff(now) > policy.tolerance_seconds {
                return Err(SignatureError::Stale(policy.tolerance_seconds));
            }
            Some(text)
        }
    };
    if !policy.verify_signature {
        return Ok(());
    }
    let sent = request
        .signature
        .ok_or_else(|| SignatureError::Missing(policy.header.to_owned()))?
        .trim();
    let hex_digest = sent
        .strip_prefix("sha256=")
        .or_else(|| sent.strip_prefix("SHA256="))
        .unwrap_or(sent);
    let sent = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(request.api_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    if let Some(ts) = timestamp {
        mac.update(ts.as_bytes());
        mac.update(b".");
    }
    mac.update(request.body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sent)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy<'static> = Policy {
        header: "X-Webhook-Signature",
        verify_signature: true,
        require_timestamp: false,
        tolerance_seconds: 300,
    };

    fn sign(key: &str, message: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(message);
        hex::encode(mac.finalize().into_bytes())
    }

    fn signed<'a>(sig: Option<&'a str>, ts: Option<&'a str>) -> Signed<'a> {
        Signed {
            api_key: "key",
            body: b"{\"a\":1}",
            signature: sig,
            timestamp: ts,
        }
    }

    #[test]
    fn body_signature_with_and_without_prefix() {
        let sig = sign("key", b"{\"a\":1}");
        assert_eq!(check(&signed(Some(&sig), None), &POLICY, 0), Ok(()));
        let prefixed = format!("sha256={sig}");
        assert_eq!(check(&signed(Some(&prefixed), None), &POLICY, 0), Ok(()));
        let other = sign("other", b"{\"a\":1}");
        assert_eq!(
            check(&signed(Some(&other), None), &POLICY, 0),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&signed(Some("zz"), None), &POLICY, 0),
            Err(SignatureError::Malformed)
        );
        assert!(matches!(
            check(&signed(None, None), &POLICY, 0),
            Err(SignatureError::Missing(_))
        ));
    }

    #[test]
    fn timestamp_is_signed_and_bounded() {
        let sig = sign("key", b"1000.{\"a\":1}");
        assert_eq!(
            check(&signed(Some(&sig), Some("1000")), &POLICY, 1200),
            Ok(())
        );
        assert_eq!(
            check(&signed(Some(&sig), Some("1000")), &POLICY, 1301),
            Err(SignatureError::Stale(300))
        );
        let body_only = sign("key", b"{\"a\":1}");
        assert_eq!(
            check(&signed(Some(&body_only), Some("1000")), &POLICY, 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&signed(Some(&sig), Some("soon")), &POLICY, 1000),
            Err(SignatureError::TimestampMalformed)
        );
        let strict = Policy {
            require_timestamp: true,
            ..POLICY
        };
        assert_eq!(
            check(&signed(Some(&body_only), None), &strict, 0),
            Err(SignatureError::TimestampRequired)
        );
    }

    #[test]
    fn verification_can_be_disabled() {
        let off = Policy {
            verify_signature: false,
            ..POLICY
        };
        assert_eq!(check(&signed(None, None), &off, 0), Ok(()));
    }
}
