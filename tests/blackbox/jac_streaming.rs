//! Streamed responses (`examples/streaming-jac`), read by a real SSE client through the
//! real binary: a walker or function that reports or returns a generator answers
//! `text/event-stream` with one `data:` event per yielded value, sent while the call
//! runs, and `event: end` (or `event: error` when it raises midway), framed as
//! jac-scale 0.2.31 frames it; a client that goes away stops the guest.

use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::sse::{Event, EventStream};
use crate::support::{App, Server, User, websocket};

fn open(server: &Server, path: &str, body: Value, user: Option<&User>) -> EventStream {
    let mut request = server.request(Method::POST, path).json(&body);
    if let Some(user) = user {
        request = request.bearer_auth(&user.token);
    }
    EventStream::open(request)
}

fn data(text: &str) -> Event {
    Event {
        event: "message".into(),
        data: text.into(),
    }
}

fn end() -> Event {
    Event {
        event: "end".into(),
        data: "{}".into(),
    }
}

#[test]
fn a_reported_generator_streams_each_value_as_it_is_yielded() {
    let server = Server::start(App::StreamingJac);
    let mut stream = open(
        &server,
        "/walker/WalkerStream",
        json!({"count": 3, "pause": 0.4}),
        None,
    );
    assert_eq!(stream.status, 200);
    assert_eq!(stream.content_type(), "text/event-stream; charset=utf-8");
    assert_eq!(stream.headers["cache-control"], "no-cache");
    assert_eq!(stream.headers["x-accel-buffering"], "no");

    let first = stream.next_event();
    let first_at = Instant::now();
    assert_eq!(first, Some(data(r#""Report 0""#)));
    assert_eq!(stream.next_event(), Some(data(r#""Report 1""#)));
    assert_eq!(stream.next_event(), Some(data(r#""Report 2""#)));
    assert_eq!(stream.next_event(), Some(end()));
    // The two later values came two pauses after the first: sent as yielded, not at the end.
    assert!(
        first_at.elapsed() >= Duration::from_millis(700),
        "the events came together: {:?}",
        first_at.elapsed()
    );
    assert_eq!(stream.next_event(), None, "nothing after the closing event");
}

#[test]
fn functions_stream_reported_and_own_generators_with_python_json() {
    let server = Server::start(App::StreamingJac);
    let mut stream = open(
        &server,
        "/function/FunctionStream",
        json!({"count": 2}),
        None,
    );
    assert_eq!(
        stream.all_events(),
        [data(r#""Func 0""#), data(r#""Func 1""#), end()]
    );

    // A function that is itself a generator; values as Python's json.dumps writes them.
    let mut stream = open(&server, "/function/countdown", json!({"start": 2}), None);
    assert_eq!(stream.content_type(), "text/event-stream; charset=utf-8");
    assert_eq!(
        stream.all_events(),
        [
            data(r#"{"left": 2, "label": "T-2", "note": "d\u00e9collage"}"#),
            data(r#"{"left": 1, "label": "T-1", "note": "d\u00e9collage"}"#),
            end()
        ]
    );
    let parsed: Value = serde_json::from_str(r#"{"note": "d\u00e9collage"}"#).unwrap();
    assert_eq!(parsed["note"], "décollage");
}

#[test]
fn a_walker_without_a_generator_answers_the_json_envelope() {
    let server = Server::start(App::StreamingJac);
    let reply = server.post("/walker/Plain", json!({}));
    assert_eq!(reply.only_report(), &json!("not streamed"), "{reply:?}");
}

#[test]
fn an_error_midway_ends_the_stream_with_an_error_event_and_drops_the_writes() {
    let server = Server::start(App::StreamingJac);
    let user = server.register_and_login("stream-errors@example.com");
    let mut stream = open(&server, "/walker/Failing", json!({"after": 2}), Some(&user));
    assert_eq!(
        stream.all_events(),
        [
            data("0"),
            data("1"),
            Event {
                event: "error".into(),
                data: r#"{"error_type": "ValueError", "message": "broke after 2"}"#.into(),
            }
        ]
    );
    // The note written before the failure is not kept: a failed stream commits nothing.
    let notes = server.post_auth("/walker/Notes", json!({}), &user.token);
    assert_eq!(notes.only_report(), &json!([]), "{notes:?}");

    // A stream that ends well committed its writes before its closing event.
    let mut stream = open(
        &server,
        "/walker/NoteThenStream",
        json!({"text": "kept"}),
        Some(&user),
    );
    assert_eq!(stream.all_events(), [data(r#""saved""#), end()]);
    let notes = server.post_auth("/walker/Notes", json!({}), &user.token);
    assert_eq!(notes.only_report(), &json!(["kept"]), "{notes:?}");
}

/// The ticks the endless walker counted under `key` in its kvstore.
fn ticks(server: &Server, key: &str) -> i64 {
    let reply = server.post("/walker/TickCount", json!({"key": key}));
    reply.only_report().as_i64().unwrap_or(0)
}

#[test]
fn a_client_that_disconnects_stops_the_guest() {
    let server = Server::start(App::StreamingJac);
    let mut stream = open(&server, "/walker/Endless", json!({"key": "gone"}), None);
    for expected in ["1", "2", "3"] {
        assert_eq!(stream.next_event(), Some(data(expected)));
    }
    // While the client stays, the guest keeps counting (it runs ahead of the reader up to
    // the host's small buffer plus the socket's).
    let running = ticks(&server, "gone");
    thread::sleep(Duration::from_millis(500));
    assert!(
        ticks(&server, "gone") > running,
        "the guest should run while the client is connected"
    );

    drop(stream);
    thread::sleep(Duration::from_millis(500));
    let after_leaving = ticks(&server, "gone");
    thread::sleep(Duration::from_secs(1));
    assert_eq!(
        ticks(&server, "gone"),
        after_leaving,
        "the guest went on after the client left\n{}",
        server.log()
    );
    // The server keeps serving streams.
    let mut again = open(
        &server,
        "/function/FunctionStream",
        json!({"count": 1}),
        None,
    );
    assert_eq!(again.all_events(), [data(r#""Func 0""#), end()]);
}

#[test]
fn over_a_websocket_the_yielded_values_are_the_reports() {
    let server = Server::start(App::StreamingJac);
    let mut socket = websocket::connect(&server, "/ws/StreamWS");
    let reply = websocket::ask(&mut socket, json!({"count": 3}));
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(
        reply["data"]["reports"],
        json!(["WS 0", "WS 1", "WS 2"]),
        "{reply}"
    );
}
