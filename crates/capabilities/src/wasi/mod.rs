//! WASI, deny-by-default: no preopened dirs, no sockets, no environment but the app's
//! declared one (`[plugins.scale.secrets]`, `[plugins.scale.env]`); stdout/stderr go to
//! the host log tagged with the app ([`output`]).
//!
//! WASI's per-call state is its `WasiCtx`; its handles share the call's resource table
//! with the other capabilities (see `HostState`).

mod output;

use std::sync::Arc;

use wasmtime_wasi::WasiCtx;

use output::{GuestOutput, Stream};

/// The WASI context of one call of `app`, whose guest sees `environment` only.
pub(crate) fn call_context(app: &Arc<str>, environment: &[(String, String)]) -> WasiCtx {
    WasiCtx::builder()
        .stdout(GuestOutput::new(app.clone(), Stream::Stdout))
        .stderr(GuestOutput::new(app.clone(), Stream::Stderr))
        .envs(environment)
        .build()
}
