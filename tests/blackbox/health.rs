use crate::support::{App, Reply, Server};
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use test_services::{Kind, Service};

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

/// `GET /healthz/ready` until it answers `status`, for up to ten seconds (a round of
/// probes is reused for a second); the last reply.
fn ready_until(server: &Server, status: u16) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = server.get("/healthz/ready");
        if reply.status == status || Instant::now() >= deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn ready_names_the_backend_that_is_down() {
    let redis = Service::start(Kind::Redis);
    let s3 = Service::start(Kind::S3);
    let bucket = reqwest::blocking::Client::new()
        .put(format!("{}/ready", s3.url()))
        .send()
        .expect("create the bucket");
    assert!(bucket.status().is_success(), "{bucket:?}");
    let server = Server::builder(App::Todo)
        .env("REDIS_URL", redis.url())
        .env("JAC_STORAGE_TYPE", "s3")
        .env("JAC_STORAGE_BUCKET", "ready")
        .env("JAC_STORAGE_ENDPOINT", s3.url())
        .env("JAC_STORAGE_ACCESS_KEY_ID", "testing")
        .env("JAC_STORAGE_SECRET_ACCESS_KEY", "testing")
        .start();
    let ready = server.get("/healthz/ready");
    assert_eq!(
        ready.ok()["backends"],
        json!({"redis": "ok", "s3": "ok"}),
        "{ready:?}"
    );

    redis.stop();
    let started = Instant::now();
    let down = ready_until(&server, 503);
    let error = down.err(503, "UNAVAILABLE");
    assert_eq!(
        error["details"]["backends"],
        json!({"redis": "unreachable", "s3": "ok"}),
        "{down:?}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("redis")),
        "{down:?}"
    );
    // Probes are bounded: an answer within the round's reuse plus the probe timeout.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Down for traffic, not dead: liveness is unaffected.
    assert_eq!(server.get("/healthz/live").status, 200);

    redis.restart();
    let again = ready_until(&server, 200);
    assert_eq!(again.ok()["backends"]["redis"], "ok", "{again:?}");

    s3.stop();
    let down = ready_until(&server, 503);
    assert_eq!(
        down.err(503, "UNAVAILABLE")["details"]["backends"],
        json!({"redis": "ok", "s3": "unreachable"}),
        "{down:?}"
    );
}

#[test]
fn ready_probes_mongodb_when_it_is_the_store() {
    let mongodb = Service::start(Kind::MongoDb);
    let server = Server::builder(App::Todo)
        .env(
            "MONGODB_URI",
            test_services::with_database(mongodb.url(), "ready"),
        )
        .start();
    let ready = server.get("/healthz/ready");
    assert_eq!(
        ready.ok()["backends"],
        json!({"mongodb": "ok"}),
        "{ready:?}"
    );
    mongodb.stop();
    let down = ready_until(&server, 503);
    assert_eq!(
        down.err(503, "UNAVAILABLE")["details"]["backends"],
        json!({"mongodb": "unreachable"}),
        "{down:?}"
    );
}
