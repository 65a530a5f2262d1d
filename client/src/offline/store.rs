//! One room's document on this device: an IndexedDB database per room (`scene-room:NAME`)
//! whose one store holds Yjs updates (v1), appended as they happen and compacted now and then
//! into a single update holding the whole state.
//!
//! Several tabs of one room share the database. Compaction therefore reads every stored
//! record and folds it together with the tab's own state, inside one read-write transaction,
//! before replacing them: an update another tab stored meanwhile is never dropped.

use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransactionMode};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::idb::{self, IdbError};

pub struct LocalStore {
    db: IdbDatabase,
}

impl LocalStore {
    /// Opens the database of `room`.
    pub async fn open(room: &str) -> Result<LocalStore, IdbError> {
        Ok(LocalStore { db: idb::open(&format!("scene-room:{room}")).await? })
    }

    /// Every stored update, oldest first.
    pub async fn load(&self) -> Result<Vec<Vec<u8>>, IdbError> {
        let store = idb::updates(&self.db, IdbTransactionMode::Readonly)?;
        let values = idb::request(&store.get_all()?).await?;
        Ok(idb::all_bytes(&values))
    }

    /// Appends `updates` in one transaction and waits until it committed.
    pub async fn append(&self, updates: &[Vec<u8>]) -> Result<(), IdbError> {
        let store = idb::updates(&self.db, IdbTransactionMode::Readwrite)?;
        for update in updates {
            store.add(&js_sys::Uint8Array::from(update.as_slice()))?;
        }
        idb::committed(&store).await
    }

    /// Replaces every stored record with one update: `state` (the tab's whole document)
    /// folded together with whatever is stored. Returns how many records it replaced.
    pub async fn compact(&self, state: Vec<u8>) -> Result<usize, IdbError> {
        let store = idb::updates(&self.db, IdbTransactionMode::Readwrite)?;
        let values = idb::request(&store.get_all()?).await?;
        let records = idb::all_bytes(&values);
        let folded = fold(std::iter::once(state).chain(records.iter().cloned()))
            .map_err(|e| IdbError(format!("cannot fold the stored updates: {e}")))?;
        store.clear()?;
        store.add(&JsValue::from(js_sys::Uint8Array::from(folded.as_slice())))?;
        idb::committed(&store).await?;
        Ok(records.len())
    }
}

/// Applies `updates` to a scratch document and encodes its whole state as one update
/// (duplicates and any order are fine: applying is idempotent and causal gaps close as the
/// missing pieces arrive).
pub fn fold(updates: impl IntoIterator<Item = Vec<u8>>) -> Result<Vec<u8>, String> {
    let scratch = Doc::new();
    {
        let mut txn = scratch.transact_mut();
        for bytes in updates {
            let update = Update::decode_v1(&bytes).map_err(|e| e.to_string())?;
            txn.apply_update(update).map_err(|e| e.to_string())?;
        }
    }
    let txn = scratch.transact();
    Ok(txn.encode_state_as_update_v1(&StateVector::default()))
}
