//! Per-app quotas (`[plugins.scale.quotas]`): each refusal answers its documented status
//! with the quota named in `error.details.quota`, is counted in
//! `quota_exceeded_total{app, quota}`, and the server keeps serving. Calls, CPU, memory
//! and instances with the misbehave app; kvstore operations and bytes (on every
//! backend), file storage bytes and WebSocket connections with the kv, files and
//! realtime apps.

use crate::storage::{upload, walker};
use crate::support::webhook::app_with_config;
use crate::support::websocket::{connect, connect_with};
use crate::support::{App, Reply, Server};
use serde_json::json;
use std::thread;
use std::time::{Duration, Instant};

/// The misbehave app with the metrics on (namespace `q`), then `quotas` as the body of
/// `[plugins.scale.quotas]` and `limits` of `[plugins.scale.limits]`.
fn misbehave_with(limits: &str, quotas: &str) -> (tempfile::TempDir, Server) {
    app_with_quotas((App::Misbehave, "misbehave"), limits, quotas, &[])
}

/// `app` named `name` with the metrics on (namespace `q`), `limits` and `quotas`, and
/// `env`.
fn app_with_quotas(
    (app, name): (App, &str),
    limits: &str,
    quotas: &str,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, Server) {
    let toml = format!(
        "[plugins.scale.metrics]\nenabled = true\nnamespace = \"q\"\n\
         [plugins.scale.limits]\n{limits}\n[plugins.scale.quotas]\n{quotas}\n"
    );
    let (dir, wasm) = app_with_config(app, name, &toml);
    let mut builder = Server::builder(app).wasm_path(wasm);
    for (name, value) in env {
        builder = builder.env(name, value);
    }
    (dir, builder.start())
}

/// `reply` is the refusal `status`/`code` naming `quota`.
fn assert_refused(reply: &Reply, status: u16, code: &str, quota: &str) {
    let error = reply.err(status, code);
    assert_eq!(error["details"]["quota"], quota, "{reply:?}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains(quota),
        "the message should name {quota}: {reply:?}"
    );
}

/// `quota_exceeded_total` of the misbehave app for `quota`.
fn exceeded(server: &Server, quota: &str) -> u64 {
    exceeded_in(server, "misbehave", quota)
}

/// `quota_exceeded_total` of the app `name` for `quota`.
fn exceeded_in(server: &Server, name: &str, quota: &str) -> u64 {
    counter(
        server,
        &format!("q_quota_exceeded_total{{app=\"{name}\",quota=\"{quota}\"}}"),
    )
}

/// The value of the counter `series` (name and labels), 0 when absent.
fn counter(server: &Server, series: &str) -> u64 {
    let text = server.get("/metrics").text;
    let series = format!("{series} ");
    text.lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map_or(0, |value| value.trim().parse().expect("a count"))
}

fn assert_still_serving(server: &Server) {
    let reply = server.post("/walker/Fine", json!({}));
    assert_eq!(reply.only_report(), &json!({"ok": true}), "{reply:?}");
}

/// Posts `Spin` from a thread of `scope`.
fn spin_in_background<'s>(
    scope: &'s thread::Scope<'s, '_>,
    server: &'s Server,
) -> thread::ScopedJoinHandle<'s, Reply> {
    scope.spawn(|| server.post("/walker/Spin", json!({})))
}

#[test]
fn concurrent_calls_beyond_the_quota_answer_429_at_once() {
    let (_dir, server) = misbehave_with("", "concurrent_calls = 2\ncpu_time_per_call_ms = 1500");
    thread::scope(|scope| {
        let spins = [
            spin_in_background(scope, &server),
            spin_in_background(scope, &server),
        ];
        thread::sleep(Duration::from_millis(400));
        let started = Instant::now();
        let reply = server.post("/walker/Fine", json!({}));
        assert_refused(&reply, 429, "RATE_LIMITED", "concurrent_calls");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "refused late"
        );
        for spin in spins {
            spin.join().expect("spin").err(504, "TIMEOUT");
        }
    });
    assert_still_serving(&server);
    assert_eq!(exceeded(&server, "concurrent_calls"), 1);
}

#[test]
fn calls_per_second_beyond_the_quota_answer_429() {
    let (_dir, server) = misbehave_with("", "calls_per_second = 5");
    let replies: Vec<Reply> = (0..8)
        .map(|_| server.post("/walker/Fine", json!({})))
        .collect();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert!(
        refused >= 2,
        "8 calls in a burst, 5 per second: {replies:?}"
    );
    assert_refused(
        replies.last().expect("eight"),
        429,
        "RATE_LIMITED",
        "calls_per_second",
    );
    assert_eq!(exceeded(&server, "calls_per_second"), refused as u64);
    thread::sleep(Duration::from_millis(1100));
    assert_still_serving(&server);
}

#[test]
fn a_call_waiting_past_the_queue_timeout_for_the_apps_instances_answers_503() {
    let (_dir, server) = misbehave_with(
        "queue_timeout_ms = 300",
        "instances = 1\ncpu_time_per_call_ms = 1500",
    );
    thread::scope(|scope| {
        let spin = spin_in_background(scope, &server);
        thread::sleep(Duration::from_millis(300));
        let reply = server.post("/walker/Fine", json!({}));
        assert_refused(&reply, 503, "UNAVAILABLE", "instances");
        spin.join().expect("spin").err(504, "TIMEOUT");
    });
    assert_still_serving(&server);
    assert_eq!(exceeded(&server, "instances"), 1);
}

#[test]
fn cpu_time_per_call_stops_a_loop_with_504() {
    let (_dir, server) = misbehave_with("call_timeout_ms = 10000", "cpu_time_per_call_ms = 300");
    let started = Instant::now();
    let reply = server.post("/walker/Spin", json!({}));
    let took = started.elapsed();
    assert_refused(&reply, 504, "TIMEOUT", "cpu_time_per_call_ms");
    assert!(
        (Duration::from_millis(280)..Duration::from_secs(3)).contains(&took),
        "a 300 ms CPU quota stopped the loop after {took:?}"
    );
    assert_still_serving(&server);
    assert_eq!(exceeded(&server, "cpu_time_per_call_ms"), 1);
}

#[test]
fn memory_per_instance_stops_a_hog_below_the_hosts_limit() {
    // The host allows 64 MiB per instance; this app 16.
    let (_dir, server) = misbehave_with("memory_limit_mib = 64", "memory_per_instance_mib = 16");
    let reply = server.post("/walker/Hog", json!({}));
    assert_refused(&reply, 500, "EXECUTION_ERROR", "memory_per_instance_mib");
    assert!(reply.text.contains("16 MiB"), "{reply:?}");
    assert_still_serving(&server);
    assert_eq!(exceeded(&server, "memory_per_instance_mib"), 1);
}

#[test]
fn a_quota_above_the_hosts_limit_fails_the_start_naming_the_key() {
    let (dir, wasm) = app_with_config(
        App::Misbehave,
        "misbehave",
        "[plugins.scale.limits]\nmemory_limit_mib = 32\n[plugins.scale.quotas]\nmemory_per_instance_mib = 64\n",
    );
    let output = crate::support::process::jac_scale(dir.path())
        .arg("start")
        .arg(&wasm)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .output()
        .expect("run jac-scale");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("plugins.scale.quotas.memory_per_instance_mib"),
        "{stderr}"
    );
}

#[test]
fn kvstore_operations_beyond_the_quota_stop_the_call_with_429() {
    let (_dir, server) = app_with_quotas((App::Kv, "kv"), "", "kvstore_ops_per_second = 20", &[]);
    // 50 get+set pairs: 100 operations against a burst of 20.
    let reply = server.post("/walker/GetSetPairs", json!({"n": 50, "store": "quota"}));
    assert_refused(&reply, 429, "RATE_LIMITED", "kvstore_ops_per_second");
    assert_eq!(exceeded_in(&server, "kv", "kvstore_ops_per_second"), 1);
    // The bucket refills: a small call goes through a second later.
    thread::sleep(Duration::from_millis(1100));
    let fine = server.post("/walker/GetSetPairs", json!({"n": 5, "store": "quota"}));
    assert_eq!(fine.only_report()["pairs"], 5, "{fine:?}");
    // The burst (20) and the 10 operations after it, each a host call of the kvstore.
    let calls = counter(
        &server,
        "q_host_calls_total{app=\"kv\",capability=\"kvstore\"}",
    );
    assert!(calls >= 30, "{calls}");
}

#[test]
fn file_storage_beyond_the_quota_answers_413_until_a_delete_makes_room() {
    let storage = tempfile::tempdir().expect("temp dir");
    let (_dir, server) = app_with_quotas(
        (App::Files, "files"),
        "",
        "storage_mib = 1",
        &[("JAC_STORAGE_PATH", &storage.path().display().to_string())],
    );
    let chunk = vec![b'x'; 600 << 10];
    let first = upload(&server, "documents", "first.txt", &chunk);
    assert_eq!(first.status, 200, "{first:?}");
    // Replacing a file counts only what it adds.
    let again = upload(&server, "documents", "first.txt", &chunk);
    assert_eq!(again.status, 200, "{again:?}");
    let second = upload(&server, "documents", "second.txt", &chunk);
    assert_refused(&second, 413, "PAYLOAD_TOO_LARGE", "storage_mib");
    assert!(
        !storage
            .path()
            .join("files/uploads/documents/second.txt")
            .exists(),
        "a refused write leaves nothing"
    );
    let deleted = walker(
        &server,
        "delete_file",
        json!({"path": "documents/first.txt"}),
    );
    assert_eq!(deleted.only_report(), &json!({"deleted": true}));
    let second = upload(&server, "documents", "second.txt", &chunk);
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(exceeded_in(&server, "files", "storage_mib"), 1);
    let calls = counter(
        &server,
        "q_host_calls_total{app=\"files\",capability=\"storage\"}",
    );
    assert!(calls >= 5, "{calls}");
}

/// With `kvstore_mib = 1`, the kv app named `name` (`env`: where its stores live) keeps
/// one value of 600 KiB through `walker` (`KeyValue` or `Documents`) but not two; the
/// refused write leaves nothing, the count survives a restart, a delete makes room.
fn kvstore_bytes_beyond_the_quota(walker: &str, name: &str, env: &[(&str, &str)]) {
    let (_dir, mut server) = app_with_quotas((App::Kv, name), "", "kvstore_mib = 1", env);
    let big = json!("x".repeat(600 << 10));
    let kv = |server: &Server, op: &str, args: serde_json::Value| {
        server.post(
            &format!("/walker/{walker}"),
            json!({"store": "big", "op": op, "args": args}),
        )
    };
    let set = |server: &Server, key: &str| kv(server, "set", json!({"key": key, "value": big}));
    let get = |server: &Server, key: &str| {
        kv(server, "get", json!({"key": key})).only_report()["result"].clone()
    };
    for _ in 0..2 {
        // Replacing a value counts only what it adds.
        let first = set(&server, "first");
        assert_eq!(first.status, 200, "{first:?}");
    }
    assert_refused(
        &set(&server, "second"),
        413,
        "PAYLOAD_TOO_LARGE",
        "kvstore_mib",
    );
    assert_eq!(
        get(&server, "second"),
        json!(null),
        "a refused write leaves nothing"
    );
    assert_eq!(exceeded_in(&server, name, "kvstore_mib"), 1);

    server.restart();
    assert_refused(
        &set(&server, "second"),
        413,
        "PAYLOAD_TOO_LARGE",
        "kvstore_mib",
    );
    assert_eq!(get(&server, "first"), big, "what the app holds is kept");
    let deleted = kv(&server, "delete", json!({"key": "first"}));
    assert_eq!(deleted.only_report()["result"], true, "{deleted:?}");
    let second = set(&server, "second");
    assert_eq!(second.status, 200, "{second:?}");
}

/// A tenant name no earlier run used (Redis and MongoDB keep what the tests wrote).
fn fresh_tenant(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    format!("{prefix}{nanos}")
}

#[test]
fn kvstore_bytes_beyond_the_quota_answer_413_until_a_delete_makes_room() {
    kvstore_bytes_beyond_the_quota("KeyValue", "kv", &[]);
}

#[test]
fn kvstore_bytes_on_redis_count_against_the_quota() {
    let redis = test_services::redis_url();
    kvstore_bytes_beyond_the_quota("KeyValue", &fresh_tenant("kvq"), &[("REDIS_URL", &redis)]);
}

#[test]
fn kvstore_documents_on_mongodb_count_against_the_quota() {
    let mongodb = test_services::mongodb_uri("blackbox_kvstore_quota");
    kvstore_bytes_beyond_the_quota(
        "Documents",
        &fresh_tenant("kvq"),
        &[("MONGODB_URI", &mongodb)],
    );
}

#[test]
fn websocket_connections_beyond_the_quota_answer_429() {
    let (_dir, server) = app_with_quotas(
        (App::Realtime, "realtime"),
        "",
        "websocket_connections = 2",
        &[],
    );
    let _first = connect(&server, "/ws/EchoMessage");
    let _second = connect(&server, "/ws/EchoMessage");
    match connect_with(&server, "/ws/EchoMessage", None) {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("websocket_connections"), "{body}");
        }
        other => panic!(
            "a third connection must be refused with 429, got {:?}",
            other.map(|_| ())
        ),
    }
    assert_eq!(exceeded_in(&server, "realtime", "websocket_connections"), 1);
}
