//! The optional backing services (`K8s_MONGODB`, `K8s_REDIS`): a MongoDB StatefulSet and
//! a Redis Deployment, each with its Service and a generated password; the app reaches
//! them through `MONGODB_URI` / `REDIS_URL` in `{app}-generated`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, EnvVarSource, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, SecretKeySelector, Service, ServicePort,
    ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::app::{locked_down, mount, pod_security, scratch};
use super::generated::{MONGODB_PASSWORD, REDIS_PASSWORD};
use super::{Generated, labels, meta, pod_selector};
use crate::settings::Settings;

/// The MongoDB image (official; runs as its `mongodb` user, uid 999).
const MONGODB_IMAGE: &str = "mongo:7.0";
/// The Redis image (official; runs as its `redis` user, uid 999).
const REDIS_IMAGE: &str = "redis:7.4-alpine";
/// The uid both official images run as.
const SERVICE_UID: i64 = 999;
/// The MongoDB volume's size.
const MONGODB_STORAGE: &str = "1Gi";

/// `name`'s value from the generated Secret.
fn from_generated(settings: &Settings, name: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: Generated::secret_name(settings),
                key: key.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn service(settings: &Settings, part: &str, port: i32, headless: bool) -> Service {
    Service {
        metadata: meta(settings, format!("{}-{part}", settings.app), part),
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".into()),
            selector: pod_selector(settings, part).match_labels,
            ports: Some(vec![ServicePort {
                name: Some(part.into()),
                port,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn template(
    settings: &Settings,
    part: &str,
    container: Container,
    scratch_dirs: &[(&str, &str)],
) -> PodTemplateSpec {
    let mut container = container;
    container.security_context = Some(locked_down(SERVICE_UID));
    let mut mounts = container.volume_mounts.take().unwrap_or_default();
    mounts.extend(
        scratch_dirs
            .iter()
            .map(|(name, path)| mount(name, path, false)),
    );
    container.volume_mounts = Some(mounts);
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(settings, part)),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            containers: vec![container],
            volumes: Some(scratch_dirs.iter().map(|(name, _)| scratch(name)).collect()),
            security_context: Some(pod_security(SERVICE_UID)),
            automount_service_account_token: Some(false),
            ..Default::default()
        }),
    }
}

/// MongoDB: a one-replica StatefulSet with a persistent volume, and its headless Service.
pub(super) fn mongodb(settings: &Settings) -> (StatefulSet, Service) {
    let part = "mongodb";
    let name = format!("{}-{part}", settings.app);
    let container = Container {
        name: part.into(),
        image: Some(MONGODB_IMAGE.into()),
        ports: Some(vec![ContainerPort {
            name: Some(part.into()),
            container_port: 27017,
            ..Default::default()
        }]),
        env: Some(vec![
            EnvVar {
                name: "MONGO_INITDB_ROOT_USERNAME".into(),
                value: Some("root".into()),
                ..Default::default()
            },
            from_generated(settings, "MONGO_INITDB_ROOT_PASSWORD", MONGODB_PASSWORD),
        ]),
        volume_mounts: Some(vec![mount("db", "/data/db", false)]),
        ..Default::default()
    };
    let statefulset = StatefulSet {
        metadata: meta(settings, name.clone(), part),
        spec: Some(StatefulSetSpec {
            service_name: Some(name),
            replicas: Some(1),
            selector: pod_selector(settings, part),
            template: template(
                settings,
                part,
                container,
                &[("tmp", "/tmp"), ("configdb", "/data/configdb")],
            ),
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("db".into()),
                    labels: Some(labels(settings, part)),
                    ..Default::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_string(),
                            Quantity(MONGODB_STORAGE.into()),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    (statefulset, service(settings, part, 27017, true))
}

/// Redis: a one-replica Deployment (a cache and pub/sub: nothing to persist) and its Service.
pub(super) fn redis(settings: &Settings) -> (Deployment, Service) {
    let part = "redis";
    let container = Container {
        name: part.into(),
        image: Some(REDIS_IMAGE.into()),
        // Kubernetes expands $(VAR) from the container's environment.
        args: Some(vec![
            "redis-server".into(),
            "--requirepass".into(),
            "$(REDIS_PASSWORD)".into(),
            "--save".into(),
            String::new(),
        ]),
        ports: Some(vec![ContainerPort {
            name: Some(part.into()),
            container_port: 6379,
            ..Default::default()
        }]),
        env: Some(vec![from_generated(
            settings,
            "REDIS_PASSWORD",
            REDIS_PASSWORD,
        )]),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: meta(settings, format!("{}-{part}", settings.app), part),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: pod_selector(settings, part),
            template: template(settings, part, container, &[("data", "/data")]),
            ..Default::default()
        }),
        ..Default::default()
    };
    (deployment, service(settings, part, 6379, false))
}
