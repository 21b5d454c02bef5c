//! `/user/register` and `/user/login`.
//!
//! Three body shapes are accepted (API.md): `{"email", "password"}`,
//! `{"username", "password"}`, and jac-scale 0.2.x's
//! `{"identities" | "identity": ..., "credential": {"type": "password", "password"}}`.
//! Both answer the flat OAuth2-style token body, not the envelope.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::HttpState;
use super::body::read_body;
use super::client_limits::ClientAddr;
use super::error::ApiError;
use auth::{AuthError, Identity, LoginGrant};
use graph::store::StoreError;
use host_error::HostError;

/// The user routes.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/user/register", post(register))
        .route("/user/login", post(login))
}

#[derive(Deserialize)]
struct IdentityBody {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

#[derive(Deserialize)]
struct CredentialBody {
    password: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(IdentityBody),
    Many(Vec<IdentityBody>),
}

#[derive(Deserialize)]
struct CredentialsBody {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(alias = "identity")]
    identities: Option<OneOrMany>,
    credential: Option<CredentialBody>,
}

/// Which kind of identity a body named.
#[derive(Clone, Copy)]
enum Kind {
    Email,
    Username,
}

/// A parsed credentials body.
struct Credentials {
    kind: Kind,
    identity: String,
    password: String,
}

impl Credentials {
    fn identity(&self) -> Identity<'_> {
        match self.kind {
            Kind::Email => Identity::Email(&self.identity),
            Kind::Username => Identity::Username(&self.identity),
        }
    }
}

fn parse(bytes: &[u8]) -> Result<Credentials, ApiError> {
    let body: CredentialsBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(
            &["body"],
            format!("Invalid credentials body: {e}"),
            "json_invalid",
        )
    })?;
    let password = body
        .password
        .or(body.credential.map(|c| c.password))
        .unwrap_or_default();
    let (kind, identity) = if let Some(email) = body.email {
        (Kind::Email, email)
    } else if let Some(username) = body.username {
        (Kind::Username, username)
    } else {
        let first = match body.identities {
            Some(OneOrMany::One(i)) => Some(i),
            Some(OneOrMany::Many(list)) => list.into_iter().next(),
            None => None,
        }
        .ok_or_else(|| ApiError::invalid(&["body", "email"], "Field required", "missing"))?;
        let kind = match first.kind.as_str() {
            "email" => Kind::Email,
            "username" => Kind::Username,
            other => {
                return Err(ApiError::invalid(
                    &["body", "identities", "0", "type"],
                    format!("unknown identity type {other:?}; expected \"email\" or \"username\""),
                    "enum",
                ));
            }
        };
        (kind, first.value)
    };
    Ok(Credentials {
        kind,
        identity,
        password,
    })
}

/// The flat token body of register and login (and of the single sign-on callback).
#[derive(Serialize)]
struct TokenBody {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    token: String,
    user_id: String,
    root_id: String,
    role: String,
}

pub(super) fn token_response(status: StatusCode, grant: LoginGrant) -> Response {
    let body = TokenBody {
        token: grant.access_token.clone(),
        access_token: grant.access_token,
        token_type: "bearer",
        expires_in: grant.expires_in,
        user_id: grant.user_id,
        root_id: grant.root.to_string(),
        role: grant.role,
    };
    (status, axum::Json(body)).into_response()
}

pub(super) fn auth_error(e: AuthError) -> ApiError {
    match &e {
        AuthError::IdentityTaken => ApiError::BadRequest {
            code: "IDENTITY_TAKEN",
            message: "this identity is already registered".into(),
        },
        AuthError::InvalidCredentials => ApiError::Unauthorized("invalid credentials".into()),
        AuthError::InvalidIdentity(msg) => {
            ApiError::invalid(&["body", "email"], msg.clone(), "value_error")
        }
        AuthError::EmptyPassword | AuthError::PasswordTooLong => {
            ApiError::invalid(&["body", "password"], e.to_string(), "value_error")
        }
        // The store of users is down (MongoDB stopped): the client may retry; the
        // driver's details are logged, not answered.
        AuthError::Store(StoreError::Backend(_)) | AuthError::Graph(HostError::Unavailable(_)) => {
            tracing::error!("user store failed: {e}");
            ApiError::Unavailable("the user store is unavailable".into())
        }
        _ => ApiError::Internal(e.to_string()),
    }
}

async fn register(
    State(state): State<HttpState>,
    ClientAddr(addr): ClientAddr,
    body: Body,
) -> Result<Response, ApiError> {
    let c = parse(&read_body(body, state.body_limit()).await?)?;
    state.throttles().admit_registration(addr)?;
    let auth = state.auth_arc();
    let grant = tokio::task::spawn_blocking(move || auth.register(c.identity(), &c.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(auth_error)?;
    Ok(token_response(StatusCode::CREATED, grant))
}

async fn login(
    State(state): State<HttpState>,
    ClientAddr(addr): ClientAddr,
    body: Body,
) -> Result<Response, ApiError> {
    let c = parse(&read_body(body, state.body_limit()).await?)?;
    // Throttled per account under its stored form, so `Bob@x.com` counts as `bob@x.com`.
    let account = c
        .identity()
        .normalize()
        .unwrap_or_else(|_| c.identity.to_lowercase());
    let throttles = state.throttles();
    throttles.check_login(addr, &account)?;
    let auth = state.auth_arc();
    let outcome = tokio::task::spawn_blocking(move || auth.login(&c.identity, &c.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Err(AuthError::InvalidCredentials) = outcome {
        throttles.login_failed(addr, &account);
    }
    Ok(token_response(StatusCode::OK, outcome.map_err(auth_error)?))
}
