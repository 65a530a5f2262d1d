//! The room's side of cluster mode (`--redis`, see [`crate::cluster`]): local changes go to
//! the room's publisher, local updates are fanned out and acknowledged only once their
//! XADD returned, entries from other relays are validated and applied like a client's
//! messages, and losing Redis takes the room offline with 4503.
//!
//! Fan-out order: every local update gets a number `n` and waits in `pending`. It leaves
//! for the other members when the publisher reports its XADD done, or when the reader meets
//! the entry in the stream first, whichever comes first; so members receive updates in
//! stream order, never an update of another relay before a local one it depends on.

use std::collections::VecDeque;

use bytes::Bytes;
use shared::close;
use shared::protocol::{self, Message, SyncMessage};

use super::{broadcast, invalid, ConnId, Room, RoomState};
use crate::cluster::entry::{Entry, Kind};
use crate::cluster::{ClusterError, LoadedRoom, RoomLink};
use crate::compaction::{CompactionPolicy, LogShape};
use crate::close_reason::CloseReason;
use crate::outbound::Outbox;
use crate::store::{OnDurable, SharedStore, StoredRoom};

/// Local updates that may wait for Redis at once before the room refuses more.
const MAX_PENDING: usize = 65_536;

/// What a clustered room tracks of the stream.
#[derive(Default)]
pub(super) struct ClusterState {
    /// The id of the last stream entry the room's state includes.
    position: String,
    next_n: u64,
    pending: VecDeque<Pending>,
    /// The room stood before the stream's trim point at the last check (see
    /// [`Room::check_trim_point`]).
    behind_trim_point: bool,
}

struct Pending {
    n: u64,
    frame: Bytes,
    from: Option<ConnId>,
    ack: Option<OnDurable>,
}

fn unavailable(why: &str) -> CloseReason {
    CloseReason::new(close::STORE_UNAVAILABLE, format!("store unavailable ({why}): keep your edits and reconnect"))
}

impl Room {
    /// Builds a clustered room from what Redis holds: the snapshot, then the stream tail
    /// applied entry by entry with the same checks as live entries.
    pub fn load_clustered(name: &str, store: SharedStore, max_bytes: u64, loaded: LoadedRoom, link: RoomLink) -> Result<Room, ClusterError> {
        let damaged = |reason: String| ClusterError::Damaged { room: name.to_owned(), reason };
        let snapshot_bytes = loaded.snapshot.as_ref().map_or(0, |s| s.len() as u64);
        let stored = StoredRoom { updates: loaded.snapshot.into_iter().collect(), snapshot_bytes, ..StoredRoom::default() };
        let room = Room::from_stored(name, store, max_bytes, stored, Some(link)).map_err(|e| damaged(e.to_string()))?;
        if let Some(history) = &loaded.deleted_history {
            room.forbid_content_before(crate::store::history::decode(history).map_err(damaged)?);
        }
        {
            let mut state = room.state.lock();
            for entry in &loaded.tail {
                room.apply_remote(&mut state, entry).map_err(|reason| damaged(format!("entry {}: {}", entry.id, reason.reason)))?;
            }
            state.cluster.position = loaded.tail.last().map_or(loaded.snapshot_id, |e| e.id.clone());
        }
        Ok(room)
    }

    /// The stream id the room's state reaches (where the relay's reader follows it from).
    pub fn cluster_position(&self) -> String {
        self.state.lock().cluster.position.clone()
    }

    /// The room's stream was trimmed up to `trimmed` (`crate::cluster::snapshot`). A room
    /// whose state stands before that may have missed entries that no longer exist. Seen so
    /// at two checks in a row (a reader only milliseconds behind a fresh trim has moved on by
    /// the next), the room leaves memory and its members reconnect (4001) to a fresh load,
    /// which starts from the snapshot: nothing is lost. True if the room was taken out.
    pub fn check_trim_point(&self, trimmed: &str) -> bool {
        let Some(trim) = crate::cluster::entry::parse_id(trimmed) else { return false };
        let mut state = self.state.lock();
        if state.closed {
            return false;
        }
        let behind = crate::cluster::entry::parse_id(&state.cluster.position).is_some_and(|at| at < trim);
        let was_behind = std::mem::replace(&mut state.cluster.behind_trim_point, behind);
        if !(behind && was_behind) {
            return false;
        }
        tracing::warn!(room = %self.name, position = state.cluster.position, trimmed, "the stream reader fell behind the trim point");
        self.poison(&mut state, None, "the stream reader fell behind the stream's trim point");
        true
    }

    /// Local updates still waiting for Redis.
    pub fn pending_writes(&self) -> usize {
        self.state.lock().cluster.pending.len()
    }

    /// Hands a local update (already applied) to the publisher; it reaches the other members
    /// once Redis has it. A remote one is already in Redis: it goes to every member now.
    pub(super) fn share_update(
        &self,
        state: &mut RoomState,
        from: Option<ConnId>,
        frame: Bytes,
        ack: Option<OnDurable>,
        remote: bool,
    ) -> Result<(), CloseReason> {
        let Some(link) = &self.cluster else { return Ok(()) };
        if remote {
            broadcast(&state.members, None, &frame, Outbox::offer_update);
            return Ok(());
        }
        if state.cluster.pending.len() >= MAX_PENDING {
            self.fail(state, "redis is too slow");
            return Err(unavailable("redis is too slow"));
        }
        state.cluster.next_n += 1;
        let n = state.cluster.next_n;
        if !link.send(Kind::Update, n, frame.to_vec()) {
            self.fail(state, "redis refused a write");
            return Err(unavailable("redis refused a write"));
        }
        state.cluster.pending.push_back(Pending { n, frame, from, ack });
        Ok(())
    }

    /// Hands a local awareness change (already broadcast locally) to the publisher.
    pub(super) fn share_awareness(&self, state: &mut RoomState, frame: &Bytes) {
        if let Some(link) = &self.cluster {
            if !link.send(Kind::Awareness, 0, frame.to_vec()) {
                self.fail(state, "redis refused a write");
            }
        }
    }

    /// The publisher's XADDs returned up to local update `n`.
    pub fn fan_out_published(&self, n: u64) {
        let mut state = self.state.lock();
        fan_out_through(&mut state, n);
    }

    /// Entries read from the stream, up to id `position`. False when the room is offline
    /// (the reader stops).
    pub fn apply_from_cluster(&self, entries: &[Entry], position: &str) -> bool {
        let Some(link) = &self.cluster else { return false };
        let mut state = self.state.lock();
        if state.closed {
            return false;
        }
        for entry in entries {
            if entry.kind == Kind::Deleted {
                self.deleted(&mut state);
                return false;
            }
            if entry.origin == link.origin {
                if entry.kind == Kind::Update {
                    fan_out_through(&mut state, entry.n);
                }
                continue;
            }
            if let Err(reason) = self.apply_remote(&mut state, entry) {
                // Redis holds something this room cannot follow: reload from Redis.
                tracing::warn!(room = %self.name, entry = entry.id, reason = %reason.reason, "stream entry refused");
                if !state.closed {
                    self.poison(&mut state, None, "a stream entry was refused");
                }
                return false;
            }
        }
        state.cluster.position = position.to_owned();
        true
    }

    fn apply_remote(&self, state: &mut RoomState, entry: &Entry) -> Result<(), CloseReason> {
        let frame = Bytes::from(entry.data.clone());
        let mut messages = protocol::decode_frame(&frame).map_err(invalid)?.into_iter();
        let (Some(message), None) = (messages.next(), messages.next()) else {
            return Err(CloseReason::new(close::INVALID_PAYLOAD, "a stream entry must hold one message"));
        };
        match (entry.kind, message) {
            (Kind::Update, Message::Sync(SyncMessage::Update(bytes))) => self.apply_update(state, None, bytes, Some(frame), true),
            (Kind::Awareness, Message::Awareness(update)) => {
                protocol::validate_awareness(&update).map_err(invalid)?;
                let kept = super::presence::may_batch(state.members.len()).then(|| update.clone());
                let changed = state
                    .awareness
                    .apply_update_summary(update)
                    .map_err(|e| CloseReason::new(close::INVALID_PAYLOAD, format!("awareness: {e}")))?;
                if changed.is_some() {
                    super::presence::relay(&self.state, state, None, kept, &frame);
                }
                Ok(())
            }
            _ => Err(CloseReason::new(close::INVALID_PAYLOAD, "a stream entry holds an unexpected message")),
        }
    }

    /// An administrator deleted the room through some relay (`crate::cluster::delete`):
    /// close the members, take the room out of service (the next joiner loads it afresh,
    /// empty) and drop this relay's own copy of it (restore points, blobs).
    fn deleted(&self, state: &mut RoomState) {
        tracing::info!(room = %self.name, "room deleted through another relay");
        state.closed = true;
        state.cluster.pending.clear();
        let reason = CloseReason::new(close::ROOM_UNAVAILABLE, close::ROOM_DELETED);
        for member in state.members.values() {
            member.outbox.close(reason.clone());
        }
        let (store, name) = (self.store.clone(), self.name.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.delete_room(&name) {
                tracing::warn!(room = name, %error, "the deleted room's local copy could not be removed");
            }
        });
    }

    /// Redis failed: take the room offline and close every member with 4503, so nobody
    /// writes where the other relays cannot see it. The next joiner reloads from Redis.
    pub fn cluster_failed(&self, why: &str) {
        let mut state = self.state.lock();
        self.fail(&mut state, why);
    }

    fn fail(&self, state: &mut RoomState, why: &str) {
        if state.closed {
            return;
        }
        tracing::warn!(room = %self.name, why, "room offline: redis unavailable");
        state.closed = true;
        state.cluster.pending.clear();
        for member in state.members.values() {
            member.outbox.close(unavailable(why));
        }
    }

    /// Whether a compaction is due (a peek: nothing changes).
    pub fn compaction_due(&self, policy: &CompactionPolicy, force: bool) -> bool {
        let state = self.state.lock();
        let mut shape = state.log;
        shape.oldest_entry_age = state.oldest_log_entry.map(|t| t.elapsed());
        if force {
            shape.log_entries > 0
        } else {
            policy.is_due(&shape)
        }
    }

    /// Another relay compacts this room: count the log afresh.
    pub fn forget_log_shape(&self) {
        let mut state = self.state.lock();
        let snapshot_bytes = state.log.snapshot_bytes;
        state.log = LogShape { snapshot_bytes, ..LogShape::default() };
        state.oldest_log_entry = None;
    }

    /// The stream id the room's state covers and the state itself, taken under one lock.
    pub fn prepare_cluster_compaction(&self) -> Option<(String, Vec<u8>)> {
        let mut state = self.state.lock();
        let snapshot = self.fold_log(&mut state)?;
        Some((state.cluster.position.clone(), snapshot))
    }
}

fn fan_out_through(state: &mut RoomState, n: u64) {
    while state.cluster.pending.front().is_some_and(|p| p.n <= n) {
        let Some(pending) = state.cluster.pending.pop_front() else { break };
        broadcast(&state.members, pending.from, &pending.frame, Outbox::offer_update);
        if let Some(ack) = pending.ack {
            ack();
        }
    }
}
