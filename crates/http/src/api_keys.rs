//! `/api-key/create`, `/api-key/list` and `DELETE /api-key/{api_key_id}` (bearer only).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde::Serialize;
use serde_json::{Value, json};

use super::HttpState;
use super::body::{parse_object, read_body};
use super::caller::RequiredCaller;
use super::envelope;
use super::error::ApiError;
use auth::api_keys::ApiKeyRecord;
use auth::api_keys::{ApiKeyError, MAX_EXPIRY_DAYS, MAX_KEY_NAME_BYTES, rfc3339};

/// The API key routes.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api-key/create", post(create))
        .route("/api-key/list", get(list))
        .route("/api-key/{api_key_id}", delete(revoke))
}

/// A key as listed (never the key itself).
#[derive(Serialize)]
struct KeyInfo {
    api_key_id: String,
    name: String,
    created_at: String,
    expires_at: Option<String>,
}

impl From<&ApiKeyRecord> for KeyInfo {
    fn from(r: &ApiKeyRecord) -> Self {
        KeyInfo {
            api_key_id: r.id.clone(),
            name: r.name.clone(),
            created_at: rfc3339(r.created_at),
            expires_at: r.expires_at.map(rfc3339),
        }
    }
}

async fn create(
    State(state): State<HttpState>,
    RequiredCaller(user): RequiredCaller,
    body: Body,
) -> Result<Response, ApiError> {
    let user = user.user_id;
    let body = parse_object(&read_body(body, state.body_limit()).await?)?;
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= MAX_KEY_NAME_BYTES => {
            n.trim().to_owned()
        }
        Some(Value::String(_)) => {
            return Err(ApiError::invalid(
                &["body", "name"],
                format!("the name must be 1 to {MAX_KEY_NAME_BYTES} bytes"),
                "string_length",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                &["body", "name"],
                "Input should be a valid string",
                "string_type",
            ));
        }
        None => {
            return Err(ApiError::invalid(
                &["body", "name"],
                "Field required",
                "missing",
            ));
        }
    };
    let expiry_days = match body.get("expiry_days") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(d) if d < 0 => {
                return Err(ApiError::invalid(
                    &["body", "expiry_days"],
                    "expiry_days must be 0 (never expires) or more",
                    "greater_than_equal",
                ));
            }
            Some(d) if d as u64 > MAX_EXPIRY_DAYS => {
                return Err(ApiError::invalid(
                    &["body", "expiry_days"],
                    format!("expiry_days must be at most {MAX_EXPIRY_DAYS}"),
                    "less_than_equal",
                ));
            }
            Some(d) => Some(d as u64),
            None => {
                return Err(ApiError::invalid(
                    &["body", "expiry_days"],
                    "Input should be a valid integer",
                    "int_type",
                ));
            }
        },
    };
    let keys = state.webhooks().api_keys.clone();
    let new = tokio::task::spawn_blocking(move || keys.create(&user, &name, expiry_days))
        .await
        .map_err(|e| ApiError::Internal(format!("api key task: {e}")))??;
    let info = KeyInfo::from(&new.record);
    Ok(envelope::ok_with(
        StatusCode::CREATED,
        json!({
            "api_key": new.api_key,
            "api_key_id": info.api_key_id,
            "name": info.name,
            "created_at": info.created_at,
            "expires_at": info.expires_at,
        }),
    ))
}

async fn list(
    State(state): State<HttpState>,
    RequiredCaller(user): RequiredCaller,
) -> Result<Response, ApiError> {
    let user = user.user_id;
    let keys = state.webhooks().api_keys.list(&user)?;
    let keys: Vec<KeyInfo> = keys.iter().map(KeyInfo::from).collect();
    Ok(envelope::ok(json!({ "api_keys": keys })))
}

async fn revoke(
    State(state): State<HttpState>,
    RequiredCaller(user): RequiredCaller,
    Path(api_key_id): Path<String>,
) -> Result<Response, ApiError> {
    let user = user.user_id;
    state.webhooks().api_keys.revoke(&user, &api_key_id)?;
    Ok(envelope::ok(
        json!({ "api_key_id": api_key_id, "revoked": true }),
    ))
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Malformed | ApiKeyError::Expired | ApiKeyError::Revoked => {
                ApiError::Unauthorized(e.to_string())
            }
            ApiKeyError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ApiKeyError::NotYours => ApiError::Forbidden(e.to_string()),
            ApiKeyError::Auth(_) | ApiKeyError::Store(_) => ApiError::Internal(e.to_string()),
        }
    }
}
