//! The spec's webhook and WebSocket walkers written in Jac (`examples/realtime-jac/app.jac`,
//! built with `jac-scale build`), served by the real binary: `PaymentReceived` called with
//! the spec's cURL + openssl example, `EchoMessage`, `ChatRoom` (`broadcast=True`) and a
//! protected WebSocket walker. The host paths these share with Rust apps are covered in
//! depth by `webhooks` and `websockets`; this checks that the Jac declarations reach them.
//! The async case is in `async_walkers`.

use serde_json::json;
use tungstenite::Message;

use crate::support::webhook::{
    PAYLOAD, assert_refused, curl_spec_example, hmac_hex, new_key, payment_report, signed,
    unix_now, webhook,
};
use crate::support::websocket::{Socket, ask, connect, connect_with, error_code, next, send};
use crate::support::{App, Server};

#[test]
fn the_specs_curl_example_runs_the_jac_webhook_with_and_without_timestamp() {
    let server = Server::start(App::RealtimeJac);
    let user = server.register_and_login("jac-hook@example.com");
    let (key, _) = new_key(&server, &user);
    for timestamped in [false, true] {
        let body = curl_spec_example(&server, &key, timestamped);
        assert_eq!(body["ok"], true, "timestamped: {timestamped}: {body}");
        assert_eq!(body["data"]["reports"], json!([payment_report()]));
        assert_eq!(
            body["data"]["result"],
            json!({"payment_id": "PAY-12345", "amount": 99.99, "currency": "USD"})
        );
    }
    // Jac's `currency: str = 'USD'` default applies.
    let reply = signed(&server, &key, r#"{"payment_id": "P2", "amount": 1}"#);
    assert_eq!(reply.only_report()["currency"], "USD", "{reply:?}");
}

#[test]
fn a_jac_webhook_with_a_bad_signature_or_stale_timestamp_is_refused() {
    let server = Server::start(App::RealtimeJac);
    let user = server.register_and_login("jac-refused@example.com");
    let (key, _) = new_key(&server, &user);
    let wrong = hmac_hex("another key", PAYLOAD.as_bytes());
    let reply = webhook(
        &server,
        &[("X-API-Key", &key), ("X-Webhook-Signature", &wrong)],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "does not match");

    let stale = (unix_now() - 1_000).to_string();
    let signature = hmac_hex(&key, format!("{stale}.{PAYLOAD}").as_bytes());
    let reply = webhook(
        &server,
        &[
            ("X-API-Key", &key),
            ("X-Webhook-Signature", &signature),
            ("X-Webhook-Timestamp", &stale),
        ],
        PAYLOAD,
    );
    assert_refused(&reply, 401, "UNAUTHORIZED", "300 seconds");
}

#[test]
fn jac_webhook_and_websocket_walkers_have_no_walker_route() {
    let server = Server::start(App::RealtimeJac);
    let user = server.register_and_login("jac-routes@example.com");
    for walker in ["PaymentReceived", "EchoMessage", "ChatRoom", "WhoAmI"] {
        server
            .post_auth(
                &format!("/walker/{walker}"),
                serde_json::from_str(PAYLOAD).unwrap(),
                &user.token,
            )
            .err(404, "NOT_FOUND");
    }
    assert!(connect_with(&server, "/ws/PaymentReceived", None).is_err());
    assert!(connect_with(&server, "/ws/SlowEcho", None).is_err());
}

#[test]
fn jac_echo_answers_each_message_over_websocket() {
    let server = Server::start(App::RealtimeJac);
    let mut socket = connect(&server, "/ws/EchoMessage");
    assert_eq!(
        ask(&mut socket, json!({"message": "hi"})),
        json!({"ok": true, "data": {"result": {"message": "hi", "client_id": "anonymous"}, "reports": [{"echo": "hi", "client_id": "anonymous"}]}})
    );
    assert_eq!(
        ask(&mut socket, json!({"message": "again", "client_id": "c1"}))["data"]["reports"],
        json!([{"echo": "again", "client_id": "c1"}])
    );
}

#[test]
fn jac_chat_room_broadcasts_to_every_client() {
    let server = Server::start(App::RealtimeJac);
    let mut clients: Vec<Socket> = (0..3).map(|_| connect(&server, "/ws/ChatRoom")).collect();
    send(
        &mut clients[1],
        json!({"message": "hello all", "sender": "ada"}),
    );
    for client in &mut clients {
        assert_eq!(
            next(client)["data"]["reports"],
            json!([{"type": "message", "sender": "ada", "content": "hello all"}])
        );
    }
    // Errors go to the sender alone: the next frame the others read is the next broadcast.
    send(&mut clients[0], json!({"sender": "no message"}));
    assert_eq!(error_code(&next(&mut clients[0])), "VALIDATION_ERROR");
    send(&mut clients[2], json!({"message": "after"}));
    for client in &mut clients {
        assert_eq!(
            next(client)["data"]["reports"][0]["sender"],
            "anonymous",
            "the default sender"
        );
    }
}

#[test]
fn malformed_frames_to_a_jac_walker_get_error_frames() {
    let server = Server::start(App::RealtimeJac);
    let mut socket = connect(&server, "/ws/EchoMessage");
    socket.send(Message::text("not json")).unwrap();
    assert_eq!(error_code(&next(&mut socket)), "VALIDATION_ERROR");
    let missing = ask(&mut socket, json!({"client_id": "c"}));
    assert_eq!(error_code(&missing), "VALIDATION_ERROR");
    assert_eq!(
        missing["error"]["details"][0]["loc"],
        json!(["body", "message"])
    );
    assert_eq!(
        error_code(&ask(&mut socket, json!({"message": ["not", "a", "str"]}))),
        "VALIDATION_ERROR"
    );
    assert_eq!(
        ask(&mut socket, json!({"message": "still here"}))["ok"],
        true
    );
}

#[test]
fn a_protected_jac_websocket_walker_needs_a_token() {
    let server = Server::start(App::RealtimeJac);
    let user = server.register_and_login("jac-ws@example.com");
    let mut anonymous = connect(&server, "/ws/WhoAmI");
    assert_eq!(error_code(&ask(&mut anonymous, json!({}))), "UNAUTHORIZED");
    assert_eq!(
        error_code(&ask(&mut anonymous, json!({"token": "forged"}))),
        "UNAUTHORIZED"
    );
    // With a token (in the message, then on the upgrade) it runs on the user's root.
    let frame = ask(&mut anonymous, json!({"token": user.token, "note": "n"}));
    assert_eq!(
        frame["data"]["reports"],
        json!([{"root": user.root_id, "note": "n"}]),
        "{frame}"
    );
    let mut by_header = connect_with(&server, "/ws/WhoAmI", Some(&user.token)).unwrap();
    assert_eq!(
        ask(&mut by_header, json!({}))["data"]["reports"][0]["root"],
        user.root_id.as_str()
    );
}
