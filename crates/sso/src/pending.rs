//! Sign-ins under way, by `state`: bounded in number and age, each taken once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::SsoError;

/// Most sign-ins under way at once (one process): a bound on the memory that
/// unauthenticated `GET /sso/{platform}/login` requests can hold, about 300 bytes each.
pub const MAX_PENDING: usize = 10_000;

/// How long a user has to sign in at the provider and come back.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);

/// One sign-in under way.
pub(crate) struct Pending {
    platform: String,
    browser_key: String,
    nonce: String,
    verifier: String,
    started: Instant,
}

impl Pending {
    pub(crate) fn new(
        platform: String,
        browser_key: String,
        nonce: String,
        verifier: String,
    ) -> Self {
        Pending {
            platform,
            browser_key,
            nonce,
            verifier,
            started: Instant::now(),
        }
    }

    /// Whether it was started on `platform` by the browser holding `browser_key`.
    pub(crate) fn belongs_to(&self, platform: &str, browser_key: Option<&str>) -> bool {
        self.platform == platform && browser_key == Some(self.browser_key.as_str())
    }

    /// The nonce the ID token must carry.
    pub(crate) fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The PKCE code verifier.
    pub(crate) fn verifier(&self) -> &str {
        &self.verifier
    }

    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.started) > PENDING_TTL
    }
}

/// The sign-ins under way.
#[derive(Default)]
pub(crate) struct PendingLogins {
    by_state: Mutex<HashMap<String, Pending>>,
}

impl PendingLogins {
    /// Remember `pending` under `state`; when full, expired ones are dropped first.
    pub(crate) fn insert(&self, state: String, pending: Pending) -> Result<(), SsoError> {
        let mut by_state = self.by_state.lock().unwrap_or_else(|e| e.into_inner());
        if by_state.len() >= MAX_PENDING {
            let now = Instant::now();
            by_state.retain(|_, p| !p.expired(now));
            if by_state.len() >= MAX_PENDING {
                return Err(SsoError::TooManyPending);
            }
        }
        by_state.insert(state, pending);
        Ok(())
    }

    /// Take the sign-in of `state` out (it cannot be used again), unless it expired.
    pub(crate) fn take(&self, state: &str) -> Option<Pending> {
        let pending = self
            .by_state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(state)?;
        (!pending.expired(Instant::now())).then_some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(browser: &str) -> Pending {
        Pending::new("google".into(), browser.into(), "n".into(), "v".into())
    }

    #[test]
    fn a_state_is_taken_once() {
        let logins = PendingLogins::default();
        logins.insert("s".into(), pending("b")).unwrap();
        assert!(logins.take("other").is_none());
        let taken = logins.take("s").expect("pending");
        assert!(taken.belongs_to("google", Some("b")));
        assert!(!taken.belongs_to("google", Some("another browser")));
        assert!(!taken.belongs_to("google", None));
        assert!(!taken.belongs_to("github", Some("b")));
        assert!(logins.take("s").is_none(), "used twice");
    }

    #[test]
    fn expired_states_are_refused_and_make_room() {
        let logins = PendingLogins::default();
        let mut old = pending("b");
        old.started = Instant::now() - PENDING_TTL - Duration::from_secs(1);
        logins.insert("old".into(), old).unwrap();
        assert!(logins.take("old").is_none(), "expired");

        for n in 0..MAX_PENDING {
            let mut old = pending("b");
            old.started = Instant::now() - PENDING_TTL - Duration::from_secs(1);
            logins.insert(format!("old{n}"), old).unwrap();
        }
        logins.insert("new".into(), pending("b")).unwrap();
        assert_eq!(logins.by_state.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_number_under_way_is_bounded() {
        let logins = PendingLogins::default();
        for n in 0..MAX_PENDING {
            logins.insert(n.to_string(), pending("b")).unwrap();
        }
        assert!(matches!(
            logins.insert("one more".into(), pending("b")),
            Err(SsoError::TooManyPending)
        ));
    }
}
