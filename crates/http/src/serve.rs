//! Accepting connections: HTTP/1.1 (with upgrades, for WebSockets) and HTTP/2, the peer's
//! address in every request (`ConnectInfo`, read by the login throttle), a cap on open
//! connections, a deadline for each request head (a client trickling bytes is cut off,
//! so slow clients cannot hold connections: slowloris) and a bounded read buffer. On
//! shutdown, stops accepting, lets open connections finish their requests and closes
//! WebSockets with "going away" after their running message.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use config::ClientLimits;

/// The smallest read buffer hyper accepts.
const MIN_READ_BUFFER: usize = 8192;
/// Room in the read buffer beyond the URL and header bounds (request line, separators).
const HEAD_SLACK: usize = 1024;
/// Pause after a failed accept (a full file table) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serve `router` on `listener` until `shutdown` resolves, then drain open connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ClientLimits,
    shutdown: impl Future<Output = ()>,
) {
    let read_buffer =
        (limits.max_url_bytes + limits.max_header_bytes + HEAD_SLACK).max(MIN_READ_BUFFER);
    let header_timeout = limits.header_read_timeout;
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.map(axum::body::Body::new)
            });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(read_buffer);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Upgraded connections (WebSockets) are not the graceful watcher's any more.
    tokio::join!(graceful.shutdown(), crate::websocket::close_all());
}
