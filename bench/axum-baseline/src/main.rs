//! The ceiling for the benchmark: a raw axum handler that answers every request (any
//! method, any path) with the exact JSON envelope `jac-scale` sends for the todo app's
//! public `Ping` walker. No wasm, no auth, no graph, no routing table: whatever our server
//! costs beyond this is the price of the walker host itself.
//!
//! Usage: `axum-baseline [PORT]` (default 18099); listens on 127.0.0.1 and prints the same
//! `listening on` line as `jac-scale start`.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;

/// The body of a successful `POST /walker/Ping`, byte for byte.
const PING_RESPONSE: &str = r#"{"ok":true,"type":"response","data":{"result":{},"reports":[{"pong":true}]},"error":null,"meta":{"extra":{"http_status":200}}}"#;

const DEFAULT_PORT: u16 = 18099;

async fn ping() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], PING_RESPONSE)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = match std::env::args().nth(1) {
        Some(arg) => arg.parse::<u16>().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad port {arg:?}: {e}"),
            )
        })?,
        None => DEFAULT_PORT,
    };
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    println!(
        "axum-baseline listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, Router::new().fallback(ping)).await
}
