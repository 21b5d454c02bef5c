//! Bounds on the request line and headers: a URL longer than `max_url_bytes` answers 414,
//! headers larger than `max_header_bytes` (names and values summed) answer 431, before
//! any handler runs. The connection's read buffer (`crate::serve`) bounds what is read
//! at all.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The two bounds, as the middleware's state.
#[derive(Clone, Copy)]
pub(crate) struct HeadBounds {
    pub max_url_bytes: usize,
    pub max_header_bytes: usize,
}

/// Middleware refusing oversized request heads.
pub(crate) async fn bound(State(b): State<HeadBounds>, request: Request, next: Next) -> Response {
    let url = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if url > b.max_url_bytes {
        return ApiError::UriTooLong(b.max_url_bytes).into_response();
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > b.max_header_bytes {
        return ApiError::HeadersTooLarge(b.max_header_bytes).into_response();
    }
    next.run(request).await
}
