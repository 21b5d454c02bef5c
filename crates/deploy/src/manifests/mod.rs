//! The objects of one app's deploy, typed with `k8s-openapi`, labelled so `destroy` finds
//! exactly them, and printed as YAML for `--dry-run`.
//!
//! Order matters when applying: the namespace first, then what pods reference (secrets,
//! the component's ConfigMap, the databases), then the app's Deployment and what
//! points at it.

mod app;
mod backing;
mod generated;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::core::{ApiResource, DynamicObject, Resource};
use serde::Serialize;

use crate::settings::Settings;

pub(crate) use app::{APP_DIR, APP_UID, COMPONENT_FILE, HTTP_PORT, JAC_TOML_FILE};
pub use app::{COMPONENT_ANNOTATION, CONFIG_ANNOTATION, MAX_CONFIGMAP_BYTES};
pub use generated::Generated;

/// The label every object of ours carries, with value [`MANAGER`].
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Our field manager for server-side apply, and the value of [`MANAGED_BY`].
pub const MANAGER: &str = "jac-scale";
/// The label naming the app an object belongs to.
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// The label naming the part of the app (`app`, `mongodb`, `redis`).
pub const PART: &str = "app.kubernetes.io/component";

/// How the pods get the app.
#[derive(Debug, Clone)]
pub enum AppSource {
    /// The published host image; the component (and jac.toml) in a ConfigMap.
    HostImage {
        /// The component's bytes.
        component: Vec<u8>,
        /// The app's jac.toml, if it has one.
        jac_toml: Option<String>,
    },
    /// An image with the app built in (`--build`), by digest.
    Built {
        /// `registry/repository@sha256:...`
        image: String,
        /// The component's bytes (for the roll annotation).
        component: Vec<u8>,
    },
}

/// Why the manifests cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "the component is {size} bytes, more than a ConfigMap holds ({max} bytes): deploy \
         with `--build`, which ships it in an image"
    )]
    TooLarge { size: usize, max: usize },
    #[error("cannot encode a manifest: {0}")]
    Encode(String),
}

/// One object to apply: what it is (for the API path) and its body.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Group, version, kind, plural.
    pub resource: ApiResource,
    /// Whether the object lives in a namespace.
    pub namespaced: bool,
    /// The object, `apiVersion` and `kind` included.
    pub object: DynamicObject,
}

impl Manifest {
    fn of<K>(object: K, namespaced: bool) -> Result<Self, ManifestError>
    where
        K: Resource<DynamicType = ()> + Serialize,
    {
        let resource = ApiResource::erase::<K>(&());
        let value =
            serde_json::to_value(&object).map_err(|e| ManifestError::Encode(e.to_string()))?;
        let object: DynamicObject =
            serde_json::from_value(value).map_err(|e| ManifestError::Encode(e.to_string()))?;
        Ok(Manifest {
            resource,
            namespaced,
            object,
        })
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or_default()
    }

    /// `Kind/name`, as kubectl prints it.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.resource.kind, self.name())
    }
}

/// Every object of the app's deploy, in apply order. `generated` holds the secrets made
/// once per app (kept in the cluster and reused).
pub fn manifests(
    settings: &Settings,
    source: &AppSource,
    generated: &Generated,
) -> Result<Vec<Manifest>, ManifestError> {
    let mut out = vec![Manifest::of(
        Namespace {
            metadata: ObjectMeta {
                name: Some(settings.namespace.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
        false,
    )?];
    out.push(Manifest::of(generated.secret(settings), true)?);
    if !settings.guest_env.secrets.is_empty() {
        out.push(Manifest::of(app::user_secret(settings), true)?);
    }
    if let AppSource::HostImage {
        component,
        jac_toml,
    } = source
    {
        out.push(Manifest::of(
            app::component_config_map(settings, component, jac_toml.as_deref())?,
            true,
        )?);
    }
    if settings.mongodb {
        let (statefulset, service) = backing::mongodb(settings);
        out.push(Manifest::of(service, true)?);
        out.push(Manifest::of(statefulset, true)?);
    }
    if settings.redis {
        let (deployment, service) = backing::redis(settings);
        out.push(Manifest::of(service, true)?);
        out.push(Manifest::of(deployment, true)?);
    }
    out.push(Manifest::of(
        app::deployment(settings, source, generated),
        true,
    )?);
    out.push(Manifest::of(app::service(settings), true)?);
    out.push(Manifest::of(app::autoscaler(settings), true)?);
    out.push(Manifest::of(app::disruption_budget(settings), true)?);
    Ok(out)
}

/// The manifests as one multi-document YAML stream (`--dry-run`).
pub fn to_yaml(manifests: &[Manifest]) -> Result<String, ManifestError> {
    let objects: Vec<&DynamicObject> = manifests.iter().map(|m| &m.object).collect();
    serde_saphyr::to_string_multiple(&objects).map_err(|e| ManifestError::Encode(e.to_string()))
}

/// The label selector of every object of `app`: what `destroy` deletes.
pub fn selector(app: &str) -> String {
    format!("{MANAGED_BY}={MANAGER},{INSTANCE}={app}")
}

/// The labels of `part` of the app.
fn labels(settings: &Settings, part: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_string(), MANAGER.to_string()),
        (INSTANCE.to_string(), settings.app.clone()),
        (PART.to_string(), part.to_string()),
        ("app.kubernetes.io/name".to_string(), settings.app.clone()),
    ])
}

/// The metadata of an object of ours named `name`, of `part` of the app.
fn meta(settings: &Settings, name: String, part: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(settings.namespace.clone()),
        labels: Some(labels(settings, part)),
        ..Default::default()
    }
}

/// Selects the pods of `part` of the app.
fn pod_selector(settings: &Settings, part: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([
            (INSTANCE.to_string(), settings.app.clone()),
            (PART.to_string(), part.to_string()),
        ])),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
