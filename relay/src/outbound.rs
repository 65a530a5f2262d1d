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

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

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
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Notify,
    capacity: usize,
    kick: Kick,
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
    channel_with(capacity, Kick::default())
}

/// [`channel`], closed by `kick` (e.g. [`Kick::until`] the relay stops).
pub fn channel_with(capacity: usize, kick: Kick) -> (Outbox, Inbox) {
    let shared = Arc::new(Shared { queues: Mutex::default(), ready: Notify::new(), capacity, kick: kick.clone() });
    (Outbox { shared: shared.clone() }, Inbox { shared, kick })
}

impl Outbox {
    /// Queues a handshake or acknowledgement frame (sent first).
    pub fn offer_control(&self, frame: Bytes) -> bool {
        self.push(|q| &mut q.control, frame)
    }

    /// Queues a document update; a full queue closes the connection for a resync.
    pub fn offer_update(&self, frame: Bytes) -> bool {
        self.push(|q| &mut q.updates, frame)
    }

    /// Queues an awareness frame (sent last; merged with its queue-mates under pressure).
    pub fn offer_awareness(&self, frame: Bytes) {
        {
            let mut queues = self.shared.queues.lock();
            queues.awareness.push_back(frame);
            if queues.awareness.len() >= AWARENESS_COALESCE_AT {
                let merged = coalesce(queues.awareness.drain(..));
                queues.awareness.extend(merged);
            }
        }
        self.shared.ready.notify_one();
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
    /// The next frame to write, by priority; waits while all queues are empty.
    pub async fn next(&self) -> Option<Bytes> {
        loop {
            if let Some(frame) = self.try_next() {
                return Some(frame);
            }
            self.shared.ready.notified().await;
        }
    }

    /// The next frame to write, by priority, if one is waiting.
    pub fn try_next(&self) -> Option<Bytes> {
        let mut queues = self.shared.queues.lock();
        queues.control.pop_front().or_else(|| queues.updates.pop_front()).or_else(|| queues.awareness.pop_front())
    }

    /// Frames waiting, per queue (control, updates, awareness).
    #[cfg(test)]
    pub fn depths(&self) -> (usize, usize, usize) {
        self.shared.depths()
    }
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
mod tests {
    use super::*;

    fn presence(client: u64, clock: u32, json: &str) -> Bytes {
        let mut update = AwarenessUpdate { clients: HashMap::new() };
        update.clients.insert(yrs::ClientID::new(client), AwarenessUpdateEntry { clock, json: json.into() });
        Bytes::from(protocol::awareness(update))
    }

    #[tokio::test]
    async fn a_full_update_queue_requests_a_resync_instead_of_dropping() {
        let (outbox, inbox) = channel(2);
        assert!(outbox.offer_update(Bytes::from_static(b"a")));
        assert!(outbox.offer_update(Bytes::from_static(b"b")));
        assert!(!outbox.offer_update(Bytes::from_static(b"c")));
        inbox.kick.requested().await;
        assert_eq!(inbox.kick.reason().map(|r| r.code), Some(close::RESYNC));
        assert_eq!(inbox.next().await.as_deref(), Some(&b"a"[..]));
    }

    #[tokio::test]
    async fn control_then_updates_then_awareness() {
        let (outbox, inbox) = channel(8);
        outbox.offer_awareness(Bytes::from_static(b"aw"));
        outbox.offer_update(Bytes::from_static(b"up"));
        outbox.offer_control(Bytes::from_static(b"sync"));
        assert_eq!(inbox.next().await.as_deref(), Some(&b"sync"[..]));
        assert_eq!(inbox.next().await.as_deref(), Some(&b"up"[..]));
        assert_eq!(inbox.next().await.as_deref(), Some(&b"aw"[..]));
    }

    #[tokio::test]
    async fn awareness_under_pressure_keeps_only_the_newest_state_per_client() {
        let (outbox, inbox) = channel(8);
        for clock in 1..=(AWARENESS_COALESCE_AT as u32 * 3) {
            outbox.offer_awareness(presence(1, clock, &format!("{{\"x\":{clock}}}")));
            outbox.offer_awareness(presence(2, clock, "{\"y\":0}"));
        }
        assert!(inbox.depths().2 < AWARENESS_COALESCE_AT, "queue stays short: {:?}", inbox.depths());
        let mut latest = HashMap::new();
        while inbox.depths().2 > 0 {
            let frame = inbox.next().await.unwrap();
            for message in protocol::decode_frame(&frame).unwrap() {
                let Message::Awareness(update) = message else { panic!() };
                for (client, entry) in update.clients {
                    let e = latest.entry(client.get()).or_insert(0);
                    *e = (*e).max(entry.clock);
                }
            }
        }
        let top = AWARENESS_COALESCE_AT as u32 * 3;
        assert_eq!(latest.get(&1), Some(&top));
        assert_eq!(latest.get(&2), Some(&top));
    }
}
