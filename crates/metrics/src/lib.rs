//! Prometheus metrics (`[plugins.scale.metrics]`): the spec's four HTTP and walker
//! metrics, and what a WebAssembly host owes its operator, labelled by app.
//!
//! Every metric name starts with the configured namespace. Values read from elsewhere
//! (instances in use and queued, WebSocket connections) are set when scraped.
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

/// Every metric of the process, registered once.
pub struct Metrics {
    registry: Registry,
    endpoint: String,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    http_in_progress: IntGauge,
    /// `None` unless `walker_metrics` is on.
    walker_duration: Option<HistogramVec>,
    host: app::HostMetrics,
}

/// Why a metric could not be registered (a name clash: a bug, or a bad namespace).
#[derive(Debug, thiserror::Error)]
#[error("cannot register the metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// Register every metric under `settings.namespace`.
    pub fn new(settings: &MetricsSettings) -> Result<Self, MetricsError> {
        let registry = Registry::new();
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
            &["method", "path", "status_code"],
        )?;
        let http_duration = HistogramVec::new(
            histogram(
                "http_request_duration_seconds",
                "HTTP request latency in seconds",
                buckets.clone(),
            ),
            &["method", "path"],
        )?;
        let http_in_progress = IntGauge::with_opts(opts(
            "http_requests_in_progress",
            "Concurrent HTTP requests",
        ))?;
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
                &["walker_name", "success"],
            )?;
            registry.register(Box::new(walker.clone()))?;
            Some(walker)
        } else {
            None
        };
        let host = app::HostMetrics::new(&registry, ns, buckets)?;
        Ok(Metrics {
            registry,
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

    /// A request started; the returned guard counts it as in progress until dropped.
    pub fn request_started(&self) -> InProgress {
        self.http_in_progress.inc();
        InProgress(self.http_in_progress.clone())
    }

    /// A request to the route template `path` ended with `status` after `elapsed`.
    pub fn request_finished(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        let code = status.to_string();
        self.http_requests
            .with_label_values(&[method, path, code.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[method, path])
            .observe(elapsed.as_secs_f64());
    }

    /// A walker call ended (recorded only when `walker_metrics` is on).
    pub fn walker_finished(&self, walker: &str, success: bool, elapsed: Duration) {
        if let Some(h) = &self.walker_duration {
            let success = if success { "true" } else { "false" };
            h.with_label_values(&[walker, success])
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
