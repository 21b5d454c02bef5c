//! `[plugins.scale.quotas]`: what one app may take of the host it shares with others.
//!
//! Each app's `Config` carries its own [`Quotas`]; the runtime enforces them per app
//! (`runtime::quotas`). The process-wide `[plugins.scale.limits]` size the host (the
//! instance pool, the largest memory slot); a quota can only lower them for one app.

use std::time::Duration;

use super::{ConfigError, JacToml, Limits, WebSocketSettings};

/// A per-app quota, named as its `[plugins.scale.quotas]` key (in refusals and in the
/// `quota_exceeded_total` metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// `concurrent_calls`: calls in the host at once.
    ConcurrentCalls,
    /// `calls_per_second`: calls admitted per second.
    CallsPerSecond,
    /// `instances`: instances held at once.
    Instances,
    /// `cpu_time_per_call_ms`: CPU time of one call.
    CpuTimePerCall,
    /// `memory_per_instance_mib`: linear memory of one instance.
    MemoryPerInstance,
    /// `kvstore_ops_per_second`: kvstore operations of the app's calls per second.
    KvstoreOpsPerSecond,
    /// `storage_mib`: bytes of the app's file storage.
    StorageBytes,
    /// `kvstore_mib`: bytes of the app's kvstore keys, values and documents.
    KvstoreBytes,
    /// `websocket_connections`: the app's open WebSocket connections.
    WebsocketConnections,
}

impl Quota {
    /// The quota's key in `[plugins.scale.quotas]` (and its metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::ConcurrentCalls => "concurrent_calls",
            Quota::CallsPerSecond => "calls_per_second",
            Quota::Instances => "instances",
            Quota::CpuTimePerCall => "cpu_time_per_call_ms",
            Quota::MemoryPerInstance => "memory_per_instance_mib",
            Quota::KvstoreOpsPerSecond => "kvstore_ops_per_second",
            Quota::StorageBytes => "storage_mib",
            Quota::KvstoreBytes => "kvstore_mib",
            Quota::WebsocketConnections => "websocket_connections",
        }
    }
}

/// Per-app quotas. The name of each field is its `jac.toml` key (the quota's name in a
/// refusal and in the `quota_exceeded_total` metric).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    /// Calls of the app in the host at once (waiting for an instance or running); one
    /// more answers 429 at once, so a flood cannot build a queue. Default 256.
    pub concurrent_calls: usize,
    /// Instances the app may hold at once; calls beyond wait up to the queue timeout,
    /// then answer 503. Default (and most): `limits.max_concurrency`.
    pub instances: usize,
    /// Guest threads (cores) the app's calls may occupy at once; 0 = all of them
    /// (`limits.guest_threads`). Default 0: fairness comes from the scheduler, this caps
    /// an app's share of the cores.
    pub cpu_threads: usize,
    /// CPU time one call may use (counted in epoch ticks while it runs); past it the
    /// call stops with 504. Default (and most): `limits.call_timeout`.
    pub cpu_time_per_call: Duration,
    /// Linear memory one instance may grow to; past it the call fails (500). Default
    /// (and most): `limits.memory_limit_bytes`.
    pub memory_per_instance_bytes: usize,
    /// Calls admitted per second (a token bucket holding one second's worth); more
    /// answer 429. 0 = unlimited (the default).
    pub calls_per_second: u32,
    /// kvstore operations (each read, write, query) of all the app's calls per second, a
    /// burst of one second's worth; one more stops its call with 429. 0 = unlimited (the
    /// default).
    pub kvstore_ops_per_second: u32,
    /// Bytes the app's file storage may hold; a write past it stops its call with 413.
    /// 0 = unlimited (the default).
    pub storage_bytes: u64,
    /// Bytes the app's kvstores may hold (keys and values, documents as JSON); a write
    /// past it stops its call with 413. 0 = unlimited (the default).
    pub kvstore_bytes: u64,
    /// The app's open WebSocket connections; one more is refused with 429. Default (and
    /// most): `[plugins.scale.websocket] max_connections`.
    pub websocket_connections: usize,
}

/// `jac.toml` keys of `[plugins.scale.quotas]`.
pub(super) const KEYS: &[&str] = &[
    "concurrent_calls",
    "instances",
    "cpu_threads",
    "cpu_time_per_call_ms",
    "memory_per_instance_mib",
    "calls_per_second",
    "kvstore_ops_per_second",
    "storage_mib",
    "kvstore_mib",
    "websocket_connections",
];

/// Default of [`Quotas::concurrent_calls`].
const DEFAULT_CONCURRENT_CALLS: usize = 256;

impl Quotas {
    /// The defaults on a host with `limits` and `websocket`: everything the host allows,
    /// 256 calls at once.
    pub fn within(limits: &Limits, websocket: &WebSocketSettings) -> Self {
        Quotas {
            kvstore_ops_per_second: 0,
            storage_bytes: 0,
            kvstore_bytes: 0,
            websocket_connections: websocket.max_connections,
            concurrent_calls: DEFAULT_CONCURRENT_CALLS,
            instances: limits.max_concurrency,
            cpu_threads: 0,
            cpu_time_per_call: limits.call_timeout,
            memory_per_instance_bytes: limits.memory_limit_bytes,
            calls_per_second: 0,
        }
    }

    /// `[plugins.scale.quotas]` over [`Quotas::within`]`(limits)`; a quota above the
    /// host's limit, or zero where zero means nothing, is an error naming the key.
    pub(super) fn resolve(
        toml: &JacToml,
        limits: &Limits,
        websocket: &WebSocketSettings,
    ) -> Result<Self, ConfigError> {
        const S: &str = "quotas";
        let mut q = Quotas::within(limits, websocket);
        let count = |key: &str| -> Result<Option<usize>, ConfigError> {
            Ok(toml
                .integer(S, key)?
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
        };
        if let Some(n) = count("concurrent_calls")? {
            q.concurrent_calls = n;
        }
        if let Some(n) = count("instances")? {
            q.instances = n;
        }
        if let Some(n) = count("cpu_threads")? {
            q.cpu_threads = n;
        }
        if let Some(ms) = toml.integer(S, "cpu_time_per_call_ms")? {
            q.cpu_time_per_call = Duration::from_millis(ms);
        }
        if let Some(mib) = toml.integer(S, "memory_per_instance_mib")? {
            q.memory_per_instance_bytes = usize::try_from(mib)
                .ok()
                .and_then(|m| m.checked_mul(1 << 20))
                .unwrap_or(usize::MAX);
        }
        if let Some(n) = toml.integer(S, "calls_per_second")? {
            q.calls_per_second = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = toml.integer(S, "kvstore_ops_per_second")? {
            q.kvstore_ops_per_second = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(mib) = toml.integer(S, "storage_mib")? {
            q.storage_bytes = mib.saturating_mul(1 << 20);
        }
        if let Some(mib) = toml.integer(S, "kvstore_mib")? {
            q.kvstore_bytes = mib.saturating_mul(1 << 20);
        }
        if let Some(n) = count("websocket_connections")? {
            q.websocket_connections = n;
        }
        q.check(limits, websocket)
            .map_err(|(key, expected)| toml.wrong_type(S, key, expected))?;
        Ok(q)
    }

    /// `Err((key, what it must be))` for the first quota out of range.
    fn check(
        &self,
        limits: &Limits,
        websocket: &WebSocketSettings,
    ) -> Result<(), (&'static str, &'static str)> {
        if self.websocket_connections == 0 || self.websocket_connections > websocket.max_connections
        {
            return Err((
                "websocket_connections",
                "between 1 and [plugins.scale.websocket] max_connections",
            ));
        }
        if self.concurrent_calls == 0 {
            return Err(("concurrent_calls", "greater than zero"));
        }
        if self.instances == 0 || self.instances > limits.max_concurrency {
            return Err((
                "instances",
                "between 1 and [plugins.scale.limits] max_concurrency",
            ));
        }
        if self.cpu_time_per_call.is_zero() || self.cpu_time_per_call > limits.call_timeout {
            return Err((
                "cpu_time_per_call_ms",
                "between 1 and [plugins.scale.limits] call_timeout_ms",
            ));
        }
        if self.memory_per_instance_bytes == 0
            || self.memory_per_instance_bytes > limits.memory_limit_bytes
        {
            return Err((
                "memory_per_instance_mib",
                "between 1 and [plugins.scale.limits] memory_limit_mib",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> JacToml {
        JacToml::from_text(text).unwrap()
    }

    #[test]
    fn defaults_are_what_the_host_allows() {
        let limits = Limits::default();
        let websocket = WebSocketSettings::default();
        let q = Quotas::resolve(&toml(""), &limits, &websocket).unwrap();
        assert_eq!(q, Quotas::within(&limits, &websocket));
        assert_eq!(q.websocket_connections, websocket.max_connections);
        assert_eq!(
            (q.kvstore_ops_per_second, q.storage_bytes, q.kvstore_bytes),
            (0, 0, 0)
        );
        assert_eq!(q.instances, limits.max_concurrency);
        assert_eq!(q.cpu_time_per_call, limits.call_timeout);
        assert_eq!(q.memory_per_instance_bytes, limits.memory_limit_bytes);
        assert_eq!(q.concurrent_calls, 256);
        assert_eq!((q.cpu_threads, q.calls_per_second), (0, 0));
    }

    #[test]
    fn every_key_is_read() {
        let q = Quotas::resolve(
            &toml(
                "[plugins.scale.quotas]\nconcurrent_calls = 3\ninstances = 2\ncpu_threads = 1\n\
                 cpu_time_per_call_ms = 250\nmemory_per_instance_mib = 16\ncalls_per_second = 40\n\
                 kvstore_ops_per_second = 100\nstorage_mib = 5\nkvstore_mib = 3\n\
                 websocket_connections = 7\n",
            ),
            &Limits::default(),
            &WebSocketSettings::default(),
        )
        .unwrap();
        assert_eq!(
            q,
            Quotas {
                concurrent_calls: 3,
                instances: 2,
                cpu_threads: 1,
                cpu_time_per_call: Duration::from_millis(250),
                memory_per_instance_bytes: 16 << 20,
                calls_per_second: 40,
                kvstore_ops_per_second: 100,
                storage_bytes: 5 << 20,
                kvstore_bytes: 3 << 20,
                websocket_connections: 7,
            }
        );
    }

    #[test]
    fn a_quota_above_the_host_limit_names_its_key() {
        for (line, key) in [
            ("memory_per_instance_mib = 65", "memory_per_instance_mib"),
            ("instances = 129", "instances"),
            ("cpu_time_per_call_ms = 30001", "cpu_time_per_call_ms"),
            ("concurrent_calls = 0", "concurrent_calls"),
            ("calls_per_second = \"many\"", "calls_per_second"),
            ("websocket_connections = 10001", "websocket_connections"),
            ("storage_mib = -1", "storage_mib"),
            ("kvstore_mib = -1", "kvstore_mib"),
        ] {
            let err = Quotas::resolve(
                &toml(&format!("[plugins.scale.quotas]\n{line}\n")),
                &Limits::default(),
                &WebSocketSettings::default(),
            )
            .unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("plugins.scale.quotas.{key}")),
                "{line}: {err}"
            );
        }
    }
}
