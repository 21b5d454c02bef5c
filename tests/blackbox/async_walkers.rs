//! Async walkers: a walker that sleeps holds no worker thread, so many run at once.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{App, Server};

#[test]
fn a_hundred_sleeping_walkers_finish_together() {
    let server = Server::start(App::Realtime);
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
    eprintln!("100 concurrent 200 ms sleeps took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(200));
    assert!(elapsed < Duration::from_millis(1_500), "took {elapsed:?}");
}
