//! The operator's surface: `[plugins.scale.server] docs_enabled`,
//! `[plugins.scale.metrics]` (the spec's Prometheus settings) and the log format.

use super::{ConfigError, Env, JacToml};

/// How the server writes its log (`JAC_SCALE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (default).
    #[default]
    Text,
    /// One JSON object per line, with the request span's fields under `span`.
    Json,
}

impl LogFormat {
    /// `JAC_SCALE_LOG_FORMAT`: `text` or `json`. Read before anything else is configured,
    /// since the log must be set up first.
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        match env.var("JAC_SCALE_LOG_FORMAT") {
            None => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
            Some(value) => Err(ConfigError::Env {
                name: "JAC_SCALE_LOG_FORMAT",
                value,
                expected: "`text` or `json`",
            }),
        }
    }
}

/// The spec's default histogram buckets, in seconds.
pub const DEFAULT_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
];

/// Most buckets one histogram may have (each is a time series per label set).
const MAX_BUCKETS: usize = 64;

/// `[plugins.scale.metrics]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSettings {
    /// Collect metrics and serve the scrape endpoint (default off, as the spec says).
    pub enabled: bool,
    /// Path of the scrape endpoint.
    pub endpoint: String,
    /// Prefix of every metric name: `namespace`, else the sanitised
    /// `[plugins.scale.kubernetes] namespace`, else `jac_scale`.
    pub namespace: String,
    /// Record `{namespace}_walker_duration_seconds`.
    pub walker_metrics: bool,
    /// Histogram bucket bounds in seconds, strictly increasing.
    pub histogram_buckets: Vec<f64>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: false,
            endpoint: "/metrics".into(),
            namespace: "jac_scale".into(),
            walker_metrics: false,
            histogram_buckets: DEFAULT_BUCKETS.to_vec(),
        }
    }
}

impl MetricsSettings {
    /// Defaults, then `jac.toml`.
    pub(super) fn resolve(toml: &JacToml) -> Result<Self, ConfigError> {
        const S: &str = "metrics";
        let mut m = MetricsSettings::default();
        if let Some(enabled) = toml.boolean(S, "enabled")? {
            m.enabled = enabled;
        }
        if let Some(endpoint) = toml.string(S, "endpoint")? {
            let ok = endpoint.starts_with('/')
                && endpoint.len() > 1
                && !endpoint.contains(['{', '}', '?', '#', '*', ' '])
                && !endpoint.contains("//");
            if !ok {
                return Err(toml.wrong_type(S, "endpoint", "an absolute URL path like /metrics"));
            }
            m.endpoint = endpoint.to_owned();
        }
        match toml.string(S, "namespace")? {
            Some(ns) => {
                if sanitize(ns) != ns || ns.is_empty() {
                    return Err(toml.wrong_type(
                        S,
                        "namespace",
                        "a metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*)",
                    ));
                }
                m.namespace = ns.to_owned();
            }
            None => {
                if let Some(ns) = toml.string("kubernetes", "namespace")?
                    && !ns.trim().is_empty()
                {
                    m.namespace = sanitize(ns.trim());
                }
            }
        }
        if let Some(walker_metrics) = toml.boolean(S, "walker_metrics")? {
            m.walker_metrics = walker_metrics;
        }
        if let Some(buckets) = toml.number_list(S, "histogram_buckets")? {
            let increasing = buckets.windows(2).all(|w| w[0] < w[1]);
            let finite = buckets.iter().all(|b| b.is_finite() && *b > 0.0);
            if buckets.is_empty() || buckets.len() > MAX_BUCKETS || !increasing || !finite {
                return Err(toml.wrong_type(
                    S,
                    "histogram_buckets",
                    "a list of 1 to 64 increasing positive numbers",
                ));
            }
            m.histogram_buckets = buckets;
        }
        Ok(m)
    }
}

/// A Prometheus-safe name: invalid characters become `_`, a leading digit gets a `_`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(toml: &str) -> Result<MetricsSettings, ConfigError> {
        MetricsSettings::resolve(&JacToml::from_text(toml)?)
    }

    #[test]
    fn metrics_defaults_are_the_specs() {
        let m = metrics("").expect("defaults");
        assert!(!m.enabled && !m.walker_metrics);
        assert_eq!(m.endpoint, "/metrics");
        assert_eq!(m.namespace, "jac_scale");
        assert_eq!(m.histogram_buckets, DEFAULT_BUCKETS.to_vec());
    }

    #[test]
    fn metrics_section_is_read() {
        let m = metrics(
            "[plugins.scale.metrics]\nenabled = true\nendpoint = \"/prom\"\nnamespace = \"myapp\"\n\
             walker_metrics = true\nhistogram_buckets = [0.1, 1, 2.5]\n",
        )
        .expect("valid");
        assert!(m.enabled && m.walker_metrics);
        assert_eq!(m.endpoint, "/prom");
        assert_eq!(m.namespace, "myapp");
        assert_eq!(m.histogram_buckets, vec![0.1, 1.0, 2.5]);
    }

    #[test]
    fn namespace_falls_back_to_the_sanitised_kubernetes_namespace() {
        let m =
            metrics("[plugins.scale.kubernetes]\nnamespace = \"team-a.prod\"\n").expect("valid");
        assert_eq!(m.namespace, "team_a_prod");
    }

    #[test]
    fn bad_metrics_values_are_refused() {
        for bad in [
            "namespace = \"my-app\"",
            "endpoint = \"metrics\"",
            "histogram_buckets = [1, 0.5]",
            "histogram_buckets = []",
            "histogram_buckets = [\"a\"]",
            "enabled = \"yes\"",
        ] {
            let toml = format!("[plugins.scale.metrics]\n{bad}\n");
            assert!(metrics(&toml).is_err(), "{bad} was accepted");
        }
    }
}
