//! `jac:scale/log`: guest log lines into the host log, tagged with the app.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::log::{self as wit, Level};

/// Longest single message kept; the rest is cut.
const MAX_MESSAGE: usize = 8 << 10;
/// Log bytes one call may write; past it messages are dropped.
const MAX_LOG_PER_CALL: usize = 256 << 10;

/// The log of one call: the app its lines are tagged with and the bytes written so far.
pub(crate) struct CallLog {
    app: Arc<str>,
    bytes: usize,
}

impl CallLog {
    pub(crate) fn new(app: Arc<str>) -> Self {
        CallLog { app, bytes: 0 }
    }
}

/// Add `jac:scale/log` to `linker`; `get` projects a store's data to the call's log.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut CallLog,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<CallLog>>(linker, get)
}

impl wit::Host for CallLog {
    fn write(&mut self, level: Level, mut message: String) -> wasmtime::Result<()> {
        if self.bytes >= MAX_LOG_PER_CALL {
            return Ok(());
        }
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
        }
        self.bytes += message.len();
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
