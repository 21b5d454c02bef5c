//! The app's own objects: its secrets, its component, the Deployment of hosts serving it,
//! the NodePort Service, the autoscaler and the disruption budget.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, HTTPGetAction, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, Secret, SecretEnvSource, SecurityContext, Service,
    ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};

use super::{AppSource, Generated, ManifestError, labels, meta, pod_selector};
use crate::settings::Settings;

/// The pod-template annotation holding the component's SHA-256: a changed app changes
/// the template, so the Deployment rolls; an unchanged one leaves it as it is.
pub const COMPONENT_ANNOTATION: &str = "jac-scale.dev/component-sha256";
/// The pod-template annotation holding the SHA-256 of the pods' settings (secrets,
/// environment): a changed secret rolls the pods too, which read it only at start.
pub const CONFIG_ANNOTATION: &str = "jac-scale.dev/config-sha256";
/// What a ConfigMap holds at most (Kubernetes refuses larger ones), less room for the
/// jac.toml and the object's own fields.
pub const MAX_CONFIGMAP_BYTES: usize = 1_000_000;

/// Where the app's component and jac.toml are in the container.
pub(crate) const APP_DIR: &str = "/app";
/// The component's file name there.
pub(crate) const COMPONENT_FILE: &str = "app.wasm";
/// The jac.toml's file name there.
pub(crate) const JAC_TOML_FILE: &str = "jac.toml";
/// The writable data directory (an emptyDir; the root filesystem is read-only).
const DATA_DIR: &str = "/data";
/// The port the host listens on inside the pod.
pub(crate) const HTTP_PORT: i32 = 8000;
/// The unprivileged user the host runs as (the image's, see `image`).
pub(crate) const APP_UID: i64 = 65532;
/// Seconds a pod has after SIGTERM: the host stops accepting, finishes its calls and
/// closes WebSockets with "going away" well within this.
const GRACE_SECONDS: i64 = 30;

/// `{app}-secrets`: `[plugins.scale.secrets]`, resolved at deploy time.
pub(super) fn user_secret(settings: &Settings) -> Secret {
    Secret {
        metadata: meta(settings, secrets_name(settings), "app"),
        type_: Some("Opaque".into()),
        data: Some(
            settings
                .guest_env
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                .collect(),
        ),
        ..Default::default()
    }
}

fn secrets_name(settings: &Settings) -> String {
    format!("{}-secrets", settings.app)
}

fn component_name(settings: &Settings) -> String {
    format!("{}-component", settings.app)
}

/// `{app}-component`: the component (binaryData) and jac.toml the host image serves.
pub(super) fn component_config_map(
    settings: &Settings,
    component: &[u8],
    jac_toml: Option<&str>,
) -> Result<ConfigMap, ManifestError> {
    let size = component.len() + jac_toml.map_or(0, str::len);
    if size > MAX_CONFIGMAP_BYTES {
        return Err(ManifestError::TooLarge {
            size,
            max: MAX_CONFIGMAP_BYTES,
        });
    }
    Ok(ConfigMap {
        metadata: meta(settings, component_name(settings), "app"),
        binary_data: Some(BTreeMap::from([(
            COMPONENT_FILE.to_string(),
            ByteString(component.to_vec()),
        )])),
        data: jac_toml.map(|t| BTreeMap::from([(JAC_TOML_FILE.to_string(), t.to_string())])),
        ..Default::default()
    })
}

/// The SHA-256 of `bytes`, hex.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 of what the pods read at start besides the component.
fn config_digest(settings: &Settings, generated: &Generated) -> String {
    let mut hasher = Sha256::new();
    for (section, values) in [
        ("secrets", &settings.guest_env.secrets),
        ("env", &settings.guest_env.plain),
        ("generated", generated.values()),
    ] {
        for (k, v) in values {
            hasher.update(format!("{section}\0{k}\0{v}\0").as_bytes());
        }
    }
    hex::encode(hasher.finalize())
}

fn quantities(pairs: [(&str, &Option<String>); 2]) -> Option<BTreeMap<String, Quantity>> {
    let map: BTreeMap<String, Quantity> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Quantity(v.clone()))))
        .collect();
    (!map.is_empty()).then_some(map)
}

/// An HTTP probe of `path` on the host's port.
fn probe(path: &str, initial_delay: i32, period: i32, failures: Option<i32>) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        failure_threshold: failures,
        ..Default::default()
    }
}

/// The hardened container security context every container of ours gets.
pub(super) fn locked_down(uid: i64) -> SecurityContext {
    SecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        read_only_root_filesystem: Some(true),
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The pod-level security context for a workload running as `uid`.
pub(super) fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A writable emptyDir volume named `name`.
pub(super) fn scratch(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

/// `name` mounted at `path`.
pub(super) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

/// The Deployment of hosts serving the app.
pub(super) fn deployment(
    settings: &Settings,
    source: &AppSource,
    generated: &Generated,
) -> Deployment {
    let (image, component) = match source {
        AppSource::HostImage { component, .. } => (settings.host_image.clone(), component),
        AppSource::Built { image, component } => (image.clone(), component),
    };
    let mut volumes = vec![scratch("data")];
    let mut mounts = vec![mount("data", DATA_DIR, false)];
    if matches!(source, AppSource::HostImage { .. }) {
        volumes.push(Volume {
            name: "component".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: component_name(settings),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(mount("component", APP_DIR, true));
    }
    let mut env_vars = vec![
        env("JAC_DATA_PATH", DATA_DIR),
        env("JAC_SCALE_CACHE_DIR", &format!("{DATA_DIR}/cache")),
        env("JAC_SCALE_LOG_FORMAT", "json"),
    ];
    env_vars.extend(settings.guest_env.plain.iter().map(|(k, v)| env(k, v)));
    // Later sources win: the user's secrets over the generated ones (a declared
    // JWT_SECRET replaces ours).
    let mut env_from = vec![EnvFromSource {
        secret_ref: Some(SecretEnvSource {
            name: Generated::secret_name(settings),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if !settings.guest_env.secrets.is_empty() {
        env_from.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: secrets_name(settings),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    let resources = &settings.resources;
    let container = Container {
        name: "app".into(),
        image: Some(image),
        args: Some(vec![
            "start".into(),
            format!("{APP_DIR}/{COMPONENT_FILE}"),
            "--host".into(),
            "0.0.0.0".into(),
            "--port".into(),
            HTTP_PORT.to_string(),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: HTTP_PORT,
            ..Default::default()
        }]),
        env: Some(env_vars),
        env_from: Some(env_from),
        readiness_probe: Some(probe(
            "/healthz/ready",
            settings.probes.readiness_initial_delay,
            settings.probes.readiness_period,
            None,
        )),
        liveness_probe: Some(probe(
            "/healthz/live",
            settings.probes.liveness_initial_delay,
            settings.probes.liveness_period,
            Some(settings.probes.liveness_failure_threshold),
        )),
        resources: Some(ResourceRequirements {
            requests: quantities([
                ("cpu", &resources.cpu_request),
                ("memory", &resources.memory_request),
            ]),
            limits: quantities([
                ("cpu", &resources.cpu_limit),
                ("memory", &resources.memory_limit),
            ]),
            ..Default::default()
        }),
        security_context: Some(locked_down(APP_UID)),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    Deployment {
        metadata: meta(settings, settings.app.clone(), "app"),
        spec: Some(DeploymentSpec {
            replicas: Some(settings.scaling.replicas),
            selector: pod_selector(settings, "app"),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(settings, "app")),
                    annotations: Some(BTreeMap::from([
                        (COMPONENT_ANNOTATION.to_string(), sha256(component)),
                        (
                            CONFIG_ANNOTATION.to_string(),
                            config_digest(settings, generated),
                        ),
                    ])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes: Some(volumes),
                    security_context: Some(pod_security(APP_UID)),
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(GRACE_SECONDS),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The NodePort Service in front of the app's pods.
pub(super) fn service(settings: &Settings) -> Service {
    Service {
        metadata: meta(settings, settings.app.clone(), "app"),
        spec: Some(ServiceSpec {
            type_: Some("NodePort".into()),
            selector: pod_selector(settings, "app").match_labels,
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: HTTP_PORT,
                target_port: Some(IntOrString::String("http".into())),
                node_port: Some(settings.node_port),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn utilization(name: &str, percent: i32) -> MetricSpec {
    MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(percent),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// The HorizontalPodAutoscaler: CPU and/or memory targets, a slow, bounded scale-down.
pub(super) fn autoscaler(settings: &Settings) -> HorizontalPodAutoscaler {
    let scaling = &settings.scaling;
    let metrics: Vec<MetricSpec> = [
        scaling.target_cpu_percent.map(|p| utilization("cpu", p)),
        scaling
            .target_memory_percent
            .map(|p| utilization("memory", p)),
    ]
    .into_iter()
    .flatten()
    .collect();
    HorizontalPodAutoscaler {
        metadata: meta(settings, settings.app.clone(), "app"),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: settings.app.clone(),
            },
            min_replicas: Some(scaling.min_replicas),
            max_replicas: scaling.max_replicas,
            metrics: (!metrics.is_empty()).then_some(metrics),
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(scaling.scale_down_stabilization_seconds),
                    policies: Some(vec![HPAScalingPolicy {
                        type_: "Percent".into(),
                        value: scaling.scale_down_percent_per_minute,
                        period_seconds: 60,
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// The PodDisruptionBudget: a node drain takes at most `max_unavailable` pods at once.
pub(super) fn disruption_budget(settings: &Settings) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(settings, settings.app.clone(), "app"),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(settings.scaling.max_unavailable)),
            selector: Some(pod_selector(settings, "app")),
            ..Default::default()
        }),
        ..Default::default()
    }
}
