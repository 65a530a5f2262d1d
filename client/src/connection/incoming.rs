//! What the client does with a frame from the relay: answer its state vector (unless the
//! page may only view: a viewer uploads nothing), apply its updates (tagged with an origin
//! of their own, so the session's observer does not send them back), track the peers'
//! awareness states, learn what the page may do (the relay's `104`, or a permission-denied
//! message), and hand probe answers and durable acknowledgements to the performance
//! [`Meter`]. The session (`session.rs`) runs around it.

use leptos::prelude::*;
use shared::protocol::{self, Message, SyncMessage};
use yrs::{Doc, Origin, ReadTxn, Transact, TransactionMut};

use super::status::{ConnectionState, Status};
use crate::access::Access;
use crate::perf::meter::Meter;
use crate::presence::{now_ms, Presence};

/// Origin of the transactions that apply changes received from the relay, so the update
/// observer does not send them back.
const FROM_RELAY: &str = "relay";

/// Handles one frame from the relay; returns the frames to send back.
pub fn handle_frame(
    doc: &Doc,
    presence: &mut Presence,
    access: Access,
    status: Status,
    meter: &Meter,
    frame: &[u8],
    synced: &mut bool,
) -> Vec<Vec<u8>> {
    let messages = match protocol::decode_frame(frame) {
        Ok(messages) => messages,
        Err(error) => {
            leptos::logging::warn!("ignoring a frame from the relay: {error}");
            return Vec::new();
        }
    };
    let mut replies = Vec::new();
    for message in messages {
        match message {
            Message::Sync(SyncMessage::SyncStep1(remote)) if access.can_edit_now() => {
                let diff = doc.transact().encode_state_as_update_v1(&remote);
                replies.push(protocol::sync_step2(diff));
            }
            // A viewer has nothing to upload (the relay would refuse it).
            Message::Sync(SyncMessage::SyncStep1(_)) => {}
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                apply_remote(doc, &update);
                crate::marks::mark(crate::marks::SYNCED);
                *synced = true;
                status.state.set(ConnectionState::Synced);
                status.problem.set(None);
            }
            Message::Sync(SyncMessage::Update(update)) => apply_remote(doc, &update),
            Message::Awareness(update) => {
                if protocol::validate_awareness(&update).is_ok() && presence.apply(update, now_ms()) {
                    status.peers.set(presence.peers());
                }
            }
            Message::AwarenessQuery => replies.push(presence.announce(now_ms())),
            Message::Auth(Some(reason)) => {
                access.denied();
                status.problem.set(Some(format!("permission denied: {reason}")));
            }
            Message::Custom(protocol::MSG_ACCESS, payload) => access.learn(&payload),
            Message::Custom(protocol::MSG_PONG, payload) => meter.pong(&payload, now_ms()),
            Message::Custom(protocol::MSG_DURABLE_ACK, payload) => {
                if let Ok(count) = protocol::decode_durable_ack(&payload) {
                    meter.acked(count);
                }
            }
            Message::Auth(None) | Message::Custom(..) => {}
        }
    }
    replies
}

/// Applies a change that came from the relay, tagged so it is not sent back. The relay
/// checked it already: decoded without the re-encoding checks (`decode_relayed_update`),
/// which took two thirds of a large room's first sync to decode.
fn apply_remote(doc: &Doc, update: &[u8]) {
    let update = match protocol::decode_relayed_update(update) {
        Ok(update) => update,
        Err(error) => {
            leptos::logging::warn!("ignoring an update from the relay: {error}");
            return;
        }
    };
    if let Err(error) = doc.transact_mut_with(FROM_RELAY).apply_update(update) {
        leptos::logging::warn!("could not apply an update from the relay: {error}");
    }
}

pub fn from_relay(txn: &TransactionMut) -> bool {
    txn.origin() == Some(&Origin::from(FROM_RELAY))
}
