//! What one client may do (`[plugins.scale.server]` limits): login and registration
//! throttles answer 429 with `Retry-After`, CORS answers only listed origins, oversized
//! request heads answer 414/431, and slow clients are cut off instead of holding
//! connections; after each, the server keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::support::webhook::app_with_config;
use crate::support::{App, PASSWORD, Server};

/// The todo app served with `[plugins.scale.server]` holding `settings`.
fn server_with(settings: &str) -> (tempfile::TempDir, Server) {
    let toml = format!("[plugins.scale.server]\n{settings}\n");
    let (dir, wasm) = app_with_config(App::Todo, "todo", &toml);
    let server = Server::builder(App::Todo).wasm_path(wasm).start();
    (dir, server)
}

fn login(server: &Server, email: &str, password: &str) -> reqwest::blocking::Response {
    server
        .request(Method::POST, "/user/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .expect("login answered")
}

/// The `Retry-After` of a 429 with the envelope's `RATE_LIMITED` code, in seconds.
fn retry_after_of_429(response: reqwest::blocking::Response) -> u64 {
    assert_eq!(response.status().as_u16(), 429, "{response:?}");
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("Retry-After in whole seconds");
    let body: serde_json::Value = response.json().expect("JSON envelope");
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
    retry
}

fn assert_still_serving(server: &Server) {
    let reply = server.post("/walker/Ping", json!({}));
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn failed_logins_are_throttled_per_account_and_the_owner_gets_in_after_the_window() {
    let (_dir, server) = server_with(
        "login_failures_per_account = 3\nlogin_failures_per_address = 100\nthrottle_window_seconds = 2",
    );
    server.register_and_login("alice@example.com");
    server.register_and_login("bob@example.com");
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(login(&server, "alice@example.com", "guess").status(), 401);
    }
    // the account is locked for the rest of the window, even with the right password,
    // and under another spelling of the same address
    let retry = retry_after_of_429(login(&server, "alice@example.com", PASSWORD));
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    retry_after_of_429(login(&server, "  ALICE@example.com", PASSWORD));
    // other accounts are not affected
    assert_eq!(login(&server, "bob@example.com", PASSWORD).status(), 200);
    // a successful login never counts: bob can log in again and again
    for _ in 0..5 {
        assert_eq!(login(&server, "bob@example.com", PASSWORD).status(), 200);
    }
    thread::sleep(
        Duration::from_secs(2).saturating_sub(started.elapsed()) + Duration::from_millis(200),
    );
    assert_eq!(login(&server, "alice@example.com", PASSWORD).status(), 200);
}

#[test]
fn failed_logins_are_throttled_per_client_address() {
    let (_dir, server) =
        server_with("login_failures_per_account = 100\nlogin_failures_per_address = 3");
    server.register_and_login("carol@example.com");
    for who in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(login(&server, who, "guess").status(), 401);
    }
    let retry = retry_after_of_429(login(&server, "carol@example.com", PASSWORD));
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_still_serving(&server);
}

#[test]
fn registrations_are_throttled_per_client_address() {
    let (_dir, server) = server_with("registrations_per_address = 2");
    for who in ["d@example.com", "e@example.com"] {
        let reply = server.post(
            "/user/register",
            json!({"email": who, "password": PASSWORD}),
        );
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let third = server
        .request(Method::POST, "/user/register")
        .json(&json!({"email": "f@example.com", "password": PASSWORD}))
        .send()
        .expect("register answered");
    retry_after_of_429(third);
    // the refused registration created no account
    assert_eq!(login(&server, "f@example.com", PASSWORD).status(), 401);
}

/// A browser's preflight for a POST with a bearer token from `origin`.
fn preflight(server: &Server, origin: &str) -> reqwest::blocking::Response {
    server
        .request(Method::OPTIONS, "/walker/Ping")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .expect("preflight answered")
}

/// A browser's `POST /walker/Ping` from a page of `origin`; asserts it ran.
fn ping_from(server: &Server, origin: &str) -> reqwest::blocking::Response {
    let call = server
        .request(Method::POST, "/walker/Ping")
        .header("origin", origin)
        .json(&json!({}))
        .send()
        .expect("ping answered");
    assert_eq!(call.status(), 200);
    call
}

fn allowed_origin(response: &reqwest::blocking::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn cors_answers_listed_origins_only() {
    let (_dir, server) = server_with("cors_allowed_origins = [\"https://app.example.com\"]");
    let ok = preflight(&server, "https://app.example.com");
    assert!(ok.status().is_success(), "{ok:?}");
    assert_eq!(
        allowed_origin(&ok).as_deref(),
        Some("https://app.example.com")
    );
    let methods = ok.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");
    let headers = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("authorization"), "{headers}");

    let call = ping_from(&server, "https://app.example.com");
    assert_eq!(
        allowed_origin(&call).as_deref(),
        Some("https://app.example.com")
    );

    let other = preflight(&server, "https://evil.example.com");
    assert_eq!(allowed_origin(&other), None, "{other:?}");
}

#[test]
fn without_cors_origins_no_cors_header_is_sent() {
    let server = Server::start(App::Todo);
    let call = ping_from(&server, "https://app.example.com");
    assert_eq!(allowed_origin(&call), None);
}

#[test]
fn oversized_request_heads_are_refused_and_the_server_keeps_serving() {
    let (_dir, server) = server_with("max_url_bytes = 1024\nmax_header_bytes = 4096");
    let long_url = format!("/walker/Ping?pad={}", "a".repeat(2000));
    server
        .send(server.request(Method::POST, &long_url).json(&json!({})))
        .err(414, "URI_TOO_LONG");
    server
        .send(
            server
                .request(Method::POST, "/walker/Ping")
                .header("x-pad", "b".repeat(6000))
                .json(&json!({})),
        )
        .err(431, "HEADERS_TOO_LARGE");
    // just under both bounds is fine
    let fine = format!("/walker/Ping?pad={}", "a".repeat(900));
    assert_eq!(
        server
            .send(
                server
                    .request(Method::POST, &fine)
                    .header("x-pad", "b".repeat(3000))
                    .json(&json!({}))
            )
            .status,
        200
    );
    assert_still_serving(&server);
}

/// Opens a connection that sends a request head one header every 100 ms, forever; returns
/// how long the server let it go on before closing it.
fn trickle_until_closed(address: &str, give_up: Duration) -> Duration {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    let closed = |stream: &mut TcpStream| {
        let mut buf = [0u8; 256];
        match stream.read(&mut buf) {
            // EOF, or the server's error answer before it closes
            Ok(n) => n == 0 || buf[..n].starts_with(b"HTTP/1.1 4"),
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    };
    if stream
        .write_all(b"POST /walker/Ping HTTP/1.1\r\nHost: slow\r\n")
        .is_err()
    {
        return started.elapsed();
    }
    while started.elapsed() < give_up {
        if stream.write_all(b"X-Slow: 1\r\n").is_err() || closed(&mut stream) {
            return started.elapsed();
        }
    }
    started.elapsed()
}

#[test]
fn slow_clients_are_cut_off_and_do_not_hold_the_server() {
    let (_dir, server) = server_with("header_read_timeout_ms = 500\nmax_connections = 2");
    let address = server.base_url().trim_start_matches("http://").to_owned();
    thread::scope(|scope| {
        // two slow clients take every connection the server allows
        let slow: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| trickle_until_closed(&address, Duration::from_secs(10))))
            .collect();
        thread::sleep(Duration::from_millis(100));
        // a well-behaved client gets through once they are cut off
        let started = Instant::now();
        let reply = server.post("/walker/Ping", json!({}));
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited {:?}",
            started.elapsed()
        );
        for handle in slow {
            let held = handle.join().unwrap();
            assert!(
                held < Duration::from_secs(3),
                "a slow client held its connection for {held:?}"
            );
        }
    });
    assert_still_serving(&server);
}

/// The `Connection` header of `POST path` with `body` (and `token`, when given).
fn connection_header_of(
    server: &Server,
    path: &str,
    body: String,
    token: Option<&str>,
) -> (u16, Option<String>) {
    let mut request = server
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().expect("answered");
    let connection = response
        .headers()
        .get("connection")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), connection)
}

#[test]
fn a_refusal_before_the_body_is_read_closes_the_connection() {
    let server = Server::start(App::Todo);
    let user = server.register_and_login("close@example.com");
    let title = json!({"title": "t"}).to_string();
    let close = Some("close".to_owned());
    // Refused before the body is read: no token for a protected walker, no such route.
    assert_eq!(
        connection_header_of(&server, "/walker/CreateTodo", title.clone(), None),
        (401, close.clone())
    );
    assert_eq!(
        connection_header_of(&server, "/walker/NoSuchWalker", title.clone(), None),
        (404, close)
    );
    // An oversized body is drained (up to 16 MiB) before its 413: the connection stays.
    let big = json!({"title": "x".repeat(2 * 1024 * 1024)}).to_string();
    assert_eq!(
        connection_header_of(&server, "/walker/CreateTodo", big, Some(&user.token)),
        (413, None)
    );
    // A body read to its end keeps the connection, whatever the answer.
    assert_eq!(
        connection_header_of(&server, "/walker/CreateTodo", title, Some(&user.token)),
        (200, None)
    );
    assert_eq!(
        connection_header_of(&server, "/walker/Echo", json!({}).to_string(), None).1,
        None
    );
    // A client reusing its connections keeps working after refusals.
    for _ in 0..20 {
        assert_eq!(
            server
                .post("/walker/CreateTodo", json!({"title": "t"}))
                .status,
            401
        );
        assert_still_serving(&server);
    }
}
