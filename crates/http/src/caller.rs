//! Who is calling: a bearer token's user, or an anonymous guest.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::HttpState;
use super::error::ApiError;
use auth::{AuthError, AuthedUser};
use graph::{Caller, Graph};

/// The authenticated user, or nobody.
#[derive(Debug)]
pub enum Identity {
    User(AuthedUser),
    Anonymous,
}

impl Identity {
    /// The graph caller: the user's root, or the shared guest root.
    pub fn into_caller(self, graph: &Graph) -> Caller {
        match self {
            Identity::User(u) => Caller {
                root: u.root,
                user: Some(u.user_id),
            },
            Identity::Anonymous => Caller {
                root: graph.guest_root(),
                user: None,
            },
        }
    }
}

/// The bearer token of `headers`, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Identify the caller. With `required`, a missing or bad token is 401; without it,
/// a bad token is ignored and the call runs anonymous (API.md, public endpoints).
fn identify(state: &HttpState, headers: &HeaderMap, required: bool) -> Result<Identity, ApiError> {
    let identity = verify(state, headers, required)?;
    let who = match &identity {
        Identity::User(user) => user.user_id.as_str(),
        Identity::Anonymous => "anonymous",
    };
    tracing::Span::current().record("caller", who);
    Ok(identity)
}

fn verify(state: &HttpState, headers: &HeaderMap, required: bool) -> Result<Identity, ApiError> {
    let Some(token) = bearer(headers) else {
        return if required {
            Err(ApiError::Unauthorized("a bearer token is required".into()))
        } else {
            Ok(Identity::Anonymous)
        };
    };
    match state.auth().verify(token) {
        Ok(user) => Ok(Identity::User(user)),
        // The token could not be checked (the user store is down): neither 401 nor
        // anonymous.
        Err(e @ (AuthError::Store(_) | AuthError::Graph(_) | AuthError::Internal(_))) => {
            Err(crate::users::auth_error(e))
        }
        Err(e) if required => Err(ApiError::Unauthorized(format!("invalid token: {e}"))),
        Err(_) => Ok(Identity::Anonymous),
    }
}

/// Extracts the bearer token's user for a route that needs one: a missing or bad token
/// is answered 401 before the handler (or its body extractor) runs.
#[derive(Debug)]
pub struct RequiredCaller(pub AuthedUser);

impl FromRequestParts<HttpState> for RequiredCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        match identify(state, &parts.headers, true)? {
            Identity::User(user) => Ok(RequiredCaller(user)),
            Identity::Anonymous => Err(ApiError::Unauthorized("a bearer token is required".into())),
        }
    }
}

/// Extracts the caller of a route anonymous callers may use: the bearer token's user,
/// or [`Identity::Anonymous`] when there is no token or a bad one (API.md, public
/// endpoints). Never rejects.
#[derive(Debug)]
pub struct MaybeCaller(pub Identity);

impl FromRequestParts<HttpState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        identify(state, &parts.headers, false).map(MaybeCaller)
    }
}
