use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::testing::{Vars, jac_toml};

fn settings(toml: &str, env: &[(&'static str, &'static str)]) -> Settings {
    Settings::resolve(&jac_toml(toml), "todo", &Vars::of(env)).expect("settings")
}

fn host_image(component: &[u8]) -> AppSource {
    AppSource::HostImage {
        component: component.to_vec(),
        jac_toml: None,
    }
}

/// The manifest of `kind` named `name`, as JSON.
fn object(all: &[Manifest], kind: &str, name: &str) -> Value {
    let m = all
        .iter()
        .find(|m| m.resource.kind == kind && m.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"));
    serde_json::to_value(&m.object).expect("json")
}

fn template_annotations(all: &[Manifest]) -> Value {
    object(all, "Deployment", "todo")["spec"]["template"]["metadata"]["annotations"].clone()
}

#[test]
fn a_changed_component_changes_the_pod_template_and_an_unchanged_one_does_not() {
    let s = settings("", &[]);
    let generated = Generated::complete(&s, BTreeMap::new());
    let first = manifests(&s, &host_image(b"\0asm v1"), &generated).expect("manifests");
    let same = manifests(&s, &host_image(b"\0asm v1"), &generated).expect("manifests");
    let changed = manifests(&s, &host_image(b"\0asm v2"), &generated).expect("manifests");
    assert_eq!(template_annotations(&first), template_annotations(&same));
    assert_eq!(
        object(&first, "Deployment", "todo"),
        object(&same, "Deployment", "todo")
    );
    assert_ne!(
        template_annotations(&first)[COMPONENT_ANNOTATION],
        template_annotations(&changed)[COMPONENT_ANNOTATION]
    );
    assert_eq!(
        template_annotations(&first)[CONFIG_ANNOTATION],
        template_annotations(&changed)[CONFIG_ANNOTATION]
    );
}

#[test]
fn generated_secrets_are_kept_and_a_changed_secret_rolls_the_pods() {
    let s = settings(
        "[plugins.scale.secrets]\nAPI_KEY = \"${KEY}\"\n",
        &[("KEY", "one")],
    );
    let generated = Generated::complete(&s, BTreeMap::new());
    let again = Generated::complete(&s, generated.values().clone());
    assert_eq!(
        generated, again,
        "a second deploy reuses the generated values"
    );
    assert_eq!(generated.values()["JWT_SECRET"].len(), 64);
    let before = manifests(&s, &host_image(b"x"), &generated).expect("manifests");
    let s2 = settings(
        "[plugins.scale.secrets]\nAPI_KEY = \"${KEY}\"\n",
        &[("KEY", "two")],
    );
    let after = manifests(&s2, &host_image(b"x"), &generated).expect("manifests");
    assert_ne!(
        template_annotations(&before)[CONFIG_ANNOTATION],
        template_annotations(&after)[CONFIG_ANNOTATION]
    );
    let secret = object(&after, "Secret", "todo-secrets");
    // "two", base64
    assert_eq!(secret["data"]["API_KEY"], json!("dHdv"));
}

#[test]
fn the_deployment_honours_every_variable_and_is_locked_down() {
    let s = settings(
        "[plugins.scale.env]\nLOG_LEVEL = \"debug\"\n",
        &[
            ("APP_NAME", "shop"),
            ("K8s_NAMESPACE", "prod"),
            ("K8s_NODE_PORT", "30555"),
            ("K8s_CPU_REQUEST", "250m"),
            ("K8s_CPU_LIMIT", "1"),
            ("K8s_MEMORY_REQUEST", "96Mi"),
            ("K8s_MEMORY_LIMIT", "512Mi"),
            ("K8s_READINESS_INITIAL_DELAY", "3"),
            ("K8s_READINESS_PERIOD", "4"),
            ("K8s_LIVENESS_INITIAL_DELAY", "5"),
            ("K8s_LIVENESS_PERIOD", "6"),
            ("K8s_LIVENESS_FAILURE_THRESHOLD", "7"),
        ],
    );
    let all = manifests(
        &s,
        &host_image(b"x"),
        &Generated::complete(&s, BTreeMap::new()),
    )
    .expect("manifests");
    let deployment = object(&all, "Deployment", "shop");
    assert_eq!(deployment["metadata"]["namespace"], "prod");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(
        container["image"],
        json!(format!(
            "{}:{}",
            crate::settings::DEFAULT_HOST_IMAGE,
            env!("CARGO_PKG_VERSION")
        ))
    );
    assert_eq!(
        container["resources"],
        json!({"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "96Mi"}})
    );
    assert_eq!(
        container["readinessProbe"],
        json!({"httpGet": {"path": "/healthz/ready", "port": "http"}, "initialDelaySeconds": 3, "periodSeconds": 4})
    );
    assert_eq!(
        container["livenessProbe"],
        json!({"httpGet": {"path": "/healthz/live", "port": "http"}, "initialDelaySeconds": 5, "periodSeconds": 6, "failureThreshold": 7})
    );
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert!(
        container["env"]
            .as_array()
            .expect("env")
            .contains(&json!({"name": "LOG_LEVEL", "value": "debug"}))
    );
    assert!(
        pod["volumes"]
            .as_array()
            .expect("volumes")
            .contains(&json!({"name": "data", "emptyDir": {}}))
    );
    let service = object(&all, "Service", "shop");
    assert_eq!(service["spec"]["type"], "NodePort");
    assert_eq!(service["spec"]["ports"][0]["nodePort"], 30555);
    // Every object but the namespace carries the labels destroy selects by.
    for m in all.iter().filter(|m| m.resource.kind != "Namespace") {
        let labels = m.object.metadata.labels.as_ref().expect("labels");
        assert_eq!(labels[MANAGED_BY], MANAGER, "{}", m.describe());
        assert_eq!(labels[INSTANCE], "shop", "{}", m.describe());
    }
}

#[test]
fn the_databases_come_with_services_and_generated_credentials() {
    let s = settings("", &[("K8s_MONGODB", "true"), ("K8s_REDIS", "1")]);
    let generated = Generated::complete(&s, BTreeMap::new());
    let all = manifests(&s, &host_image(b"x"), &generated).expect("manifests");
    let kinds: Vec<String> = all.iter().map(Manifest::describe).collect();
    for expected in [
        "StatefulSet/todo-mongodb",
        "Service/todo-mongodb",
        "Deployment/todo-redis",
        "Service/todo-redis",
    ] {
        assert!(kinds.contains(&expected.to_string()), "{kinds:?}");
    }
    let values = generated.values();
    assert!(values["MONGODB_URI"].contains(&values["MONGODB_PASSWORD"]));
    assert!(values["MONGODB_URI"].contains("@todo-mongodb:27017"));
    assert!(values["REDIS_URL"].contains(&values["REDIS_PASSWORD"]));
}

#[test]
fn a_component_too_large_for_a_configmap_says_to_build() {
    let s = settings("", &[]);
    let big = vec![0u8; MAX_CONFIGMAP_BYTES + 1];
    let e = manifests(
        &s,
        &host_image(&big),
        &Generated::complete(&s, BTreeMap::new()),
    )
    .expect_err("too large");
    assert!(e.to_string().contains("--build"), "{e}");
    let built = AppSource::Built {
        image: "registry.example/todo@sha256:00".into(),
        component: big,
    };
    let all =
        manifests(&s, &built, &Generated::complete(&s, BTreeMap::new())).expect("built image");
    assert!(!all.iter().any(|m| m.resource.kind == "ConfigMap"));
}

#[test]
fn the_yaml_holds_every_object() {
    let s = settings("", &[]);
    let all = manifests(
        &s,
        &host_image(b"x"),
        &Generated::complete(&s, BTreeMap::new()),
    )
    .expect("manifests");
    let yaml = to_yaml(&all).expect("yaml");
    for m in &all {
        assert!(
            yaml.contains(&format!("kind: {}", m.resource.kind)),
            "{yaml}"
        );
    }
    assert_eq!(yaml.matches("\n---").count() + 1, all.len(), "{yaml}");
}
