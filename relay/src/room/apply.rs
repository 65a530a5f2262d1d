//! How a room changes: an update is decoded, checked, applied, handed to the store and
//! offered to the other members, all under the room's lock (see the module above); a
//! viewer's write is refused; a room whose document may hold part of a refused update is
//! poisoned and reloads from the store.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use bytes::Bytes;
use shared::close;
use shared::protocol;
use yrs::{Transact, Update};

use super::{broadcast, guard, has_pending, invalid, ConnId, Room, RoomState, VIEWER_WRITES_TOLERATED};
use crate::close_reason::CloseReason;
use crate::outbound::Outbox;

impl Room {
    /// Applies an update that did not come from a member (an import or a restore), stores
    /// it and sends it to every member.
    pub fn apply_external(&self, update: Vec<u8>) -> Result<(), CloseReason> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(CloseReason::new(close::RESYNC, "room was reloaded"));
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
        // From another relay (cluster mode): already accepted there and stored in Redis.
        remote: bool,
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
        if !remote && stored + bytes.len() as u64 > self.max_bytes {
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
                // missing). Never keep them (see above): the room reloads from the store,
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
                }) as crate::store::OnDurable
            })
        });
        let len = bytes.len() as u64;
        let frame = if self.cluster.is_some() {
            // Redis is the store: fanned out (and acknowledged) once it has the update.
            let frame = frame.unwrap_or_else(|| Bytes::from(protocol::update(bytes)));
            self.share_update(state, from, frame, ack, remote)?;
            None
        } else {
            if let Err(error) = self.store.append(&self.name, seq, &bytes, ack) {
                tracing::error!(room = %self.name, %error, "the store refused an update");
                self.poison(state, from, "the store refused an update");
                return Err(CloseReason::new(close::INTERNAL_ERROR, "storage unavailable; keep your edits and reconnect later"));
            }
            Some(frame.unwrap_or_else(|| Bytes::from(protocol::update(bytes))))
        };
        state.last_seq = seq;
        state.log.log_entries += 1;
        state.log.log_bytes += len;
        state.oldest_log_entry.get_or_insert_with(Instant::now);
        state.full_state_frame = None;
        if let Some(frame) = frame {
            broadcast(&state.members, from, &frame, Outbox::offer_update);
        }
        Ok(())
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
        state.closed = true;
        for (id, member) in &state.members {
            if Some(*id) != culprit {
                member.outbox.close(CloseReason::new(close::RESYNC, "room reloaded: reconnect"));
            }
        }
    }

}
