//! Offline-first: the room's document is kept on this device and shared with the other tabs
//! of the room in this browser.
//!
//! - [`store`]: IndexedDB, one database per room. Every document change (made here or
//!   received from the relay) is queued at once and written within [`FLUSH_MS`], the changes
//!   of that interval merged into one record (one IndexedDB transaction); the records are
//!   folded into one update, when the main thread is idle, after the page starts and once
//!   the bytes appended since the last fold reach [`compaction_due`]'s threshold (a full
//!   encode of a large document is a long task, so it must stay rare). The stored state
//!   is loaded into the document before the relay connection starts (the returned `ready`
//!   receiver says when), so a reload shows the last state at once, with or without the relay.
//!   On a first visit (the page found no database for the room) `ready` fires at once.
//!   The document gets a fresh client id per page load (a Yjs convention); the items of
//!   earlier loads keep theirs and reach the relay in the next handshake like any other
//!   change the relay lacks.
//! - [`tabs`]: `BroadcastChannel` between the room's tabs (updates and awareness).
//! - `idb`: the IndexedDB calls as futures; `queue`: the changes waiting to be written.
//! - `forget`: once the relay says the room was deleted ([`crate::deletion`]), nothing more
//!   is written and the room's database is deleted; `tabs` tells the room's other tabs.
//!
//! The app shell itself comes from the service worker (`public/sw.js`) when the relay is
//! down; it is registered by `index.html`.

mod forget;
mod idb;
mod queue;
mod store;
mod tabs;

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use leptos::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Origin, Transact, TransactionMut};

use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::deletion::Deletion;
use crate::presence::Peer;
use store::LocalStore;

/// Origin of the transaction applying the stored document.
const FROM_DISK: &str = "local-store";
/// Key of the document observer that saves changes.
pub(crate) const STORE_OBSERVER: &str = "local-store";
/// Changes arriving within this long after a first one are written with it, as one record.
const FLUSH_MS: u32 = 250;
/// Longest wait for an idle period before compacting anyway.
const IDLE_TIMEOUT_MS: u32 = 2_000;
/// Appended bytes that make a compaction due whatever the document's size.
const COMPACT_MIN_BYTES: usize = 64 * 1024;
/// Records that make a compaction due whatever their size (each costs a little at load).
const COMPACT_MAX_RECORDS: u64 = 2_000;

/// Whether the records appended since the last fold (`appended` bytes in `records` records)
/// are worth a fold of a `folded`-byte state: once they weigh as much as the state itself
/// (at least [`COMPACT_MIN_BYTES`]), so folding costs O(1) per appended byte.
fn compaction_due(appended: usize, records: u64, folded: usize) -> bool {
    appended >= folded.max(COMPACT_MIN_BYTES) || records >= COMPACT_MAX_RECORDS
}

pub fn from_disk(txn: &TransactionMut) -> bool {
    txn.origin() == Some(&Origin::from(FROM_DISK))
}

/// What the page shows about the copy on this device. All signals: `Copy`.
#[derive(Clone, Copy)]
pub struct Offline {
    /// The stored document is in the editor (or there was nothing to load).
    pub loaded: RwSignal<bool>,
    /// Changes not yet written to IndexedDB.
    pub pending: RwSignal<u64>,
    /// Changes written since the page loaded.
    pub saved: RwSignal<u64>,
    /// Why the device copy is not working, when it is not (e.g. no IndexedDB).
    pub problem: RwSignal<Option<String>>,
    /// People in the other tabs of this room (from the channel).
    pub tab_peers: RwSignal<Vec<Peer>>,
}

/// Starts keeping `doc` on this device and sharing it with the room's other tabs.
/// `states` are our awareness states as the editor publishes them; they go on to the relay
/// connection through the returned receiver. The returned `ready` fires once the stored
/// document is loaded: start the relay connection then. Once `deletion` says the room was
/// deleted, the copy is removed and nothing more is written.
pub fn start(
    doc: &Doc,
    room: &str,
    first_state: String,
    states: mpsc::UnboundedReceiver<String>,
    deletion: Deletion,
) -> (Offline, oneshot::Receiver<()>, mpsc::UnboundedReceiver<String>) {
    let offline = Offline {
        loaded: RwSignal::new(false),
        pending: RwSignal::new(0),
        saved: RwSignal::new(0),
        problem: RwSignal::new(None),
        tab_peers: RwSignal::new(Vec::new()),
    };
    let (ready_tx, ready_rx) = oneshot::channel();

    // Awareness states go to the relay session and to the other tabs.
    let (to_relay, relay_states) = mpsc::unbounded::<String>();
    let (to_tabs, tab_states) = mpsc::unbounded::<String>();
    leptos::task::spawn_local(async move {
        let mut states = states;
        while let Some(state) = states.next().await {
            let _ = to_tabs.unbounded_send(state.clone());
            let _ = to_relay.unbounded_send(state);
        }
    });
    if tabs::start(doc, room, first_state, tab_states, offline.tab_peers, deletion).is_none() {
        leptos::logging::warn!("no BroadcastChannel: tabs of this room will sync through the relay only");
    }

    // Every change except the stored document itself and other tabs' changes (they save
    // their own) is queued for IndexedDB from the very start, so nothing made while the
    // store opens is missed.
    let (queue, woken) = queue::Queue::new();
    let pending = offline.pending;
    let sink = queue.clone();
    let observed = doc.observe_update_v1(STORE_OBSERVER, move |txn: &TransactionMut, event| {
        if !from_disk(txn) && !tabs::from_tab(txn) {
            pending.try_update(|n| *n += 1);
            sink.push(event.update.clone());
        }
    });
    if let Err(error) = observed {
        offline.problem.set(Some(format!("cannot observe the document: {error}")));
    }
    forget::on_deletion(doc.clone(), room.to_owned(), queue.clone(), offline, deletion);
    leptos::task::spawn_local(keep(doc.clone(), room.to_owned(), offline, ready_tx, queue, woken, deletion));
    (offline, ready_rx, relay_states)
}

/// Loads the stored document, then writes changes as they come.
async fn keep(
    doc: Doc,
    room: String,
    offline: Offline,
    ready: oneshot::Sender<()>,
    queue: queue::Queue,
    mut woken: mpsc::UnboundedReceiver<()>,
    deletion: Deletion,
) {
    // On a first visit the page's first script found no database for the room: there is
    // nothing to load, so the relay session need not wait while one is created (in a new
    // browser profile that took ~230 ms). What arrives meanwhile is queued, and written once
    // the database is there.
    let early = LocalStore::early(&room).await;
    let mut ready = Some(ready);
    if matches!(early, idb::Early::Absent) {
        offline.loaded.set(true);
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
    }
    let store = match LocalStore::open(&room, early).await {
        Ok(store) => Rc::new(store),
        Err(error) => {
            leptos::logging::warn!("no copy on this device: {error}");
            offline.problem.set(Some(error.to_string()));
            offline.loaded.set(true);
            if let Some(ready) = ready {
                let _ = ready.send(());
            }
            return;
        }
    };
    let (mut stored, mut stored_bytes) = (0u64, 0usize);
    match store.load().await {
        Ok(records) => {
            // (Records here on a first visit were stored by another tab of the room that
            // opened meanwhile; applied, they reach the relay like any local change.)
            apply_stored(&doc, &records);
            stored = records.len() as u64;
            stored_bytes = records.iter().map(Vec::len).sum();
        }
        Err(error) => offline.problem.set(Some(error.to_string())),
    }
    offline.loaded.set(true);
    if let Some(ready) = ready {
        let _ = ready.send(());
    }
    write_on_pagehide(store.clone(), queue.clone(), deletion);

    // Size of the last folded state (until the first fold: what was stored).
    let mut folded = stored_bytes;
    let (mut appended, mut records) = (0usize, stored);
    let mut due = stored > 1;
    loop {
        if deletion.is_deleted() {
            return; // the room is gone: see `forget`
        }
        if due {
            // Not in the middle of an edit stream: in an idle period (or within 2 s).
            crate::idle::idle(IDLE_TIMEOUT_MS).await;
            if deletion.is_deleted() {
                return;
            }
            if let Some(size) = compact(&doc, &store, offline).await {
                folded = size;
                (appended, records) = (0, 1);
            }
        }
        if woken.next().await.is_none() {
            break;
        }
        // Collect what follows for a moment: one record and one transaction per batch.
        gloo_timers::future::sleep(std::time::Duration::from_millis(FLUSH_MS as u64)).await;
        if deletion.is_deleted() {
            return;
        }
        let batch = queue.take();
        if batch.is_empty() {
            continue; // written by the pagehide handler
        }
        let count = batch.len() as u64;
        let batch = queue::records(batch);
        match store.append(&batch).await {
            Ok(()) => {
                offline.saved.update(|n| *n += count);
                let bytes = batch.iter().map(Vec::len).sum::<usize>();
                if records == 0 && batch.len() == 1 {
                    // The store's only record (e.g. a first sync's whole state) is as
                    // compact as a fold would make it: it is the base to compare with.
                    folded = bytes;
                } else {
                    appended += bytes;
                }
                records += batch.len() as u64;
            }
            Err(error) => offline.problem.set(Some(error.to_string())),
        }
        offline.pending.update(|n| *n = n.saturating_sub(count));
        due = compaction_due(appended, records, folded);
    }
}

/// When the page goes away (reload, navigation, tab closed), writes what is still queued at
/// once: the transaction is started synchronously, before the page stops running scripts.
/// Not once the room was deleted.
fn write_on_pagehide(store: Rc<LocalStore>, queue: queue::Queue, deletion: Deletion) {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn()>::new(move || {
        if deletion.is_deleted() {
            return;
        }
        let batch = queue.take();
        if !batch.is_empty() {
            if let Err(error) = store.append_now(&queue::records(batch)) {
                leptos::logging::warn!("cannot save the last changes: {error}");
            }
        }
    });
    let _ = window.add_event_listener_with_callback("pagehide", handler.as_ref().unchecked_ref());
    handler.forget(); // for the page's lifetime
}

/// Applies the stored records in one transaction tagged [`FROM_DISK`].
fn apply_stored(doc: &Doc, records: &[Vec<u8>]) {
    let mut txn = doc.transact_mut_with(FROM_DISK);
    for bytes in records {
        match yrs::Update::decode_v1(bytes) {
            Ok(update) => {
                if let Err(error) = txn.apply_update(update) {
                    leptos::logging::warn!("skipping a stored update: {error}");
                }
            }
            Err(error) => leptos::logging::warn!("skipping a damaged stored update: {error}"),
        }
    }
}

/// Folds the stored records into one; answers the folded size.
async fn compact(doc: &Doc, store: &LocalStore, offline: Offline) -> Option<usize> {
    match store.compact(doc, apply_stored).await {
        Ok(size) => Some(size),
        Err(error) => {
            leptos::logging::warn!("compaction failed: {error}");
            offline.problem.set(Some(error.to_string()));
            None
        }
    }
}

/// The people to show: those the relay reports and those in other tabs (once each).
pub fn merged_peers(relay: RwSignal<Vec<Peer>>, tabs: RwSignal<Vec<Peer>>) -> RwSignal<Vec<Peer>> {
    let merged = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let mut all = relay.get();
        tabs.with(|tabs| {
            for peer in tabs {
                if !all.iter().any(|p| p.client == peer.client) {
                    all.push(peer.clone());
                }
            }
        });
        shared::order::sort_by(&mut all, |a, b| a.name.cmp(&b.name).then(a.client.cmp(&b.client)));
        merged.set(all);
    });
    merged
}
