//! Host metrics, labelled by app: instances, instantiation, CPU time, memory, traps,
//! host calls by capability, cache-tier lookups, WebSocket connections, webhook refusals,
//! per-app quotas exceeded.

use std::sync::{Arc, Mutex};

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
};

use super::app_gauge;
use graph::store::CacheCounts;
use runtime::Quota;
use runtime::observe::{CallObserver, CallStats, Capability, TrapKind};

/// Instantiation takes microseconds with the pooling allocator.
const INSTANTIATION_BUCKETS: [f64; 10] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1,
];

/// Linear memory from 64 KiB (one page) to 4 GiB, by powers of four.
const MEMORY_BUCKETS: [f64; 9] = [
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
    268_435_456.0,
    1_073_741_824.0,
    4_294_967_296.0,
];

pub(super) struct HostMetrics {
    in_use: IntGaugeVec,
    queued: IntGaugeVec,
    websockets: IntGaugeVec,
    instantiation: HistogramVec,
    cpu: HistogramVec,
    memory: HistogramVec,
    traps: IntCounterVec,
    host_calls: IntCounterVec,
    cache_lookups: IntCounterVec,
    webhook_refusals: IntCounterVec,
    quotas: IntCounterVec,
    /// Held while counters read from elsewhere are brought up to date, so two scrapes at
    /// once do not both add the same difference.
    readings: Mutex<()>,
}

impl HostMetrics {
    pub(super) fn new(
        registry: &Registry,
        ns: &str,
        buckets: Vec<f64>,
    ) -> prometheus::Result<Self> {
        let histogram =
            |name: &str, help: &str, buckets: Vec<f64>| -> prometheus::Result<HistogramVec> {
                let h = HistogramVec::new(
                    HistogramOpts::new(name, help)
                        .namespace(ns)
                        .buckets(buckets),
                    &["app"],
                )?;
                registry.register(Box::new(h.clone()))?;
                Ok(h)
            };
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntCounterVec> {
                let labels: Vec<&str> = std::iter::once("app")
                    .chain(labels.iter().copied())
                    .collect();
                let c = IntCounterVec::new(Opts::new(name, help).namespace(ns), &labels)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        Ok(HostMetrics {
            in_use: app_gauge(
                registry,
                ns,
                "instances_in_use",
                "Calls running in a wasm instance",
            )?,
            queued: app_gauge(
                registry,
                ns,
                "instances_queued",
                "Calls waiting for a free wasm instance",
            )?,
            websockets: app_gauge(
                registry,
                ns,
                "websocket_connections",
                "Open WebSocket connections",
            )?,
            instantiation: histogram(
                "instantiation_seconds",
                "Time to create a call's wasm instance",
                INSTANTIATION_BUCKETS.to_vec(),
            )?,
            cpu: histogram(
                "guest_cpu_seconds",
                "Time a call spent on a CPU (guest code and its host calls, not waits)",
                buckets,
            )?,
            memory: histogram(
                "instance_memory_peak_bytes",
                "Largest linear memory of a call's instance",
                MEMORY_BUCKETS.to_vec(),
            )?,
            traps: counter(
                "traps_total",
                "Calls stopped by the host, by kind (timeout, memory_limit, guest_trap)",
                &["kind"],
            )?,
            host_calls: counter(
                "host_calls_total",
                "Calls from guests into the host, by capability (graph, kvstore, storage, globals, log, timer)",
                &["capability"],
            )?,
            cache_lookups: counter(
                "cache_lookups_total",
                "Graph cache lookups by tier (l1: process memory, l2: Redis) and result (hit, miss)",
                &["tier", "result"],
            )?,
            webhook_refusals: counter(
                "webhook_refusals_total",
                "Webhook calls refused before the walker ran, by reason",
                &["reason"],
            )?,
            quotas: counter(
                "quota_exceeded_total",
                "Calls refused or stopped by one of the app's quotas, by quota",
                &["quota"],
            )?,
            readings: Mutex::new(()),
        })
    }

    pub(super) fn for_app(&self, app: &str) -> AppMetrics {
        let trap = |kind: TrapKind| self.traps.with_label_values(&[app, kind.as_str()]);
        AppMetrics(Arc::new(Resolved {
            instantiation: self.instantiation.with_label_values(&[app]),
            cpu: self.cpu.with_label_values(&[app]),
            memory: self.memory.with_label_values(&[app]),
            timeouts: trap(TrapKind::Timeout),
            memory_limits: trap(TrapKind::MemoryLimit),
            guest_traps: trap(TrapKind::GuestTrap),
            host_calls: Capability::ALL
                .map(|c| self.host_calls.with_label_values(&[app, c.as_str()])),
            webhook_refusals: self.webhook_refusals.clone(),
            quotas: self.quotas.clone(),
            app: app.to_owned(),
        }))
    }

    pub(super) fn forget(&self, app: &str) {
        for gauge in [&self.in_use, &self.queued, &self.websockets] {
            let _ = gauge.remove_label_values(&[app]);
        }
    }

    pub(super) fn set_readings(&self, app: &str, readings: &Readings) {
        let set = |g: &IntGaugeVec, v: usize| {
            g.with_label_values(&[app])
                .set(i64::try_from(v).unwrap_or(i64::MAX))
        };
        set(&self.in_use, readings.in_use);
        set(&self.queued, readings.queued);
        set(&self.websockets, readings.websockets);
        if let Some(cache) = readings.cache {
            let _one_at_a_time = self.readings.lock().unwrap_or_else(|e| e.into_inner());
            for (tier, result, total) in [
                ("l1", "hit", cache.l1_hits),
                ("l1", "miss", cache.l1_misses),
                ("l2", "hit", cache.l2_hits),
                ("l2", "miss", cache.l2_misses),
            ] {
                let counter = self.cache_lookups.with_label_values(&[app, tier, result]);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
    }
}

/// The host metrics of one app, label values resolved once. Cheap to clone.
#[derive(Clone)]
pub struct AppMetrics(Arc<Resolved>);

struct Resolved {
    app: String,
    instantiation: Histogram,
    cpu: Histogram,
    memory: Histogram,
    timeouts: IntCounter,
    memory_limits: IntCounter,
    guest_traps: IntCounter,
    host_calls: [IntCounter; Capability::ALL.len()],
    webhook_refusals: IntCounterVec,
    quotas: IntCounterVec,
}

/// Values read from elsewhere at each scrape.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// Calls running in an instance.
    pub in_use: usize,
    /// Calls waiting for an instance.
    pub queued: usize,
    /// Open WebSocket connections.
    pub websockets: usize,
    /// The graph cache's lookups since start, when the store has cache tiers.
    pub cache: Option<CacheCounts>,
}

impl AppMetrics {
    /// A webhook call was refused for `reason` (a short snake_case word).
    pub fn webhook_refused(&self, reason: &'static str) {
        self.0
            .webhook_refusals
            .with_label_values(&[self.0.app.as_str(), reason])
            .inc();
    }
}

impl CallObserver for AppMetrics {
    fn call_finished(&self, stats: &CallStats) {
        let m = &self.0;
        m.instantiation.observe(stats.instantiation.as_secs_f64());
        m.cpu.observe(stats.cpu.as_secs_f64());
        m.memory.observe(stats.peak_memory_bytes as f64);
        match stats.trap {
            Some(TrapKind::Timeout) => m.timeouts.inc(),
            Some(TrapKind::MemoryLimit) => m.memory_limits.inc(),
            Some(TrapKind::GuestTrap) => m.guest_traps.inc(),
            None => {}
        }
        for (counter, capability) in m.host_calls.iter().zip(Capability::ALL) {
            let calls = stats.host_calls.of(capability);
            if calls > 0 {
                counter.inc_by(calls);
            }
        }
    }

    fn quota_exceeded(&self, quota: Quota) {
        self.0
            .quotas
            .with_label_values(&[self.0.app.as_str(), quota.as_str()])
            .inc();
    }
}
