//! Login identities: emails and usernames, trimmed and case-folded.

use super::AuthError;

/// Longest identity accepted (the longest valid email address).
pub const MAX_IDENTITY_BYTES: usize = 254;

/// An identity as a client sent it. Emails and usernames share one namespace: a username
/// that looks like an email is the same identity as that email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity<'a> {
    /// Must look like `local@domain.tld`.
    Email(&'a str),
    /// Any non-empty text without whitespace.
    Username(&'a str),
}

impl Identity<'_> {
    /// The stored form: trimmed and case-folded, checked for its kind.
    pub fn normalize(self) -> Result<String, AuthError> {
        let (raw, kind) = match self {
            Self::Email(raw) => (raw, "email"),
            Self::Username(raw) => (raw, "username"),
        };
        let folded = normalize(raw);
        if folded.is_empty() {
            return Err(AuthError::InvalidIdentity(format!("{kind} is empty")));
        }
        if folded.len() > MAX_IDENTITY_BYTES {
            return Err(AuthError::InvalidIdentity(format!(
                "{kind} is longer than {MAX_IDENTITY_BYTES} bytes"
            )));
        }
        if folded.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AuthError::InvalidIdentity(format!(
                "{kind} contains whitespace"
            )));
        }
        if matches!(self, Self::Email(_)) && !looks_like_email(&folded) {
            return Err(AuthError::InvalidIdentity(
                "email must look like name@example.com".into(),
            ));
        }
        Ok(folded)
    }
}

/// Trims and case-folds an identity (what login looks up, whatever its kind).
pub(super) fn normalize(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// `local@domain.tld`: one `@`, a non-empty local part, and a domain of non-empty
/// dot-separated labels, at least two.
fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_trimmed_and_case_folded() {
        assert_eq!(
            Identity::Email("  Alice@Example.COM ").normalize().unwrap(),
            "alice@example.com"
        );
        assert_eq!(Identity::Username(" Bob ").normalize().unwrap(), "bob");
    }

    #[test]
    fn emails_must_look_like_emails() {
        for bad in [
            "",
            "   ",
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a@b.",
            "a@.b",
            "a@b@c.d",
            "a b@c.d",
        ] {
            assert!(
                matches!(
                    Identity::Email(bad).normalize(),
                    Err(AuthError::InvalidIdentity(_))
                ),
                "{bad:?} accepted"
            );
        }
        assert!(Identity::Email("a@b.c").normalize().is_ok());
    }

    #[test]
    fn usernames_are_non_empty_without_whitespace() {
        for bad in ["", " ", "two words", "tab\there"] {
            assert!(
                Identity::Username(bad).normalize().is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(
            Identity::Username(&"x".repeat(MAX_IDENTITY_BYTES + 1))
                .normalize()
                .is_err()
        );
        assert_eq!(Identity::Username("dév_42").normalize().unwrap(), "dév_42");
    }
}
