//! A connection's WebSocket, shared between the connection's task (which reads, pings,
//! closes and writes what was queued) and the rooms that write a frame to it directly when
//! nothing is queued before it (`outbound::DirectWrite`).
//!
//! The socket sits behind a lock that is taken for one poll at a time and never held
//! across an `await`: the task reaches it through [`Locked`] (a `Stream` and `Sink` of
//! WebSocket messages, and the raw byte stream for large frames), a room through
//! [`SharedSocket::try_write`], which only tries the lock and never waits. tungstenite
//! frames each message into its write buffer whole, so two writers never interleave within
//! a frame; the order of frames is the outbox's business (`outbound.rs`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use parking_lot::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::handshake::WebSocket;
use crate::outbound::{Direct, DirectWrite};
use crate::state::AppState;

type WsError = tokio_tungstenite::tungstenite::Error;

/// Frames larger than this never go directly: they go through the task, under the relay's
/// budget for large sends (`connection.rs`).
const DIRECT_MAX_BYTES: usize = 64 * 1024;

pub struct SharedSocket {
    ws: Mutex<WebSocket>,
    app: Arc<AppState>,
}

impl SharedSocket {
    pub fn new(ws: WebSocket, app: Arc<AppState>) -> Self {
        SharedSocket { ws: Mutex::new(ws), app }
    }

    /// The task's handle: every poll takes the lock for its own duration.
    pub fn locked(&self) -> Locked<'_> {
        Locked(&self.ws)
    }
}

impl DirectWrite for SharedSocket {
    fn try_write(&self, frame: &Bytes) -> Direct {
        if frame.len() > DIRECT_MAX_BYTES {
            return Direct::Refused;
        }
        // The task is polling the socket right now (on another worker): queue instead.
        let Some(mut ws) = self.ws.try_lock() else { return Direct::Refused };
        let mut cx = Context::from_waker(Waker::noop());
        let mut ws = Pin::new(&mut *ws);
        if !matches!(ws.as_mut().poll_ready(&mut cx), Poll::Ready(Ok(()))) {
            return Direct::Refused;
        }
        if ws.as_mut().start_send(WsMessage::Binary(frame.clone())).is_err() {
            // A broken connection: the task finds out on its own read or write.
            return Direct::Refused;
        }
        self.app.counters.frame_out_direct(frame.len());
        match ws.poll_flush(&mut cx) {
            Poll::Ready(Ok(())) => Direct::Written,
            // The rest waits in tungstenite's buffer; the task flushes it (and meets the error,
            // if that is what it was) under its write limit.
            _ => Direct::Buffered,
        }
    }
}

/// The socket as the task uses it.
pub struct Locked<'a>(&'a Mutex<WebSocket>);

impl Locked<'_> {
    /// Polls `f` with the socket, locked for that poll only.
    fn with<T>(&self, f: impl FnOnce(Pin<&mut WebSocket>) -> T) -> T {
        f(Pin::new(&mut *self.0.lock()))
    }

    /// The byte stream under the WebSocket, for a frame written without tungstenite's buffer.
    pub fn raw(&self) -> RawLocked<'_> {
        RawLocked(self.0)
    }
}

impl Stream for Locked<'_> {
    type Item = Result<WsMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.with(|ws| ws.poll_next(cx))
    }
}

impl Sink<WsMessage> for Locked<'_> {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.with(|ws| ws.poll_ready(cx))
    }

    fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), WsError> {
        self.with(|ws| ws.start_send(item))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.with(|ws| ws.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.with(|ws| ws.poll_close(cx))
    }
}

/// The byte stream under the WebSocket, locked for one poll at a time.
pub struct RawLocked<'a>(&'a Mutex<WebSocket>);

impl tokio::io::AsyncWrite for RawLocked<'_> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(self.0.lock().get_mut()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(self.0.lock().get_mut()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(self.0.lock().get_mut()).poll_shutdown(cx)
    }
}
