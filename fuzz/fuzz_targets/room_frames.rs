//! Frames from a hostile client, fed to a real room the way the relay does: each frame is
//! handled or refused with a close reason; the relay never panics, and the room's state
//! always encodes to an update that a fresh document accepts.
//!
//! Input: a sequence of frames, each prefixed by one length byte.
#![no_main]

use std::sync::Arc;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use relay::auth::Role;
use relay::outbound;
use relay::room::{Member, Room};
use relay::store::{MemoryStore, SharedStore};
use yrs::{Doc, Transact};

fuzz_target!(|data: &[u8]| {
    // The relay catches panics inside yrs' apply (and reloads the room); let this harness
    // do the same instead of aborting, so only panics outside that guard are findings.
    std::panic::set_hook(Box::new(|_| {}));
    let store: SharedStore = Arc::new(MemoryStore::new());
    let Ok(room) = Room::load("fuzz", store.clone(), 1 << 20) else { return };
    let (outbox, _inbox) = outbound::channel(1024);
    if room.join(1, Member::new(outbox, false, Role::Editor), 10).is_err() {
        return;
    }
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        if room.handle_frame(1, Bytes::copy_from_slice(frame)).is_err() {
            break;
        }
    }
    let state = room.encode_state();
    let update = shared::protocol::decode_update(&state).expect("room state decodes");
    Doc::new().transact_mut().apply_update(update).expect("room state applies");
    // What was stored reloads too.
    let _ = Room::load("fuzz", store, 1 << 20).expect("stored updates reload");
});
