//! `GET /ws/{walker}`: WebSocket walkers.
//!
//! Each client text frame is one JSON object of walker fields, plus an optional
//! `"token"`; the token may also come as `?token=` or the upgrade's `Authorization`
//! header (a message's own token wins). Each message runs in a fresh instance, exactly
//! like an HTTP call, and is answered with one frame:
//! `{"ok": true, "data": {"result", "reports"}}` or
//! `{"ok": false, "error": {"code", "message"}}`. With `broadcast`, a successful reply
//! goes to every connection of the walker (on every process sharing the Redis), the
//! sender's included; errors go to the sender alone.
//!
//! The server pings every [`PING_INTERVAL`] and drops a client silent for
//! [`IDLE_TIMEOUT`]. Limits: `[plugins.scale.websocket]` (message size, connections).
//! On shutdown ([`close_all`]) every connection finishes the message it is running and
//! is closed with 1001 "going away", so a client knows to reconnect elsewhere.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::body::parse_object;
use super::caller::{self, Identity};
use super::endpoints::execute;
use super::envelope::CallData;
use super::error::ApiError;
use super::{HttpState, Served};
use auth::AuthedUser;
use files::Uploads;
use realtime::{LimitError, OUTBOX_CAPACITY, Ticket};
use runtime::manifest::{Source, validate};
use runtime::observe::CallObserver;
use runtime::{Access, Endpoint, Protocol, Quota};

/// How often the server pings an idle client.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A client that sent nothing (not even a pong) for this long is dropped.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes read from a client's socket at a time. tungstenite zero-fills this much before
/// every read attempt, including the one that finds nothing when a broadcast wakes the
/// connection: its default (128 KiB) made that memset most of a broadcast's cost.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How long open connections get, at shutdown, to finish their message and take their
/// going-away frame (well within a Kubernetes pod's 30 s termination grace period).
pub const GOING_AWAY_GRACE: Duration = Duration::from_secs(10);

/// Set once the process shuts down; every open connection watches it. Process-wide,
/// like the signal that sets it (one listener serves every app of the process).
static SHUTTING_DOWN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Close every open WebSocket with 1001 "going away" once it has answered the message it
/// is running; returns when all are closed, or after [`GOING_AWAY_GRACE`].
pub async fn close_all() {
    SHUTTING_DOWN.send_replace(true);
    let deadline = Instant::now() + GOING_AWAY_GRACE;
    // Each connection holds a receiver until it has sent its close frame.
    while SHUTTING_DOWN.receiver_count() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The WebSocket route.
pub fn router() -> Router<HttpState> {
    Router::new().route("/ws/{walker}", get(upgrade))
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The connection's own identity (from `?token=` or `Authorization`).
enum ConnectionAuth {
    None,
    User(AuthedUser),
    /// A token was given but is not valid; kept to explain refusals.
    Invalid(String),
}

async fn upgrade(
    State(state): State<HttpState>,
    Path(walker): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let served = state.served();
    let endpoint = served
        .endpoint(&walker, Protocol::Websocket)
        .ok_or_else(|| ApiError::NotFound(format!("no WebSocket walker named {walker:?}")))?;
    super::log_endpoint(&endpoint.name);
    let token = query
        .token
        .filter(|t| !t.trim().is_empty())
        .or_else(|| caller::bearer(&headers).map(str::to_owned));
    let auth = match token {
        None => ConnectionAuth::None,
        Some(token) => match state.auth().verify(&token) {
            Ok(user) => ConnectionAuth::User(user),
            Err(e) => ConnectionAuth::Invalid(e.to_string()),
        },
    };
    let user_id = match &auth {
        ConnectionAuth::User(u) => Some(u.user_id.as_str()),
        _ => None,
    };
    let websockets = state.websockets();
    let ticket = websockets.hub.open(user_id).map_err(|e| match e {
        LimitError::Total(_) => {
            let quota = Quota::WebsocketConnections;
            if let Some(metrics) = served.app_metrics() {
                metrics.quota_exceeded(quota);
            }
            ApiError::QuotaExceeded {
                quota,
                message: format!("the app's websocket_connections quota is used up: {e}"),
            }
        }
        LimitError::PerUser(_) => ApiError::RateLimited {
            message: e.to_string(),
            retry_after: None,
        },
    })?;
    let broadcast = endpoint.broadcast;
    let name = endpoint.name.clone();
    let limit = websockets.max_message_bytes;
    let mut connection = Connection {
        state,
        served,
        walker: name,
        broadcast,
        auth,
        ticket,
    };
    // Join the broadcast group before answering the upgrade: a broadcast sent as soon as
    // the client's handshake completes then waits in the outbox instead of being missed.
    let (outbox, inbox) = mpsc::channel::<Utf8Bytes>(OUTBOX_CAPACITY);
    if connection.broadcast && connection.may_receive_broadcasts() {
        connection.ticket.join(&connection.walker, outbox.clone());
    }
    Ok(ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| connection.serve(socket, outbox, inbox)))
}

/// One open connection.
struct Connection {
    state: HttpState,
    /// The app version the connection opened on; a reload applies to new connections.
    served: Arc<Served>,
    walker: String,
    broadcast: bool,
    auth: ConnectionAuth,
    ticket: Ticket,
}

#[derive(Serialize)]
struct OkFrame<'a> {
    ok: bool,
    data: CallData<'a>,
}

#[derive(Serialize)]
struct ErrorFrame<'a> {
    ok: bool,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Value::is_null")]
    details: Value,
}

impl Connection {
    async fn serve(
        mut self,
        mut socket: WebSocket,
        outbox: mpsc::Sender<Utf8Bytes>,
        mut inbox: mpsc::Receiver<Utf8Bytes>,
    ) {
        let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
        let mut last_heard = Instant::now();
        let mut shutting_down = SHUTTING_DOWN.subscribe();
        shutting_down.mark_changed();
        loop {
            tokio::select! {
                Ok(()) = shutting_down.changed() => {
                    if *shutting_down.borrow_and_update() {
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: close_code::AWAY,
                                reason: "server shutting down".into(),
                            })))
                            .await;
                        break;
                    }
                }
                incoming = socket.recv() => {
                    let Some(Ok(message)) = incoming else { break };
                    last_heard = Instant::now();
                    let reply = match message {
                        Message::Text(text) => self.handle(text.as_str(), &outbox).await,
                        Message::Binary(_) => Some(error_frame(&ApiError::invalid(
                            &["body"],
                            "send JSON text frames, not binary ones",
                            "json_invalid",
                        ))),
                        Message::Close(_) => break,
                        // Pings are answered by the protocol layer; pongs only prove life.
                        Message::Ping(_) | Message::Pong(_) => None,
                    };
                    if let Some(reply) = reply
                        && socket.send(Message::Text(reply)).await.is_err()
                    {
                        break;
                    }
                }
                Some(text) = inbox.recv() => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_TIMEOUT
                        || socket.send(Message::Ping(Default::default())).await.is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `self` drops the ticket: the connection leaves its group and limits now.
    }

    /// Public walkers broadcast to everyone; protected ones only to authenticated clients.
    fn may_receive_broadcasts(&self) -> bool {
        self.endpoint().access == Access::Public || matches!(self.auth, ConnectionAuth::User(_))
    }

    fn endpoint(&self) -> &Endpoint {
        self.served
            .endpoint(&self.walker, Protocol::Websocket)
            .expect("the connection's walker is in the app it opened on")
    }

    /// Handles one message; returns the frame for the sender alone, if any (a
    /// broadcast success reaches the sender through its group).
    async fn handle(&mut self, text: &str, outbox: &mpsc::Sender<Utf8Bytes>) -> Option<Utf8Bytes> {
        let authenticated_now;
        let outcome = {
            let prepared = self.prepare(text);
            authenticated_now = matches!(prepared, Ok((Identity::User(_), _)));
            match prepared {
                Ok((identity, args)) => {
                    execute(
                        &self.served,
                        self.endpoint(),
                        identity,
                        args,
                        None,
                        Uploads::default(),
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        };
        let frame = match &outcome {
            Ok(o) => ok_frame(CallData {
                result: &o.result,
                reports: &o.reports,
                warnings: &o.warnings,
            }),
            Err(e) => error_frame(e),
        };
        if outcome.is_err() || !self.broadcast {
            return Some(frame);
        }
        if authenticated_now && !self.ticket.has_joined() {
            // A protected broadcast walker: the client proved who it is in a message.
            self.ticket.join(&self.walker, outbox.clone());
        }
        self.state
            .websockets()
            .hub
            .broadcast(&self.walker, frame)
            .await;
        None
    }

    /// The caller and the validated arguments of one message.
    fn prepare(&self, text: &str) -> Result<(Identity, Map<String, Value>), ApiError> {
        let endpoint = self.endpoint();
        let mut fields = parse_object(text.as_bytes())?;
        let token = match fields.remove("token") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t),
            Some(_) => {
                return Err(ApiError::invalid(
                    &["body", "token"],
                    "Input should be a valid string",
                    "string_type",
                ));
            }
        };
        let protected = endpoint.access == Access::Protected;
        let identity = match token {
            Some(token) => match self.state.auth().verify(&token) {
                Ok(user) => Identity::User(user),
                Err(e) if protected => return Err(ApiError::Unauthorized(e.to_string())),
                Err(_) => Identity::Anonymous,
            },
            None => match &self.auth {
                ConnectionAuth::User(user) => Identity::User(user.clone()),
                ConnectionAuth::Invalid(why) if protected => {
                    return Err(ApiError::Unauthorized(why.clone()));
                }
                ConnectionAuth::None if protected => {
                    return Err(ApiError::Unauthorized(
                        "a token is required: ?token=, an Authorization header or a \"token\" field"
                            .into(),
                    ));
                }
                _ => Identity::Anonymous,
            },
        };
        let args =
            validate(&endpoint.fields, fields, |_| Source::Body).map_err(ApiError::Validation)?;
        Ok((identity, args))
    }
}

fn ok_frame(data: CallData<'_>) -> Utf8Bytes {
    let frame = OkFrame { ok: true, data };
    match serde_json::to_string(&frame) {
        Ok(text) => text.into(),
        Err(e) => error_frame(&ApiError::Internal(format!("reply encoding failed: {e}"))),
    }
}

fn error_frame(error: &ApiError) -> Utf8Bytes {
    let (code, message, details) = error.public_parts();
    let frame = ErrorFrame {
        ok: false,
        error: ErrorBody {
            code,
            message,
            details,
        },
    };
    serde_json::to_string(&frame)
        .unwrap_or_else(|_| {
            r#"{"ok":false,"error":{"code":"EXECUTION_ERROR","message":"internal error"}}"#.into()
        })
        .into()
}
