use crate::support::{App, Server};
use serde_json::json;
use std::collections::HashSet;

#[test]
fn health_endpoints_answer_200() {
    let server = Server::start(App::Todo);
    for path in ["/healthz", "/healthz/live", "/healthz/ready"] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{reply:?}");
    }
}

#[test]
fn every_response_carries_a_distinct_trace_id() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("trace@example.com");
    let replies = vec![
        server.get("/healthz"),
        server.post("/walker/Ping", json!({})),
        server.post("/walker/Boom", json!({})),
        server.post("/walker/NoSuchWalker", json!({})),
        server.post("/walker/Greet", json!({"name": "x"})),
        server.post("/walker/Echo", json!({})),
        server.post_raw("/walker/Echo", vec![b'x'; 2 * 1024 * 1024], None),
        server.post(
            "/user/login",
            json!({"email": "trace@example.com", "password": "no"}),
        ),
        server.post(
            "/user/register",
            json!({"email": "trace2@example.com", "password": "pw-pw-pw"}),
        ),
        server.post_auth("/walker/CountTodos", json!({}), &user.token),
        server.get("/custom/users"),
        server.post("/walker/GetInfo", json!({})),
        server.get("/no/such/route"),
    ];
    let mut seen = HashSet::new();
    for reply in &replies {
        let trace_id = reply
            .trace_id
            .as_deref()
            .unwrap_or_else(|| panic!("no X-Trace-Id: {reply:?}"));
        assert!(!trace_id.is_empty(), "empty X-Trace-Id: {reply:?}");
        assert!(
            seen.insert(trace_id.to_owned()),
            "trace id reused: {reply:?}"
        );
    }
}
