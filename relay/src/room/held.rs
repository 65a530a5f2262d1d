//! Local updates the backend holds back, and what else the room keeps of the backend's
//! shared log (the Redis backend's streams; the standalone store holds nothing back).
//!
//! Fan-out order: a held local update waits here under its backend number `n`. It leaves
//! for the other members (and its sender's durable acknowledgement is sent) when the
//! backend releases it: when its write returned, or when the shared log is read back up to
//! it, whichever comes first; so members receive updates in the shared log's order, never
//! an update of another relay before a local one it depends on.
//!
//! A backend that cannot be reached takes the room out of service with 4503 ("store
//! unavailable, retry"): nobody writes where the other relays cannot see it.

use std::collections::VecDeque;

use bytes::Bytes;
use shared::close;

use super::{broadcast, ConnId, Member, Room, RoomState};
use crate::backend::Refused;
use crate::close_reason::CloseReason;
use crate::outbound::Outbox;
use crate::store::OnDurable;

/// What the room keeps of its backend's shared log.
#[derive(Default)]
pub(super) struct Held {
    updates: VecDeque<Pending>,
    /// Where the room's state stands in the shared log ("" without one).
    pub position: String,
    /// The room stood where the shared log no longer reaches back at the last check
    /// (see `RoomSink::check_behind`).
    pub behind: bool,
}

struct Pending {
    n: u64,
    frame: Bytes,
    from: Option<ConnId>,
    ack: Option<OnDurable>,
}

impl Held {
    pub fn len(&self) -> usize {
        self.updates.len()
    }

    pub fn hold(&mut self, n: u64, frame: Bytes, from: Option<ConnId>, ack: Option<OnDurable>) {
        self.updates.push_back(Pending { n, frame, from, ack });
    }

    /// Drops the held updates (the room left service: their senders are being closed).
    pub fn clear(&mut self) {
        self.updates.clear();
    }

    /// Offers the held updates up to number `n` to the members, and acknowledges them.
    pub fn release_through(&mut self, n: u64, members: &std::collections::HashMap<ConnId, Member>) {
        while self.updates.front().is_some_and(|p| p.n <= n) {
            let Some(pending) = self.updates.pop_front() else { break };
            broadcast(members, pending.from, &pending.frame, Outbox::offer_update);
            if let Some(ack) = pending.ack {
                ack();
            }
        }
    }
}

/// The close reason of a room whose backend cannot be reached.
pub(super) fn unavailable(why: &str) -> CloseReason {
    CloseReason::new(close::STORE_UNAVAILABLE, format!("store unavailable ({why}): keep your edits and reconnect"))
}

impl Room {
    /// Local updates the backend still holds back.
    pub fn held_updates(&self) -> usize {
        self.state.lock().held.len()
    }

    /// Hands a local awareness change (already offered to the members) to the backend.
    pub(super) fn share_awareness(&self, state: &mut RoomState, frame: &Bytes) {
        let Some(link) = &state.link else { return };
        match link.share_awareness(frame) {
            Ok(()) => {}
            Err(Refused::Unavailable(why)) => self.fail(state, why),
            Err(Refused::Reload) => self.poison(state, None, "the store refused an awareness change"),
        }
    }

    /// The backend cannot be reached: take the room out of service and close every member
    /// with 4503, so nobody writes where the other relays cannot see it. The next joiner
    /// loads the room afresh.
    pub(super) fn fail(&self, state: &mut RoomState, why: &str) {
        if state.closed.is_some() {
            return;
        }
        tracing::warn!(room = %self.name, why, "room offline: its backend is unavailable");
        state.go_out_of_service(unavailable(why), None);
    }
}
