use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{App, Server};

/// The access line of the request with `trace_id`, once the server wrote it.
fn access_line(server: &mut Server, trace_id: &str) -> String {
    let process = server.process();
    assert!(
        process.wait_for_log(trace_id, Duration::from_secs(10)),
        "no log line with {trace_id}"
    );
    let output = process.output();
    output
        .lines()
        .find(|l| l.contains("jac_scale::access") && l.contains(trace_id))
        .unwrap_or_else(|| panic!("no access line for {trace_id}:\n{output}"))
        .to_owned()
}

#[test]
fn every_request_logs_one_json_line_with_app_endpoint_caller_status_and_duration() {
    let mut server = Server::builder(App::Todo)
        .env("JAC_SCALE_LOG_FORMAT", "json")
        .start();
    let user = server.register_and_login("log@example.com");
    let reply = server.post_auth("/walker/CreateTodo", json!({"title": "x"}), &user.token);
    let trace_id = reply.trace_id.clone().expect("X-Trace-Id");
    let line: Value =
        serde_json::from_str(&access_line(&mut server, &trace_id)).expect("JSON line");
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert!(
        line["fields"]["duration_ms"]
            .as_f64()
            .is_some_and(|d| d > 0.0),
        "{line}"
    );
    let span = &line["span"];
    assert_eq!(span["trace_id"], trace_id.as_str(), "{line}");
    assert_eq!(span["app"], "todo");
    assert_eq!(span["method"], "POST");
    assert_eq!(span["path"], "/walker/CreateTodo");
    assert_eq!(span["endpoint"], "CreateTodo");
    assert_eq!(span["caller"], user.user_id.as_str());
    let count = server
        .process()
        .output()
        .lines()
        .filter(|l| l.contains("jac_scale::access") && l.contains(&trace_id))
        .count();
    assert_eq!(count, 1, "one line per request");
}

#[test]
fn request_lines_are_text_by_default() {
    let mut server = Server::start(App::Todo);
    let reply = server.post("/walker/NoSuchWalker", json!({}));
    let trace_id = reply.trace_id.clone().expect("X-Trace-Id");
    let line = access_line(&mut server, &trace_id);
    assert!(
        line.contains("status=404") && line.contains("path=/walker/NoSuchWalker"),
        "{line}"
    );
    assert!(line.contains("duration_ms="), "{line}");
    let reply = server.post("/walker/Ping", json!({}));
    let line = access_line(&mut server, reply.trace_id.as_deref().expect("X-Trace-Id"));
    assert!(
        line.contains("endpoint=\"Ping\"") && line.contains("caller=\"anonymous\""),
        "{line}"
    );
}
