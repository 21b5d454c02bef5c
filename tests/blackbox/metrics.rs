use std::collections::HashMap;
use std::process::{Command, Stdio};

use reqwest::Method;
use std::time::Duration;

use serde_json::json;

use crate::support::many::Many;
use crate::support::tools::program;
use crate::support::webhook::app_with_config;
use crate::support::websocket;
use crate::support::{App, Reply, Server};

const METRICS_ON: &str = "[plugins.scale.metrics]\nenabled = true\nnamespace = \"myapp\"\n\
    walker_metrics = true\n";

/// A server of `app` (named `name`) with the metrics on, and its config folder.
fn with_metrics(app: App, name: &str, extra_env: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
    let (dir, wasm) = app_with_config(app, name, METRICS_ON);
    let mut builder = Server::builder(app).wasm_path(wasm);
    for (k, v) in extra_env {
        builder = builder.env(k, v);
    }
    (dir, builder.start())
}

/// One scrape, parsed: `(name, labels)` -> value.
struct Scrape {
    text: String,
    samples: Vec<(String, HashMap<String, String>, f64)>,
}

impl Scrape {
    fn take(server: &Server) -> Scrape {
        Scrape::of(server.get("/metrics"))
    }

    /// The samples of a scrape's answer.
    fn of(reply: Reply) -> Scrape {
        assert_eq!(reply.status, 200, "{reply:?}");
        let samples = reply
            .text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                let (name, labels) = match series.split_once('{') {
                    Some((name, rest)) => (name, rest.trim_end_matches('}')),
                    None => (series, ""),
                };
                let labels = labels
                    .split("\",")
                    .filter(|l| !l.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').expect("label=value");
                        (k.to_owned(), v.trim_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels, value.parse().expect("a number"))
            })
            .collect();
        Scrape {
            text: reply.text,
            samples,
        }
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }
}

#[test]
fn metrics_are_off_by_default() {
    let server = Server::start(App::Todo);
    server.get("/metrics").err(404, "NOT_FOUND");
    let doc = server.get("/openapi.json");
    assert!(
        doc.json.as_ref().expect("json")["paths"]
            .get("/metrics")
            .is_none()
    );
}

#[test]
fn http_and_walker_metrics_move_with_the_load() {
    let (_dir, server) = with_metrics(App::Todo, "todo", &[]);
    let user = server.register_and_login("metrics@example.com");
    let before = Scrape::take(&server);
    let ping = [
        ("method", "POST"),
        ("path", "/walker/Ping"),
        ("status_code", "200"),
    ];
    assert_eq!(before.value("myapp_http_requests_total", &ping), 0.0);

    // A load on other threads, scraped while it runs and after.
    let during = std::thread::scope(|s| {
        let load = s.spawn(|| {
            for _ in 0..40 {
                assert_eq!(server.post("/walker/Ping", json!({})).status, 200);
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        let during = Scrape::take(&server);
        load.join().expect("load thread");
        during
    });
    let created = server.post_auth("/walker/CreateTodo", json!({"title": "t"}), &user.token);
    let todo_id = created.only_report()[0]["_jac_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        server
            .post(&format!("/walker/WhereAmI/{}", user.root_id), json!({}))
            .status,
        404
    );
    assert_eq!(
        server
            .post(&format!("/walker/WhereAmI/{todo_id}"), json!({}))
            .status,
        404
    );
    server
        .post("/walker/Boom", json!({}))
        .err(500, "EXECUTION_ERROR");
    server.get("/no/such/route").err(404, "NOT_FOUND");
    server.get("/healthz");
    let after = Scrape::take(&server);

    let during_pings = during.value("myapp_http_requests_total", &ping);
    assert!(during_pings <= 40.0, "{during_pings}");
    assert_eq!(
        after.value("myapp_http_requests_total", &ping),
        40.0,
        "{}",
        after.text
    );
    assert_eq!(
        after.value(
            "myapp_http_request_duration_seconds_count",
            &[("method", "POST"), ("path", "/walker/Ping")]
        ),
        40.0
    );
    // Route templates, never ids: a node id in the URL is not a label value.
    let on_node = [
        ("path", "/walker/WhereAmI/{node_id}"),
        ("status_code", "404"),
    ];
    assert_eq!(
        after.value("myapp_http_requests_total", &on_node),
        2.0,
        "{}",
        after.text
    );
    assert!(!after.text.contains(&todo_id) && !after.text.contains(&user.root_id));
    assert_eq!(
        after.value("myapp_http_requests_total", &[("path", "unmatched")]),
        1.0
    );
    assert_eq!(
        after.value("myapp_http_requests_total", &[("path", "/healthz")]),
        1.0
    );
    assert_eq!(
        after.value(
            "myapp_http_requests_total",
            &[("path", "/walker/Boom"), ("status_code", "500")]
        ),
        1.0
    );
    // The scrape endpoint is not tracked; nothing is in progress once the load ended
    // (the scrape itself is not counted).
    assert!(!after.text.contains("path=\"/metrics\""), "{}", after.text);
    assert_eq!(after.value("myapp_http_requests_in_progress", &[]), 0.0);
    // Walker timings, by success.
    let walker = |name: &str, ok: &str| {
        after.value(
            "myapp_walker_duration_seconds_count",
            &[("walker_name", name), ("success", ok)],
        )
    };
    assert_eq!(walker("Ping", "true"), 40.0);
    assert_eq!(walker("Boom", "false"), 1.0);
    // Host metrics, by app.
    let app = [("app", "todo")];
    assert!(
        after.value("myapp_instantiation_seconds_count", &app) >= 42.0,
        "{}",
        after.text
    );
    assert!(after.value("myapp_guest_cpu_seconds_count", &app) >= 42.0);
    assert!(after.value("myapp_guest_cpu_seconds_sum", &app) > 0.0);
    assert!(after.value("myapp_instance_memory_peak_bytes_sum", &app) > 0.0);
    assert_eq!(after.value("myapp_instances_in_use", &app), 0.0);
}

#[test]
fn traps_are_counted_by_kind() {
    let (_dir, server) = with_metrics(
        App::Misbehave,
        "misbehave",
        &[
            ("JAC_SCALE_CALL_TIMEOUT_MS", "500"),
            ("JAC_SCALE_MEMORY_LIMIT_MIB", "32"),
        ],
    );
    assert_eq!(server.post("/walker/Spin", json!({})).status, 504);
    assert_eq!(server.post("/walker/Hog", json!({})).status, 500);
    assert_eq!(server.post("/walker/Crash", json!({})).status, 500);
    let scrape = Scrape::take(&server);
    for kind in ["timeout", "memory_limit", "guest_trap"] {
        assert_eq!(
            scrape.value("myapp_traps_total", &[("app", "misbehave"), ("kind", kind)]),
            1.0,
            "{kind}: {}",
            scrape.text
        );
    }
}

#[test]
fn instances_websockets_and_webhook_refusals_are_measured() {
    // Three instances for the app: of four sleeping calls, one waits.
    let (_dir, wasm) = app_with_config(
        App::Realtime,
        "realtime",
        &format!("{METRICS_ON}[plugins.scale.quotas]\ninstances = 3\n"),
    );
    let server = Server::builder(App::Realtime).wasm_path(wasm).start();
    let app = [("app", "realtime")];
    // Sleeping calls hold their instances while a scrape runs.
    let during = std::thread::scope(|s| {
        let calls: Vec<_> = (0..4)
            .map(|_| s.spawn(|| server.post("/walker/SlowEcho", json!({"ms": 1500}))))
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        let during = Scrape::take(&server);
        for call in calls {
            assert_eq!(call.join().expect("call").status, 200);
        }
        during
    });
    assert_eq!(
        (
            during.value("myapp_instances_in_use", &app),
            during.value("myapp_instances_queued", &app)
        ),
        (3.0, 1.0),
        "{}",
        during.text
    );
    let after = Scrape::take(&server);
    assert_eq!(after.value("myapp_instances_in_use", &app), 0.0);
    assert_eq!(after.value("myapp_instances_queued", &app), 0.0);
    // Each SlowEcho sleeps once through the timer import.
    assert_eq!(
        after.value(
            "myapp_host_calls_total",
            &[("app", "realtime"), ("capability", "timer")]
        ),
        4.0,
        "{}",
        after.text
    );

    let socket = websocket::connect(&server, "/ws/EchoMessage");
    assert_eq!(
        Scrape::take(&server).value("myapp_websocket_connections", &app),
        1.0
    );
    drop(socket);

    server
        .post("/webhook/PaymentReceived", json!({}))
        .err(401, "UNAUTHORIZED");
    let refusals = Scrape::take(&server);
    assert_eq!(
        refusals.value(
            "myapp_webhook_refusals_total",
            &[("app", "realtime"), ("reason", "missing_key")]
        ),
        1.0,
        "{}",
        refusals.text
    );
}

#[test]
fn host_calls_and_cache_lookups_move_with_the_load() {
    let redis = test_services::redis_url();
    let (_dir, server) = with_metrics(App::Todo, "todo", &[("REDIS_URL", &redis)]);
    let user = server.register_and_login("calls@example.com");
    let graph = [("app", "todo"), ("capability", "graph")];
    let lookups = |scrape: &Scrape, tier: &str, result: &str| {
        scrape.value(
            "myapp_cache_lookups_total",
            &[("app", "todo"), ("tier", tier), ("result", result)],
        )
    };
    let before = Scrape::take(&server);
    for capability in ["graph", "kvstore", "storage", "globals", "log", "timer"] {
        assert!(
            before.text.contains(&format!(
                "myapp_host_calls_total{{app=\"todo\",capability=\"{capability}\"}}"
            )),
            "{capability}: {}",
            before.text
        );
    }
    for n in 0..5 {
        let created = server.post_auth(
            "/walker/CreateTodo",
            json!({"title": format!("t{n}")}),
            &user.token,
        );
        assert_eq!(created.status, 200, "{created:?}");
    }
    let after_writes = Scrape::take(&server);
    // Each CreateTodo reads the root and attaches a node: several graph calls each.
    assert!(
        after_writes.value("myapp_host_calls_total", &graph)
            >= before.value("myapp_host_calls_total", &graph) + 10.0,
        "{}",
        after_writes.text
    );
    for _ in 0..3 {
        let listed = server.post_auth("/walker/ListTodos", json!({}), &user.token);
        assert_eq!(listed.ok()["reports"][0].as_array().map(Vec::len), Some(5));
    }
    let after_reads = Scrape::take(&server);
    // The first listing fills Redis from the store; the next ones are answered by it.
    assert!(
        lookups(&after_reads, "l2", "miss") > lookups(&before, "l2", "miss"),
        "{}",
        after_reads.text
    );
    assert!(
        lookups(&after_reads, "l2", "hit") >= lookups(&after_writes, "l2", "hit") + 5.0,
        "{}",
        after_reads.text
    );
    // L1 is off by default: every lookup misses it.
    assert_eq!(lookups(&after_reads, "l1", "hit"), 0.0);
    assert!(lookups(&after_reads, "l1", "miss") > 0.0);
    // Nothing else was called.
    assert_eq!(
        after_reads.value(
            "myapp_host_calls_total",
            &[("app", "todo"), ("capability", "kvstore")]
        ),
        0.0
    );
}

#[test]
fn scrape_endpoint_is_documented_under_monitoring() {
    let (_dir, server) = with_metrics(App::Todo, "todo", &[]);
    let doc = server.get("/openapi.json").json.expect("json");
    assert_eq!(
        doc["paths"]["/metrics"]["get"]["tags"],
        json!(["Monitoring"])
    );
}

#[test]
fn promtool_accepts_the_output() {
    let test = "metrics::promtool_accepts_the_output";
    let Some(promtool) = program("promtool", test, "apt-get install prometheus") else {
        return;
    };
    let redis = test_services::redis_url();
    let (_dir, server) = with_metrics(App::Todo, "todo", &[("REDIS_URL", &redis)]);
    server.post("/walker/Ping", json!({}));
    server.post("/walker/Boom", json!({}));
    let user = server.register_and_login("promtool@example.com");
    server.post_auth("/walker/CreateTodo", json!({"title": "t"}), &user.token);
    server.post_auth("/walker/ListTodos", json!({}), &user.token);
    let text = Scrape::take(&server).text;
    assert!(text.contains("myapp_cache_lookups_total"), "{text}");
    assert!(text.contains("myapp_host_calls_total"), "{text}");
    assert_promtool_accepts(&promtool, &text);
}

/// `promtool check metrics` finds nothing wrong in `text`.
fn assert_promtool_accepts(promtool: &std::path::Path, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write metrics");
    let out = child.wait_with_output().expect("promtool exits");
    assert!(
        out.status.success(),
        "{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `serve` with metrics on (`[serve.settings]` of apps.toml): one scrape on the admin
/// listener, behind the operator token, covers every app, each series labelled by app;
/// no app serves a scrape of its own, and a removed app's gauges go.
#[test]
fn serve_scrapes_every_app_once_labelled_by_app() {
    let server = Many::builder()
        .app("alpha", App::Todo)
        .app("beta", App::Todo)
        .apps_toml(
            "[serve.settings.plugins.scale.metrics]\nenabled = true\nnamespace = \"host\"\n\
             walker_metrics = true\n",
        )
        .start();
    for (name, pings) in [("alpha", 3), ("beta", 2)] {
        for _ in 0..pings {
            assert_eq!(server.app(name).post("/walker/Ping", json!({})).status, 200);
        }
    }
    server
        .app("beta")
        .post("/walker/Boom", json!({}))
        .err(500, "EXECUTION_ERROR");
    server.app("alpha").get("/metrics").err(404, "NOT_FOUND");
    let alpha_doc = server.app("alpha").get("/openapi.json").json.expect("json");
    assert!(alpha_doc["paths"].get("/metrics").is_none());
    server.admin.get("/metrics").err(401, "UNAUTHORIZED");

    let scrape = || {
        Scrape::of(
            server
                .admin
                .send(server.admin_request(Method::GET, "/metrics")),
        )
    };
    let taken = scrape();
    let pings = |app: &str| {
        taken.value(
            "host_http_requests_total",
            &[
                ("app", app),
                ("method", "POST"),
                ("path", "/walker/Ping"),
                ("status_code", "200"),
            ],
        )
    };
    assert_eq!(
        (pings("alpha"), pings("beta")),
        (3.0, 2.0),
        "{}",
        taken.text
    );
    // The public 404 of the scrape path counts as a request of alpha's, under no template.
    assert_eq!(
        taken.value(
            "host_http_requests_total",
            &[("app", "alpha"), ("path", "unmatched")]
        ),
        1.0,
        "{}",
        taken.text
    );
    let walker = |app: &str, name: &str, ok: &str| {
        taken.value(
            "host_walker_duration_seconds_count",
            &[("app", app), ("walker_name", name), ("success", ok)],
        )
    };
    assert_eq!(walker("alpha", "Ping", "true"), 3.0);
    assert_eq!(walker("beta", "Boom", "false"), 1.0);
    assert_eq!(walker("alpha", "Boom", "false"), 0.0);
    for app in ["alpha", "beta"] {
        assert_eq!(
            taken.value("host_http_requests_in_progress", &[("app", app)]),
            0.0
        );
        assert!(
            taken.value("host_instantiation_seconds_count", &[("app", app)]) >= 2.0,
            "{app}: {}",
            taken.text
        );
        assert!(
            taken
                .text
                .contains(&format!("host_instances_in_use{{app=\"{app}\"}} 0")),
            "{app}: {}",
            taken.text
        );
    }
    assert!(
        taken
            .samples
            .iter()
            .all(|(name, labels, _)| !name.starts_with("host_http") || labels.contains_key("app")),
        "{}",
        taken.text
    );
    if let Some(promtool) = program(
        "promtool",
        "metrics::serve_scrapes_every_app_once_labelled_by_app",
        "apt-get install prometheus",
    ) {
        assert_promtool_accepts(&promtool, &taken.text);
    }

    let removed = server
        .admin
        .send(server.admin_request(Method::DELETE, "/apps/beta"));
    assert_eq!(removed.status, 200, "{removed:?}");
    let after = scrape();
    assert!(
        !after.text.contains("host_instances_in_use{app=\"beta\"}"),
        "{}",
        after.text
    );
    assert!(after.text.contains("host_instances_in_use{app=\"alpha\"}"));
}
