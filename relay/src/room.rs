//! One room in memory: its document, its awareness states and its members.
//!
//! Everything that changes a room happens under the room's lock, in this order: decode and
//! validate, apply, record in the store, offer to the other members' queues. Holding the
//! lock while offering keeps every member's stream in the order the room applied updates;
//! offering never waits (see [`crate::outbound`]), so a slow member cannot stall the room.
//!
//! Invariant: the room's document is exactly the fold of what the store holds for it. An
//! update is recorded only after it applied cleanly; an update that fails half-way poisons
//! the room, which is dropped from memory and reloaded from the store by the next joiner.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use shared::close;
use shared::protocol::{self, Message, ProtocolError, SyncMessage};
use yrs::sync::Awareness;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update};

use crate::outbound::{CloseReason, Outbox};
use crate::store::{SharedStore, StoreError};

/// Identifies one WebSocket connection for the lifetime of the process.
pub type ConnId = u64;

/// The room was evicted between lookup and join; look it up again.
#[derive(Debug)]
pub struct Evicted;

pub struct Room {
    name: String,
    store: SharedStore,
    state: Mutex<RoomState>,
}

struct RoomState {
    awareness: Awareness,
    members: HashMap<ConnId, Member>,
    /// Set once the room left memory (evicted or poisoned); joins must look it up again.
    closed: bool,
    last_active: Instant,
}

struct Member {
    outbox: Outbox,
    /// Awareness client ids this connection published, removed for everyone when it leaves.
    controlled: HashSet<ClientID>,
}

impl Room {
    /// Builds the room from what the store holds. Blocking; run off the async runtime.
    /// Stored data that does not decode or apply refuses the room instead of serving part
    /// of it.
    pub fn load(name: &str, store: SharedStore) -> Result<Room, StoreError> {
        let updates = store.load(name)?;
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            for (index, bytes) in updates.iter().enumerate() {
                let damaged = |reason: String| StoreError::Damaged {
                    room: name.to_owned(),
                    reason: format!("stored update #{index}: {reason}"),
                };
                let update = protocol::decode_update(bytes).map_err(|e| damaged(e.to_string()))?;
                match catch_unwind(AssertUnwindSafe(|| txn.apply_update(update))) {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Err(damaged(error.to_string())),
                    Err(_) => return Err(damaged("applying it panicked".into())),
                }
            }
        }
        Ok(Room {
            name: name.to_owned(),
            store,
            state: Mutex::new(RoomState {
                awareness: Awareness::new(doc),
                members: HashMap::new(),
                closed: false,
                last_active: Instant::now(),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    pub fn member_count(&self) -> usize {
        self.state.lock().members.len()
    }

    /// Adds a member and greets it: the relay's SyncStep1 (so the client uploads edits the
    /// room lacks) and every current awareness state, each in its own frame.
    pub fn join(&self, conn: ConnId, outbox: Outbox) -> Result<(), Evicted> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(Evicted);
        }
        let state_vector = state.awareness.doc().transact().state_vector();
        outbox.offer(Bytes::from(protocol::sync_step1(&state_vector)));
        if let Some(frame) = awareness_frame(&state.awareness) {
            outbox.offer(frame);
        }
        state.members.insert(conn, Member { outbox, controlled: HashSet::new() });
        state.last_active = Instant::now();
        Ok(())
    }

    /// Removes a member and tells the others that the awareness states it controlled are gone.
    pub fn leave(&self, conn: ConnId) {
        let mut state = self.state.lock();
        state.last_active = Instant::now();
        let Some(member) = state.members.remove(&conn) else { return };
        let mut removed = Vec::new();
        for client in member.controlled {
            let live = state.awareness.iter().any(|(id, s)| id == client && s.data.is_some());
            if live {
                state.awareness.remove_state(client);
                removed.push(client);
            }
        }
        if removed.is_empty() {
            return;
        }
        if let Ok(update) = state.awareness.update_with_clients(removed) {
            let frame = Bytes::from(protocol::awareness(update));
            broadcast(&state.members, None, &frame);
        }
    }

    /// Handles one frame from member `conn`. An error means: close that connection with the
    /// returned reason; the room itself is unharmed unless it says so.
    pub fn handle_frame(&self, conn: ConnId, frame: Bytes) -> Result<(), CloseReason> {
        let messages = protocol::decode_frame(&frame).map_err(invalid)?;
        let single = messages.len() == 1;
        let mut state = self.state.lock();
        if state.closed {
            return Err(CloseReason::new(close::RESYNC, "room was reloaded: reconnect"));
        }
        state.last_active = Instant::now();
        for message in messages {
            let frame_to_forward = if single { Some(frame.clone()) } else { None };
            self.handle_message(&mut state, conn, message, frame_to_forward)?;
        }
        Ok(())
    }

    fn handle_message(
        &self,
        state: &mut RoomState,
        conn: ConnId,
        message: Message,
        frame: Option<Bytes>,
    ) -> Result<(), CloseReason> {
        match message {
            Message::Sync(SyncMessage::SyncStep1(remote)) => {
                let diff = state.awareness.doc().transact().encode_state_as_update_v1(&remote);
                send_to(state, conn, Bytes::from(protocol::sync_step2(diff)));
            }
            Message::Sync(SyncMessage::SyncStep2(bytes)) => {
                // Content like an update; forwarded to the others as an update.
                self.apply_update(state, conn, bytes, None)?;
            }
            Message::Sync(SyncMessage::Update(bytes)) => {
                self.apply_update(state, conn, bytes, frame)?;
            }
            Message::Awareness(update) => {
                protocol::validate_awareness(&update).map_err(invalid)?;
                if let Some(member) = state.members.get_mut(&conn) {
                    for (client, entry) in &update.clients {
                        if &*entry.json == "null" {
                            member.controlled.remove(client);
                        } else {
                            member.controlled.insert(*client);
                        }
                    }
                }
                let frame = frame.unwrap_or_else(|| Bytes::from(protocol::awareness(update.clone())));
                let changed = state.awareness.apply_update_summary(update).map_err(|e| {
                    CloseReason::new(close::INVALID_PAYLOAD, format!("awareness: {e}"))
                })?;
                if changed.is_some() {
                    broadcast(&state.members, Some(conn), &frame);
                }
            }
            Message::AwarenessQuery => {
                if let Some(frame) = awareness_frame(&state.awareness) {
                    send_to(state, conn, frame);
                }
            }
            // Auth replies and message types we do not know are ignored, as stock servers do.
            Message::Auth(_) | Message::Custom(..) => {}
        }
        Ok(())
    }

    fn apply_update(
        &self,
        state: &mut RoomState,
        conn: ConnId,
        bytes: Vec<u8>,
        frame: Option<Bytes>,
    ) -> Result<(), CloseReason> {
        let update: Update = protocol::decode_update(&bytes).map_err(invalid)?;
        if update.is_empty() {
            return Ok(());
        }
        let outcome = {
            let doc = state.awareness.doc();
            let mut txn = doc.transact_mut();
            catch_unwind(AssertUnwindSafe(|| txn.apply_update(update)))
        };
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                self.poison(state, conn, &error.to_string());
                return Err(CloseReason::new(close::INVALID_PAYLOAD, format!("invalid update: {error}")));
            }
            Err(_) => {
                self.poison(state, conn, "applying the update panicked");
                return Err(CloseReason::new(close::INVALID_PAYLOAD, "invalid update"));
            }
        }
        if let Err(error) = self.store.append(&self.name, &bytes) {
            tracing::error!(room = %self.name, %error, "could not record an update");
            self.poison(state, conn, "the store refused an update");
            return Err(CloseReason::new(close::INTERNAL_ERROR, "storage failed; reconnect later"));
        }
        let frame = frame.unwrap_or_else(|| Bytes::from(protocol::update(bytes)));
        broadcast(&state.members, Some(conn), &frame);
        Ok(())
    }

    /// The document may hold part of a refused update: take the room out of memory and make
    /// every member reconnect, so the next joiner reloads the room from the store.
    fn poison(&self, state: &mut RoomState, culprit: ConnId, why: &str) {
        tracing::warn!(room = %self.name, conn = culprit, why, "room reloads from the store");
        state.closed = true;
        for (id, member) in &state.members {
            if *id != culprit {
                member.outbox.close(CloseReason::new(close::RESYNC, "room reloaded: reconnect"));
            }
        }
    }

    /// Takes the room out of memory if nobody is in it and it was idle for `idle`; returns
    /// its whole state for the store's snapshot.
    pub fn evict_if_idle(&self, idle: Duration) -> Option<Vec<u8>> {
        let mut state = self.state.lock();
        if state.closed {
            return None;
        }
        if !state.members.is_empty() || state.last_active.elapsed() < idle {
            return None;
        }
        state.closed = true;
        let snapshot = state.awareness.doc().transact().encode_state_as_update_v1(&StateVector::default());
        Some(snapshot)
    }

    /// The whole document as one update (for snapshots and exports).
    pub fn encode_state(&self) -> Vec<u8> {
        let state = self.state.lock();
        let update = state.awareness.doc().transact().encode_state_as_update_v1(&StateVector::default());
        update
    }

    /// Closes every member, e.g. on shutdown.
    pub fn close_all(&self, reason: &CloseReason) {
        let state = self.state.lock();
        for member in state.members.values() {
            member.outbox.close(reason.clone());
        }
    }
}

fn invalid(error: ProtocolError) -> CloseReason {
    CloseReason::new(close::INVALID_PAYLOAD, error.to_string())
}

fn awareness_frame(awareness: &Awareness) -> Option<Bytes> {
    let update = awareness.update().ok()?;
    if update.clients.is_empty() {
        return None;
    }
    Some(Bytes::from(protocol::awareness(update)))
}

fn send_to(state: &RoomState, conn: ConnId, frame: Bytes) {
    if let Some(member) = state.members.get(&conn) {
        member.outbox.offer(frame);
    }
}

fn broadcast(members: &HashMap<ConnId, Member>, except: Option<ConnId>, frame: &Bytes) {
    for (id, member) in members {
        if Some(*id) != except {
            member.outbox.offer(frame.clone());
        }
    }
}
