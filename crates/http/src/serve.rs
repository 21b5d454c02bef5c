//! Accepting connections: HTTP/1.1 (with upgrades, for WebSockets) and HTTP/2, the peer's
//! address in every request (`ConnectInfo`, read by the login throttle), a cap on open
//! connections, a deadline for each request head (a client trickling bytes is cut off,
//! so slow clients cannot hold connections: slowloris) and a bounded read buffer. On
//! shutdown, stops accepting, lets open connections finish their requests and closes
//! WebSockets with "going away" after their running message.
//!
//! An HTTP/1 request answered before its body was read to the end (a refusal: 401,
//! 404, a quota, a 413 past the drained bytes) is answered with `Connection: close`:
//! the server drops such a connection rather than read the rest, and a client reusing
//! it would race the close.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Version, header};
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
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
        let router = router.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            answer(router.clone(), request)
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

/// `router`'s answer to `request`, closing the connection after it when an HTTP/1
/// request's body was left unread.
async fn answer(router: Router, request: Request<Incoming>) -> Result<Response, Infallible> {
    let watch = request.version() <= Version::HTTP_11 && !request.body().is_end_stream();
    let read = Arc::new(AtomicBool::new(!watch));
    let request = request.map(|inner| {
        axum::body::Body::new(Watched {
            inner,
            read: read.clone(),
        })
    });
    let mut response = router.oneshot(request).await?;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: Incoming,
    read: Arc<AtomicBool>,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
