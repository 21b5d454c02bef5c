//! Guest stdout/stderr: each line goes to the host log, tagged with the app.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes of guest output logged per call; the rest is dropped (and said so once).
pub const MAX_OUTPUT_PER_CALL: usize = 64 << 10;
/// A partial line longer than this is logged as is.
const MAX_LINE: usize = 4 << 10;

/// Which guest stream a [`GuestOutput`] carries.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A bounded, line-buffered sink for one call's guest output.
#[derive(Debug, Clone)]
pub struct GuestOutput(Arc<Mutex<LineBuffer>>);

#[derive(Debug)]
struct LineBuffer {
    app: Arc<str>,
    stream: Stream,
    pending: Vec<u8>,
    written: usize,
    truncated: bool,
}

impl GuestOutput {
    /// A sink for `app`'s `stream`.
    pub fn new(app: Arc<str>, stream: Stream) -> Self {
        GuestOutput(Arc::new(Mutex::new(LineBuffer {
            app,
            stream,
            pending: Vec::new(),
            written: 0,
            truncated: false,
        })))
    }

    fn accept(&self, bytes: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .accept(bytes);
    }
}

impl LineBuffer {
    fn accept(&mut self, bytes: &[u8]) {
        let st = self;
        let room = MAX_OUTPUT_PER_CALL.saturating_sub(st.written);
        let take = bytes.len().min(room);
        st.written += take;
        st.pending.extend_from_slice(&bytes[..take]);
        while let Some(nl) = st.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = st.pending.drain(..=nl).collect();
            st.emit(&line[..line.len() - 1]);
        }
        if st.pending.len() > MAX_LINE {
            let line = std::mem::take(&mut st.pending);
            st.emit(&line);
        }
        if take < bytes.len() && !st.truncated {
            st.truncated = true;
            tracing::warn!(app = %st.app, "guest output over {MAX_OUTPUT_PER_CALL} bytes in one call; the rest is dropped");
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        match self.stream {
            Stream::Stdout => tracing::info!(target: "guest", app = %self.app, "{text}"),
            Stream::Stderr => tracing::warn!(target: "guest", app = %self.app, "{text}"),
        }
    }
}

impl Drop for LineBuffer {
    /// The last clone is gone with the call: log what is left of an unterminated line.
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.accept(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(MAX_LINE)
    }
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
