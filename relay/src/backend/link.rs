//! The seam at the level of one room in memory, in both directions.
//!
//! [`RoomLink`]: the room hands its backend what it accepted (updates, awareness changes).
//! It is called under the room's lock, so it only queues. The backend answers whether the
//! other members may see an update now ([`Accepted::Now`]: this relay's store, which
//! acknowledges it once durable) or only once the backend releases it
//! ([`Accepted::Held`]: Redis, where an update counts once the shared stream has it, and
//! members must get updates in the stream's order).
//!
//! [`RoomSink`]: what a backend may tell a room, without knowing what a room is: changes
//! other relays made, held updates released, the backend lost, the room fallen behind what
//! the backend keeps. `Room` implements it; the backend holds it weakly, so a room leaves
//! memory whatever the backend still runs for it.

use std::sync::Weak;
use std::time::Duration;

use bytes::Bytes;
use shared::protocol;

use crate::store::OnDurable;

/// A local update the room applied, as it is handed to the backend.
pub struct LocalUpdate {
    /// The room's number for it (its log's sequence number).
    pub seq: u64,
    /// The update (v1 encoding).
    pub update: Vec<u8>,
    /// The update as the Update message members receive, when the room already has it.
    pub frame: Option<Bytes>,
    /// Runs once the update is durable; for the sender's durable acknowledgement.
    pub on_durable: Option<OnDurable>,
    /// Local updates the backend holds already (not yet released).
    pub held: usize,
}

impl LocalUpdate {
    /// The update as the Update message members receive.
    pub fn frame_of(frame: Option<Bytes>, update: Vec<u8>) -> Bytes {
        frame.unwrap_or_else(|| Bytes::from(protocol::update(update)))
    }
}

/// What happens to an accepted local update.
pub enum Accepted {
    /// The others may see `frame` now; `on_durable` went with the update to the store.
    Now { frame: Bytes },
    /// The others see `frame`, and `on_durable` runs, once the backend releases number `n`
    /// (see [`RoomSink::released`] and [`ChangeKind::Own`]).
    Held { n: u64, frame: Bytes, on_durable: Option<OnDurable> },
}

/// Why the backend refused a change; the room goes out of service either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The store refused the update: its members resync (4001) and the room reloads from
    /// the store, which does not hold it.
    Reload,
    /// The backend cannot be reached (why): every member is closed with 4503 ("store
    /// unavailable, retry") rather than write where other relays cannot see it.
    Unavailable(&'static str),
}

/// A room's way to its backend while it is in memory.
pub trait RoomLink: Send + Sync {
    /// Hands over a local update the room applied. Must not block: the room's lock is held.
    fn append(&self, update: LocalUpdate) -> Result<Accepted, Refused>;

    /// Hands over a local awareness change (already sent to the room's own members).
    fn share_awareness(&self, frame: &Bytes) -> Result<(), Refused>;
}

/// Starts what the backend runs for a room once the room exists (for Redis: its publisher,
/// and the relay's reader following its stream).
pub type Follow = Box<dyn FnOnce(Weak<dyn RoomSink>) + Send>;

/// A change read from the shared log.
#[derive(Debug, Clone)]
pub struct Change {
    /// Where it stands in the shared log.
    pub id: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone)]
pub enum ChangeKind {
    /// Another relay's update: one Update message, the frame its members got.
    Update(Bytes),
    /// Another relay's awareness change: one Awareness message.
    Awareness(Bytes),
    /// This room's own local updates up to number `n` reached the shared log.
    Own(u64),
    /// The room was deleted; everything before is void.
    Deleted,
}

/// Whether the backend should go on delivering a room's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Following,
    /// The room is out of service (or just went out): stop.
    Stopped,
    /// The room was deleted through some relay: stop, and drop this relay's copy of it.
    Deleted,
}

/// What a backend may tell a room in memory (implemented by `Room`).
pub trait RoomSink: Send + Sync {
    fn name(&self) -> &str;

    /// Changes from the shared log, up to `position`, in its order.
    fn deliver(&self, changes: &[Change], position: &str) -> Delivery;

    /// The room's held local updates up to number `n` are stored: the others may see them.
    fn released(&self, n: u64);

    /// The backend cannot be reached: the room goes out of service (4503).
    fn unavailable(&self, why: &str);

    /// Whether the room's state stands where the shared log no longer reaches back
    /// (`behind` says, given the room's position). Seen so at two checks in a row, the room
    /// goes out of service and its members reconnect (4001) to a fresh load. True if it did.
    fn check_behind(&self, behind: &dyn Fn(&str) -> bool) -> bool;

    /// Removes the presence states that no member of this relay holds and that were not
    /// renewed for `timeout`; returns how many.
    fn expire_remote_presence(&self, timeout: Duration) -> usize;
}
