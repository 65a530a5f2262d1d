//! One room's document on this device: an IndexedDB database per room (`scene-room:NAME`)
//! whose one store holds Yjs updates (v1), appended in small batches as they happen and
//! compacted now and then into a single update holding the whole state.
//!
//! Several tabs of one room share the database. Compaction therefore reads every stored
//! record inside one read-write transaction and applies those this tab has not seen yet
//! (other tabs' records keyed after the last one it loaded or folded) to its document before writing the
//! document's whole state in their place: an update another tab stored meanwhile is never
//! dropped, and the big record of the previous compaction is not decoded again.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransactionMode};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use super::idb::{self, IdbError};

/// The database holding `room`.
fn database_name(room: &str) -> String {
    format!("scene-room:{room}")
}

pub struct LocalStore {
    db: IdbDatabase,
    /// The records as the page read them before the editor ran (see `idb::open`), for
    /// [`LocalStore::load`].
    read_early: RefCell<Option<idb::Contents>>,
    /// Every record keyed up to this is in the document (loaded at start, or written by this
    /// tab's last compaction). Keys are auto-incremented, so later records are newer.
    known: Cell<f64>,
    /// Keys of the records this tab appended since its last compaction (their changes are
    /// in the document: they came from it).
    own: RefCell<HashSet<u64>>,
}

impl LocalStore {
    /// What the page's first script found out about the database of `room`.
    pub async fn early(room: &str) -> idb::Early {
        idb::take_early(&database_name(room)).await
    }

    /// Opens the database of `room` (the connection in `early`, if the page opened it).
    pub async fn open(room: &str, early: idb::Early) -> Result<LocalStore, IdbError> {
        let idb::Opened { db, read_early } = idb::open(&database_name(room), early).await?;
        idb::mark(&database_name(room), true);
        Ok(LocalStore { db, read_early: RefCell::new(read_early), known: Cell::new(f64::NEG_INFINITY), own: RefCell::default() })
    }

    /// Deletes the database of `room`: every tab's records (the room was deleted).
    pub async fn delete(room: &str) -> Result<(), IdbError> {
        idb::mark(&database_name(room), false);
        idb::delete(&database_name(room)).await
    }

    /// Every stored update, oldest first; they count as known from now on.
    pub async fn load(&self) -> Result<Vec<Vec<u8>>, IdbError> {
        if let Some(idb::Contents { keys, values }) = self.read_early.take() {
            self.note_known(&keys);
            return Ok(idb::all_bytes(&values));
        }
        let store = idb::updates(&self.db, IdbTransactionMode::Readonly)?;
        let keys = idb::request(&store.get_all_keys()?).await?;
        let values = idb::request(&store.get_all()?).await?;
        self.note_known(&keys);
        Ok(idb::all_bytes(&values))
    }

    /// Appends `updates` in one transaction and waits until it committed.
    pub async fn append(&self, updates: &[Vec<u8>]) -> Result<(), IdbError> {
        let (store, added) = self.append_now(updates)?;
        idb::committed(&store).await?;
        let mut own = self.own.borrow_mut();
        for request in added {
            if let Some(key) = request.result().ok().and_then(|k| k.as_f64()) {
                own.insert(key as u64);
            }
        }
        Ok(())
    }

    /// Starts appending `updates` in one transaction (for a page going away: no waiting);
    /// answers the store and the requests (their results are the new keys).
    pub fn append_now(&self, updates: &[Vec<u8>]) -> Result<(web_sys::IdbObjectStore, Vec<web_sys::IdbRequest>), IdbError> {
        let store = idb::updates(&self.db, IdbTransactionMode::Readwrite)?;
        let mut added = Vec::with_capacity(updates.len());
        for update in updates {
            added.push(store.add(&js_sys::Uint8Array::from(update.as_slice()))?);
        }
        Ok((store, added))
    }

    /// Replaces every stored record with the whole state of `doc`, after applying to `doc`
    /// (through `apply`) the records this tab has not seen (neither loaded, written by its
    /// last compaction, nor appended by it since: in practice other tabs' changes, which
    /// usually reached it over the channel already). Returns the size of the record
    /// written.
    pub async fn compact(&self, doc: &Doc, apply: impl Fn(&Doc, &[Vec<u8>])) -> Result<usize, IdbError> {
        let store = idb::updates(&self.db, IdbTransactionMode::Readwrite)?;
        let keys = idb::request(&store.get_all_keys()?).await?;
        let values = idb::request(&store.get_all()?).await?;
        let known = self.known.get();
        let keys = js_sys::Array::from(&keys);
        let own = std::mem::take(&mut *self.own.borrow_mut());
        let unseen: Vec<Vec<u8>> = js_sys::Array::from(&values)
            .iter()
            .enumerate()
            .filter(|(i, _)| keys.get(*i as u32).as_f64().is_none_or(|k| k > known && !own.contains(&(k as u64))))
            .map(|(_, v)| js_sys::Uint8Array::new(&v).to_vec())
            .collect();
        apply(doc, &unseen);
        let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
        store.clear()?;
        let written = idb::request(&store.add(&JsValue::from(js_sys::Uint8Array::from(state.as_slice())))?).await?;
        idb::committed(&store).await?;
        if let Some(key) = written.as_f64() {
            self.known.set(key);
        }
        Ok(state.len())
    }

    fn note_known(&self, keys: &JsValue) {
        let max = js_sys::Array::from(keys).iter().filter_map(|k| k.as_f64()).fold(self.known.get(), f64::max);
        self.known.set(max);
    }
}
