//! Password hashing with argon2id, and verification that takes the same time whether or
//! not the user exists.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AuthError;

/// Longest password accepted: far above any passphrase, and it caps the bytes a client
/// can make the hasher read.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about
/// 20 ms per hash on one core of a current server, so logins stay well under 50 ms.
fn argon2() -> Argon2<'static> {
    let params = Params::new(
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
        None,
    )
    .expect("argon2's default parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords.
pub(super) struct Passwords {
    argon2: Argon2<'static>,
    /// A hash of a random password, verified against when the user is unknown so that
    /// an unknown user costs the same time as a wrong password.
    dummy_hash: &'static str,
}

/// The dummy hash, made once per process: every app of a `serve` verifies against the
/// same one, rather than each spending a hash (19 MiB, a few ms) when it loads.
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

impl Passwords {
    pub(super) fn new() -> Result<Self, AuthError> {
        let argon2 = argon2();
        let dummy_hash = match DUMMY_HASH.get() {
            Some(hash) => hash,
            None => {
                let dummy_password: [u8; 16] = rand::random();
                let hash = hash_with(&argon2, &dummy_password)?;
                DUMMY_HASH.get_or_init(|| hash)
            }
        };
        Ok(Self { argon2, dummy_hash })
    }

    /// The PHC string of a new salted hash of `password`.
    pub(super) fn hash(&self, password: &str) -> Result<String, AuthError> {
        hash_with(&self.argon2, password.as_bytes())
    }

    /// Whether `password` matches `stored` (a PHC string); with no stored hash, spends
    /// the same time on the dummy hash and answers `false`.
    pub(super) fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let candidate = stored.unwrap_or(self.dummy_hash);
        let matches = match PasswordHash::new(candidate) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(error) => {
                tracing::error!(%error, "stored password hash is malformed");
                false
            }
        };
        matches && stored.is_some()
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, AuthError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|error| AuthError::Internal(format!("password salt: {error}")))?;
    let hash = argon2
        .hash_password(password, &salt)
        .map_err(|error| AuthError::Internal(format!("password hashing: {error}")))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let passwords = Passwords::new().unwrap();
        let first = passwords.hash("secret").unwrap();
        let second = passwords.hash("secret").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "each hash has its own salt");
        assert!(passwords.verify("secret", Some(&first)));
        assert!(!passwords.verify("Secret", Some(&first)));
        assert!(!passwords.verify("secret", Some("not a hash")));
    }

    #[test]
    fn unknown_user_never_verifies() {
        let passwords = Passwords::new().unwrap();
        assert!(!passwords.verify("", None));
        assert!(!passwords.verify("anything", None));
    }

    #[test]
    fn verification_is_fast_enough_for_logins() {
        let passwords = Passwords::new().unwrap();
        let stored = passwords.hash("secret").unwrap();
        let fastest = (0..5)
            .map(|_| {
                let started = Instant::now();
                assert!(passwords.verify("secret", Some(&stored)));
                started.elapsed()
            })
            .min()
            .unwrap();
        // About 20 ms on an idle core; the bound (API.md: "login must not take 250 ms")
        // leaves room for tests running in parallel on a busy machine.
        assert!(
            fastest < Duration::from_millis(250),
            "verification took {fastest:?}"
        );
    }
}
