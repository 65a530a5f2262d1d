//! A deleted room stays deleted.
//!
//! Deleting a room does not delete the copies its members hold: a stock y-websocket client
//! reconnects after the close and its handshake uploads its whole copy into the fresh, empty
//! room, which would bring the deleted room back. So a delete records the room's *history*:
//! the state vector of its content (merged with the history of earlier deletes). Afterwards
//! an update from a member that holds content from before the delete (a struct whose clock
//! is below the history's clock for its client) is refused, and the member is closed with
//! 4004 "room deleted", which tells our client to drop its local copy. Content made after the
//! delete always has clocks above the history (new documents start new clients at 0, and an
//! old client's clocks only grow), so it is never refused. Imports and restores by an
//! administrator are not members' updates and pass.
//!
//! The history is kept by the store standalone (`RoomArchive::remember_deletion`, encoded and
//! merged by `crate::store::history`) and, with Redis, in the `Deleted` entry of the room's
//! stream (see the Redis backend's `delete.rs`).

use shared::close;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, StateVector, Transact, Update};

use super::{Room, RoomState};
use crate::close_reason::CloseReason;

impl Room {
    /// Refuses members' updates holding content from before `history` (see the module doc).
    pub fn forbid_content_before(&self, history: StateVector) {
        let mut state = self.state.lock();
        match &mut state.deleted_history {
            Some(known) => known.merge(history),
            slot => *slot = Some(history),
        }
    }

    /// The history to record when deleting the room now: its content's state vector, merged
    /// with what earlier deletes recorded. Encoded (v1).
    pub fn history_for_deletion(&self) -> Vec<u8> {
        let state = self.state.lock();
        let mut history = state.awareness.doc().transact().state_vector();
        if let Some(earlier) = &state.deleted_history {
            history.merge(earlier.clone());
        }
        history.encode_v1()
    }

    /// Refuses `update` from a member if it holds content from before the room's deletion.
    pub(super) fn check_not_deleted_content(state: &RoomState, update: &Update) -> Result<(), CloseReason> {
        let Some(history) = &state.deleted_history else { return Ok(()) };
        if predates(update, history) {
            return Err(CloseReason::new(close::ROOM_UNAVAILABLE, close::ROOM_DELETED));
        }
        Ok(())
    }
}

/// Whether `update` holds a struct below `history`'s clock for its client.
fn predates(update: &Update, history: &StateVector) -> bool {
    update.state_vector_lower().iter().any(|(client, lowest)| *lowest < history.get(client))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, Map};

    fn update_of(doc: &Doc, since: &StateVector) -> Update {
        Update::decode_v1(&doc.transact().encode_state_as_update_v1(since)).expect("decodes")
    }

    #[test]
    fn content_from_before_the_delete_is_told_apart_from_content_after() {
        let old = Doc::new();
        old.get_or_insert_map("m").insert(&mut old.transact_mut(), "a", 1);
        let history = old.transact().state_vector();
        assert!(predates(&update_of(&old, &StateVector::default()), &history), "the old copy");

        // The same client writing on after the delete: only its new structs are accepted.
        let before = old.transact().state_vector();
        old.get_or_insert_map("m").insert(&mut old.transact_mut(), "b", 2);
        assert!(!predates(&update_of(&old, &before), &history), "new content of an old client");

        let fresh = Doc::new();
        fresh.get_or_insert_map("m").insert(&mut fresh.transact_mut(), "c", 3);
        assert!(!predates(&update_of(&fresh, &StateVector::default()), &history), "a new client");
    }

}
