use crate::support::{App, Reply, Server};
use serde_json::{Value, json};
use std::thread;
use std::time::{Duration, Instant};

/// Host details a guest failure must never show.
const HOST_DETAILS: [&str; 5] = [
    "host/src",
    "crates/",
    ".cargo/registry",
    "/rustc/",
    "/work/",
];

fn assert_still_serving(server: &Server) {
    let reply = server.post("/walker/Fine", json!({}));
    assert_eq!(reply.only_report(), &json!({"ok": true}), "{reply:?}");
}

fn assert_no_host_details(reply: &Reply) {
    for detail in HOST_DETAILS {
        assert!(
            !reply.text.contains(detail),
            "error leaks {detail:?}: {reply:?}"
        );
    }
}

/// What `Count` reports: the nodes on the anonymous root.
fn count(server: &Server) -> Value {
    server
        .post("/walker/Count", json!({}))
        .only_report()
        .clone()
}

#[test]
fn endless_loop_times_out_and_the_server_keeps_serving() {
    let server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_CALL_TIMEOUT_MS", 1000)
        .start();
    let started = Instant::now();
    let reply = server.post("/walker/Spin", json!({}));
    let took = started.elapsed();
    reply.err(504, "TIMEOUT");
    assert!(took < Duration::from_secs(5), "timeout took {took:?}");
    assert!(
        took >= Duration::from_millis(900),
        "answered before the budget: {took:?}"
    );
    assert_still_serving(&server);
}

#[test]
fn endless_loop_does_not_block_other_calls() {
    let server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_CALL_TIMEOUT_MS", 4000)
        .start();
    thread::scope(|scope| {
        let spinning = scope.spawn(|| server.post("/walker/Spin", json!({})));
        thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        assert_still_serving(&server);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "Fine waited {took:?} behind Spin"
        );
        spinning.join().expect("spin call").err(504, "TIMEOUT");
    });
}

#[test]
fn memory_hog_fails_clearly_and_the_server_keeps_serving() {
    let server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_MEMORY_LIMIT_MIB", 16)
        .start();
    let reply = server.post("/walker/Hog", json!({}));
    assert!(reply.status >= 500, "{reply:?}");
    reply.assert_envelope(false);
    let message = reply.body()["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.to_lowercase().contains("memory"),
        "the error should say memory ran out: {reply:?}"
    );
    assert_no_host_details(&reply);
    assert_still_serving(&server);
}

#[test]
fn trap_is_an_execution_error_and_the_server_keeps_serving() {
    let server = Server::start(App::Misbehave);
    let reply = server.post("/walker/Crash", json!({}));
    reply.err(500, "EXECUTION_ERROR");
    assert_no_host_details(&reply);
    assert_still_serving(&server);
    // Twice: a trapped instance leaves nothing broken behind.
    server
        .post("/walker/Crash", json!({}))
        .err(500, "EXECUTION_ERROR");
    assert_still_serving(&server);
}

#[test]
fn writes_before_a_trap_are_dropped() {
    let server = Server::start(App::Misbehave);
    let before = count(&server);
    server
        .post("/walker/WriteThenCrash", json!({}))
        .err(500, "EXECUTION_ERROR");
    assert_eq!(count(&server), before);
}

#[test]
fn writes_before_a_timeout_are_dropped() {
    let server = Server::builder(App::Misbehave)
        .env("JAC_SCALE_CALL_TIMEOUT_MS", 1000)
        .start();
    let before = count(&server);
    server
        .post("/walker/WriteThenSpin", json!({}))
        .err(504, "TIMEOUT");
    assert_eq!(count(&server), before);
}

#[test]
fn huge_report_is_a_clean_error_and_the_server_keeps_serving() {
    let server = Server::start(App::Misbehave);
    let reply = server.post("/walker/HugeReport", json!({}));
    assert!(reply.status >= 400, "{reply:?}");
    reply.assert_envelope(false);
    assert!(
        reply.text.len() < 64 * 1024,
        "the error itself is huge: {reply:?}"
    );
    assert_no_host_details(&reply);
    assert_still_serving(&server);
}

#[test]
fn guest_output_goes_to_the_host_log_tagged_with_the_app() {
    let mut server = Server::start(App::Misbehave);
    server
        .post("/walker/Crash", json!({}))
        .err(500, "EXECUTION_ERROR");
    let deadline = Instant::now() + Duration::from_secs(5);
    let tagged_line = |log: &str| {
        log.lines()
            .any(|line| line.contains("Crash traps on purpose") && line.contains("misbehave"))
    };
    while !tagged_line(&server.process().stderr.text()) {
        assert!(
            Instant::now() < deadline,
            "the guest's panic message is not in the host log, tagged with the app:\n{}",
            server.process().output()
        );
        thread::sleep(Duration::from_millis(50));
    }
}
