//! `/sso/{platform}/login`, `/sso/{platform}/register` and
//! `/sso/{platform}/login/callback`: single sign-on (the flow itself is `sso`'s).
//!
//! Login and register answer `303 See Other` to the provider and set the browser's
//! key in a short-lived cookie (`HttpOnly`, `SameSite=Lax`, `Secure` when `SSO_HOST` is
//! HTTPS), so the callback only completes in the browser that started it. The callback
//! answers the same body as `/user/login`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::error::ApiError;
use super::users::{auth_error, token_response};
use super::{HttpState, log_endpoint};
use auth::AuthError;
use sso::{Callback, PENDING_TTL, Purpose, SsoError};

/// The cookie holding the browser's key.
const COOKIE_NAME: &str = "jac_sso";

/// The single sign-on routes (they answer 404 when no platform is configured).
pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/sso/{platform}/login",
            get(|s: State<HttpState>, p: Path<String>, h: HeaderMap| {
                start(Purpose::Login, s, p, h)
            }),
        )
        .route(
            "/sso/{platform}/register",
            get(|s: State<HttpState>, p: Path<String>, h: HeaderMap| {
                start(Purpose::Register, s, p, h)
            }),
        )
        .route("/sso/{platform}/login/callback", get(callback))
}

/// Send the browser to the provider.
async fn start(
    purpose: Purpose,
    State(state): State<HttpState>,
    Path(platform): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    log_endpoint(&format!("sso:{platform}"));
    let sso = state.sso(&platform)?;
    let started = sso
        .start(&platform, purpose, browser_key(&headers))
        .await
        .map_err(sso_error)?;
    let settings = sso.settings();
    let cookie = format!(
        "{COOKIE_NAME}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        started.browser_key,
        settings.path(),
        PENDING_TTL.as_secs(),
        if settings.is_https() { "; Secure" } else { "" },
    );
    let location = HeaderValue::from_str(&started.authorization_url)
        .map_err(|e| ApiError::Internal(format!("authorization URL: {e}")))?;
    let cookie =
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(format!("cookie: {e}")))?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (LOCATION, location),
            (SET_COOKIE, cookie),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// What the provider appends to the callback URL.
#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// Finish the sign-in and log the verified email's account in.
async fn callback(
    State(state): State<HttpState>,
    Path(platform): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    log_endpoint(&format!("sso:{platform}:callback"));
    let sso = state.sso(&platform)?;
    let query: CallbackQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(&["query"], e.to_string(), "value_error"))?;
    let Some(sign_in) = query.state.as_deref() else {
        return Err(ApiError::invalid(
            &["query", "state"],
            "Field required",
            "missing",
        ));
    };
    if query.code.is_none() && query.error.is_none() {
        return Err(ApiError::invalid(
            &["query", "code"],
            "Field required",
            "missing",
        ));
    }
    let callback = Callback {
        state: sign_in,
        code: query.code.as_deref(),
        error: query.error.as_deref(),
    };
    let verified = sso
        .finish(&platform, callback, browser_key(&headers))
        .await
        .map_err(|e| {
            tracing::info!(platform, error = %e, "single sign-on refused");
            sso_error(e)
        })?;
    let auth = state.auth_arc();
    let grant = tokio::task::spawn_blocking(move || auth.login_verified_email(&verified.email))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| match e {
            AuthError::InvalidIdentity(why) => {
                ApiError::Unauthorized(format!("the provider's email is not usable here: {why}"))
            }
            other => auth_error(other),
        })?;
    Ok(token_response(StatusCode::OK, grant))
}

/// The browser's key from its `jac_sso` cookie, if it sent one.
fn browser_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
}

fn sso_error(e: SsoError) -> ApiError {
    match e {
        SsoError::UnknownPlatform(_) => ApiError::NotFound(e.to_string()),
        SsoError::InvalidState
        | SsoError::Denied(_)
        | SsoError::CodeRefused(_)
        | SsoError::InvalidIdToken(_)
        | SsoError::UnverifiedEmail => ApiError::Unauthorized(e.to_string()),
        SsoError::TooManyPending => ApiError::RateLimited {
            message: e.to_string(),
            retry_after: Some(std::time::Duration::from_secs(60)),
        },
        SsoError::Provider(detail) => {
            tracing::warn!("single sign-on: {detail}");
            ApiError::Unavailable("the identity provider is unavailable; try again later".into())
        }
        SsoError::Config(detail) => ApiError::Internal(detail),
    }
}
