//! What a deploy needs, resolved once: the spec's `APP_NAME` / `K8s_*` variables over the
//! app's `[plugins.scale.kubernetes]` keys over defaults, and the guest's environment.

use std::collections::BTreeMap;
use std::time::Duration;

use config::{ConfigError, Env, GuestEnv, JacToml};
use serde::Deserialize;

/// The host image the pods run when the app is not built into its own (`--build`).
pub const DEFAULT_HOST_IMAGE: &str = "ghcr.io/jaseci-labs/jac-scale";

/// Default memory request: the measured footprint of the host serving one app (about
/// 120 MiB resident idle, 145 MiB at peak under load: `bench/footprint.sh`, README
/// "Deploy to Kubernetes"), so the scheduler places pods by what they use.
pub const DEFAULT_MEMORY_REQUEST: &str = "128Mi";
/// Default CPU request: an idle host uses next to nothing; 100m lets a node pack pods
/// densely while the CPU target still triggers scale-up under load.
pub const DEFAULT_CPU_REQUEST: &str = "100m";

/// Why a deploy's settings are not usable. Each renders as one line naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("environment variable {name}={value:?} is invalid: expected {expected}")]
    Env {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{path}: [plugins.scale.kubernetes]: {message}")]
    Section { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// `[plugins.scale.kubernetes]` as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesSection {
    app_name: Option<String>,
    namespace: Option<String>,
    node_port: Option<u16>,
    replicas: Option<u16>,
    min_replicas: Option<u16>,
    max_replicas: Option<u16>,
    target_cpu_percent: Option<u16>,
    target_memory_percent: Option<u16>,
    scale_down_stabilization_seconds: Option<u32>,
    scale_down_percent_per_minute: Option<u16>,
    max_unavailable: Option<u16>,
    cpu_request: Option<String>,
    cpu_limit: Option<String>,
    memory_request: Option<String>,
    memory_limit: Option<String>,
    readiness_initial_delay: Option<u16>,
    readiness_period: Option<u16>,
    liveness_initial_delay: Option<u16>,
    liveness_period: Option<u16>,
    liveness_failure_threshold: Option<u16>,
    mongodb: Option<bool>,
    redis: Option<bool>,
    host_image: Option<String>,
    rollout_timeout_seconds: Option<u32>,
    registry: Option<String>,
    /// The spec's version pins; `jac_scale` is the host image's tag, the other packages
    /// are built into the host and need no pin.
    plugin_versions: Option<BTreeMap<String, String>>,
}

/// Container resources (Kubernetes quantities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub cpu_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub memory_request: Option<String>,
    pub memory_limit: Option<String>,
}

/// Probe timing (seconds; the failure threshold is a count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    pub readiness_initial_delay: i32,
    pub readiness_period: i32,
    pub liveness_initial_delay: i32,
    pub liveness_period: i32,
    pub liveness_failure_threshold: i32,
}

/// The HorizontalPodAutoscaler and the PodDisruptionBudget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaling {
    /// Pods at first deploy (the autoscaler moves it between min and max afterwards).
    pub replicas: i32,
    pub min_replicas: i32,
    pub max_replicas: i32,
    /// Average CPU use, percent of the request, the autoscaler aims at.
    pub target_cpu_percent: Option<i32>,
    /// Average memory use, percent of the request, the autoscaler aims at.
    pub target_memory_percent: Option<i32>,
    /// How long load must stay low before pods are removed.
    pub scale_down_stabilization_seconds: i32,
    /// At most this percentage of the pods is removed per minute.
    pub scale_down_percent_per_minute: i32,
    /// Pods a voluntary disruption (node drain) may take down at once.
    pub max_unavailable: i32,
}

/// Everything a deploy of one app needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_NAME`: names every object (a DNS label).
    pub app: String,
    /// `K8s_NAMESPACE`.
    pub namespace: String,
    /// `K8s_NODE_PORT`.
    pub node_port: i32,
    pub resources: Resources,
    pub probes: Probes,
    pub scaling: Scaling,
    /// `K8s_MONGODB`: run a MongoDB StatefulSet for the app.
    pub mongodb: bool,
    /// `K8s_REDIS`: run a Redis Deployment for the app.
    pub redis: bool,
    /// The published host image (`repository:tag`) pods run without `--build`.
    pub host_image: String,
    /// Where `--build` pushes (`JAC_SCALE_REGISTRY`, `registry`; else Docker Hub under
    /// `DOCKER_USERNAME`).
    pub registry: Option<String>,
    /// How long to wait for the rollout.
    pub rollout_timeout: Duration,
    /// The guest's environment: secrets go into `{app}-secrets`, plain ones onto the pod.
    pub guest_env: GuestEnv,
}

impl Settings {
    /// Resolve the settings of the app whose jac.toml is `toml`; `default_app` names it
    /// when neither `APP_NAME` nor `app_name` does.
    pub fn resolve(
        toml: &JacToml,
        default_app: &str,
        env: &dyn Env,
    ) -> Result<Self, SettingsError> {
        let mut settings = Self::names(toml, default_app, env)?;
        settings.guest_env = GuestEnv::resolve(toml, env)?;
        Ok(settings)
    }

    /// The settings without the guest's environment (left empty): enough to find the
    /// app's objects (`destroy`), without needing its secrets' variables set.
    pub fn names(toml: &JacToml, default_app: &str, env: &dyn Env) -> Result<Self, SettingsError> {
        let section: KubernetesSection = match toml.section("kubernetes") {
            None => KubernetesSection::default(),
            Some(table) => {
                toml::Value::Table(table.clone())
                    .try_into()
                    .map_err(|e: toml::de::Error| SettingsError::Section {
                        path: toml.path().display().to_string(),
                        message: e.message().to_string(),
                    })?
            }
        };
        let app = env
            .var("APP_NAME")
            .or(section.app_name)
            .unwrap_or_else(|| default_app.to_string());
        check_dns_label("APP_NAME", &app)?;
        let namespace = env
            .var("K8s_NAMESPACE")
            .or(section.namespace)
            .unwrap_or_else(|| "default".into());
        check_dns_label("K8s_NAMESPACE", &namespace)?;
        let node_port =
            number(env, "K8s_NODE_PORT", section.node_port.map(u32::from))?.unwrap_or(30001);
        if !(30000..=32767).contains(&node_port) {
            return Err(SettingsError::Invalid(format!(
                "K8s_NODE_PORT {node_port} is outside the NodePort range 30000-32767"
            )));
        }
        let seconds = |name, key: Option<u16>, default| -> Result<i32, SettingsError> {
            Ok(number(env, name, key.map(u32::from))?.unwrap_or(default) as i32)
        };
        let probes = Probes {
            readiness_initial_delay: seconds(
                "K8s_READINESS_INITIAL_DELAY",
                section.readiness_initial_delay,
                10,
            )?,
            readiness_period: seconds("K8s_READINESS_PERIOD", section.readiness_period, 20)?,
            liveness_initial_delay: seconds(
                "K8s_LIVENESS_INITIAL_DELAY",
                section.liveness_initial_delay,
                10,
            )?,
            liveness_period: seconds("K8s_LIVENESS_PERIOD", section.liveness_period, 20)?,
            liveness_failure_threshold: seconds(
                "K8s_LIVENESS_FAILURE_THRESHOLD",
                section.liveness_failure_threshold,
                80,
            )?,
        };
        let resources = Resources {
            cpu_request: env
                .var("K8s_CPU_REQUEST")
                .or(section.cpu_request)
                .or_else(|| Some(DEFAULT_CPU_REQUEST.into())),
            cpu_limit: env.var("K8s_CPU_LIMIT").or(section.cpu_limit),
            memory_request: env
                .var("K8s_MEMORY_REQUEST")
                .or(section.memory_request)
                .or_else(|| Some(DEFAULT_MEMORY_REQUEST.into())),
            memory_limit: env.var("K8s_MEMORY_LIMIT").or(section.memory_limit),
        };
        let min_replicas = i32::from(section.min_replicas.unwrap_or(1));
        let max_replicas = i32::from(section.max_replicas.unwrap_or(min_replicas.max(3) as u16));
        let replicas = i32::from(section.replicas.unwrap_or(min_replicas as u16));
        if min_replicas < 1
            || max_replicas < min_replicas
            || !(min_replicas..=max_replicas).contains(&replicas)
        {
            return Err(SettingsError::Invalid(format!(
                "[plugins.scale.kubernetes] needs 1 <= min_replicas <= replicas <= max_replicas \
                 (got {min_replicas} <= {replicas} <= {max_replicas})"
            )));
        }
        let target_cpu_percent = section.target_cpu_percent.or(Some(70)).map(i32::from);
        let target_memory_percent = section.target_memory_percent.map(i32::from);
        let scaling = Scaling {
            replicas,
            min_replicas,
            max_replicas,
            target_cpu_percent,
            target_memory_percent,
            scale_down_stabilization_seconds: section
                .scale_down_stabilization_seconds
                .unwrap_or(300) as i32,
            scale_down_percent_per_minute: i32::from(
                section.scale_down_percent_per_minute.unwrap_or(50),
            ),
            max_unavailable: i32::from(section.max_unavailable.unwrap_or(1)),
        };
        if scaling.scale_down_percent_per_minute == 0 || scaling.scale_down_percent_per_minute > 100
        {
            return Err(SettingsError::Invalid(
                "[plugins.scale.kubernetes] scale_down_percent_per_minute must be 1-100".into(),
            ));
        }
        let tag = match section
            .plugin_versions
            .as_ref()
            .and_then(|p| p.get("jac_scale"))
        {
            Some(v) if v != "latest" => v.trim_start_matches('v').to_string(),
            Some(_) => "latest".to_string(),
            None => env!("CARGO_PKG_VERSION").to_string(),
        };
        let host_image = format!(
            "{}:{tag}",
            section.host_image.as_deref().unwrap_or(DEFAULT_HOST_IMAGE)
        );
        Ok(Settings {
            app,
            namespace,
            node_port: node_port as i32,
            resources,
            probes,
            scaling,
            mongodb: flag(env, "K8s_MONGODB")?
                .or(section.mongodb)
                .unwrap_or(false),
            redis: flag(env, "K8s_REDIS")?.or(section.redis).unwrap_or(false),
            host_image,
            registry: env.var("JAC_SCALE_REGISTRY").or(section.registry),
            rollout_timeout: Duration::from_secs(u64::from(
                section.rollout_timeout_seconds.unwrap_or(300),
            )),
            guest_env: GuestEnv::default(),
        })
    }
}

/// `name` from the environment (a whole number), else `key`.
fn number(
    env: &dyn Env,
    name: &'static str,
    key: Option<u32>,
) -> Result<Option<u32>, SettingsError> {
    match env.var(name) {
        None => Ok(key),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| SettingsError::Env {
                name,
                value,
                expected: "a whole number",
            }),
    }
}

/// `name` from the environment as a switch (`true`/`false`, `1`/`0`, `yes`/`no`).
fn flag(env: &dyn Env, name: &'static str) -> Result<Option<bool>, SettingsError> {
    let Some(value) = env.var(name) else {
        return Ok(None);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(SettingsError::Env {
            name,
            value,
            expected: "true or false",
        }),
    }
}

/// Kubernetes names objects with DNS labels: lower-case letters, digits and `-`, at most
/// 63 characters, starting and ending with a letter or digit. Ours append suffixes
/// (`-secrets`, `-mongodb`), so the app's own name is kept to 40.
fn check_dns_label(what: &str, name: &str) -> Result<(), SettingsError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Invalid(format!(
            "{what} {name:?} is not a usable Kubernetes name: use 1-40 lower-case letters, \
             digits and `-`, starting and ending with a letter or digit"
        )))
    }
}

/// `name` made into a DNS label (lower case, other characters as `-`), for a default app
/// name taken from a file or project name.
pub fn dns_label(name: &str) -> String {
    let label: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let label = label.trim_matches('-');
    let label = &label[..label.len().min(40)];
    let label = label.trim_end_matches('-');
    if label.is_empty() {
        "jaseci".into()
    } else {
        label.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Vars, jac_toml};

    fn resolve(
        text: &str,
        env: &[(&'static str, &'static str)],
    ) -> Result<Settings, SettingsError> {
        Settings::resolve(&jac_toml(text), "todo", &Vars::of(env))
    }

    #[test]
    fn variables_win_over_the_section_and_defaults_fill_the_rest() {
        let s = resolve(
            "[plugins.scale.kubernetes]\nnamespace = \"team\"\nnode_port = 30100\nmax_replicas = 5\n\
             [plugins.scale.kubernetes.plugin_versions]\njac_scale = \"0.3.1\"\njaclang = \"0.1.5\"\n",
            &[("K8s_NAMESPACE", "prod"), ("K8s_MEMORY_LIMIT", "256Mi"), ("K8s_REDIS", "true")],
        )
        .expect("resolves");
        assert_eq!(s.app, "todo");
        assert_eq!(s.namespace, "prod");
        assert_eq!(s.node_port, 30100);
        assert_eq!(s.scaling.max_replicas, 5);
        assert_eq!(s.resources.memory_limit.as_deref(), Some("256Mi"));
        assert_eq!(
            s.resources.memory_request.as_deref(),
            Some(DEFAULT_MEMORY_REQUEST)
        );
        assert_eq!(s.probes.liveness_failure_threshold, 80);
        assert!(s.redis && !s.mongodb);
        assert_eq!(s.host_image, format!("{DEFAULT_HOST_IMAGE}:0.3.1"));
    }

    #[test]
    fn bad_settings_are_refused_with_their_name() {
        let e = resolve("", &[("APP_NAME", "My_App")]).expect_err("bad name");
        assert!(e.to_string().contains("APP_NAME"), "{e}");
        let e = resolve("", &[("K8s_NODE_PORT", "80")]).expect_err("bad port");
        assert!(e.to_string().contains("30000-32767"), "{e}");
        let e = resolve("[plugins.scale.kubernetes]\nreplica = 2\n", &[]).expect_err("typo");
        assert!(e.to_string().contains("replica"), "{e}");
        let e = resolve("", &[("K8s_READINESS_PERIOD", "soon")]).expect_err("not a number");
        assert!(e.to_string().contains("K8s_READINESS_PERIOD"), "{e}");
    }

    #[test]
    fn default_names_become_dns_labels() {
        assert_eq!(dns_label("Data_Jac"), "data-jac");
        assert_eq!(dns_label("__"), "jaseci");
    }
}
