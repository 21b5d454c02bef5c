//! Fair scheduling of guest CPU: a healthy walker keeps its latency while calls that
//! loop hold the cores, and one app holds at most its share of the guest threads.

use crate::support::webhook::app_with_config;
use crate::support::{App, Server};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Sequential `Fine` calls timed per measurement.
const SAMPLES: usize = 200;
/// Spinning calls in flight while the healthy walker is measured (the 4, and one more).
const SPINNERS: usize = 5;
/// Slack on top of the solo p99 the loaded p99 may take; before fair scheduling the
/// loaded median alone was ~540 ms.
const SLACK: Duration = Duration::from_millis(50);

/// Latency percentiles of `SAMPLES` sequential calls of `Fine`.
struct Latency {
    p50: Duration,
    p99: Duration,
}

fn measure(server: &Server) -> Latency {
    let mut took: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let started = Instant::now();
            let reply = server.post("/walker/Fine", json!({}));
            let took = started.elapsed();
            assert_eq!(reply.only_report(), &json!({"ok": true}), "{reply:?}");
            took
        })
        .collect();
    took.sort();
    Latency {
        p50: took[SAMPLES / 2],
        p99: took[SAMPLES * 99 / 100],
    }
}

/// Runs `scenario` while `SPINNERS` threads keep a `Spin` call in flight each.
fn while_spinning<T>(server: &Server, scenario: impl FnOnce() -> T) -> T {
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        for _ in 0..SPINNERS {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let reply = server.post("/walker/Spin", json!({}));
                    assert_eq!(reply.status, 504, "{reply:?}");
                }
            });
        }
        // Every spinner is on a CPU before the measurement starts.
        thread::sleep(Duration::from_millis(500));
        let result = scenario();
        stop.store(true, Ordering::Relaxed);
        result
    })
}

#[test]
fn spinning_calls_do_not_slow_a_healthy_walker() {
    // Spins end by their CPU quota, so the spinners re-post now and then.
    let (_dir, wasm) = app_with_config(
        App::Misbehave,
        "misbehave",
        "[plugins.scale.quotas]\ncpu_time_per_call_ms = 2000\n",
    );
    let server = Server::builder(App::Misbehave).wasm_path(wasm).start();
    measure(&server); // warm-up: code, pool slots, connections
    let solo = measure(&server);
    let loaded = while_spinning(&server, || measure(&server));
    eprintln!(
        "Fine solo p50 {:?} p99 {:?}; with {SPINNERS} spinning calls p50 {:?} p99 {:?}",
        solo.p50, solo.p99, loaded.p50, loaded.p99
    );
    let bound = solo.p99.mul_f64(1.5).max(solo.p99 + SLACK);
    assert!(
        loaded.p99 <= bound,
        "loaded p99 {:?} > {bound:?} (solo p99 {:?})",
        loaded.p99,
        solo.p99
    );
    assert!(
        loaded.p50 <= solo.p50 + SLACK / 5,
        "loaded p50 {:?}, solo p50 {:?}",
        loaded.p50,
        solo.p50
    );
}

#[test]
fn an_app_holds_at_most_its_share_of_the_guest_threads() {
    // Two guest threads, the app may hold one: two spins of 300 ms CPU each take turns
    // on one thread, so the later one ends after ~600 ms; with both threads, ~300 ms.
    let (_dir, wasm) = app_with_config(
        App::Misbehave,
        "misbehave",
        "[plugins.scale.limits]\nguest_threads = 2\n\
         [plugins.scale.quotas]\ncpu_threads = 1\ncpu_time_per_call_ms = 300\n",
    );
    let server = Server::builder(App::Misbehave).wasm_path(wasm).start();
    let started = Instant::now();
    let took: Vec<Duration> = thread::scope(|scope| {
        let spins: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let reply = server.post("/walker/Spin", json!({}));
                    assert_eq!(
                        reply.body()["error"]["details"]["quota"],
                        "cpu_time_per_call_ms"
                    );
                    started.elapsed()
                })
            })
            .collect();
        spins.into_iter().map(|s| s.join().expect("spin")).collect()
    });
    let last = took.iter().max().expect("two spins");
    assert!(
        *last >= Duration::from_millis(550),
        "two spins on one thread ended after {last:?}: they ran side by side"
    );
}
