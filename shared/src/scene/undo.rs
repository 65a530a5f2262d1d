//! Local undo and redo over the scene: a yrs `UndoManager` that tracks only this client's
//! own transactions, so undo never reverts a collaborator's edit.
//!
//! Write every local edit in a transaction with [`SceneUndo::origin`]:
//! `doc.transact_mut_with(undo.origin().clone())`. Remote updates (applied without that
//! origin) are not tracked. Edits within [`SceneUndo::CAPTURE_MILLIS`] of each other merge
//! into one step; a drag is exactly one step when wrapped in [`SceneUndo::begin_gesture`] /
//! [`SceneUndo::end_gesture`], however long it takes.
//!
//! Don't call [`SceneUndo::undo`] / [`SceneUndo::redo`], or drop a `SceneUndo`, while a
//! transaction on the document is open: yrs needs its own transaction for those.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use yrs::sync::time::Clock;
use yrs::undo::{Options, UndoManager};
use yrs::{Doc, Origin};

use super::ROOT_MAPS;

/// The wall clock (made monotonic), frozen during a gesture so that every edit of the
/// gesture falls within the capture window.
struct GestureClock {
    wall: Box<dyn Fn() -> u64 + Send + Sync>,
    latest: AtomicU64,
    /// 0 outside a gesture; else the time every reading returns.
    frozen: Arc<AtomicU64>,
}

impl Clock for GestureClock {
    fn now(&self) -> u64 {
        let frozen = self.frozen.load(Ordering::Acquire);
        if frozen != 0 {
            return frozen;
        }
        let now = (self.wall)();
        self.latest.fetch_max(now, Ordering::AcqRel).max(now)
    }
}

/// Undo/redo of this client's own scene edits.
pub struct SceneUndo {
    manager: UndoManager<()>,
    origin: Origin,
    frozen: Arc<AtomicU64>,
    clock: Arc<GestureClock>,
}

impl SceneUndo {
    /// Edits closer together than this (ms) outside a gesture merge into one undo step
    /// (as in Yjs, e.g. typing a name).
    pub const CAPTURE_MILLIS: u64 = 500;

    /// Tracks transactions of `origin` on every root map of the scene in `doc`. `clock`
    /// gives wall-clock milliseconds (in the browser: `js_sys::Date::now() as u64`).
    pub fn new(doc: &Doc, origin: impl Into<Origin>, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        let frozen = Arc::new(AtomicU64::new(0));
        let clock = Arc::new(GestureClock { wall: Box::new(clock), latest: AtomicU64::new(1), frozen: frozen.clone() });
        let origin = origin.into();
        let options = Options {
            capture_timeout_millis: Self::CAPTURE_MILLIS,
            tracked_origins: HashSet::from([origin.clone()]),
            capture_transaction: None,
            timestamp: clock.clone(),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        };
        let mut manager = UndoManager::with_options(options);
        for name in ROOT_MAPS {
            manager.expand_scope(doc, &doc.get_or_insert_map(*name));
        }
        SceneUndo { manager, origin, frozen, clock }
    }

    /// [`SceneUndo::new`] with the operating system's clock.
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    pub fn with_system_clock(doc: &Doc, origin: impl Into<Origin>) -> Self {
        Self::new(doc, origin, || {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_millis() as u64)
        })
    }

    /// The origin to open local transactions with.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Starts a gesture (a drag): every edit until [`SceneUndo::end_gesture`] is one step.
    pub fn begin_gesture(&mut self) {
        self.manager.reset();
        self.frozen.store(self.clock.now().max(1), Ordering::Release);
    }

    /// Ends the gesture; the next edit starts a new step.
    pub fn end_gesture(&mut self) {
        self.frozen.store(0, Ordering::Release);
        self.manager.reset();
    }

    /// Makes the next edit start a new step even within the capture window.
    pub fn reset(&mut self) {
        self.manager.reset();
    }

    /// Reverts this client's last step; false if there was nothing to undo.
    pub fn undo(&mut self) -> bool {
        self.manager.undo_blocking()
    }

    /// Re-applies the last undone step; false if there was nothing to redo.
    pub fn redo(&mut self) -> bool {
        self.manager.redo_blocking()
    }

    pub fn can_undo(&self) -> bool {
        self.manager.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.manager.can_redo()
    }

    /// The underlying manager, e.g. to observe its stacks for enabling buttons.
    pub fn manager_mut(&mut self) -> &mut UndoManager<()> {
        &mut self.manager
    }
}
