//! The HTTP face of the host: axum routes for users, health and the app's endpoints.
//!
//! - [`users`]: register and login (flat token bodies).
//! - [`health`]: liveness and readiness.
//! - [`endpoints`]: walkers and functions, dispatched through a route table built from
//!   the app's manifest ([`routes`]), so a reloaded app swaps its routes atomically.
//! - [`api_keys`], [`webhooks`]: API keys and the webhook walkers they call.
//! - [`websocket`]: WebSocket walkers (connections and broadcasts live in `realtime`).
//! - [`caller`]: who is calling (arguments are checked by `runtime::manifest::validate`).
//! - [`error`], [`envelope`]: the only places that shape responses.
//!
//! Invariant: no SQL and no wasmtime here; this layer talks to `auth`, `graph` and
//! `runtime` through their APIs.

mod api_keys;
mod body;
mod caller;
mod endpoints;
mod envelope;
mod error;
mod health;
mod multipart;
mod routes;
mod users;
mod webhooks;
mod websocket;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;

use auth::AuthService;
use auth::api_keys::ApiKeys;
use config::WebhookSettings;
pub use error::ApiError;
use realtime::Hub;
use routes::Routes;
use runtime::{Access, App, Endpoint, Protocol};
use webhook::RateLimiter;

/// An app together with the routes generated from its manifest.
pub struct Served {
    app: App,
    routes: Routes,
    /// Whether error answers carry the guest's own trace (the operator's debug setting).
    expose_traces: bool,
}

impl Served {
    /// Generate the routes of `app`; conflicting routes are an error. `expose_traces`:
    /// see [`crate::config::Config::debug`].
    pub fn new(app: App, expose_traces: bool) -> Result<Self, String> {
        let routes = Routes::build(app.manifest())?;
        Ok(Served {
            app,
            routes,
            expose_traces,
        })
    }

    /// A new version of the app, served with the same settings (`--reload`).
    pub fn next_version(&self, app: App) -> Result<Self, String> {
        Served::new(app, self.expose_traces)
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The non-private endpoint `name` reached by `protocol` (webhook, WebSocket).
    fn endpoint(&self, name: &str, protocol: Protocol) -> Option<&Endpoint> {
        self.app
            .manifest()
            .endpoints
            .iter()
            .find(|e| e.name == name && e.protocol == protocol && e.access != Access::Private)
    }
}

/// What the webhook routes need: the API keys, `[plugins.scale.webhook]`, the rate limit.
pub struct Webhooks {
    /// Issues and checks webhook API keys.
    pub api_keys: Arc<ApiKeys>,
    /// `[plugins.scale.webhook]`.
    pub settings: WebhookSettings,
    rate_limiter: RateLimiter,
}

impl Webhooks {
    /// The webhook services, with the rate limit of `settings`.
    pub fn new(api_keys: ApiKeys, settings: WebhookSettings) -> Self {
        Webhooks {
            api_keys: Arc::new(api_keys),
            rate_limiter: RateLimiter::new(settings.rate_limit_per_minute),
            settings,
        }
    }
}

/// What the WebSocket route needs: the connection registry and the message bound.
pub struct WebSockets {
    /// WebSocket connections and broadcasts.
    pub hub: Arc<Hub>,
    /// Largest WebSocket message, in bytes.
    pub max_message_bytes: usize,
}

/// State shared by every handler. Cheap to clone.
#[derive(Clone)]
pub struct HttpState(Arc<Shared>);

struct Shared {
    served: ArcSwap<Served>,
    auth: Arc<AuthService>,
    body_limit: usize,
    webhooks: Webhooks,
    websockets: WebSockets,
}

impl HttpState {
    /// State serving `served`, authenticating with `auth`.
    pub fn new(
        served: Served,
        auth: Arc<AuthService>,
        body_limit: usize,
        webhooks: Webhooks,
        websockets: WebSockets,
    ) -> Self {
        HttpState(Arc::new(Shared {
            served: ArcSwap::from_pointee(served),
            auth,
            body_limit,
            webhooks,
            websockets,
        }))
    }

    /// The app being served now. In-flight calls keep the one they started with.
    pub fn served(&self) -> Arc<Served> {
        self.0.served.load_full()
    }

    /// Swap in a new version of the app (`--reload`).
    pub fn replace(&self, served: Served) {
        self.0.served.store(Arc::new(served));
    }

    fn auth(&self) -> &AuthService {
        &self.0.auth
    }

    fn auth_arc(&self) -> Arc<AuthService> {
        self.0.auth.clone()
    }

    fn body_limit(&self) -> usize {
        self.0.body_limit
    }

    fn webhooks(&self) -> &Webhooks {
        &self.0.webhooks
    }

    fn websockets(&self) -> &WebSockets {
        &self.0.websockets
    }
}

/// The whole router: fixed routes first, then the app's generated routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .merge(users::router())
        .merge(health::router())
        .merge(api_keys::router())
        .merge(webhooks::router())
        .merge(websocket::router())
        .fallback(endpoints::dispatch)
        .layer(middleware::from_fn(trace_id))
        .with_state(state)
}

/// Give every request a trace id: in its log span and in the `X-Trace-Id` header.
async fn trace_id(request: Request, next: Next) -> Response {
    let id = hex::encode(rand::random::<[u8; 8]>());
    let span = tracing::info_span!("request", trace_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = tracing::Instrument::instrument(next.run(request), span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-trace-id", value);
    }
    response
}
