//! The HTTP face of the host: axum routes for users, health and the app's endpoints.
//!
//! - [`users`]: register and login (flat token bodies).
//! - [`health`]: liveness, and readiness with probes of the configured backends.
//! - [`endpoints`]: walkers and functions, dispatched through a route table built from
//!   the app's manifest ([`routes`]), so a reloaded app swaps its routes atomically.
//! - [`api_keys`], [`webhooks`]: API keys and the webhook walkers they call.
//! - [`websocket`]: WebSocket walkers (connections and broadcasts live in `realtime`).
//! - [`docs`]: `/openapi.json`, Swagger UI and ReDoc (the document comes from `openapi`).
//! - [`request_metrics`]: request metrics (a middleware) and the Prometheus scrape endpoint.
//! - [`traverse`]: `POST /traverse`, the caller's readable graph, paged.
//! - [`single_sign_on`]: `/sso/{platform}/...`, sign-in through an OpenID provider.
//! - [`caller`]: who is calling (arguments are checked by `runtime::manifest::validate`).
//! - [`client_limits`]: CORS, request-head bounds, login and registration throttles;
//!   [`serve`]: the accept loop (connection cap, slow-client deadline, peer address).
//! - [`error`], [`envelope`]: the only places that shape responses.
//!
//! Invariant: no SQL and no wasmtime here; this layer talks to `auth`, `graph` and
//! `runtime` through their APIs.

mod api_keys;
mod body;
mod caller;
mod client_limits;
mod docs;
mod endpoints;
mod envelope;
mod error;
mod health;
mod multipart;
pub mod openapi;
mod request_metrics;
mod routes;
mod serve;
mod single_sign_on;
mod sse;
mod traverse;
mod users;
mod webhooks;
mod websocket;

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;

use auth::AuthService;
use auth::api_keys::ApiKeys;
use client_limits::Throttles;
use client_limits::request_head::{self, HeadBounds};
use config::{ClientLimits, WebhookSettings};
pub use docs::Docs;
pub use envelope::{ok, ok_with};
pub use error::ApiError;
pub use health::{Backend, PROBE_TIMEOUT, ProbeFuture, Readiness};
use metrics::{AppMetrics, Metrics};
use rate_limit::RateLimiter;
use realtime::Hub;
pub use request_metrics::{refresh_readings, scrape_response};
use routes::Routes;
use runtime::schedule::Schedules;
use runtime::{Access, App, Endpoint, Protocol};
pub use serve::serve;

/// An app together with the routes generated from its manifest.
pub struct Served {
    app: Arc<App>,
    routes: Routes,
    /// The app's scheduled jobs, running while this version is served.
    schedules: Schedules,
    /// The metrics, when enabled, with this app's resolved host metrics.
    metrics: Option<(Arc<Metrics>, AppMetrics)>,
    /// The OpenAPI document, generated on first request.
    openapi: OnceLock<serde_json::Value>,
    /// Whether error answers carry the guest's own trace (the operator's debug setting).
    expose_traces: bool,
    /// Who the scheduled jobs run as (the system user).
    jobs_caller: graph::Caller,
}

impl Served {
    /// Generate the routes of `app` and start its scheduled jobs, run as `jobs_caller`;
    /// conflicting routes are an error. With `metrics`, the app's calls are measured.
    /// `expose_traces`: see `config::Config::debug`.
    pub fn new(
        app: App,
        metrics: Option<&Arc<Metrics>>,
        expose_traces: bool,
        jobs_caller: graph::Caller,
    ) -> Result<Self, String> {
        let routes = Routes::build(app.manifest())?;
        let metrics = metrics.map(|m| (m.clone(), m.app(app.name())));
        let app = match &metrics {
            Some((_, app_metrics)) => app.observed_by(Arc::new(app_metrics.clone())),
            None => app,
        };
        let app = Arc::new(app);
        Ok(Served {
            schedules: Schedules::start(app.clone(), &jobs_caller),
            app,
            routes,
            metrics,
            openapi: OnceLock::new(),
            expose_traces,
            jobs_caller,
        })
    }

    /// A new version of the app, served with the same settings (`--reload`).
    pub fn next_version(&self, app: App) -> Result<Self, String> {
        Served::new(
            app,
            self.metrics.as_ref().map(|(metrics, _)| metrics),
            self.expose_traces,
            self.jobs_caller.clone(),
        )
    }

    /// The app's OpenAPI document as JSON (generated once per app version); reached
    /// under `prefix`, its server URL is the prefix.
    fn openapi_json(
        &self,
        options: &crate::openapi::DocumentOptions,
        prefix: Option<&str>,
    ) -> bytes::Bytes {
        let document = self
            .openapi
            .get_or_init(|| crate::openapi::document(self.app.manifest(), options));
        let written = match prefix {
            None => serde_json::to_vec(document),
            Some(prefix) => {
                let mut document = document.clone();
                document["servers"] = serde_json::json!([{ "url": prefix }]);
                serde_json::to_vec(&document)
            }
        };
        written.map(bytes::Bytes::from).unwrap_or_default()
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Stop the app's scheduled jobs (reload, shutdown); a run in progress is cancelled.
    pub fn stop_schedules(&self) {
        self.schedules.stop();
    }

    /// The metrics, when enabled.
    fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_ref().map(|(m, _)| &**m)
    }

    /// This app's host metrics, when enabled.
    fn app_metrics(&self) -> Option<&AppMetrics> {
        self.metrics.as_ref().map(|(_, a)| a)
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

/// The path prefix a request came in under (`/apps/<name>` when `serve` mounts the app
/// there), set as a request extension by whoever stripped it; the OpenAPI document names
/// it as its server URL.
#[derive(Debug, Clone)]
pub struct MountPrefix(pub Arc<str>);

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
            rate_limiter: RateLimiter::new(
                settings.rate_limit_per_minute,
                std::time::Duration::from_secs(60),
            ),
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
    metrics: Option<Arc<Metrics>>,
    sso: Option<Arc<::sso::Sso>>,
    readiness: Readiness,
    client_limits: ClientLimits,
    throttles: Throttles,
}

/// Who signs people in: passwords and tokens (`auth`), and single sign-on through
/// OpenID providers when a platform is configured.
pub struct Accounts {
    /// Users, passwords and bearer tokens.
    pub auth: Arc<AuthService>,
    /// Single sign-on, when configured.
    pub sso: Option<Arc<::sso::Sso>>,
}

/// What the operator watches: the metrics (when enabled) and the backends readiness
/// probes.
pub struct Monitoring {
    /// The metrics, when enabled.
    pub metrics: Option<Arc<Metrics>>,
    /// The backends `/healthz/ready` asks.
    pub readiness: Readiness,
}

impl HttpState {
    /// State serving `served`, signing people in with `accounts`, watched through
    /// `monitoring`, with the limits on clients of `client_limits`.
    pub fn new(
        served: Served,
        accounts: Accounts,
        body_limit: usize,
        webhooks: Webhooks,
        websockets: WebSockets,
        monitoring: Monitoring,
        client_limits: &ClientLimits,
    ) -> Self {
        HttpState(Arc::new(Shared {
            served: ArcSwap::from_pointee(served),
            auth: accounts.auth,
            body_limit,
            webhooks,
            websockets,
            metrics: monitoring.metrics,
            sso: accounts.sso,
            readiness: monitoring.readiness,
            client_limits: client_limits.clone(),
            throttles: Throttles::new(client_limits),
        }))
    }

    /// The metrics, when enabled (a reloaded app is measured with them too).
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.0.metrics.as_ref()
    }

    /// The app being served now. In-flight calls keep the one they started with.
    pub fn served(&self) -> Arc<Served> {
        self.0.served.load_full()
    }

    /// Swap in a new version of the app (`--reload`); the old version's jobs stop.
    pub fn replace(&self, served: Served) {
        self.0.served.swap(Arc::new(served)).stop_schedules();
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

    /// Single sign-on, when `platform` is one of its configured platforms.
    fn sso(&self, platform: &str) -> Result<&::sso::Sso, ApiError> {
        self.0
            .sso
            .as_deref()
            .filter(|sso| sso.platform_names().any(|name| name == platform))
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no single sign-on platform named `{platform}` is configured"
                ))
            })
    }

    fn readiness(&self) -> &Readiness {
        &self.0.readiness
    }

    fn webhooks(&self) -> &Webhooks {
        &self.0.webhooks
    }

    fn websockets(&self) -> &WebSockets {
        &self.0.websockets
    }

    fn throttles(&self) -> &Throttles {
        &self.0.throttles
    }
}

/// The whole router: fixed routes first, then the app's generated routes; the
/// documentation routes when `docs` is given.
pub fn router(state: HttpState, docs: Option<Docs>) -> Router {
    let mut router = Router::new()
        .merge(users::router())
        .merge(health::router())
        .merge(api_keys::router())
        .merge(webhooks::router())
        .merge(websocket::router())
        .merge(traverse::router())
        .merge(single_sign_on::router());
    if let Some(docs) = docs {
        router = router.merge(docs::router(docs));
    }
    if let Some(m) = state.metrics() {
        router = router
            .merge(request_metrics::router(m.clone()))
            .fallback(endpoints::dispatch)
            .layer(middleware::from_fn_with_state(
                state.clone(),
                request_metrics::track,
            ));
    } else {
        router = router.fallback(endpoints::dispatch);
    }
    let limits = &state.0.client_limits;
    let head_bounds = HeadBounds {
        max_url_bytes: limits.max_url_bytes,
        max_header_bytes: limits.max_header_bytes,
    };
    let cors = client_limits::cors::layer(&limits.cors_allowed_origins);
    let router = router
        .layer(middleware::from_fn_with_state(
            head_bounds,
            request_head::bound,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state);
    // Outermost, so a preflight is answered before routing (which knows no OPTIONS).
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Give every request a trace id (in its log span and the `X-Trace-Id` header) and log
/// one line when it ends: app, method, path, endpoint, caller, status, duration.
async fn log_request(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let id = hex::encode(rand::random::<[u8; 8]>());
    let span = tracing::info_span!(
        "request",
        trace_id = %id,
        app = %state.served().app().name(),
        method = %request.method(),
        path = %request.uri().path(),
        endpoint = tracing::field::Empty,
        caller = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            target: "jac_scale::access",
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-trace-id", value);
    }
    response
}

/// Name the endpoint a request reached in its log line.
fn log_endpoint(name: &str) {
    tracing::Span::current().record("endpoint", name);
}
