//! One room in memory: its document, its awareness states and its members.
//!
//! Everything that changes a room happens under the room's lock, in this order: decode and
//! validate, apply, hand to the backend through the room's link (which only queues: see
//! `crate::backend`), offer to the other members' queues (at once, or once the backend
//! releases the update: `held.rs`). Holding the lock while offering keeps every member's
//! stream in the order the room applied updates; offering never waits (see
//! [`crate::outbound`]), so a slow member cannot stall the room. The backend talks back to
//! the room through [`crate::backend::RoomSink`] (`sink.rs`): changes other relays made,
//! held updates released, the backend lost.
//!
//! Invariant: the room's document is exactly the fold of what was handed to the backend,
//! numbered 1..=`last_seq`. An update is handed over only after it applied cleanly; one that
//! fails half-way poisons the room, which leaves memory and is reloaded by the next joiner.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use shared::close;
use shared::protocol::{self, Message, ProtocolError, SyncMessage};
use yrs::sync::Awareness;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact};

use crate::auth::Role;
use crate::backend::RoomLink;
use crate::close_reason::CloseReason;
use crate::compaction::LogShape;
use crate::outbound::{Outbox, QueueDepths};

/// Identifies one WebSocket connection for the lifetime of the process.
pub type ConnId = u64;

/// Why a member could not join.
#[derive(Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The room left memory between lookup and join; look it up again.
    Evicted,
    /// The room has as many members as it accepts.
    Full,
}

/// How often a viewer may try to write before it is closed.
const VIEWER_WRITES_TOLERATED: u32 = 1;

mod apply;
mod deletion;
mod guard;
mod held;
mod identity;
mod load;
mod presence;
mod remote_presence;
mod sink;
mod upkeep;

pub use guard::EncodeFailed;
use guard::{encode_diff, has_pending};

pub struct Room {
    name: String,
    /// Largest the room's stored form may grow, in bytes.
    max_bytes: u64,
    /// Shared with the timer that flushes a presence batch (see `presence.rs`).
    state: Arc<Mutex<RoomState>>,
}

struct RoomState {
    awareness: Awareness,
    members: HashMap<ConnId, Member>,
    /// Where the room's changes go; `None` once the room is out of service.
    link: Option<Box<dyn RoomLink>>,
    /// Set once the room left memory (evicted, deleted, poisoned or offline): why, as its
    /// members were told. A frame that arrives afterwards gets the same reason, so a member
    /// learns the real cause (e.g. the store is unavailable), not whichever close came first.
    closed: Option<CloseReason>,
    last_active: Instant,
    /// Sequence number of the newest update handed to the store.
    last_seq: u64,
    log: LogShape,
    oldest_log_entry: Option<Instant>,
    /// The whole room as a SyncStep2 frame, encoded once per room version and shared by
    /// every joiner that starts from an empty document.
    full_state_frame: Option<Bytes>,
    /// Local updates the backend holds back, and where the room stands in the shared log.
    held: held::Held,
    /// Awareness changes waiting to be broadcast together (crowded rooms only).
    presence: presence::PresenceBatch,
    /// Set once the room was deleted: members' updates holding older content are refused
    /// (see `deletion.rs`).
    deleted_history: Option<yrs::StateVector>,
}

/// A connection as a member of a room.
#[derive(Clone)]
pub struct Member {
    outbox: Outbox,
    role: Role,
    /// Awareness client ids this connection published, removed for everyone when it leaves.
    controlled: HashSet<ClientID>,
    /// Whether the client asked for durable acknowledgements, and how many updates it sent.
    wants_acks: bool,
    updates_sent: u64,
    /// Writes refused because the member is a viewer.
    denied_writes: u32,
    /// Who the relay knows this is, stamped into its awareness states (`identity.rs`).
    identity: Option<Arc<identity::Identity>>,
}

impl Member {
    pub fn new(outbox: Outbox, wants_acks: bool, role: Role) -> Self {
        Member { outbox, role, controlled: HashSet::new(), wants_acks, updates_sent: 0, denied_writes: 0, identity: None }
    }

    /// The member's id and name as the relay knows them (a token's `sub`, the webhook's).
    pub fn with_identity(mut self, id: Option<String>, name: Option<String>) -> Self {
        self.identity = identity::Identity::new(id, name).map(Arc::new);
        self
    }
}

impl Room {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_closed(&self) -> bool {
        self.state.lock().closed.is_some()
    }

    pub fn member_count(&self) -> usize {
        self.state.lock().members.len()
    }

    /// When someone last joined, left or wrote.
    pub fn last_active(&self) -> Instant {
        self.state.lock().last_active
    }

    /// Adds the outbound queue depths of the room's members to `total`.
    pub fn add_queue_depths(&self, total: &mut QueueDepths) {
        let state = self.state.lock();
        for member in state.members.values() {
            let (control, updates, awareness) = member.outbox.depths();
            total.control += control;
            total.updates += updates;
            total.awareness += awareness;
            total.deepest = total.deepest.max(control + updates + awareness);
        }
    }

    /// Approximate bytes the room holds: its stored form (snapshot plus log).
    pub fn approx_bytes(&self) -> u64 {
        let state = self.state.lock();
        state.log.snapshot_bytes + state.log.log_bytes
    }

    /// Adds a member and greets it: the relay's SyncStep1 (so the client uploads edits the
    /// room lacks) and every current awareness state, each in its own frame.
    pub fn join(&self, conn: ConnId, member: Member, max_members: usize) -> Result<(), JoinError> {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return Err(JoinError::Evicted);
        }
        if state.members.len() >= max_members {
            return Err(JoinError::Full);
        }
        let state_vector = state.awareness.doc().transact().state_vector();
        member.outbox.offer_control(Bytes::from(protocol::sync_step1(&state_vector)));
        if let Some(frame) = awareness_frame(&state.awareness) {
            member.outbox.offer_awareness(frame);
        }
        state.members.insert(conn, member);
        state.last_active = Instant::now();
        Ok(())
    }

    /// Removes a member and tells the others that the awareness states it controlled are gone.
    pub fn leave(&self, conn: ConnId) {
        let mut state = self.state.lock();
        state.last_active = Instant::now();
        let Some(member) = state.members.remove(&conn) else { return };
        let live: Vec<ClientID> = member
            .controlled
            .into_iter()
            .filter(|client| state.awareness.iter().any(|(id, s)| id == *client && s.data.is_some()))
            .collect();
        if let Some(frame) = remove_presence(&mut state, live) {
            self.share_awareness(&mut state, &frame);
        }
    }

    /// Handles one frame from member `conn`. An error means: close that connection with the
    /// returned reason; the room itself is unharmed unless it says so.
    pub fn handle_frame(&self, conn: ConnId, frame: Bytes) -> Result<(), CloseReason> {
        let messages = protocol::decode_frame(&frame).map_err(invalid)?;
        let single = messages.len() == 1;
        let mut state = self.state.lock();
        if let Some(reason) = &state.closed {
            return Err(reason.clone());
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
                let answer = if remote.is_empty() {
                    full_state_frame(state)
                } else {
                    encode_diff(state.awareness.doc(), &remote).map(|diff| Bytes::from(protocol::sync_step2(diff)))
                };
                let answer = answer.map_err(|failure| {
                    self.poison(state, None, &failure.to_string());
                    CloseReason::new(close::INTERNAL_ERROR, "the room cannot be encoded; it was taken offline")
                })?;
                if let Some(member) = state.members.get(&conn) {
                    member.outbox.offer_control(answer);
                }
            }
            Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes))
                if state.members.get(&conn).is_some_and(|m| m.role == Role::Viewer) =>
            {
                self.refuse_viewer_write(state, conn, &bytes)?;
            }
            Message::Sync(SyncMessage::SyncStep2(bytes)) => {
                // Content like an update; forwarded to the others as an update.
                self.apply_update(state, Some(conn), bytes, None, false)?;
            }
            Message::Sync(SyncMessage::Update(bytes)) => {
                self.apply_update(state, Some(conn), bytes, frame, false)?;
            }
            Message::Awareness(mut update) => {
                protocol::validate_awareness(&update).map_err(invalid)?;
                let who = state.members.get(&conn).and_then(|m| m.identity.clone());
                // A stamped state must be encoded again: the client's frame no longer says it.
                let frame = frame.filter(|_| !who.is_some_and(|who| identity::stamp(&mut update, &who)));
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
                let kept = presence::may_batch(state.members.len()).then(|| update.clone());
                let changed = state.awareness.apply_update_summary(update).map_err(|e| {
                    CloseReason::new(close::INVALID_PAYLOAD, format!("awareness: {e}"))
                })?;
                if changed.is_some() {
                    presence::relay(&self.state, state, Some(conn), kept, &frame);
                    self.share_awareness(state, &frame);
                }
            }
            Message::AwarenessQuery => {
                if let (Some(frame), Some(member)) = (awareness_frame(&state.awareness), state.members.get(&conn)) {
                    member.outbox.offer_awareness(frame);
                }
            }
            // A round-trip probe is answered to its sender alone, ahead of queued updates.
            Message::Custom(protocol::MSG_PING, payload) if payload.len() <= protocol::MAX_PING_PAYLOAD => {
                if let Some(member) = state.members.get(&conn) {
                    member.outbox.offer_control(Bytes::from(protocol::pong(&payload)));
                }
            }
            // Auth replies and message types we do not know are ignored, as stock servers do.
            Message::Auth(_) | Message::Custom(..) => {}
        }
        Ok(())
    }

    /// The whole document as one update (exports, restore points).
    pub fn encode_state(&self) -> Result<Vec<u8>, EncodeFailed> {
        let state = self.state.lock();
        encode_diff(state.awareness.doc(), &StateVector::default())
    }

    /// A copy of the document (restore previews and diffs), built from its encoded state.
    pub fn snapshot_doc(&self) -> Result<Doc, EncodeFailed> {
        let state = self.encode_state()?;
        let doc = Doc::new();
        let update = protocol::decode_update(&state).map_err(|e| EncodeFailed(e.to_string()))?;
        doc.transact_mut().apply_update(update).map_err(|e| EncodeFailed(e.to_string()))?;
        Ok(doc)
    }

    /// Runs `f` with the room's document under the room's lock.
    pub fn with_doc<T>(&self, f: impl FnOnce(&Doc) -> T) -> T {
        let state = self.state.lock();
        f(state.awareness.doc())
    }

    /// Closes every member and takes the room out of memory (delete, shutdown).
    pub fn close_all(&self, reason: &CloseReason) {
        self.state.lock().go_out_of_service(reason.clone(), None);
    }
}

impl RoomState {
    /// The room leaves service: no more changes, its link and held updates are dropped (the
    /// backend stops what it ran for the room), and every member but `spared` (the one whose
    /// own frame caused it, answered by its caller) is closed with `reason`.
    fn go_out_of_service(&mut self, reason: CloseReason, spared: Option<ConnId>) {
        for (id, member) in &self.members {
            if Some(*id) != spared {
                member.outbox.close(reason.clone());
            }
        }
        self.closed = Some(reason);
        self.link = None;
        self.held.clear();
    }

    /// Why a change cannot be made now that the room is out of service.
    fn closed_reason(&self) -> CloseReason {
        self.closed.clone().unwrap_or_else(|| CloseReason::new(close::RESYNC, "room was reloaded: reconnect"))
    }
}

/// Removes the presence states of `clients` and tells the members; returns the removal
/// frame (`None` if there was nothing to remove).
fn remove_presence(state: &mut RoomState, clients: Vec<ClientID>) -> Option<Bytes> {
    if clients.is_empty() {
        return None;
    }
    for client in &clients {
        state.awareness.remove_state(*client);
    }
    state.presence.forget(&clients);
    let update = state.awareness.update_with_clients(clients).ok()?;
    let frame = Bytes::from(protocol::awareness(update));
    broadcast(&state.members, None, &frame, Outbox::offer_awareness);
    Some(frame)
}

fn full_state_frame(state: &mut RoomState) -> Result<Bytes, EncodeFailed> {
    if let Some(frame) = &state.full_state_frame {
        return Ok(frame.clone());
    }
    let update = encode_diff(state.awareness.doc(), &StateVector::default())?;
    let frame = Bytes::from(protocol::sync_step2(update));
    state.full_state_frame = Some(frame.clone());
    Ok(frame)
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

fn broadcast<R>(members: &HashMap<ConnId, Member>, except: Option<ConnId>, frame: &Bytes, offer: impl Fn(&Outbox, Bytes) -> R) {
    for (id, member) in members {
        if Some(*id) != except {
            offer(&member.outbox, frame.clone());
        }
    }
}
