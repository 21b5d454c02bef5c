//! `/healthz`, `/healthz/live`, `/healthz/ready`.
//!
//! The server listens only once the app is loaded, so live = up. Ready also needs every
//! configured backend (Redis, MongoDB, S3) to answer its probe within [`PROBE_TIMEOUT`];
//! otherwise `/healthz/ready` answers 503 naming the backends that did not. The probes
//! run at once, one round at a time, and a round's answer is reused for
//! [`ROUND_REUSE`], so a flood of readiness requests cannot flood the backends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::HttpState;
use super::envelope;

/// How long one backend may take to answer a readiness probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one round of probes answers readiness requests.
pub const ROUND_REUSE: Duration = Duration::from_secs(1);

/// What a probe returns: `Err` with the reason when the backend did not answer.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

type Probe = Arc<dyn Fn() -> ProbeFuture + Send + Sync>;

/// A backend the server needs, and how to ask it whether it answers.
pub struct Backend {
    name: &'static str,
    probe: Probe,
}

impl Backend {
    /// The backend `name` (`redis`, `mongodb`, `s3`), checked by `probe`.
    pub fn new(
        name: &'static str,
        probe: impl Fn() -> ProbeFuture + Send + Sync + 'static,
    ) -> Self {
        Backend {
            name,
            probe: Arc::new(probe),
        }
    }
}

/// One round of probes: each backend and whether it answered.
type Round = Arc<Vec<(&'static str, bool)>>;

/// The configured backends and the last round of probes.
pub struct Readiness {
    backends: Vec<Backend>,
    last: Mutex<Option<(Instant, Round)>>,
}

impl Readiness {
    /// Readiness of a server that needs `backends`.
    pub fn new(backends: Vec<Backend>) -> Self {
        Readiness {
            backends,
            last: Mutex::new(None),
        }
    }

    /// Probe every backend at once (or reuse a round younger than [`ROUND_REUSE`]).
    async fn round(&self) -> Round {
        let mut last = self.last.lock().await;
        if let Some((at, round)) = &*last
            && at.elapsed() < ROUND_REUSE
        {
            return round.clone();
        }
        let mut probes = tokio::task::JoinSet::new();
        for (index, backend) in self.backends.iter().enumerate() {
            let probe = backend.probe.clone();
            probes.spawn(async move {
                let answer = match tokio::time::timeout(PROBE_TIMEOUT, probe()).await {
                    Ok(answer) => answer,
                    Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
                };
                (index, answer)
            });
        }
        let mut answers: Vec<(&'static str, bool)> =
            self.backends.iter().map(|b| (b.name, false)).collect();
        while let Some(joined) = probes.join_next().await {
            match joined {
                Ok((index, Ok(()))) => answers[index].1 = true,
                Ok((index, Err(reason))) => {
                    tracing::warn!(backend = answers[index].0, %reason, "not ready");
                }
                Err(error) => tracing::error!(%error, "a readiness probe failed"),
            }
        }
        let round = Arc::new(answers);
        *last = Some((Instant::now(), round.clone()));
        round
    }
}

/// The health routes.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(|| async { healthy("healthy") }))
        .route("/healthz/live", get(|| async { healthy("alive") }))
        .route("/healthz/ready", get(ready))
}

fn healthy(status: &str) -> Response {
    envelope::ok(json!({ "status": status }))
}

async fn ready(State(state): State<HttpState>) -> Response {
    let round = state.readiness().round().await;
    let backends: Map<String, Value> = round
        .iter()
        .map(|(name, up)| {
            let state = if *up { "ok" } else { "unreachable" };
            ((*name).to_owned(), Value::from(state))
        })
        .collect();
    let down: Vec<&str> = round
        .iter()
        .filter(|(_, up)| !up)
        .map(|(name, _)| *name)
        .collect();
    if down.is_empty() {
        return envelope::ok(json!({ "status": "ready", "backends": backends }));
    }
    envelope::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        &format!("not ready: {} unreachable", down.join(", ")),
        json!({ "backends": backends }),
    )
}
