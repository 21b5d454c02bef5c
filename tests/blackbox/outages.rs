//! Dependency failures: Redis, MongoDB and S3 (moto), each a real server the test starts
//! (`test-services`), stopped while the server is busy and started again. Calls that
//! need the missing service answer 503 `UNAVAILABLE` within the documented bound (README,
//! "When a backend goes away"), without internals; calls that do not need it keep
//! answering 200; `/healthz/ready` names the backend; and everything works again once
//! the service is back, with no restart of `jac-scale`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_services::{Kind, Service};

use crate::support::webhook::app_with_config;
use crate::support::websocket::{FRAME_TIMEOUT, Socket, connect, next, send};
use crate::support::{App, Reply, Server, Site};

/// How long a refused call may take: the documented bound of the slowest backend
/// (S3: connect 2 s + retries 3 s) and a margin for a loaded test machine.
const REFUSAL_BOUND: Duration = Duration::from_secs(8);
/// How long a backend may take to be used again once it is back.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);
/// Rounds of calls made while a backend is down (a load, not a single probe).
const ROUNDS_WHILE_DOWN: usize = 3;

/// `send` timed: the reply and how long it took.
fn timed(call: impl FnOnce() -> Reply) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = call();
    (reply, started.elapsed())
}

/// Asserts `reply` is the 503 `UNAVAILABLE` of a missing backend, answered within
/// [`REFUSAL_BOUND`] and naming no internals (addresses, driver types).
fn assert_refused_quickly(reply: &Reply, took: Duration) {
    reply.err(503, "UNAVAILABLE");
    assert!(took < REFUSAL_BOUND, "refused after {took:?}: {reply:?}");
    for internal in ["127.0.0.1", "panicked", "Kind(", "Error {"] {
        assert!(!reply.text.contains(internal), "internals in {reply:?}");
    }
}

/// `GET /healthz/ready` until it answers `status` (within [`RECOVERY_BOUND`]); the reply.
fn ready_until(site: &Site, status: u16) -> Reply {
    let deadline = Instant::now() + RECOVERY_BOUND;
    loop {
        let reply = site.get("/healthz/ready");
        if reply.status == status || Instant::now() >= deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Calls `call` until it answers 200 (within [`RECOVERY_BOUND`]); the last reply.
fn until_ok(mut call: impl FnMut() -> Reply) -> Reply {
    let deadline = Instant::now() + RECOVERY_BOUND;
    loop {
        let reply = call();
        if reply.status == 200 || Instant::now() >= deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asserts readiness names `backend` as unreachable.
fn assert_not_ready_for(site: &Site, backend: &str) {
    let down = ready_until(site, 503);
    let error = down.err(503, "UNAVAILABLE");
    assert_eq!(
        error["details"]["backends"][backend], "unreachable",
        "{down:?}"
    );
}

/// A key-value call of `examples/kv` on the Redis kvstore.
fn kv(server: &Server, op: &str, args: Value) -> Reply {
    server.post(
        "/walker/KeyValue",
        json!({"store": "outage", "op": op, "args": args}),
    )
}

/// A broadcast on `ChatRoom` sent by `sender`, and its content as every client in
/// `clients` received it.
fn chat(sender: &mut Socket, clients: &mut [&mut Socket], text: &str) -> Vec<Value> {
    send(sender, json!({"message": text, "sender": "outage"}));
    clients
        .iter_mut()
        .map(|client| next(client)["data"]["reports"][0]["content"].clone())
        .collect()
}

/// Redis stopped under load and started again: the cache tier steps aside (graph calls
/// keep working), kvstore calls answer 503 quickly, WebSocket broadcasts stay local; a
/// kvstore on the embedded backend and the graph never notice; once Redis is back the
/// kvstore answers again and broadcasts cross processes again.
#[test]
fn redis_stopped_and_restarted_under_load() {
    let redis = Service::start(Kind::Redis);
    let kv_server = Server::builder(App::Kv)
        .env("REDIS_URL", redis.url())
        .start();
    // Two processes of one realtime app (its own Redis channel) share broadcasts.
    let name = format!("outage-{}", std::process::id());
    let (_dir, wasm) = app_with_config(App::Realtime, &name, "");
    let realtime = [0, 1].map(|_| {
        Server::builder(App::Realtime)
            .wasm_path(wasm.clone())
            .env("REDIS_URL", redis.url())
            .start()
    });
    let mut first = connect(&realtime[0], "/ws/ChatRoom");
    let mut second = connect(&realtime[1], "/ws/ChatRoom");
    let user = kv_server.register_and_login("outage@example.com");
    kv(&kv_server, "set", json!({"key": "k", "value": "before"})).only_report();
    assert_eq!(
        chat(&mut first, &mut [&mut second], "before"),
        [json!("before")]
    );
    // `first` hears its own broadcast too; read it before going on.
    assert_eq!(next(&mut first)["data"]["reports"][0]["content"], "before");

    redis.stop();
    for round in 0..ROUNDS_WHILE_DOWN {
        let (reply, took) = timed(|| kv(&kv_server, "get", json!({"key": "k"})));
        assert_refused_quickly(&reply, took);
        // Not needing Redis: the embedded document store, the graph behind its cache
        // tier (users and roots), a plain walker of the realtime app.
        let documents = kv_server.post(
            "/walker/Documents",
            json!({"store": "local", "op": "insert_one",
                   "args": {"collection": "c", "document": {"round": round}}}),
        );
        documents.only_report();
        kv_server.login(&user.email);
        for server in &realtime {
            let reply = server.post("/walker/SlowEcho", json!({"ms": 1}));
            assert_eq!(reply.status, 200, "{reply:?}");
        }
        // A broadcast reaches the sender's process (locally) within the publish timeout.
        let (echoed, took) = {
            let started = Instant::now();
            send(&mut first, json!({"message": format!("down {round}")}));
            (next(&mut first), started.elapsed())
        };
        assert_eq!(
            echoed["data"]["reports"][0]["content"],
            format!("down {round}")
        );
        assert!(took < REFUSAL_BOUND, "a broadcast took {took:?}");
    }
    assert_not_ready_for(&kv_server, "redis");
    assert_not_ready_for(&realtime[0], "redis");

    redis.restart();
    let reply = until_ok(|| kv(&kv_server, "set", json!({"key": "k", "value": "after"})));
    reply.only_report();
    assert_eq!(
        kv(&kv_server, "get", json!({"key": "k"})).only_report()["result"],
        "after"
    );
    for site in [&*kv_server, &realtime[0], &realtime[1]] {
        let ready = ready_until(site, 200);
        assert_eq!(ready.ok()["backends"]["redis"], "ok", "{ready:?}");
    }
    // The relay listens again: a broadcast from one process reaches the other. Until
    // the subscriber is back, the sender's own process still gets it (locally).
    let deadline = Instant::now() + RECOVERY_BOUND;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let text = format!("after {attempt}");
        send(&mut first, json!({"message": &text}));
        assert_eq!(next(&mut first)["data"]["reports"][0]["content"], text);
        if contents_within(&mut second, Duration::from_millis(500)).contains(&json!(text)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "broadcasts did not cross processes again after Redis came back"
        );
    }
}

/// The broadcast contents `socket` receives within `wait`.
fn contents_within(socket: &mut Socket, wait: Duration) -> Vec<Value> {
    use tungstenite::stream::MaybeTlsStream;
    let set_timeout = |socket: &mut Socket, timeout: Duration| {
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(timeout))
                .expect("read timeout");
        }
    };
    set_timeout(socket, wait);
    let mut contents = Vec::new();
    while let Ok(message) = socket.read() {
        if let tungstenite::Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).expect("JSON frame");
            contents.push(frame["data"]["reports"][0]["content"].clone());
        }
    }
    set_timeout(socket, FRAME_TIMEOUT);
    contents
}

/// MongoDB (the store of record) stopped under load and started again: graph calls,
/// token checks and logins answer 503 quickly (not 401, not the driver's message),
/// routes that do not touch it keep answering, and once it is back calls work again.
#[test]
fn mongodb_stopped_and_restarted_under_load() {
    let mongodb = Service::start(Kind::MongoDb);
    let server = Server::builder(App::Todo)
        .env(
            "MONGODB_URI",
            test_services::with_database(mongodb.url(), "outage"),
        )
        .start();
    let user = server.register_and_login("outage@example.com");
    for title in ["one", "two"] {
        let reply = server.post_auth("/walker/CreateTodo", json!({"title": title}), &user.token);
        assert_eq!(reply.status, 200, "{reply:?}");
    }

    mongodb.stop();
    for round in 0..ROUNDS_WHILE_DOWN {
        let body = json!({"title": format!("down {round}")});
        let (reply, took) = timed(|| server.post_auth("/walker/CreateTodo", body, &user.token));
        assert_refused_quickly(&reply, took);
        let (reply, took) = timed(|| server.post_auth("/walker/ListTodos", json!({}), &user.token));
        assert_refused_quickly(&reply, took);
        let (reply, took) = timed(|| {
            server.post(
                "/user/login",
                json!({"email": user.email, "password": crate::support::PASSWORD}),
            )
        });
        assert_refused_quickly(&reply, took);
        // Not needing MongoDB.
        assert_eq!(server.get("/healthz/live").status, 200);
        assert_eq!(server.get("/openapi.json").status, 200);
    }
    assert_not_ready_for(&server, "mongodb");

    mongodb.restart();
    // Recovery: the server reconnects by itself. Checked with a user made after the
    // restart: SecantusDB, the test server, loses writes made shortly before it is
    // killed (a journaled mongod keeps them; README, "MongoDB in the tests").
    assert_eq!(ready_until(&server, 200).ok()["backends"]["mongodb"], "ok");
    // A public walker (the guest root is in the store) until the store answers again.
    let ping = until_ok(|| server.post("/walker/Ping", json!({})));
    assert_eq!(ping.status, 200, "{ping:?}");
    let again = server.post(
        "/user/register",
        json!({"email": "after@example.com", "password": crate::support::PASSWORD}),
    );
    assert_eq!(again.status, 201, "{again:?}");
    let after = server.login("after@example.com");
    let reply = server.post_auth(
        "/walker/CreateTodo",
        json!({"title": "three"}),
        &after.token,
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let listed = server.post_auth("/walker/ListTodos", json!({}), &after.token);
    assert_eq!(listed.only_report()[0]["title"], "three", "{listed:?}");
}

/// S3 (moto) stopped under load: storage calls answer 503 quickly, reading an upload
/// (kept on the host) still works; once S3 is back (moto forgets everything: the
/// bucket is made again, as an operator would) storage calls work with no restart.
#[test]
fn s3_stopped_and_started_again() {
    let s3 = Service::start(Kind::S3);
    let make_bucket = || {
        let made = reqwest::blocking::Client::new()
            .put(format!("{}/outage", s3.url()))
            .send()
            .expect("create the bucket");
        assert!(made.status().is_success(), "{made:?}");
    };
    make_bucket();
    let server = Server::builder(App::Files)
        .env("JAC_STORAGE_TYPE", "s3")
        .env("JAC_STORAGE_BUCKET", "outage")
        .env("JAC_STORAGE_ENDPOINT", s3.url())
        .env("JAC_STORAGE_ACCESS_KEY_ID", "testing")
        .env("JAC_STORAGE_SECRET_ACCESS_KEY", "testing")
        .start();
    crate::storage::upload(&server, "documents", "before.txt", b"before").only_report();

    s3.stop();
    for round in 0..ROUNDS_WHILE_DOWN {
        let name = format!("down{round}.txt");
        let (reply, took) = timed(|| crate::storage::upload(&server, "documents", &name, b"down"));
        assert_refused_quickly(&reply, took);
        let (reply, took) =
            timed(|| crate::storage::walker(&server, "list_files", json!({"folder": "documents"})));
        assert_refused_quickly(&reply, took);
        // Not needing S3: an upload read on the host, without storing it.
        crate::storage::inspect(&server, b"kept on the host").only_report();
        assert_eq!(server.get("/healthz/live").status, 200);
    }
    assert_not_ready_for(&server, "s3");

    s3.restart();
    make_bucket();
    let reply = until_ok(|| crate::storage::upload(&server, "documents", "after.txt", b"after"));
    reply.only_report();
    let listed = crate::storage::walker(&server, "list_files", json!({"folder": "documents"}));
    assert_eq!(
        listed.only_report()["files"][0]["path"],
        "documents/after.txt",
        "{listed:?}"
    );
    assert_eq!(ready_until(&server, 200).ok()["backends"]["s3"], "ok");
}
