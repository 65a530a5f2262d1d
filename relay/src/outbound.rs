//! A connection's outbound side as the room sees it: a bounded queue of frames and a way to
//! close the connection with a reason.
//!
//! The room never waits on a slow client. It offers each frame with `try_send`; when the
//! queue is full the connection is closed with [`close::RESYNC`] instead of dropping the
//! frame, so no update is ever lost silently: the client reconnects and the state-vector
//! handshake brings it up to date.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use shared::close;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why a connection is closed: a WebSocket close code and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

impl CloseReason {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        // A close frame's reason must fit in 123 bytes; cut on a character boundary.
        let mut reason = reason.into();
        if reason.len() > 123 {
            let mut end = 123;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        CloseReason { code, reason }
    }
}

/// The room's handle on one connection.
#[derive(Clone)]
pub struct Outbox {
    frames: mpsc::Sender<Bytes>,
    kick: Kick,
}

/// The connection's side: frames to write and the signal to stop.
pub struct Inbox {
    pub frames: mpsc::Receiver<Bytes>,
    pub kick: Kick,
}

/// A close request that the first caller wins.
#[derive(Clone, Default)]
pub struct Kick {
    reason: Arc<Mutex<Option<CloseReason>>>,
    token: CancellationToken,
}

impl Kick {
    /// Asks the connection to close with `reason`; later requests keep the first reason.
    pub fn close(&self, reason: CloseReason) {
        let mut slot = self.reason.lock();
        if slot.is_none() {
            *slot = Some(reason);
        }
        self.token.cancel();
    }

    /// Resolves once a close was requested.
    pub async fn requested(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.lock().clone()
    }
}

/// A queue holding up to `capacity` frames.
pub fn channel(capacity: usize) -> (Outbox, Inbox) {
    let (tx, rx) = mpsc::channel(capacity);
    let kick = Kick::default();
    (Outbox { frames: tx, kick: kick.clone() }, Inbox { frames: rx, kick })
}

impl Outbox {
    /// Queues a frame; a full queue closes the connection for a resync instead.
    /// Returns false when the frame was not queued.
    pub fn offer(&self, frame: Bytes) -> bool {
        match self.frames.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kick.close(CloseReason::new(close::RESYNC, "fell behind: reconnect to resync"));
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    pub fn close(&self, reason: CloseReason) {
        self.kick.close(reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_requests_a_resync_instead_of_dropping() {
        let (outbox, mut inbox) = channel(2);
        assert!(outbox.offer(Bytes::from_static(b"a")));
        assert!(outbox.offer(Bytes::from_static(b"b")));
        assert!(!outbox.offer(Bytes::from_static(b"c")));
        inbox.kick.requested().await;
        assert_eq!(inbox.kick.reason().map(|r| r.code), Some(close::RESYNC));
        assert_eq!(inbox.frames.recv().await.as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn long_reasons_are_cut_to_fit_a_close_frame() {
        let reason = CloseReason::new(1000, "é".repeat(100));
        assert!(reason.reason.len() <= 123);
    }
}
