//! Black-box tests: start the real `jac-scale` binary on a free loopback port and talk
//! HTTP to it, with real wasm components built from `examples/` and a real SQLite file.
//!
//! Every test starts its own server with its own data dir, so tests run in parallel.

mod support;

/// Async walkers: a hundred sleeping calls at once, Rust and Jac.
mod async_walkers;
/// Bearer tokens: the auth matrix on a protected walker, public walkers with bad tokens.
mod auth;
/// Malformed requests: bad JSON, wrong types, oversized bodies, deep nesting.
mod bad_input;
/// A root with 100,000 todos (Rust, Jac; fewer on MongoDB): counted by the host, listed page by page.
mod big_graphs;
/// The command line: start-up failures and SIGTERM.
mod cli;
/// Per-client limits: login and registration throttles, CORS, request-head sizes, slow clients.
mod client_limits;
/// SIGKILL during concurrent writes, then a restart: acknowledged writes kept, none half-applied.
mod crash;
/// `/openapi.json`, Swagger UI and ReDoc: the document, a validator, schemathesis, chromium.
mod docs;
/// `/function/{name}`: results, defaults with their declared types, protected functions.
mod functions;
/// `/healthz*` (readiness with Redis, S3 and MongoDB stopped and started) and `X-Trace-Id`.
mod health;
/// Random host calls of every import family through a guest, for a bounded time: no host
/// panic, documented answers, bounded memory, no read across apps.
mod host_fuzz;
/// Escape and isolation: a guest reaches no host file, environment or socket, no other
/// app's ids, and hostile apps beside a healthy one do not stop it answering.
mod isolation;
/// Jac-only behaviour: `start app.jac`, `build -o`, syntax errors, Jac tracebacks, globals, `--reload`.
mod jac_apps;
/// The data tier from Jac (`examples/data-jac`): kvstore of both kinds, store(), uploads.
mod jac_data;
/// The spec's webhook and WebSocket walkers in Jac (`examples/realtime-jac`).
mod jac_realtime;
/// `@schedule`d walkers and functions (`examples/schedules-jac`): interval runs at the
/// guest root, no overlap, failures logged, stopped on reload.
mod jac_schedules;
/// A social network across users' graphs (`examples/social-jac`): every walker, several
/// users and anonymous callers, access levels enforced exactly, permanent ids.
mod jac_social;
/// `start app.jac` across starts: build reuse, rebuild on edit, the machine-wide compile cache.
mod jac_start;
/// Streamed responses (`examples/streaming-jac`) read by an SSE client: framing, errors
/// midway, commit before the end event, a disconnect stops the guest.
mod jac_streaming;
/// `start --scale` and `destroy` against a fake Kubernetes API server; `--dry-run` YAML
/// through `kubectl kustomize`; images built, pushed to a real registry and run with podman.
mod kubernetes;
/// kvstore: every method over HTTP (embedded and Redis), grants, isolation, bounds.
mod kvstore;
/// The sandbox: endless loop, memory hog, trap, huge report; the server keeps serving.
mod limits;
/// One access line per request (text and JSON) with app, endpoint, caller, status, trace id.
mod logs;
/// Prometheus metrics: the spec's four, host metrics by app, route templates, promtool.
mod metrics;
/// `jac-scale serve`: many apps in one process, isolation, the admin API and `jac-scale apps`.
mod multi_app;
/// Redis, MongoDB and S3 stopped under load and started again: quick 503s, the rest
/// keeps working, readiness names the backend, recovery without a restart.
mod outages;
/// Per-node access levels with the shared-notes app: grants, per-root access, 404s.
mod permissions;
/// Data surviving a restart; 64 concurrent writers on one root, on eight roots and on one
/// (non-root) node.
mod persistence;
/// Per-app quotas: each refusal with its status, the quota named, and its metric.
mod quotas;
/// `@restspec`: GET with typed query parameters, custom paths, path parameters.
mod restspec;
/// Fair scheduling: a healthy walker's latency while calls spin; an app's share of the cores.
mod scheduling;
/// Single sign-on with a real OpenID provider (npm oidc-provider): the whole code flow,
/// account linking, and refusals (bad state, replayed code, unverified email, audience).
mod sso;
/// File storage and uploads: multipart end to end, path escapes, bounds, grants, isolation.
mod storage;
/// The memory hierarchy across two processes sharing one data dir and the real Redis.
mod tiers;
/// `POST /traverse`: READ-filtered, type filters, details, cursor pages, limits.
mod traverse;
/// `/user/register` and `/user/login`: body shapes, duplicates, validation, login body.
mod users;
/// The envelope, every walker of the todo app, node serialization, unknown names.
mod walkers;
/// Webhook walkers and API keys: signatures, timestamps, refusals, listing, revocation.
mod webhooks;
/// WebSocket walkers: echo, tokens, error frames, broadcast (also across processes via Redis).
mod websockets;
