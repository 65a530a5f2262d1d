//! What the backend tells a room ([`RoomSink`]): changes other relays made, read from the
//! shared log, are decoded and checked like a client's messages (decoding, causal
//! completeness, re-encoding, no pending state), then applied and offered to the members;
//! the room's own, read back, release its held updates; a deletion closes the room.
//! Anything the room cannot follow takes it out of service, and the next joiner loads it
//! afresh.

use std::time::Duration;

use bytes::Bytes;
use shared::close;
use shared::protocol::{self, Message, SyncMessage};

use super::{invalid, presence, Room, RoomState};
use crate::backend::{Change, ChangeKind, Delivery, RoomSink};
use crate::close_reason::CloseReason;

impl RoomSink for Room {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&self, changes: &[Change], position: &str) -> Delivery {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return Delivery::Stopped;
        }
        for change in changes {
            match &change.kind {
                ChangeKind::Deleted => {
                    self.deleted(&mut state);
                    return Delivery::Deleted;
                }
                ChangeKind::Own(n) => {
                    let RoomState { held, members, .. } = &mut *state;
                    held.release_through(*n, members);
                }
                ChangeKind::Update(_) | ChangeKind::Awareness(_) => {
                    if let Err(reason) = self.apply_elsewhere(&mut state, &change.kind) {
                        // The shared log holds something this room cannot follow: reload.
                        tracing::warn!(room = %self.name, change = change.id, reason = %reason.reason, "a change from another relay was refused");
                        if state.closed.is_none() {
                            self.poison(&mut state, None, "a stream entry was refused");
                        }
                        return Delivery::Stopped;
                    }
                }
            }
        }
        state.held.position = position.to_owned();
        Delivery::Following
    }

    fn released(&self, n: u64) {
        let mut state = self.state.lock();
        let RoomState { held, members, .. } = &mut *state;
        held.release_through(n, members);
    }

    fn unavailable(&self, why: &str) {
        let mut state = self.state.lock();
        self.fail(&mut state, why);
    }

    fn check_behind(&self, behind: &dyn Fn(&str) -> bool) -> bool {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return false;
        }
        let now = behind(&state.held.position);
        let before = std::mem::replace(&mut state.held.behind, now);
        if !(now && before) {
            return false;
        }
        // At two checks in a row: a reader only milliseconds behind has moved on by the next.
        self.poison(&mut state, None, "the stream reader fell behind the stream's trim point");
        true
    }

    fn expire_remote_presence(&self, timeout: Duration) -> usize {
        Room::expire_remote_presence(self, timeout)
    }
}

impl Room {
    /// Applies another relay's change (one Update or Awareness message) like a member's,
    /// except that it is in the shared log already: nothing goes back to the backend.
    pub(super) fn apply_elsewhere(&self, state: &mut RoomState, kind: &ChangeKind) -> Result<(), CloseReason> {
        let (ChangeKind::Update(frame) | ChangeKind::Awareness(frame)) = kind else {
            return Err(CloseReason::new(close::INVALID_PAYLOAD, "a stream entry holds an unexpected message"));
        };
        let mut messages = protocol::decode_frame(frame).map_err(invalid)?.into_iter();
        let (Some(message), None) = (messages.next(), messages.next()) else {
            return Err(CloseReason::new(close::INVALID_PAYLOAD, "a stream entry must hold one message"));
        };
        match (kind, message) {
            (ChangeKind::Update(_), Message::Sync(SyncMessage::Update(bytes))) => {
                self.apply_update(state, None, bytes, Some(Bytes::clone(frame)), true)
            }
            (ChangeKind::Awareness(_), Message::Awareness(update)) => {
                protocol::validate_awareness(&update).map_err(invalid)?;
                let kept = presence::may_batch(state.members.len()).then(|| update.clone());
                let changed = state
                    .awareness
                    .apply_update_summary(update)
                    .map_err(|e| CloseReason::new(close::INVALID_PAYLOAD, format!("awareness: {e}")))?;
                if changed.is_some() {
                    presence::relay(&self.state, state, None, kept, frame);
                }
                Ok(())
            }
            _ => Err(CloseReason::new(close::INVALID_PAYLOAD, "a stream entry holds an unexpected message")),
        }
    }

    /// An administrator deleted the room through some relay: close the members and take the
    /// room out of service (the next joiner loads it afresh, empty). The backend drops this
    /// relay's copy of it.
    fn deleted(&self, state: &mut RoomState) {
        tracing::info!(room = %self.name, "room deleted through another relay");
        state.go_out_of_service(CloseReason::new(close::ROOM_UNAVAILABLE, close::ROOM_DELETED), None);
    }
}
