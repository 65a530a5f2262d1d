//! How a room changes: an update is decoded, checked, applied, handed to the backend and
//! offered to the other members (now, or once the backend releases it: `held.rs`), all
//! under the room's lock (see the module above); a viewer's write is refused; a room whose
//! document may hold part of a refused update is poisoned and reloads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use bytes::Bytes;
use shared::close;
use shared::protocol;
use yrs::{Transact, Update};

use super::{broadcast, guard, has_pending, held, invalid, ConnId, Room, RoomState, VIEWER_WRITES_TOLERATED};
use crate::backend::{Accepted, LocalUpdate, Refused};
use crate::close_reason::CloseReason;
use crate::outbound::Outbox;
use crate::store::OnDurable;

impl Room {
    /// Applies an update that did not come from a member (an import or a restore), stores
    /// it and sends it to every member.
    pub fn apply_external(&self, update: Vec<u8>) -> Result<(), CloseReason> {
        let mut state = self.state.lock();
        if state.closed.is_some() {
            return Err(state.closed_reason());
        }
        state.last_active = Instant::now();
        self.apply_update(&mut state, None, update, None, false)
    }

    pub(super) fn apply_update(
        &self,
        state: &mut RoomState,
        from: Option<ConnId>,
        bytes: Vec<u8>,
        frame: Option<Bytes>,
        // From another relay, through the backend: accepted there, in the shared log already.
        elsewhere: bool,
    ) -> Result<(), CloseReason> {
        let update: Update = protocol::decode_update(&bytes).map_err(invalid)?;
        if update.is_empty() {
            return Ok(());
        }
        if from.is_some() {
            Room::check_not_deleted_content(state, &update)?;
        }
        guard::check_causally_complete(state.awareness.doc(), &update)?;
        if !guard::encodes_cleanly_alone(&bytes) {
            return Err(CloseReason::new(close::INVALID_PAYLOAD, "invalid update: it does not encode back"));
        }
        let stored = state.log.snapshot_bytes + state.log.log_bytes;
        if !elsewhere && stored + bytes.len() as u64 > self.max_bytes {
            return Err(CloseReason::new(
                close::ROOM_TOO_LARGE,
                format!("room would exceed its limit of {} bytes", self.max_bytes),
            ));
        }
        let outcome = {
            let doc = state.awareness.doc();
            let mut txn = doc.transact_mut();
            catch_unwind(AssertUnwindSafe(|| txn.apply_update(update)))
        };
        match outcome {
            Ok(Ok(())) if has_pending(state.awareness.doc()) => {
                // Blocks or deletions that wait for content nobody sent (their origins are
                // missing). Never keep them (see above): the room reloads from the backend,
                // which does not hold this update, and everyone resyncs.
                self.poison(state, from, "an update left changes waiting for missing dependencies");
                return Err(CloseReason::new(
                    close::RESYNC,
                    "update depends on changes the room has not seen: reconnect to resync",
                ));
            }
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                self.poison(state, from, &error.to_string());
                return Err(CloseReason::new(close::INVALID_PAYLOAD, format!("invalid update: {error}")));
            }
            Err(_) => {
                self.poison(state, from, "applying the update panicked");
                return Err(CloseReason::new(close::INVALID_PAYLOAD, "invalid update"));
            }
        }
        let seq = state.last_seq + 1;
        let ack = from.and_then(|conn| state.members.get_mut(&conn)).and_then(|member| {
            member.updates_sent += 1;
            member.wants_acks.then(|| {
                let (outbox, count) = (member.outbox.clone(), member.updates_sent);
                Box::new(move || {
                    outbox.offer_control(Bytes::from(protocol::durable_ack(count)));
                }) as OnDurable
            })
        });
        let len = bytes.len() as u64;
        let now = if elsewhere {
            // Already in the shared log: every member gets it now.
            Some((LocalUpdate::frame_of(frame, bytes), None))
        } else {
            let held = state.held.len();
            self.hand_over(state, from, LocalUpdate { seq, update: bytes, frame, on_durable: ack, held })?
        };
        state.last_seq = seq;
        state.log.log_entries += 1;
        state.log.log_bytes += len;
        state.oldest_log_entry.get_or_insert_with(Instant::now);
        state.full_state_frame = None;
        if let Some((frame, except)) = now {
            broadcast(&state.members, except, &frame, Outbox::offer_update);
        }
        Ok(())
    }

    /// Hands a local update to the backend. Returns the frame to offer to the members now
    /// (and who sent it), or `None` when the backend holds it back until it is released.
    fn hand_over(
        &self,
        state: &mut RoomState,
        from: Option<ConnId>,
        update: LocalUpdate,
    ) -> Result<Option<(Bytes, Option<ConnId>)>, CloseReason> {
        let Some(link) = &state.link else {
            return Err(state.closed_reason());
        };
        match link.append(update) {
            Ok(Accepted::Now { frame }) => Ok(Some((frame, from))),
            Ok(Accepted::Held { n, frame, on_durable }) => {
                state.held.hold(n, frame, from, on_durable);
                Ok(None)
            }
            Err(Refused::Reload) => {
                self.poison(state, from, "the store refused an update");
                Err(CloseReason::new(close::INTERNAL_ERROR, "storage unavailable; keep your edits and reconnect later"))
            }
            Err(Refused::Unavailable(why)) => {
                self.fail(state, why);
                Err(held::unavailable(why))
            }
        }
    }

    /// A viewer's write is never applied: the first gets the y-protocols permission-denied
    /// message, a repetition closes the connection. Empty updates (the answer every client
    /// gives to the relay's SyncStep1 when it has nothing new) are not writes.
    pub(super) fn refuse_viewer_write(&self, state: &mut RoomState, conn: ConnId, bytes: &[u8]) -> Result<(), CloseReason> {
        let update = protocol::decode_update(bytes).map_err(invalid)?;
        if update.is_empty() {
            return Ok(());
        }
        let Some(member) = state.members.get_mut(&conn) else { return Ok(()) };
        member.denied_writes += 1;
        if member.denied_writes > VIEWER_WRITES_TOLERATED {
            return Err(CloseReason::new(close::FORBIDDEN, "read-only: viewers cannot edit"));
        }
        member.outbox.offer_control(Bytes::from(protocol::permission_denied("read-only: viewers cannot edit")));
        Ok(())
    }

    /// The document may hold part of a refused update, or the store refused it: take the
    /// room out of memory and make every member reconnect, so the next joiner reloads the
    /// room from the store.
    pub(super) fn poison(&self, state: &mut RoomState, culprit: Option<ConnId>, why: &str) {
        tracing::warn!(room = %self.name, conn = ?culprit, why, "room leaves memory and reloads from the store");
        state.go_out_of_service(CloseReason::new(close::RESYNC, "room reloaded: reconnect"), culprit);
    }
}
