//! Forgetting the room on this device once it was deleted on the relay (see
//! [`crate::deletion`]): the document's changes are no longer queued for IndexedDB, what is
//! still queued is dropped, and the room's database is deleted, records of every tab
//! included (the other tabs' connections to it close, and `tabs` tells those tabs). The
//! writer loop and the `pagehide` writer check [`Deletion::is_deleted`] before writing, so
//! nothing is written after the deletion either.

use leptos::prelude::*;
use yrs::Doc;

use super::queue::Queue;
use super::store::LocalStore;
use super::{Offline, STORE_OBSERVER};
use crate::deletion::Deletion;

/// Forgets the copy of `room` on this device as soon as `deletion` says the room was deleted.
pub fn on_deletion(doc: Doc, room: String, queue: Queue, offline: Offline, deletion: Deletion) {
    Effect::new(move |forgotten: Option<bool>| {
        if forgotten == Some(true) || !deletion.deleted.get() {
            return forgotten.unwrap_or(false);
        }
        let _ = doc.unobserve_update_v1(STORE_OBSERVER);
        drop(queue.take());
        offline.pending.set(0);
        let room = room.clone();
        leptos::task::spawn_local(async move {
            match LocalStore::delete(&room).await {
                Ok(()) => deletion.removed.set(true),
                Err(error) => {
                    leptos::logging::warn!("cannot remove the deleted room from this device: {error}");
                    offline.problem.set(Some(format!("the deleted room is still on this device: {error}")));
                }
            }
        });
        true
    });
}
