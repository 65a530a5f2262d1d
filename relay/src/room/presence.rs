//! Presence batching: in a crowded room, awareness changes that arrive close together are
//! merged and sent to every member as one frame, instead of one frame per change per member.
//!
//! Why: each awareness change costs one socket write per member, so a room whose N members
//! each move a cursor r times a second costs N²·r writes a second — 250,000 at 500 members
//! and 1 Hz, which is most of what the relay does in a presence storm. The batch window
//! grows with the room ([`window`]): a change is sent at once when the room's last
//! awareness broadcast is older than the window, otherwise it waits (merged with the others,
//! newest clock per client) until the window has passed since that broadcast. That bounds a
//! room's awareness broadcasts to about one per window, i.e. its writes to about
//! `1 / WINDOW_PER_MEMBER` a second, whatever its size. Small rooms (window under
//! [`MIN_WINDOW`]) are never delayed, and a change is never delayed by more than
//! [`MAX_WINDOW`].
//!
//! A merged frame is sent to every member, its senders included when it holds more than one
//! sender's changes. Stock clients ignore their own state coming back (its clock is not
//! newer), as they do from the reference server, which echoes every change.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::time::Instant;
use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry};
use yrs::ClientID;

use super::{broadcast, ConnId, RoomState};
use crate::outbound::Outbox;

/// How much longer a room's batch window gets per member.
const WINDOW_PER_MEMBER: Duration = Duration::from_micros(100);
/// Below this window (rooms of fewer than 20 members) changes are always sent at once.
const MIN_WINDOW: Duration = Duration::from_millis(2);
/// The most a change waits, however large the room.
const MAX_WINDOW: Duration = Duration::from_millis(50);

/// How long a room of `members` members merges awareness changes.
fn window(members: usize) -> Duration {
    let members = u32::try_from(members).unwrap_or(u32::MAX);
    WINDOW_PER_MEMBER.saturating_mul(members).min(MAX_WINDOW)
}

/// Awareness changes waiting to be broadcast together.
#[derive(Default)]
pub(super) struct PresenceBatch {
    pending: HashMap<ClientID, AwarenessUpdateEntry>,
    /// The one connection every pending change came from, if there is one.
    sender: Sender,
    flush_scheduled: bool,
    last_broadcast: Option<Instant>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Sender {
    #[default]
    Nobody,
    One(Option<ConnId>),
    Several,
}

impl PresenceBatch {
    fn merge(&mut self, sender: Option<ConnId>, update: AwarenessUpdate) {
        self.sender = match self.sender {
            Sender::Nobody => Sender::One(sender),
            Sender::One(previous) if previous == sender => Sender::One(sender),
            _ => Sender::Several,
        };
        for (client, entry) in update.clients {
            match self.pending.get(&client) {
                Some(waiting) if waiting.clock >= entry.clock => {}
                _ => {
                    self.pending.insert(client, entry);
                }
            }
        }
    }

    /// The merged frame and the connection that should not get it back, if any.
    fn take(&mut self) -> Option<(Bytes, Option<ConnId>)> {
        if self.pending.is_empty() {
            return None;
        }
        let clients = std::mem::take(&mut self.pending);
        let skip = match std::mem::take(&mut self.sender) {
            Sender::One(sender) => sender,
            Sender::Nobody | Sender::Several => None,
        };
        Some((Bytes::from(protocol::awareness(AwarenessUpdate { clients })), skip))
    }

    /// Forgets waiting states of clients that just left (their removal was sent already).
    pub(super) fn forget(&mut self, clients: &[ClientID]) {
        for client in clients {
            self.pending.remove(client);
        }
    }
}

/// Whether a room of `members` members may batch: only then does [`relay`] need the change
/// itself besides its frame (callers keep a copy only then).
pub(super) fn may_batch(members: usize) -> bool {
    window(members) >= MIN_WINDOW
}

/// Sends an awareness change that the room applied (`frame` holds it; `update` is a copy of
/// it when [`may_batch`]) to the members, except `sender`, now or merged into the room's
/// batch. `room` is the room's state, for the timer that flushes a batch.
pub(super) fn relay(
    room: &Arc<Mutex<RoomState>>,
    state: &mut RoomState,
    sender: Option<ConnId>,
    update: Option<AwarenessUpdate>,
    frame: &Bytes,
) {
    let window = window(state.members.len());
    let now = Instant::now();
    let batch = &mut state.presence;
    let quiet = batch.pending.is_empty() && batch.last_broadcast.is_none_or(|at| now.duration_since(at) >= window);
    let update = match update {
        Some(update) if window >= MIN_WINDOW && !quiet => update,
        _ => {
            batch.last_broadcast = Some(now);
            broadcast(&state.members, sender, frame, Outbox::offer_awareness);
            return;
        }
    };
    batch.merge(sender, update);
    if batch.flush_scheduled {
        return;
    }
    let due = batch.last_broadcast.map_or(now, |at| at + window);
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            batch.flush_scheduled = true;
            let room = Arc::downgrade(room);
            runtime.spawn(async move {
                tokio::time::sleep_until(due).await;
                flush(&room);
            });
        }
        // Outside a runtime (tools, fuzzing) nothing could flush later: send it now.
        Err(_) => flush_locked(state),
    }
}

fn flush(room: &Weak<Mutex<RoomState>>) {
    if let Some(room) = room.upgrade() {
        flush_locked(&mut room.lock());
    }
}

fn flush_locked(state: &mut RoomState) {
    state.presence.flush_scheduled = false;
    if let Some((frame, skip)) = state.presence.take() {
        state.presence.last_broadcast = Some(Instant::now());
        broadcast(&state.members, skip, &frame, Outbox::offer_awareness);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(client: u64, clock: u32) -> AwarenessUpdate {
        let mut update = AwarenessUpdate { clients: HashMap::new() };
        update.clients.insert(ClientID::new(client), AwarenessUpdateEntry { clock, json: format!("{{\"c\":{clock}}}").into() });
        update
    }

    #[test]
    fn small_rooms_never_wait_and_large_ones_wait_at_most_the_cap() {
        assert!(window(19) < MIN_WINDOW);
        assert!(window(20) >= MIN_WINDOW);
        assert_eq!(window(500), MAX_WINDOW);
        assert_eq!(window(usize::MAX), MAX_WINDOW);
    }

    #[test]
    fn a_batch_keeps_the_newest_state_of_each_client() {
        let mut batch = PresenceBatch::default();
        batch.merge(Some(1), change(7, 3));
        batch.merge(Some(1), change(7, 2));
        batch.merge(Some(1), change(8, 1));
        let (frame, skip) = batch.take().expect("changes wait");
        assert_eq!(skip, Some(1), "one sender: it does not get its own changes back");
        let messages = protocol::decode_frame(&frame).expect("the merged frame decodes");
        let [protocol::Message::Awareness(update)] = messages.as_slice() else { panic!("one awareness message") };
        assert_eq!(update.clients.len(), 2);
        assert_eq!(update.clients[&ClientID::new(7)].clock, 3);
        assert!(batch.take().is_none(), "taking empties the batch");
    }

    #[test]
    fn changes_from_several_senders_go_to_everyone() {
        let mut batch = PresenceBatch::default();
        batch.merge(Some(1), change(7, 1));
        batch.merge(Some(2), change(8, 1));
        let (_, skip) = batch.take().expect("changes wait");
        assert_eq!(skip, None);
        batch.merge(Some(2), change(8, 2));
        assert_eq!(batch.take().expect("changes wait").1, Some(2), "the next batch starts afresh");
    }

    /// A room of `n` members on the memory store, and each member's inbox.
    fn crowded_room(n: u64) -> (super::super::Room, Vec<crate::outbound::Inbox>) {
        let store = Arc::new(crate::store::MemoryStore::new());
        let loaded = crate::backend::standalone::load_room(&*store, store.clone(), "crowd").expect("an empty room loads");
        let room = super::super::Room::load("crowd", loaded.content, loaded.link, 1 << 20).expect("an empty room loads");
        let mut inboxes = Vec::new();
        for conn in 0..n {
            let (outbox, inbox) = crate::outbound::channel(1 << 10);
            room.join(conn, super::super::Member::new(outbox, false, crate::auth::Role::Editor), 1000).expect("joins");
            inboxes.push(inbox);
        }
        (room, inboxes)
    }

    fn drain(inbox: &crate::outbound::Inbox) -> Vec<AwarenessUpdate> {
        std::iter::from_fn(|| inbox.try_next())
            .flat_map(|frame| protocol::decode_frame(&frame).expect("relay frames decode"))
            .filter_map(|message| match message {
                protocol::Message::Awareness(update) => Some(update),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_crowded_room_sends_one_merged_frame_per_window() {
        let (room, inboxes) = crowded_room(30); // window: 3 ms
        inboxes.iter().for_each(|inbox| drop(drain(inbox))); // the greetings
        let send = |conn: u64, clock: u32| {
            let frame = protocol::awareness(change(100 + conn, clock));
            room.handle_frame(conn, Bytes::from(frame)).expect("a valid change");
        };
        send(0, 1); // a quiet room: sent at once, to everyone but its sender
        assert!(drain(&inboxes[0]).is_empty());
        assert!(inboxes[1..].iter().all(|inbox| drain(inbox).len() == 1));
        for conn in 1..30 {
            send(conn, 1); // within the window: merged
        }
        assert!(drain(&inboxes[5]).is_empty(), "nothing before the window ends");
        tokio::time::sleep(window(30) + Duration::from_millis(1)).await;
        for inbox in &inboxes {
            let received = drain(inbox);
            assert_eq!(received.len(), 1, "one merged frame");
            assert_eq!(received[0].clients.len(), 29, "every change of the window");
        }
        // One sender in a window: it does not get its own changes back.
        send(3, 2);
        send(3, 3);
        tokio::time::sleep(window(30) + Duration::from_millis(1)).await;
        send(3, 4);
        tokio::time::sleep(window(30) + Duration::from_millis(1)).await;
        assert!(drain(&inboxes[3]).is_empty());
        let received = drain(&inboxes[4]);
        assert_eq!(received.len(), 2, "sent at once, then the batch");
        assert_eq!(received.last().map(|u| u.clients[&ClientID::new(103)].clock), Some(4), "the newest state last");
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_room_is_never_delayed() {
        let (room, inboxes) = crowded_room(5);
        inboxes.iter().for_each(|inbox| drop(drain(inbox)));
        for clock in 1..=3 {
            room.handle_frame(0, Bytes::from(protocol::awareness(change(100, clock)))).expect("a valid change");
        }
        assert_eq!(drain(&inboxes[1]).len(), 3, "each change at once");
    }
}
