//! A connection's outbound side as the room sees it: prioritised bounded queues and a way
//! to close the connection with a reason.
//!
//! Three queues, drained in order: control (the sync handshake, durable acks), document
//! updates, awareness. The room never waits on a slow client: it offers frames without
//! blocking. When the update queue is full the connection is closed with
//! [`close::RESYNC`] instead of dropping anything, so no update is lost silently: the
//! client reconnects and the state-vector handshake brings it up to date. Awareness is
//! different: only the latest state of each client matters, so under pressure queued
//! awareness frames are merged into one, keeping the newest state per client.
//!
//! On a one-worker runtime (a one-CPU container) an update or awareness frame offered while
//! nothing is queued or being written is written to the socket at once, by whoever offers
//! it ([`DirectWrite`], the connection's socket: `connection.rs`), instead of waking the
//! connection's task to write it: that hand-off was most of the relay's own CPU per
//! delivery at 100 observers (BENCHMARKS.md, "One core"). A frame the socket cannot take
//! whole goes to the queue as before; one it took in part leaves the rest to the task.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use parking_lot::Mutex;
use shared::close;
use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry, Message};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::close_reason::CloseReason;

/// Outbound queue depths, summed over connections, and the deepest single queue.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct QueueDepths {
    pub control: usize,
    pub updates: usize,
    pub awareness: usize,
    pub deepest: usize,
}

/// Awareness frames queued before they are merged into one.
const AWARENESS_COALESCE_AT: usize = 32;

#[derive(Default)]
struct Queues {
    control: VecDeque<Bytes>,
    updates: VecDeque<Bytes>,
    awareness: VecDeque<Bytes>,
    /// The connection's task took frames (or a flush) and has not finished writing them: a
    /// frame written directly now could overtake them.
    writing: bool,
    /// A direct write left bytes in the socket's buffer: the task must flush them.
    flush_due: bool,
}

impl Queues {
    /// Nothing waits to be written and nothing is being written: a frame may go directly.
    fn idle(&self) -> bool {
        !self.writing && !self.flush_due && self.control.is_empty() && self.updates.is_empty() && self.awareness.is_empty()
    }
}

/// A socket that frames can be written to without waiting (the connection's, see
/// `connection.rs`).
pub trait DirectWrite: Send + Sync {
    /// Writes `frame` if the socket takes it now; never waits.
    fn try_write(&self, frame: &Bytes) -> Direct;
}

/// What became of a direct write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direct {
    /// The kernel has all of it.
    Written,
    /// Taken, but part of it waits in the socket's buffer: the connection's task flushes it.
    Buffered,
    /// Not taken (the socket is busy or full): queue it.
    Refused,
}

/// What the connection's task is to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Work {
    /// Write this frame (and whatever else is queued).
    Frame(Bytes),
    /// Flush what a direct write left in the socket's buffer.
    Flush,
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Notify,
    capacity: usize,
    kick: Kick,
    /// The socket, while the connection lives, when frames may be written directly.
    direct: Option<Weak<dyn DirectWrite>>,
}

impl Shared {
    fn depths(&self) -> (usize, usize, usize) {
        let queues = self.queues.lock();
        (queues.control.len(), queues.updates.len(), queues.awareness.len())
    }
}

/// The room's handle on one connection.
#[derive(Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

/// The connection's side: frames to write and the signal to stop.
pub struct Inbox {
    shared: Arc<Shared>,
    pub kick: Kick,
}

/// A close request that the first caller wins.
#[derive(Clone, Default)]
pub struct Kick {
    reason: Arc<Mutex<Option<CloseReason>>>,
    token: CancellationToken,
}

impl Kick {
    /// A kick that also fires, without a reason, when `stop` is cancelled (give it a child of
    /// the relay's stop signal): the connection then watches one signal instead of two.
    pub fn until(stop: CancellationToken) -> Self {
        Kick { reason: Arc::default(), token: stop }
    }

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

/// Queues holding up to `capacity` control frames and `capacity` updates each, closed only
/// by their own kick (the relay's connections use [`channel_with`]).
#[cfg(any(test, feature = "fuzzing"))]
pub fn channel(capacity: usize) -> (Outbox, Inbox) {
    channel_with(capacity, Kick::default(), None)
}

/// [`channel`], closed by `kick` (e.g. [`Kick::until`] the relay stops); frames go straight
/// to `direct` when nothing is queued before them (the connection holds the only strong
/// reference: once it ends, nothing writes to its socket).
pub fn channel_with(capacity: usize, kick: Kick, direct: Option<Weak<dyn DirectWrite>>) -> (Outbox, Inbox) {
    let shared = Arc::new(Shared { queues: Mutex::default(), ready: Notify::new(), capacity, kick: kick.clone(), direct });
    (Outbox { shared: shared.clone() }, Inbox { shared, kick })
}

impl Outbox {
    /// Queues a handshake or acknowledgement frame (sent first).
    pub fn offer_control(&self, frame: Bytes) -> bool {
        self.push(|q| &mut q.control, frame)
    }

    /// Queues a document update (or writes it at once: see the module); a full queue
    /// closes the connection for a resync.
    pub fn offer_update(&self, frame: Bytes) -> bool {
        self.push_update(frame)
    }

    /// Queues an awareness frame (sent last; merged with its queue-mates under pressure).
    pub fn offer_awareness(&self, frame: Bytes) {
        {
            let mut queues = self.shared.queues.lock();
            if self.wrote_directly(&mut queues, &frame) {
                return;
            }
            queues.awareness.push_back(frame);
            if queues.awareness.len() >= AWARENESS_COALESCE_AT {
                let merged = coalesce(queues.awareness.drain(..));
                queues.awareness.extend(merged);
            }
        }
        self.shared.ready.notify_one();
    }

    /// Queues a document update, or writes it directly when nothing is queued before it.
    fn push_update(&self, frame: Bytes) -> bool {
        {
            let mut queues = self.shared.queues.lock();
            if self.wrote_directly(&mut queues, &frame) {
                return true;
            }
        }
        self.push(|q| &mut q.updates, frame)
    }

    /// Writes `frame` to the socket if the connection allows it and nothing waits before it
    /// (`queues` held, so the task cannot take a frame meanwhile); whether it was taken.
    fn wrote_directly(&self, queues: &mut Queues, frame: &Bytes) -> bool {
        if !queues.idle() {
            return false;
        }
        let Some(socket) = self.shared.direct.as_ref().and_then(Weak::upgrade) else { return false };
        match socket.try_write(frame) {
            Direct::Written => true,
            Direct::Buffered => {
                queues.flush_due = true;
                self.shared.ready.notify_one();
                true
            }
            Direct::Refused => false,
        }
    }

    fn push(&self, queue: impl FnOnce(&mut Queues) -> &mut VecDeque<Bytes>, frame: Bytes) -> bool {
        {
            let mut queues = self.shared.queues.lock();
            let queue = queue(&mut queues);
            if queue.len() >= self.shared.capacity {
                drop(queues);
                self.shared.kick.close(CloseReason::new(close::RESYNC, "fell behind: reconnect to resync"));
                return false;
            }
            queue.push_back(frame);
        }
        self.shared.ready.notify_one();
        true
    }

    pub fn close(&self, reason: CloseReason) {
        self.shared.kick.close(reason);
    }

    /// Frames waiting, per queue (control, updates, awareness).
    pub fn depths(&self) -> (usize, usize, usize) {
        self.shared.depths()
    }
}

impl Inbox {
    /// What to write next: a frame by priority, or a flush a direct write left due; waits
    /// while there is neither. Until [`Inbox::written`], nothing is written directly.
    pub async fn next(&self) -> Work {
        loop {
            {
                let mut queues = self.shared.queues.lock();
                if let Some(frame) = pop(&mut queues) {
                    return Work::Frame(frame);
                }
                if queues.flush_due {
                    queues.flush_due = false;
                    queues.writing = true;
                    return Work::Flush;
                }
            }
            self.shared.ready.notified().await;
        }
    }

    /// The next frame to write, by priority, if one is waiting.
    pub fn try_next(&self) -> Option<Bytes> {
        pop(&mut self.shared.queues.lock())
    }

    /// The task wrote (and flushed) what it took: frames may go directly again.
    pub fn written(&self) {
        self.shared.queues.lock().writing = false;
    }

    /// Frames waiting, per queue (control, updates, awareness).
    #[cfg(test)]
    pub fn depths(&self) -> (usize, usize, usize) {
        self.shared.depths()
    }
}

/// Takes the next frame by priority; the task is then writing (a frame popped but not yet
/// written must not be overtaken), and whatever a direct write left is flushed with it.
fn pop(queues: &mut Queues) -> Option<Bytes> {
    let frame = queues.control.pop_front().or_else(|| queues.updates.pop_front()).or_else(|| queues.awareness.pop_front())?;
    queues.writing = true;
    queues.flush_due = false;
    Some(frame)
}

/// Merges awareness frames into one holding the newest state of each client. Frames that
/// do not decode (they cannot: the room encoded or validated them) are kept as they are.
fn coalesce(frames: impl Iterator<Item = Bytes>) -> Vec<Bytes> {
    let mut newest: HashMap<yrs::ClientID, AwarenessUpdateEntry> = HashMap::new();
    let mut kept = Vec::new();
    for frame in frames {
        match protocol::decode_frame(&frame) {
            Ok(messages) => {
                for message in messages {
                    if let Message::Awareness(update) = message {
                        for (client, entry) in update.clients {
                            match newest.get(&client) {
                                Some(existing) if existing.clock >= entry.clock => {}
                                _ => {
                                    newest.insert(client, entry);
                                }
                            }
                        }
                    }
                }
            }
            Err(_) => kept.push(frame),
        }
    }
    if !newest.is_empty() {
        kept.push(Bytes::from(protocol::awareness(AwarenessUpdate { clients: newest })));
    }
    kept
}

#[cfg(test)]
mod tests;
