//! A room deleted by an administrator stays deleted for this client.
//!
//! The relay closes every member of a deleted room with `4004` and the reason
//! [`DELETED_REASON`], and the room starts afresh, empty, at the next join. This page still
//! holds the old document (in memory, in IndexedDB, and in the other tabs of the room): a
//! reload would upload it into the fresh room and undo the delete. So once the relay says
//! "deleted", this tab never connects again, the copy on this device is removed (see
//! `crate::offline`), the room's other tabs are told (`crate::offline` too), and the banner
//! ([`banner`]) lets the user save the in-memory scene or start again with the empty room.
//!
//! [`after_close`] is the one place that decides what a close means for the data on this
//! device; [`Deletion`] is what the page knows about a deletion.

pub mod banner;

use leptos::prelude::*;
use shared::close;

/// The close reason the relay gives (with [`close::ROOM_UNAVAILABLE`]) when an administrator
/// deleted the room, here or through another relay of a cluster.
pub const DELETED_REASON: &str = close::ROOM_DELETED;

/// What a closed connection means for the copy of the room on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalCopy {
    /// Keep it: it is the user's work, to be uploaded when the relay takes it again.
    Keep,
    /// The room was deleted on purpose: remove it, or the next session would bring it back.
    Discard,
}

/// What the relay closing with `code` and `reason` means for the local copy. Only a
/// deletion discards it; every other close, including the other `4004`s (a damaged room
/// that cannot load), keeps it.
pub fn after_close(code: u16, reason: &str) -> LocalCopy {
    if code == close::ROOM_UNAVAILABLE && reason == DELETED_REASON {
        LocalCopy::Discard
    } else {
        LocalCopy::Keep
    }
}

/// What this page knows about the room's deletion. All signals: `Copy`.
#[derive(Clone, Copy)]
pub struct Deletion {
    /// The room was deleted (this tab's connection said so, or another tab of the room did).
    /// From then on nothing is written to IndexedDB and no session starts.
    pub deleted: RwSignal<bool>,
    /// The copy on this device is gone (its IndexedDB database was deleted).
    pub removed: RwSignal<bool>,
}

impl Deletion {
    pub fn new() -> Self {
        Deletion { deleted: RwSignal::new(false), removed: RwSignal::new(false) }
    }

    /// Records that the room was deleted; answers whether that was news (so a notice that
    /// comes back from another tab is not acted on twice).
    pub fn learn(&self) -> bool {
        let news = !self.deleted.get_untracked();
        if news {
            self.deleted.set(true);
        }
        news
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.get_untracked()
    }
}

impl Default for Deletion {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn only_a_deletion_discards_the_local_copy() {
        assert_eq!(after_close(close::ROOM_UNAVAILABLE, "room deleted"), LocalCopy::Discard);
    }

    #[wasm_bindgen_test]
    fn a_damaged_room_keeps_the_local_copy() {
        // The relay's words for a room whose stored data does not load.
        let damaged = "room unavailable: stored room data is damaged";
        assert_eq!(after_close(close::ROOM_UNAVAILABLE, damaged), LocalCopy::Keep);
        assert_eq!(after_close(close::ROOM_UNAVAILABLE, ""), LocalCopy::Keep);
        assert_eq!(after_close(close::ROOM_UNAVAILABLE, "room deleted later"), LocalCopy::Keep);
        assert_eq!(after_close(close::ROOM_UNAVAILABLE, "Room Deleted"), LocalCopy::Keep);
    }

    #[wasm_bindgen_test]
    fn other_codes_keep_the_local_copy_whatever_the_reason() {
        for code in [close::NORMAL, close::GOING_AWAY, close::RESYNC, close::STORE_UNAVAILABLE, close::FORBIDDEN, 1006] {
            assert_eq!(after_close(code, DELETED_REASON), LocalCopy::Keep, "code {code}");
            assert_eq!(after_close(code, ""), LocalCopy::Keep, "code {code}");
        }
    }

    #[wasm_bindgen_test]
    fn learning_twice_is_news_once() {
        let owner = Owner::new();
        owner.with(|| {
            let deletion = Deletion::new();
            assert!(!deletion.is_deleted());
            assert!(deletion.learn());
            assert!(!deletion.learn());
            assert!(deletion.is_deleted());
            assert!(!deletion.removed.get_untracked());
        });
    }
}
