//! `POST /webhook/{walker}`: webhook walkers, called by external services with an API
//! key and an HMAC signature of the body (see `webhook`). The walker runs as the
//! key's owner, on their root.
//!
//! Checks, in order, each with its own answer: the key is present (401), well-formed and
//! ours (401), unexpired (401), not revoked (401); the key's rate limit (429); the body
//! size (413); the timestamp (401) and the signature (401); then the fields (422).

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;

use super::HttpState;
use super::body::{parse_object, read_body};
use super::caller::Identity;
use super::endpoints::run;
use super::error::ApiError;
use auth::AuthedUser;
use files::Uploads;
use runtime::Protocol;
use runtime::manifest::{Source, validate};
use webhook::{self, Policy, Signed};

/// Header carrying the API key.
const API_KEY_HEADER: &str = "x-api-key";
/// Header carrying the optional Unix timestamp covered by the signature.
const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";

/// The webhook route.
pub fn router() -> Router<HttpState> {
    Router::new().route("/webhook/{walker}", post(call))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::Unauthorized(format!("header {name} is not valid text")))
        })
        .transpose()
}

async fn call(
    State(state): State<HttpState>,
    Path(walker): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let served = state.served();
    let endpoint = served
        .endpoint(&walker, Protocol::Webhook)
        .ok_or_else(|| ApiError::NotFound(format!("no webhook walker named {walker:?}")))?;
    super::log_endpoint(&endpoint.name);
    let webhooks = state.webhooks();
    let settings = &webhooks.settings;
    // Every refusal before the walker runs is counted by reason.
    let app_metrics = served.app_metrics();
    let refused = |reason: &'static str| {
        move |error: ApiError| {
            if let Some(metrics) = app_metrics {
                metrics.webhook_refused(reason);
            }
            error
        }
    };

    let api_key = header(&headers, API_KEY_HEADER)
        .map_err(refused("malformed_header"))?
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("missing X-API-Key header".into()))
        .map_err(refused("missing_key"))?;
    let holder = webhooks
        .api_keys
        .verify(api_key)
        .map_err(ApiError::from)
        .map_err(refused("invalid_key"))?;
    if let Err(retry) = webhooks.rate_limiter.admit(&holder.key_id, Instant::now()) {
        return Err(refused("rate_limited")(ApiError::RateLimited {
            message: format!(
                "this API key made more than {} webhook calls this minute; retry in {} s",
                settings.rate_limit_per_minute,
                retry.as_secs().max(1)
            ),
            retry_after: Some(retry),
        }));
    }

    let bytes = read_body(body, state.body_limit()).await?;
    let signed = Signed {
        api_key,
        body: &bytes,
        signature: header(&headers, &settings.signature_header)
            .map_err(refused("malformed_header"))?,
        timestamp: header(&headers, TIMESTAMP_HEADER).map_err(refused("malformed_header"))?,
    };
    let policy = Policy {
        header: &settings.signature_header,
        verify_signature: settings.verify_signature,
        require_timestamp: settings.require_timestamp,
        tolerance_seconds: settings.replay_tolerance.as_secs(),
    };
    if let Err(e) = webhook::check(&signed, &policy, auth::unix_now()) {
        return Err(refused(e.reason())(ApiError::Unauthorized(e.to_string())));
    }

    let args = validate(&endpoint.fields, parse_object(&bytes)?, |_| Source::Body)
        .map_err(ApiError::Validation)?;
    let owner = Identity::User(AuthedUser {
        user_id: holder.user_id,
        root: holder.root,
    });
    run(&served, endpoint, owner, args, None, Uploads::default()).await
}
