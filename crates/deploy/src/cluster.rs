//! Talking to the cluster (the kubeconfig's current context, `KUBECONFIG` honoured, or
//! the pod's service account): server-side apply with our field manager, the rollout
//! wait, the URL, and `destroy`'s label-selected deletes.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, DynamicObject};
use kube::{Client, Resource};

use crate::manifests::{Generated, MANAGER, Manifest, selector};
use crate::settings::Settings;

/// How often the rollout's progress is read.
const POLL: Duration = Duration::from_millis(500);

/// What went wrong talking to the cluster; each names the object or step.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach a Kubernetes cluster (kubeconfig: KUBECONFIG or ~/.kube/config): {0}")]
    Connect(kube::Error),
    #[error("{what}: {source}")]
    Api { what: String, source: kube::Error },
    #[error(
        "the rollout of Deployment/{app} did not finish within {seconds} s ({progress}); \
         see `kubectl -n {namespace} describe deployment {app}`"
    )]
    Timeout {
        app: String,
        namespace: String,
        seconds: u64,
        progress: String,
    },
    #[error("cannot write: {0}")]
    Output(#[from] std::io::Error),
}

/// An object found in the cluster (by `destroy`).
#[derive(Debug, Clone)]
pub struct Found {
    pub resource: ApiResource,
    pub name: String,
}

impl Found {
    /// `Kind/name`.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.resource.kind, self.name)
    }
}

/// The kinds a deploy creates, namespaced (the Namespace itself is never deleted: it may
/// hold other things). PersistentVolumeClaims are the MongoDB StatefulSet's.
fn owned_kinds() -> [ApiResource; 8] {
    [
        ApiResource::erase::<HorizontalPodAutoscaler>(&()),
        ApiResource::erase::<PodDisruptionBudget>(&()),
        ApiResource::erase::<Service>(&()),
        ApiResource::erase::<Deployment>(&()),
        ApiResource::erase::<StatefulSet>(&()),
        ApiResource::erase::<PersistentVolumeClaim>(&()),
        ApiResource::erase::<ConfigMap>(&()),
        ApiResource::erase::<Secret>(&()),
    ]
}

/// A connection to the cluster.
pub struct Cluster {
    client: Client,
}

impl Cluster {
    /// Connect with the kubeconfig's current context (or in-cluster credentials).
    pub async fn connect() -> Result<Self, ClusterError> {
        Ok(Cluster {
            client: Client::try_default().await.map_err(ClusterError::Connect)?,
        })
    }

    fn api(&self, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, resource),
            None => Api::all_with(self.client.clone(), resource),
        }
    }

    /// The generated secrets of the app: those already in the cluster kept, missing ones made.
    pub async fn generated(&self, settings: &Settings) -> Result<Generated, ClusterError> {
        let name = Generated::secret_name(settings);
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &settings.namespace);
        let existing = secrets
            .get_opt(&name)
            .await
            .map_err(|source| ClusterError::Api {
                what: format!("reading Secret/{name}"),
                source,
            })?
            .and_then(|s| s.data)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| String::from_utf8(v.0).ok().map(|v| (k, v)))
            .collect::<BTreeMap<_, _>>();
        Ok(Generated::complete(settings, existing))
    }

    /// Server-side apply every manifest with our field manager, in order, printing
    /// `Kind/name created|configured|unchanged` for each. Fields other managers own
    /// (a user's `kubectl` edits) stay as they are.
    pub async fn apply(
        &self,
        manifests: &[Manifest],
        out: &mut dyn Write,
    ) -> Result<(), ClusterError> {
        let params = PatchParams::apply(MANAGER).force();
        for manifest in manifests {
            let namespace = match manifest.namespaced {
                true => manifest.object.metadata.namespace.as_deref(),
                false => None,
            };
            let api = self.api(&manifest.resource, namespace);
            let failed = |verb: &str| {
                let what = format!("{verb} {}", manifest.describe());
                move |source| ClusterError::Api { what, source }
            };
            let before = api
                .get_opt(manifest.name())
                .await
                .map_err(failed("reading"))?;
            let after = api
                .patch(manifest.name(), &params, &Patch::Apply(&manifest.object))
                .await
                .map_err(failed("applying"))?;
            let outcome = match before {
                None => "created",
                Some(b) if b.meta().resource_version == after.meta().resource_version => {
                    "unchanged"
                }
                Some(_) => "configured",
            };
            writeln!(out, "{} {outcome}", manifest.describe())?;
        }
        Ok(())
    }

    /// Wait until the app's Deployment has rolled out, printing progress as it changes.
    pub async fn wait_for_rollout(
        &self,
        settings: &Settings,
        out: &mut dyn Write,
    ) -> Result<(), ClusterError> {
        let deployments: Api<Deployment> =
            Api::namespaced(self.client.clone(), &settings.namespace);
        let started = Instant::now();
        let mut last = String::new();
        loop {
            let deployment =
                deployments
                    .get(&settings.app)
                    .await
                    .map_err(|source| ClusterError::Api {
                        what: format!("reading Deployment/{}", settings.app),
                        source,
                    })?;
            let (done, progress) = rollout_progress(&deployment);
            if progress != last {
                writeln!(out, "rollout: {progress}")?;
                last = progress.clone();
            }
            if done {
                return Ok(());
            }
            if started.elapsed() >= settings.rollout_timeout {
                return Err(ClusterError::Timeout {
                    app: settings.app.clone(),
                    namespace: settings.namespace.clone(),
                    seconds: settings.rollout_timeout.as_secs(),
                    progress,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Where the app answers: the NodePort on a node's address.
    pub async fn url(&self, settings: &Settings) -> String {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let address = nodes
            .list(&ListParams::default().limit(1))
            .await
            .ok()
            .and_then(|list| list.items.into_iter().next())
            .and_then(|node| node.status?.addresses)
            .and_then(|addresses| {
                let of = |kind: &str| {
                    addresses
                        .iter()
                        .find(|a| a.type_ == kind)
                        .map(|a| a.address.clone())
                };
                of("ExternalIP").or_else(|| of("InternalIP"))
            })
            .unwrap_or_else(|| "<node address>".into());
        format!("http://{address}:{}", settings.node_port)
    }

    /// Every object of the app (by its labels), in delete order.
    pub async fn find(&self, settings: &Settings) -> Result<Vec<Found>, ClusterError> {
        let params = ListParams::default().labels(&selector(&settings.app));
        let mut found = Vec::new();
        for resource in owned_kinds() {
            let list = self
                .api(&resource, Some(&settings.namespace))
                .list(&params)
                .await
                .map_err(|source| ClusterError::Api {
                    what: format!("listing {}s", resource.kind),
                    source,
                })?;
            found.extend(list.items.into_iter().filter_map(|o| {
                Some(Found {
                    resource: resource.clone(),
                    name: o.metadata.name?,
                })
            }));
        }
        Ok(found)
    }

    /// Delete `objects` (found by [`Cluster::find`]), printing each.
    pub async fn delete(
        &self,
        settings: &Settings,
        objects: &[Found],
        out: &mut dyn Write,
    ) -> Result<(), ClusterError> {
        for object in objects {
            self.api(&object.resource, Some(&settings.namespace))
                .delete(&object.name, &DeleteParams::background())
                .await
                .map_err(|source| ClusterError::Api {
                    what: format!("deleting {}", object.describe()),
                    source,
                })?;
            writeln!(out, "{} deleted", object.describe())?;
        }
        Ok(())
    }
}

/// Whether the Deployment's newest version is fully rolled out, and a line saying how far.
fn rollout_progress(deployment: &Deployment) -> (bool, String) {
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let generation = deployment.metadata.generation.unwrap_or(0);
    let status = deployment.status.clone().unwrap_or_default();
    let observed = status.observed_generation.unwrap_or(0) >= generation;
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let done = observed && updated >= wanted && available >= wanted && total == updated;
    (
        done,
        format!("{updated}/{wanted} pods updated, {available} available"),
    )
}
