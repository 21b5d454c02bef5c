//! A WebSocket client for `/ws/{walker}`: connect (with or without a bearer header),
//! send JSON frames, read the JSON answer frames.

use std::net::TcpStream;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::Site;

/// A client connection.
pub type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a frame.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

fn ws_url(server: &Site, path: &str) -> String {
    let url = server
        .request(Method::GET, path)
        .build()
        .unwrap()
        .url()
        .to_string();
    url.replacen("http://", "ws://", 1)
}

/// Connects to `path` (`/ws/...`), anonymously; panics if the upgrade is refused.
pub fn connect(server: &Site, path: &str) -> Socket {
    connect_with(server, path, None).unwrap_or_else(|e| panic!("connect {path}: {e}"))
}

/// Connects to `path`, with `Authorization: Bearer <bearer>` on the upgrade if given.
pub fn connect_with(
    server: &Site,
    path: &str,
    bearer: Option<&str>,
) -> Result<Socket, tungstenite::Error> {
    let mut request = ws_url(server, path).into_client_request()?;
    if let Some(token) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let (socket, _) = tungstenite::connect(request)?;
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(FRAME_TIMEOUT)).unwrap();
    }
    Ok(socket)
}

/// Sends one JSON text frame.
pub fn send(socket: &mut Socket, frame: Value) {
    socket.send(Message::text(frame.to_string())).expect("send");
}

/// The next text frame as JSON (pings are answered by tungstenite).
pub fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().expect("a frame before the timeout") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Sends `frame` and returns the answer.
pub fn ask(socket: &mut Socket, frame: Value) -> Value {
    send(socket, frame);
    next(socket)
}

/// The code of an error frame (asserts it is one).
pub fn error_code(frame: &Value) -> &str {
    assert_eq!(frame["ok"], false, "{frame}");
    frame["error"]["code"].as_str().unwrap_or_default()
}
