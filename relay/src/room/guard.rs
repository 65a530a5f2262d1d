//! Guards around yrs for what hostile clients can send: checks made before an update
//! reaches a room's document, and encodings that turn a panic inside yrs into an error.
//! Each exists because fuzzing found yrs 0.28 misbehaving without it (see RELIABILITY.md).

use std::panic::{catch_unwind, AssertUnwindSafe};

use shared::close;
use shared::protocol;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::close_reason::CloseReason;

/// Refuses an update that yrs would keep pending: blocks starting past what the room has,
/// or deletions of content neither the room nor the update holds.
pub(super) fn check_causally_complete(doc: &Doc, update: &Update) -> Result<(), CloseReason> {
    // An update whose blocks start past what the room has would wait in yrs as a
    // pending update. The fuzzer found sequences (a block left pending, then another
    // claiming the same ids) that make yrs 0.28 read freed memory, so the relay never
    // keeps pending blocks: such a client is sent to resync, and its reconnect
    // handshake uploads what it has in one causally complete step. (Stock clients only
    // get here in rare races, e.g. between tabs sharing changes over BroadcastChannel.)
    let known = doc.transact().state_vector();
    let lower = update.state_vector_lower();
    if let Some((client, clock)) = lower.iter().find(|(client, clock)| **clock > known.get(client)) {
        return Err(CloseReason::new(
            close::RESYNC,
            format!("update from client {} starts at clock {clock}, past what the room has: reconnect", client.get()),
        ));
    }
    // The same for deletions of content neither the room nor the update holds (yrs would
    // keep them as a pending delete set, which it then cannot always encode). What the
    // update holds is where its blocks end (`Update::state_vector` is no use here: it
    // counts only clients whose blocks start at clock 0, so every update after a client's
    // first would seem to hold nothing of its own).
    let mut inserted_up_to: std::collections::HashMap<yrs::block::ClientID, u32> = std::collections::HashMap::new();
    for (client, ranges) in update.insertions(true).iter() {
        let end = ranges.iter().map(|range| range.end).max().unwrap_or(0);
        inserted_up_to.insert(*client, end);
    }
    for (client, ranges) in update.delete_set().iter() {
        let holds = known.get(client).max(inserted_up_to.get(client).copied().unwrap_or(0));
        if ranges.iter().any(|range| range.end > holds) {
            return Err(CloseReason::new(
                close::RESYNC,
                format!("update deletes content of client {} the room has not seen: reconnect", client.get()),
            ));
        }
    }
    Ok(())
}

/// Applies `update` to an empty document and checks that the result encodes to an update
/// that decodes. Panics inside yrs count as "no".
pub(super) fn encodes_cleanly_alone(update: &[u8]) -> bool {
    catch_unwind(|| {
        // Already validated by `protocol::decode_update`: a plain decode is enough here.
        let Ok(decoded) = Update::decode_v1(update) else { return false };
        let scratch = Doc::new();
        if scratch.transact_mut().apply_update(decoded).is_err() {
            return false;
        }
        let state = scratch.transact().encode_state_as_update_v1(&StateVector::default());
        protocol::decode_update(&state).is_ok()
    })
    .unwrap_or(false)
}

/// Whether yrs holds blocks or deletions of `doc` back, waiting for missing dependencies.
pub(super) fn has_pending(doc: &Doc) -> bool {
    let txn = doc.transact();
    let store = txn.store();
    store.pending_update().is_some() || store.pending_ds().is_some()
}

/// yrs could not encode the room (it panicked: some updates it accepts as pending cannot
/// be merged back, found by fuzzing). The room must not stay in service.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the room's state cannot be encoded: {0}")]
pub struct EncodeFailed(pub String);

/// The part of `doc` that a peer at `remote` lacks, or why yrs could not encode it.
pub(crate) fn encode_diff(doc: &Doc, remote: &StateVector) -> Result<Vec<u8>, EncodeFailed> {
    catch_unwind(AssertUnwindSafe(|| doc.transact().encode_state_as_update_v1(remote)))
        .map_err(|panic| EncodeFailed(panic_message(&panic)))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "yrs panicked".to_owned())
}
