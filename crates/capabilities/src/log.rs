//! `jac:scale/log`: guest log lines into the host log, tagged with the app.

use wasmtime::component::{HasSelf, Linker};

use super::bindings::log::{self, Level};
use super::{Capability, HostState};

/// Longest single message kept; the rest is cut.
const MAX_MESSAGE: usize = 8 << 10;
/// Log bytes one call may write; past it messages are dropped.
const MAX_LOG_PER_CALL: usize = 256 << 10;

pub(super) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s.counted(Capability::Log))
}

impl log::Host for HostState {
    fn write(&mut self, level: Level, mut message: String) -> wasmtime::Result<()> {
        if self.log_bytes >= MAX_LOG_PER_CALL {
            return Ok(());
        }
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
        }
        self.log_bytes += message.len();
        let app = &*self.app;
        match level {
            Level::Trace => tracing::trace!(target: "guest", app, "{message}"),
            Level::Debug => tracing::debug!(target: "guest", app, "{message}"),
            Level::Info => tracing::info!(target: "guest", app, "{message}"),
            Level::Warn => tracing::warn!(target: "guest", app, "{message}"),
            Level::Error => tracing::error!(target: "guest", app, "{message}"),
        }
        Ok(())
    }
}
