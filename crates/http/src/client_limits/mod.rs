//! What one client may do before the app sees its request (`config::ClientLimits`):
//! CORS ([`cors`]), request-head sizes ([`request_head`]), login and registration
//! throttles ([`Throttles`]). Slow clients and the connection cap are bounded where
//! connections are accepted (`crate::serve`).

pub(crate) mod cors;
pub(crate) mod request_head;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::ApiError;
use config::ClientLimits;
use rate_limit::RateLimiter;

/// The address of the peer that sent a request (`None` when the router is driven
/// without a socket, as in unit tests).
pub(crate) struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// Brute-force and sign-up-flood throttles. Logins count only failures, per account and
/// per client address, so the owner's correct password works again once the window ends;
/// registrations count every attempt per address.
pub(crate) struct Throttles {
    login_per_account: RateLimiter,
    login_per_address: RateLimiter,
    register_per_address: RateLimiter,
}

impl Throttles {
    pub(crate) fn new(limits: &ClientLimits) -> Self {
        let window = limits.throttle_window;
        Throttles {
            login_per_account: RateLimiter::new(limits.login_failures_per_account, window),
            login_per_address: RateLimiter::new(limits.login_failures_per_address, window),
            register_per_address: RateLimiter::new(limits.registrations_per_address, window),
        }
    }

    /// Whether a login of `account` from `addr` may be tried now.
    pub(crate) fn check_login(&self, addr: Option<IpAddr>, account: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        self.login_per_account
            .check(account, now)
            .map_err(|retry| {
                refusal(
                    "failed logins for this account",
                    &self.login_per_account,
                    retry,
                )
            })?;
        if let Some(addr) = addr {
            self.login_per_address
                .check(&addr.to_string(), now)
                .map_err(|retry| {
                    refusal(
                        "failed logins from this address",
                        &self.login_per_address,
                        retry,
                    )
                })?;
        }
        Ok(())
    }

    /// Count a failed login of `account` from `addr`.
    pub(crate) fn login_failed(&self, addr: Option<IpAddr>, account: &str) {
        let now = Instant::now();
        self.login_per_account.record(account, now);
        if let Some(addr) = addr {
            self.login_per_address.record(&addr.to_string(), now);
        }
    }

    /// Count a registration from `addr`, refusing it past the limit.
    pub(crate) fn admit_registration(&self, addr: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(addr) = addr else { return Ok(()) };
        self.register_per_address
            .admit(&addr.to_string(), Instant::now())
            .map_err(|retry| {
                refusal(
                    "registrations from this address",
                    &self.register_per_address,
                    retry,
                )
            })
    }
}

fn refusal(what: &str, limiter: &RateLimiter, retry: std::time::Duration) -> ApiError {
    ApiError::RateLimited {
        message: format!(
            "too many {what} (limit {} per {} s); retry in {} s",
            limiter.limit(),
            limiter.window().as_secs(),
            retry.as_secs().max(1)
        ),
        retry_after: Some(retry),
    }
}
