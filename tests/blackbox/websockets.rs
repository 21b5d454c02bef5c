//! WebSocket walkers with the realtime app: echo, each token route, protected walkers,
//! error frames, broadcast (one process and two processes sharing the real Redis),
//! connection slots released on disconnect, and the going-away close on SIGTERM.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::Message;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::support::webhook::app_with_config;
use crate::support::websocket::{
    FRAME_TIMEOUT, Socket, ask, connect, connect_with, error_code, next, send,
};
use crate::support::{App, Server};

pub(crate) fn echo_answers_each_message_with_the_walkers_reports(app: App) {
    let server = Server::start(app);
    let mut socket = connect(&server, "/ws/EchoMessage");
    let reply = ask(&mut socket, json!({"message": "hi"}));
    assert_eq!(
        reply,
        json!({"ok": true, "data": {"result": {"message": "hi", "client_id": "anonymous"}, "reports": [{"echo": "hi", "client_id": "anonymous"}]}})
    );
    let reply = ask(&mut socket, json!({"message": "again", "client_id": "c1"}));
    assert_eq!(
        reply["data"]["reports"][0],
        json!({"echo": "again", "client_id": "c1"})
    );
    // HTTP does not reach it, and only WebSocket walkers have a /ws route.
    server
        .post("/walker/EchoMessage", json!({"message": "x"}))
        .err(404, "NOT_FOUND");
    assert!(connect_with(&server, "/ws/PaymentReceived", None).is_err());
    assert!(connect_with(&server, "/ws/Nope", None).is_err());
}

pub(crate) fn malformed_frames_get_error_frames_and_the_connection_stays_usable(app: App) {
    let server = Server::start(app);
    let mut socket = connect(&server, "/ws/EchoMessage");
    socket.send(Message::text("not json")).unwrap();
    assert_eq!(error_code(&next(&mut socket)), "VALIDATION_ERROR");
    socket.send(Message::text("[1, 2]")).unwrap();
    assert_eq!(error_code(&next(&mut socket)), "VALIDATION_ERROR");
    let missing = ask(&mut socket, json!({"client_id": "c"}));
    assert_eq!(error_code(&missing), "VALIDATION_ERROR");
    assert_eq!(
        missing["error"]["details"][0]["loc"],
        json!(["body", "message"])
    );
    assert_eq!(
        error_code(&ask(&mut socket, json!({"message": 5}))),
        "VALIDATION_ERROR"
    );
    socket.send(Message::binary(vec![1u8, 2, 3])).unwrap();
    assert_eq!(error_code(&next(&mut socket)), "VALIDATION_ERROR");
    assert_eq!(
        ask(&mut socket, json!({"message": "still here"}))["ok"],
        true
    );
}

pub(crate) fn protected_walker_takes_the_token_from_each_route(app: App) {
    let server = Server::start(app);
    let user = server.register_and_login("ws@example.com");
    let expect_root = |frame: Value| {
        assert_eq!(frame["ok"], true, "{frame}");
        assert_eq!(frame["data"]["reports"][0]["root"], user.root_id.as_str());
    };

    let mut anonymous = connect(&server, "/ws/WhoAmI");
    assert_eq!(error_code(&ask(&mut anonymous, json!({}))), "UNAUTHORIZED");
    expect_root(ask(&mut anonymous, json!({"token": user.token})));
    assert_eq!(
        error_code(&ask(&mut anonymous, json!({"token": "forged"}))),
        "UNAUTHORIZED"
    );

    let mut by_query = connect(&server, &format!("/ws/WhoAmI?token={}", user.token));
    expect_root(ask(&mut by_query, json!({"note": "q"})));

    let mut by_header = connect_with(&server, "/ws/WhoAmI", Some(&user.token)).unwrap();
    expect_root(ask(&mut by_header, json!({})));

    let mut bad_query = connect(&server, "/ws/WhoAmI?token=forged");
    assert_eq!(error_code(&ask(&mut bad_query, json!({}))), "UNAUTHORIZED");
}

pub(crate) fn broadcast_reaches_every_client_and_echo_only_the_sender(app: App) {
    let server = Server::start(app);
    let mut clients: Vec<Socket> = (0..3).map(|_| connect(&server, "/ws/ChatRoom")).collect();
    send(
        &mut clients[0],
        json!({"message": "hello all", "sender": "ada"}),
    );
    for client in &mut clients {
        let frame = next(client);
        assert_eq!(
            frame["data"]["reports"][0],
            json!({"type": "message", "sender": "ada", "content": "hello all"})
        );
    }
    // A client that leaves is dropped; the others still get broadcasts.
    clients.pop().unwrap().close(None).unwrap();
    send(&mut clients[1], json!({"message": "after"}));
    for client in &mut clients {
        assert_eq!(next(client)["data"]["reports"][0]["content"], "after");
    }
    // Errors go to the sender alone.
    send(&mut clients[0], json!({}));
    assert_eq!(error_code(&next(&mut clients[0])), "VALIDATION_ERROR");

    let mut one = connect(&server, "/ws/EchoMessage");
    let mut other = connect(&server, "/ws/EchoMessage");
    assert_eq!(ask(&mut one, json!({"message": "mine"}))["ok"], true);
    assert_eq!(
        ask(&mut other, json!({"message": "theirs"}))["data"]["reports"][0]["echo"],
        "theirs",
        "the echo walker does not broadcast"
    );
}

#[test]
fn broadcast_crosses_processes_sharing_redis() {
    // A unique app name gives this test its own Redis channel.
    let name = format!("realtime-{}", std::process::id());
    let (_dir, wasm) = app_with_config(App::Realtime, &name, "");
    let first = Server::builder(App::Realtime)
        .wasm_path(wasm.clone())
        .env("REDIS_URL", test_services::redis_url())
        .start();
    let second = Server::builder(App::Realtime)
        .wasm_path(wasm)
        .env("REDIS_URL", test_services::redis_url())
        .start();
    let mut on_first = connect(&first, "/ws/ChatRoom");
    let mut on_second = connect(&second, "/ws/ChatRoom");
    send(&mut on_first, json!({"message": "across", "sender": "one"}));
    for client in [&mut on_first, &mut on_second] {
        assert_eq!(next(client)["data"]["reports"][0]["content"], "across");
    }
    send(&mut on_second, json!({"message": "back"}));
    for client in [&mut on_first, &mut on_second] {
        assert_eq!(next(client)["data"]["reports"][0]["content"], "back");
    }
}

#[test]
fn connection_slots_are_released_on_disconnect() {
    let (_dir, wasm) = app_with_config(
        App::Realtime,
        "realtime",
        "[plugins.scale.websocket]\nmax_connections_per_user = 2\n",
    );
    let server = Server::builder(App::Realtime).wasm_path(wasm).start();
    let user = server.register_and_login("slots@example.com");
    let path = format!("/ws/WhoAmI?token={}", user.token);
    let mut first = connect(&server, &path);
    let _second = connect(&server, &path);
    match connect_with(&server, &path, None) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!(
            "a third connection must be refused with 429, got {:?}",
            other.map(|_| ())
        ),
    }
    // Anonymous connections do not use the user's slots.
    let _anonymous = connect(&server, "/ws/WhoAmI");
    first.close(None).unwrap();
    let _ = first.read();
    let deadline = Instant::now() + FRAME_TIMEOUT;
    let mut third = loop {
        match connect_with(&server, &path, None) {
            Ok(socket) => break socket,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the closed connection's slot was not released: {e}"),
        }
    };
    assert_eq!(ask(&mut third, json!({}))["ok"], true);
}

#[test]
fn sigterm_closes_websockets_with_going_away() {
    let mut server = Server::start(App::Realtime);
    let mut socket = connect(&server, "/ws/EchoMessage");
    assert_eq!(ask(&mut socket, json!({"message": "before"}))["ok"], true);
    server.process().terminate();
    let frame = loop {
        match socket.read() {
            Ok(Message::Close(frame)) => break frame,
            Ok(_) => continue,
            Err(e) => panic!("the connection ended without a close frame: {e}"),
        }
    };
    let frame = frame.expect("the close frame has a code");
    assert_eq!(frame.code, CloseCode::Away, "{frame:?}");
    let status = server.process().wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "the server exits cleanly after closing: {status:?}"
    );
}

/// The scenarios shared with the Jac build (`jac_realtime`), run with the Rust build.
mod rust_build {
    crate::support::app_scenarios!(crate::support::App::Realtime; crate::websockets:
        echo_answers_each_message_with_the_walkers_reports,
        malformed_frames_get_error_frames_and_the_connection_stays_usable,
        protected_walker_takes_the_token_from_each_route,
        broadcast_reaches_every_client_and_echo_only_the_sender,
    );
}
