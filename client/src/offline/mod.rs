//! Offline-first: the room's document is kept on this device and shared with the other tabs
//! of the room in this browser.
//!
//! - [`store`]: IndexedDB, one database per room. Every document change (made here or
//!   received from the relay) is appended as it happens; the records are folded into one
//!   update when the page starts and after every [`COMPACT_AFTER`] appends. The stored state
//!   is loaded into the document before the relay connection starts (the returned `ready`
//!   receiver says when), so a reload shows the last state at once, with or without the relay.
//!   The document gets a fresh client id per page load (a Yjs convention); the items of
//!   earlier loads keep theirs and reach the relay in the next handshake like any other
//!   change the relay lacks.
//! - [`tabs`]: `BroadcastChannel` between the room's tabs (updates and awareness).
//! - `idb`: the IndexedDB calls as futures.
//!
//! The app shell itself comes from the service worker (`public/sw.js`) when the relay is
//! down; it is registered by `index.html`.

mod idb;
mod store;
mod tabs;

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use leptos::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Origin, ReadTxn, StateVector, Transact, TransactionMut};

use crate::presence::Peer;
use store::LocalStore;

/// Origin of the transaction applying the stored document.
const FROM_DISK: &str = "local-store";
/// Key of the document observer that saves changes.
const STORE_OBSERVER: &str = "local-store";
/// Appends between two compactions.
const COMPACT_AFTER: u64 = 100;

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
/// document is loaded: start the relay connection then.
pub fn start(
    doc: &Doc,
    room: &str,
    first_state: String,
    states: mpsc::UnboundedReceiver<String>,
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
    if tabs::start(doc, room, first_state, tab_states, offline.tab_peers).is_none() {
        leptos::logging::warn!("no BroadcastChannel: tabs of this room will sync through the relay only");
    }

    // Every change except the stored document itself and other tabs' changes (they save
    // their own) is queued for IndexedDB from the very start, so nothing made while the
    // store opens is missed.
    let (changes_tx, changes_rx) = mpsc::unbounded::<Vec<u8>>();
    let pending = offline.pending;
    let observed = doc.observe_update_v1(STORE_OBSERVER, move |txn: &TransactionMut, event| {
        if !from_disk(txn) && !tabs::from_tab(txn) {
            pending.try_update(|n| *n += 1);
            let _ = changes_tx.unbounded_send(event.update.clone());
        }
    });
    if let Err(error) = observed {
        offline.problem.set(Some(format!("cannot observe the document: {error}")));
    }
    leptos::task::spawn_local(keep(doc.clone(), room.to_owned(), offline, ready_tx, changes_rx));
    (offline, ready_rx, relay_states)
}

/// Loads the stored document, then writes changes as they come.
async fn keep(doc: Doc, room: String, offline: Offline, ready: oneshot::Sender<()>, mut changes: mpsc::UnboundedReceiver<Vec<u8>>) {
    let store = match LocalStore::open(&room).await {
        Ok(store) => store,
        Err(error) => {
            leptos::logging::warn!("no copy on this device: {error}");
            offline.problem.set(Some(error.to_string()));
            offline.loaded.set(true);
            let _ = ready.send(());
            return;
        }
    };
    match store.load().await {
        Ok(records) => {
            apply_stored(&doc, &records);
            if records.len() > 1 {
                compact(&doc, &store, offline).await;
            }
        }
        Err(error) => offline.problem.set(Some(error.to_string())),
    }
    offline.loaded.set(true);
    let _ = ready.send(());

    let mut since_compaction = 0u64;
    while let Some(first) = changes.next().await {
        let mut batch = vec![first];
        while let Ok(more) = changes.try_recv() {
            batch.push(more);
        }
        let count = batch.len() as u64;
        match store.append(&batch).await {
            Ok(()) => {
                offline.saved.update(|n| *n += count);
                since_compaction += count;
            }
            Err(error) => offline.problem.set(Some(error.to_string())),
        }
        offline.pending.update(|n| *n = n.saturating_sub(count));
        if since_compaction >= COMPACT_AFTER {
            compact(&doc, &store, offline).await;
            since_compaction = 0;
        }
    }
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

async fn compact(doc: &Doc, store: &LocalStore, offline: Offline) {
    let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
    if let Err(error) = store.compact(state).await {
        leptos::logging::warn!("compaction failed: {error}");
        offline.problem.set(Some(error.to_string()));
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
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.client.cmp(&b.client)));
        merged.set(all);
    });
    merged
}
