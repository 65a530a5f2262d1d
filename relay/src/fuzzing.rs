//! The property the `room_frames` fuzz target (`fuzz/relay/`) and the corpus replay in the
//! tests check, kept here so both run exactly the same code: frames from a hostile client,
//! fed to a real room the way a connection does, are handled or refused with a close
//! reason; nothing panics outside the room's own guards around yrs; a room in service always
//! encodes to an update that a fresh document accepts; and what the room stored reloads.
//!
//! Input: a sequence of frames, each prefixed by one length byte.

use std::sync::Arc;

use bytes::Bytes;
use yrs::{Doc, Transact};

use crate::auth::Role;
use crate::backend::standalone::load_room;
use crate::outbound;
use crate::room::{Member, Room};
use crate::store::MemoryStore;

/// The room named "fuzz" as `store` holds it (the relay's standalone path, without a runtime).
fn load(store: &Arc<MemoryStore>, what: &str) -> Room {
    let loaded = load_room(&**store, store.clone(), "fuzz").expect("the memory store loads");
    Room::load("fuzz", loaded.content, loaded.link, 1 << 20).expect(what)
}

pub fn room_frames(data: &[u8]) {
    let store = Arc::new(MemoryStore::new());
    let room = load(&store, "an empty room loads");
    let (outbox, _inbox) = outbound::channel(1 << 16);
    room.join(1, Member::new(outbox, false, Role::Editor), 10).expect("the first member joins");
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        if room.handle_frame(1, Bytes::copy_from_slice(frame)).is_err() {
            break;
        }
    }
    // A room still in service always encodes to a state a fresh document accepts. (A room
    // that refused an update by going offline is dropped from memory by the relay.)
    if !room.is_closed() {
        let state = room.encode_state().expect("a room in service never holds a state it cannot encode");
        let update = shared::protocol::decode_update(&state).expect("the room's state decodes");
        Doc::new().transact_mut().apply_update(update).expect("the room's state applies");
    }
    load(&store, "what the room stored reloads").encode_state().expect("a reloaded room encodes");
}
