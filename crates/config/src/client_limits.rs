//! What one client may do before the app sees its request: CORS origins, login and
//! registration throttles, request-head sizes, slow clients and open connections
//! (`[plugins.scale.server]`).

use std::time::Duration;

use super::{ConfigError, JacToml};

/// `[plugins.scale.server]`'s limits on clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// `cors_allowed_origins`: origins a browser may call the API from (`"*"` = any).
    /// Empty (the default): no CORS headers, so browsers allow same-origin calls only.
    pub cors_allowed_origins: Vec<String>,
    /// `login_failures_per_account`: failed logins per account and window before further
    /// attempts on it answer 429 (0 = no limit).
    pub login_failures_per_account: u32,
    /// `login_failures_per_address`: failed logins per client address and window.
    pub login_failures_per_address: u32,
    /// `registrations_per_address`: registrations per client address and window.
    pub registrations_per_address: u32,
    /// `throttle_window_seconds`: the window of the three counts above.
    pub throttle_window: Duration,
    /// `max_url_bytes`: longest path + query accepted; longer answers 414.
    pub max_url_bytes: usize,
    /// `max_header_bytes`: largest sum of header names and values; larger answers 431.
    pub max_header_bytes: usize,
    /// `header_read_timeout_ms`: a client that has not sent a whole request head in this
    /// time is disconnected (slowloris).
    pub header_read_timeout: Duration,
    /// `max_connections`: open client connections; past it new ones wait in the backlog.
    pub max_connections: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            cors_allowed_origins: Vec::new(),
            login_failures_per_account: 10,
            login_failures_per_address: 30,
            registrations_per_address: 30,
            throttle_window: Duration::from_secs(60),
            max_url_bytes: 8 << 10,
            max_header_bytes: 32 << 10,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 10_000,
        }
    }
}

impl ClientLimits {
    /// Defaults, then `jac.toml`.
    pub(super) fn resolve(toml: &JacToml) -> Result<Self, ConfigError> {
        const S: &str = "server";
        let mut l = ClientLimits::default();
        if let Some(origins) = toml.string_list(S, "cors_allowed_origins")? {
            // An origin as browsers send it: scheme://host[:port], no path, no slash.
            let valid = |o: &String| {
                o == "*"
                    || o.strip_prefix("https://")
                        .or_else(|| o.strip_prefix("http://"))
                        .is_some_and(|host| !host.is_empty() && !host.contains(['/', ' ']))
            };
            if !origins.iter().all(valid) {
                return Err(toml.wrong_type(
                    S,
                    "cors_allowed_origins",
                    "a list of origins like \"https://app.example.com\", or [\"*\"]",
                ));
            }
            l.cors_allowed_origins = origins;
        }
        let count = |key: &str, into: &mut u32| -> Result<(), ConfigError> {
            if let Some(n) = toml.integer(S, key)? {
                *into = u32::try_from(n).map_err(|_| toml.wrong_type(S, key, "a count"))?;
            }
            Ok(())
        };
        count(
            "login_failures_per_account",
            &mut l.login_failures_per_account,
        )?;
        count(
            "login_failures_per_address",
            &mut l.login_failures_per_address,
        )?;
        count(
            "registrations_per_address",
            &mut l.registrations_per_address,
        )?;
        let positive = |key: &str, into: &mut usize| -> Result<(), ConfigError> {
            if let Some(n) = toml.integer(S, key)? {
                *into = usize::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| toml.wrong_type(S, key, "a positive integer"))?;
            }
            Ok(())
        };
        positive("max_url_bytes", &mut l.max_url_bytes)?;
        positive("max_header_bytes", &mut l.max_header_bytes)?;
        positive("max_connections", &mut l.max_connections)?;
        let mut timeout_ms = 0;
        positive("header_read_timeout_ms", &mut timeout_ms)?;
        if timeout_ms > 0 {
            l.header_read_timeout = Duration::from_millis(timeout_ms as u64);
        }
        let mut window_seconds = 0;
        positive("throttle_window_seconds", &mut window_seconds)?;
        if window_seconds > 0 {
            l.throttle_window = Duration::from_secs(window_seconds as u64);
        }
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(toml: &str) -> Result<ClientLimits, ConfigError> {
        ClientLimits::resolve(&JacToml::from_text(toml)?)
    }

    #[test]
    fn defaults_without_the_section() {
        assert_eq!(limits("").expect("defaults"), ClientLimits::default());
    }

    #[test]
    fn every_key_is_read() {
        let l = limits(
            "[plugins.scale.server]\ncors_allowed_origins = [\"https://app.example.com\", \"http://localhost:5173\"]\n\
             login_failures_per_account = 3\nlogin_failures_per_address = 4\n\
             registrations_per_address = 0\nthrottle_window_seconds = 5\nmax_url_bytes = 100\nmax_header_bytes = 200\n\
             header_read_timeout_ms = 500\nmax_connections = 7\n",
        )
        .expect("valid");
        assert_eq!(
            l.cors_allowed_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
        assert_eq!(
            (
                l.login_failures_per_account,
                l.login_failures_per_address,
                l.registrations_per_address
            ),
            (3, 4, 0)
        );
        assert_eq!(l.throttle_window, Duration::from_secs(5));
        assert_eq!((l.max_url_bytes, l.max_header_bytes), (100, 200));
        assert_eq!(l.header_read_timeout, Duration::from_millis(500));
        assert_eq!(l.max_connections, 7);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "cors_allowed_origins = \"*\"",
            "cors_allowed_origins = [\"app.example.com\"]",
            "cors_allowed_origins = [\"https://app.example.com/path\"]",
            "max_url_bytes = 0",
            "max_connections = -1",
            "header_read_timeout_ms = 0",
            "login_failures_per_account = 5000000000",
            "throttle_window_seconds = 0",
        ] {
            let toml = format!("[plugins.scale.server]\n{bad}\n");
            assert!(limits(&toml).is_err(), "{bad} was accepted");
        }
    }
}
