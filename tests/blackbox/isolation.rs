//! Escape and isolation with `examples/misbehave`: a guest that tries host files, the
//! environment and sockets is refused each; ids of another app, forged, malformed or
//! oversized ids are "not found" to it, never an error of the host; and in one `serve`
//! process a healthy app keeps answering while hostile apps beside it spin, hog memory,
//! flood the host with calls and open WebSocket connections (a functional check with a
//! loose bound: latency is measured in `bench/fairness.sh --cross-app`, not asserted).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::many::Many;
use crate::support::websocket::connect_with;
use crate::support::{App, Server, Site};

#[test]
fn a_guest_reaches_no_host_file_environment_or_socket() {
    let server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_ESCAPE_CANARY", "must-not-leak")
        .start();
    let reply = server.post("/walker/Escape", json!({}));
    let report = reply.only_report();
    for attempt in [
        "read_file",
        "read_relative_file",
        "list_root",
        "write_file",
        "tcp_connect",
        "tcp_listen",
        "udp_bind",
    ] {
        let outcome = report[attempt].as_str().unwrap_or_default();
        assert!(outcome.starts_with("refused"), "{attempt}: {reply:?}");
    }
    assert_eq!(report["environment"], json!([]), "{reply:?}");
    assert!(!std::path::Path::new("/tmp/escaped").exists());
    assert_eq!(server.post("/walker/Fine", json!({})).status, 200);
}

/// `Probe` of `id` on `site`: whether the guest found the node.
fn probe(site: &Site, id: &str) -> bool {
    let reply = site.post("/walker/Probe", json!({"id": id}));
    assert_eq!(
        reply.status, 200,
        "the host must answer, not fail: {reply:?}"
    );
    reply.only_report()["found"] == json!(true)
}

#[test]
fn ids_of_another_app_forged_or_oversized_are_not_found() {
    let server = Many::builder()
        .app("alpha", App::Todo)
        .app("beta", App::Misbehave)
        .start();
    let (alpha, beta) = (server.app("alpha"), server.app("beta"));
    let user = alpha.register_and_login("owner@example.com");
    let created = alpha.post_auth("/walker/CreateTodo", json!({"title": "mine"}), &user.token);
    let todo = created.only_report()[0]["_jac_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(!probe(&beta, &todo), "another app's node");
    assert!(!probe(&beta, &user.root_id), "another app's root");
    for forged in [
        "0".repeat(32),
        "f".repeat(32),
        "../../etc/passwd".to_owned(),
        "'; DROP TABLE nodes; --".to_owned(),
        String::new(),
        "a".repeat(512 << 10),
    ] {
        let shown: String = forged.chars().take(40).collect();
        assert!(!probe(&beta, &forged), "{shown}");
    }
    // alpha still has its node.
    let listed = alpha.post_auth("/walker/ListTodos", json!({}), &user.token);
    assert_eq!(listed.ok()["reports"][0].as_array().map(Vec::len), Some(1));
}

/// Posts `walker` to `site` in a loop until `stop`; each answer is refused or stopped
/// by a quota or limit (4xx/5xx), never a crash of the host.
fn hostile_loop(site: &Site, walker: &str, stop: &AtomicBool) -> usize {
    let mut calls = 0;
    while !stop.load(Ordering::Relaxed) {
        let reply = site.post(&format!("/walker/{walker}"), json!({}));
        assert!(
            [413, 429, 500, 503, 504].contains(&reply.status),
            "{walker}: {reply:?}"
        );
        calls += 1;
    }
    calls
}

/// The latency of each of `rounds` rounds of healthy calls (a ping, a write, a read) on
/// `site` as `token`; every call must succeed.
fn healthy_rounds(site: &Site, token: &str, rounds: usize) -> Vec<Duration> {
    (0..rounds)
        .flat_map(|n| {
            let calls: [(&str, Value); 3] = [
                ("/walker/Ping", json!({})),
                ("/walker/CreateTodo", json!({"title": format!("t{n}")})),
                ("/walker/CountTodos", json!({})),
            ];
            calls.map(|(path, body)| {
                let started = Instant::now();
                let reply = site.post_auth(path, body, token);
                assert_eq!(reply.status, 200, "{reply:?}");
                started.elapsed()
            })
        })
        .collect()
}

fn median(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort_unstable();
    latencies[latencies.len() / 2]
}

#[test]
fn a_healthy_app_keeps_answering_beside_hostile_apps() {
    let server = Many::builder()
        .app("healthy", App::Todo)
        .app("hostile", App::Misbehave)
        .app("chatty", App::Realtime)
        .apps_toml(
            "[serve.settings.plugins.scale.limits]\ncall_timeout_ms = 5000\nmemory_limit_mib = 64\n\
             [apps.hostile.settings.plugins.scale.quotas]\ncpu_time_per_call_ms = 1000\n\
             memory_per_instance_mib = 32\n\
             [apps.chatty.settings.plugins.scale.quotas]\nwebsocket_connections = 4\n",
        )
        .start();
    let (healthy, hostile, chatty) = (
        server.app("healthy"),
        server.app("hostile"),
        server.app("chatty"),
    );
    let user = healthy.register_and_login("healthy@example.com");
    let solo = median(healthy_rounds(&healthy, &user.token, 10));

    let stop = AtomicBool::new(false);
    let beside = thread::scope(|s| {
        let mut hostiles = Vec::new();
        for walker in ["Spin", "Spin", "Hog", "Flood"] {
            let (hostile, stop) = (&hostile, &stop);
            hostiles.push(s.spawn(move || hostile_loop(hostile, walker, stop)));
        }
        let sockets = s.spawn(|| {
            let (mut open, mut refused) = (Vec::new(), 0);
            while !stop.load(Ordering::Relaxed) && open.len() + refused < 12 {
                match connect_with(&chatty, "/ws/EchoMessage", None) {
                    Ok(socket) => open.push(socket),
                    Err(tungstenite::Error::Http(response)) => {
                        assert_eq!(response.status(), 429);
                        refused += 1;
                    }
                    Err(e) => panic!("connect: {e}"),
                }
            }
            (open.len(), refused)
        });
        // The hostile calls are running by now.
        thread::sleep(Duration::from_millis(300));
        let beside = healthy_rounds(&healthy, &user.token, 20);
        stop.store(true, Ordering::Relaxed);
        for hostile in hostiles {
            assert!(hostile.join().expect("hostile loop") > 0);
        }
        assert_eq!(sockets.join().expect("sockets"), (4, 8));
        beside
    });
    let (beside_median, slowest) = (median(beside.clone()), beside.iter().max().copied());
    eprintln!("healthy median: solo {solo:?}, beside hostile apps {beside_median:?}");
    // Loose: the healthy app never waits for a hostile call to end (1 s of CPU each).
    assert!(
        beside_median < Duration::from_millis(500),
        "median {beside_median:?} (solo {solo:?}, slowest {slowest:?})"
    );
    let count = healthy.post_auth("/walker/CountTodos", json!({}), &user.token);
    assert_eq!(count.only_report(), &json!({"count": 30}), "{count:?}");
}
