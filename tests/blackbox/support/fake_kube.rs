//! A FAKE Kubernetes API server: no real API server (nor etcd, nor a kubelet) can run on
//! this machine, so the deploy tests talk to this one instead, through a kubeconfig that
//! points at it. It is the only fake in the suite.
//!
//! It answers the requests `jac-scale start --scale` and `destroy` make as a real API
//! server does: GET, label-selected LIST and DELETE of any kind, and server-side apply
//! (`PATCH` with `application/apply-patch+yaml`) with field ownership per field manager:
//! a manager's apply sets its fields, drops the fields it owned before and no longer
//! sends, and keeps every field another manager owns; an apply that changes nothing
//! leaves `resourceVersion` as it was; a change of `spec` bumps `generation`. Lists are
//! owned whole (a real server merges some lists by key; our tests do not depend on it).
//! Its "controller" completes a Deployment's rollout at once (status = spec). Every
//! request is recorded for the test to inspect.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// `fieldManager` of an apply.
    pub manager: Option<String>,
    /// Whether an apply changed the object.
    pub changed: bool,
}

/// An object with the fields each manager owns (leaf paths).
#[derive(Debug, Clone)]
struct Stored {
    object: Value,
    owners: BTreeMap<String, BTreeSet<Vec<String>>>,
}

#[derive(Default)]
struct Cluster {
    /// By API path (`/apis/apps/v1/namespaces/ns/deployments/name`).
    objects: BTreeMap<String, Stored>,
    requests: Vec<Recorded>,
    next_version: u64,
}

/// The running fake; stops with the test process.
pub struct FakeKube {
    address: SocketAddr,
    cluster: Arc<Mutex<Cluster>>,
}

impl FakeKube {
    /// Start on a free loopback port.
    pub fn start() -> FakeKube {
        let cluster = Arc::new(Mutex::new(Cluster {
            next_version: 1,
            ..Default::default()
        }));
        // One node, for the URL `start --scale` prints.
        cluster.lock().unwrap().objects.insert(
            "/api/v1/nodes/fake-node".into(),
            Stored {
                object: json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fake-node", "resourceVersion": "1"},
                    "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}}),
                owners: BTreeMap::new(),
            },
        );
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake API server");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(cluster.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app).await.unwrap();
                });
        });
        FakeKube { address, cluster }
    }

    /// Write a kubeconfig pointing at the fake to `path`.
    pub fn write_kubeconfig(&self, path: &Path) {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n\
             current-context: fake\nusers:\n- name: fake\n  user: {{}}\n",
            self.address
        );
        std::fs::write(path, text).expect("write the kubeconfig");
    }

    /// The object at API `path`, if any.
    pub fn object(&self, path: &str) -> Option<Value> {
        self.cluster
            .lock()
            .unwrap()
            .objects
            .get(path)
            .map(|s| s.object.clone())
    }

    /// The API paths of every object.
    pub fn paths(&self) -> Vec<String> {
        self.cluster
            .lock()
            .unwrap()
            .objects
            .keys()
            .cloned()
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.cluster.lock().unwrap().requests.clone()
    }

    /// Apply `object` at `path` as field manager `manager` (a user's own tool).
    pub fn apply_as(&self, manager: &str, path: &str, object: Value) {
        let mut cluster = self.cluster.lock().unwrap();
        apply(&mut cluster, path, manager, object);
    }
}

/// `(collection path, name)` of an API path: the name is the segment after the plural.
fn split(path: &str) -> (String, Option<String>) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // api/v1/... or apis/group/version/...
    let prefix = if segments.first() == Some(&"api") {
        2
    } else {
        3
    };
    let rest = &segments[prefix.min(segments.len())..];
    let plural_at = if rest.first() == Some(&"namespaces") && rest.len() >= 3 {
        2
    } else {
        0
    };
    let collection = format!("/{}", segments[..prefix + plural_at + 1].join("/"));
    let name = rest.get(plural_at + 1).map(|s| s.to_string());
    (collection, name)
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    (
        code,
        axum::Json(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code.as_u16()}),
        ),
    )
        .into_response()
}

async fn handle(
    State(cluster): State<Arc<Mutex<Cluster>>>,
    method: Method,
    uri: Uri,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let mut cluster = cluster.lock().unwrap();
    let mut record = Recorded {
        method: method.to_string(),
        path: path.clone(),
        manager: query.get("fieldManager").cloned(),
        changed: false,
    };
    let (collection, name) = split(&path);
    let response = match (method.as_str(), name) {
        ("GET", Some(_)) => match cluster.objects.get(&path) {
            Some(stored) => axum::Json(stored.object.clone()).into_response(),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{path} not found"),
            ),
        },
        ("GET", None) => {
            let wanted: Vec<(String, String)> = query
                .get("labelSelector")
                .map(|s| {
                    s.split(',')
                        .filter_map(|p| p.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let items: Vec<Value> = cluster
                .objects
                .iter()
                .filter(|(p, _)| split(p).0 == collection)
                .filter(|(_, s)| {
                    wanted
                        .iter()
                        .all(|(k, v)| s.object["metadata"]["labels"][k] == json!(v))
                })
                .map(|(_, s)| s.object.clone())
                .collect();
            axum::Json(json!({"apiVersion": "v1", "kind": "List",
                "metadata": {"resourceVersion": cluster.next_version.to_string()}, "items": items}))
            .into_response()
        }
        ("PATCH", Some(_)) => {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let Some(manager) = record.manager.clone() else {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "fieldManager is required for apply".into(),
                );
            };
            if content_type != "application/apply-patch+yaml" {
                status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    content_type.to_string(),
                )
            } else {
                // kube sends JSON, which is YAML.
                match serde_json::from_slice::<Value>(&body) {
                    Ok(object) => {
                        let (changed, object) = apply(&mut cluster, &path, &manager, object);
                        record.changed = changed;
                        axum::Json(object).into_response()
                    }
                    Err(e) => status(StatusCode::BAD_REQUEST, "BadRequest", e.to_string()),
                }
            }
        }
        ("DELETE", Some(_)) => match cluster.objects.remove(&path) {
            Some(stored) => axum::Json(stored.object).into_response(),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{path} not found"),
            ),
        },
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{method} {path}"),
        ),
    };
    cluster.requests.push(record);
    response
}

/// Leaf paths of `value` (objects are walked; scalars and lists are leaves).
fn leaves(value: &Value, prefix: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                prefix.push(k.clone());
                leaves(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, k| v.get(k))
}

fn set(value: &mut Value, path: &[String], leaf: Value) {
    let mut at = value;
    for k in &path[..path.len() - 1] {
        if !at.get(k).is_some_and(Value::is_object) {
            at[k] = Value::Object(Map::new());
        }
        at = at.get_mut(k).unwrap();
    }
    at[&path[path.len() - 1]] = leaf;
}

fn remove(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    if let Some(Value::Object(map)) = parents.iter().try_fold(&mut *value, |v, k| v.get_mut(k)) {
        map.remove(last);
    }
}

/// Fields the server keeps for itself: never owned by an applier, never compared.
fn is_server_field(path: &[String]) -> bool {
    matches!(path.first().map(String::as_str), Some("status"))
        || (path.first().map(String::as_str) == Some("metadata")
            && matches!(
                path.get(1).map(String::as_str),
                Some(
                    "resourceVersion"
                        | "generation"
                        | "managedFields"
                        | "uid"
                        | "creationTimestamp"
                )
            ))
}

/// Server-side apply of `config` by `manager` at `path` (with `force`: conflicting
/// fields move to `manager`). Returns whether the object changed, and the object.
fn apply(cluster: &mut Cluster, path: &str, manager: &str, config: Value) -> (bool, Value) {
    let mut applied = BTreeSet::new();
    leaves(&config, &mut Vec::new(), &mut applied);
    applied.retain(|p| !p.is_empty() && !is_server_field(p));
    let mut stored = cluster
        .objects
        .get(path)
        .cloned()
        .unwrap_or_else(|| Stored {
            object: json!({"metadata": {"generation": 1}}),
            owners: BTreeMap::new(),
        });
    let before = stored.object.clone();
    let previously = stored.owners.remove(manager).unwrap_or_default();
    for owned in stored.owners.values_mut() {
        owned.retain(|p| !applied.contains(p));
    }
    let kept_by_others: BTreeSet<&Vec<String>> = stored.owners.values().flatten().collect();
    for dropped in previously.difference(&applied) {
        if !kept_by_others.contains(dropped) {
            remove(&mut stored.object, dropped);
        }
    }
    for leaf in &applied {
        set(
            &mut stored.object,
            leaf,
            get(&config, leaf).cloned().unwrap_or(Value::Null),
        );
    }
    stored.owners.insert(manager.to_string(), applied);
    let comparable = |v: &Value| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["resourceVersion", "generation", "managedFields"] {
                meta.remove(k);
            }
        }
        if let Some(map) = v.as_object_mut() {
            map.remove("status");
        }
        v
    };
    let changed = comparable(&before) != comparable(&stored.object);
    if changed {
        cluster.next_version += 1;
        stored.object["metadata"]["resourceVersion"] = json!(cluster.next_version.to_string());
        if before.get("spec") != stored.object.get("spec") && before.get("spec").is_some() {
            let generation = stored.object["metadata"]["generation"]
                .as_i64()
                .unwrap_or(1);
            stored.object["metadata"]["generation"] = json!(generation + 1);
        }
    }
    // The fake controller: a Deployment is rolled out as soon as it is written.
    if stored.object["kind"] == "Deployment" {
        let replicas = stored.object["spec"]["replicas"].clone();
        stored.object["status"] = json!({
            "observedGeneration": stored.object["metadata"]["generation"],
            "replicas": replicas, "updatedReplicas": replicas,
            "availableReplicas": replicas, "readyReplicas": replicas,
        });
    }
    let object = stored.object.clone();
    cluster.objects.insert(path.to_string(), stored);
    (changed, object)
}
