//! Async walkers: a walker that sleeps holds no worker thread, so many run at once.
//! `SlowEcho` sleeps through the host's `jac:scale/timer`: in Rust with `Ctx::sleep`
//! (`examples/realtime`), in Jac with `await asyncio.sleep(...)` (`examples/realtime-jac`).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{App, Server};

#[test]
fn a_hundred_sleeping_rust_walkers_finish_together() {
    a_hundred_sleeping_walkers_finish_together(App::Realtime);
}

#[test]
fn a_hundred_sleeping_jac_walkers_finish_together() {
    a_hundred_sleeping_walkers_finish_together(App::RealtimeJac);
}

/// 100 concurrent calls of a walker sleeping 200 ms take well under 2 s in total.
fn a_hundred_sleeping_walkers_finish_together(app: App) {
    let server = Server::start(app);
    // Warm up: one call (instantiation paths, connection pool).
    let warm = server.post("/walker/SlowEcho", json!({"ms": 1}));
    assert_eq!(warm.only_report()["slept_ms"], 1, "{warm:?}");

    let started = Instant::now();
    std::thread::scope(|scope| {
        let calls: Vec<_> = (0..100)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    server.post(
                        "/walker/SlowEcho",
                        json!({"ms": 200, "message": i.to_string()}),
                    )
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let reply = call.join().expect("request thread");
            assert_eq!(
                reply.only_report(),
                &json!({"slept_ms": 200, "message": i.to_string()}),
                "{reply:?}"
            );
        }
    });
    let elapsed = started.elapsed();
    eprintln!("{app:?}: 100 concurrent 200 ms sleeps took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(200));
    assert!(elapsed < Duration::from_millis(1_500), "took {elapsed:?}");
}
