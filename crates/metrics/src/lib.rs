//! Prometheus metrics (`[plugins.scale.metrics]`): the spec's four HTTP and walker
//! metrics, and what a WebAssembly host owes its operator, labelled by app.
//!
//! Every metric name starts with the configured namespace. Values read from elsewhere
//! (instances in use and queued, WebSocket connections) are set when scraped.
//!
//! One registry serves one app ([`Scope::OneApp`], `jac-scale start`: the spec's labels,
//! scraped on the app's own listener) or every app of a process ([`Scope::Host`],
//! `jac-scale serve`: the spec's metrics carry an `app` label too, scraped once for the
//! whole host). Label values are bounded: app names are the operator's, paths are route
//! templates, the rest are fixed words.
//!
//! Invariant: no HTTP types here; `http::metrics` records requests and serves the text.

mod app;

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

pub use app::{AppMetrics, Readings};

use config::MetricsSettings;

/// Whose metrics one registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One app (`start`): the spec's metrics with the spec's labels; each app's own
    /// listener serves the scrape endpoint.
    OneApp,
    /// Every app of the process (`serve`): the spec's metrics labelled by `app` too; the
    /// host serves one scrape endpoint, not each app.
    Host,
}

/// Every metric of the process, registered once.
pub struct Metrics {
    registry: Registry,
    scope: Scope,
    endpoint: String,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    /// Labelled by app under [`Scope::Host`], else by nothing.
    http_in_progress: IntGaugeVec,
    /// `None` unless `walker_metrics` is on.
    walker_duration: Option<HistogramVec>,
    host: app::HostMetrics,
}

/// Why a metric could not be registered (a name clash: a bug, or a bad namespace).
#[derive(Debug, thiserror::Error)]
#[error("cannot register the metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// Register every metric under `settings.namespace`, for `scope`.
    pub fn new(settings: &MetricsSettings, scope: Scope) -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let labels = |names: &[&'static str]| -> Vec<&'static str> {
            let app = (scope == Scope::Host).then_some("app");
            app.into_iter().chain(names.iter().copied()).collect()
        };
        let ns = settings.namespace.as_str();
        let buckets = settings.histogram_buckets.clone();
        let opts = |name: &str, help: &str| Opts::new(name, help).namespace(ns);
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            HistogramOpts::new(name, help)
                .namespace(ns)
                .buckets(buckets)
        };
        let http_requests = IntCounterVec::new(
            opts("http_requests_total", "Total HTTP requests processed"),
            &labels(&["method", "path", "status_code"]),
        )?;
        let http_duration = HistogramVec::new(
            histogram(
                "http_request_duration_seconds",
                "HTTP request latency in seconds",
                buckets.clone(),
            ),
            &labels(&["method", "path"]),
        )?;
        let http_in_progress = IntGaugeVec::new(
            opts("http_requests_in_progress", "Concurrent HTTP requests"),
            &labels(&[]),
        )?;
        if scope == Scope::OneApp {
            // Shown (at 0) from the start, as an unlabelled gauge is.
            http_in_progress.with_label_values::<&str>(&[]);
        }
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(http_in_progress.clone()))?;
        let walker_duration = if settings.walker_metrics {
            let walker = HistogramVec::new(
                histogram(
                    "walker_duration_seconds",
                    "Walker execution duration",
                    buckets.clone(),
                ),
                &labels(&["walker_name", "success"]),
            )?;
            registry.register(Box::new(walker.clone()))?;
            Some(walker)
        } else {
            None
        };
        let host = app::HostMetrics::new(&registry, ns, buckets)?;
        Ok(Metrics {
            registry,
            scope,
            endpoint: settings.endpoint.clone(),
            http_requests,
            http_duration,
            http_in_progress,
            walker_duration,
            host,
        })
    }

    /// Path of the scrape endpoint (not tracked itself).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whose metrics these are.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The label values of a spec metric for `app`: `app` first under [`Scope::Host`].
    fn label_values<'a>(&self, app: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let app = (self.scope == Scope::Host).then_some(app);
        app.into_iter().chain(rest.iter().copied()).collect()
    }

    /// A request to `app` started; the returned guard counts it as in progress until
    /// dropped.
    pub fn request_started(&self, app: &str) -> InProgress {
        let gauge = self
            .http_in_progress
            .with_label_values(&self.label_values(app, &[]));
        gauge.inc();
        InProgress(gauge)
    }

    /// A request to `app`'s route template `path` ended with `status` after `elapsed`.
    pub fn request_finished(
        &self,
        app: &str,
        method: &str,
        path: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let code = status.to_string();
        self.http_requests
            .with_label_values(&self.label_values(app, &[method, path, code.as_str()]))
            .inc();
        self.http_duration
            .with_label_values(&self.label_values(app, &[method, path]))
            .observe(elapsed.as_secs_f64());
    }

    /// A walker call of `app` ended (recorded only when `walker_metrics` is on).
    pub fn walker_finished(&self, app: &str, walker: &str, success: bool, elapsed: Duration) {
        if let Some(h) = &self.walker_duration {
            let success = if success { "true" } else { "false" };
            h.with_label_values(&self.label_values(app, &[walker, success]))
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The host metrics of the app called `app`.
    pub fn app(&self, app: &str) -> AppMetrics {
        self.host.for_app(app)
    }

    /// Bring the values read from elsewhere up to date for `app`: instances in use and
    /// queued, open WebSocket connections, the graph cache's lookups.
    pub fn set_readings(&self, app: &str, readings: &Readings) {
        self.host.set_readings(app, readings);
    }

    /// `app` is no longer served: drop its gauges, whose last values would go on
    /// showing. Its counters stay (what happened, happened).
    pub fn forget(&self, app: &str) {
        self.host.forget(app);
        if self.scope == Scope::Host {
            let _ = self.http_in_progress.remove_label_values(&[app]);
        }
    }

    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Encoding into a Vec only fails on an invalid metric, which registration refused.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

/// Counts one request as in progress while alive.
pub struct InProgress(IntGauge);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Register an `IntGaugeVec` labelled by app.
fn app_gauge(
    registry: &Registry,
    ns: &str,
    name: &str,
    help: &str,
) -> prometheus::Result<IntGaugeVec> {
    let gauge = IntGaugeVec::new(Opts::new(name, help).namespace(ns), &["app"])?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}
