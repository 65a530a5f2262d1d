//! The document's size for the performance view, without encoding the whole document every
//! second (on a 5,000-node scene that encode alone is a main-thread task of tens of ms).
//!
//! The size is the length of the last full encode plus the bytes of every update applied
//! since (local or remote, as yrs encodes them for the update observers). That is an upper
//! estimate: an update overwriting a value adds its bytes, while the document keeps only a
//! tombstone of the old one. It is corrected by a full encode now and then: when the updates
//! since the last one reach a quarter of it (at least [`MIN_DRIFT`]), checked every
//! [`CHECK_MS`], in an idle period of the main thread.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use yrs::{Doc, ReadTxn, StateVector, Transact, TransactionMut};

/// Key of the document observer that counts update bytes.
const OBSERVER: &str = "perf-doc-size";
/// How often the estimate is checked for drift.
const CHECK_MS: u64 = 10_000;
/// Update bytes that never warrant a full encode on their own.
const MIN_DRIFT: usize = 16 * 1024;
/// Longest wait for an idle period before encoding anyway.
const IDLE_TIMEOUT_MS: u32 = 2_000;

#[derive(Clone, Default)]
pub struct DocSize {
    /// Length of the last full encode.
    base: Arc<AtomicUsize>,
    /// Bytes of the updates applied since (atomic because yrs wants `Send` observers; the
    /// page has one thread).
    since: Arc<AtomicUsize>,
}

impl DocSize {
    /// Measures `doc` once, then follows its updates (and corrects now and then).
    pub fn watch(doc: Doc) -> DocSize {
        let size = DocSize::follow(&doc);
        let corrected = size.clone();
        leptos::task::spawn_local(async move {
            loop {
                gloo_timers::future::sleep(Duration::from_millis(CHECK_MS)).await;
                if corrected.drifted() {
                    crate::idle::idle(IDLE_TIMEOUT_MS).await;
                    corrected.encode(&doc);
                }
            }
        });
        size
    }

    /// Measures `doc` once and counts the bytes of its updates from now on.
    fn follow(doc: &Doc) -> DocSize {
        let size = DocSize::default();
        size.encode(doc);
        let since = size.since.clone();
        let observed = doc.observe_update_v1(OBSERVER, move |_: &TransactionMut, event| {
            since.fetch_add(event.update.len(), Relaxed);
        });
        if observed.is_err() {
            leptos::logging::warn!("cannot observe the document for its size");
        }
        size
    }

    /// The estimated encoded size of the document, in bytes.
    pub fn bytes(&self) -> usize {
        self.base.load(Relaxed) + self.since.load(Relaxed)
    }

    fn drifted(&self) -> bool {
        needs_encode(self.base.load(Relaxed), self.since.load(Relaxed))
    }

    fn encode(&self, doc: &Doc) {
        let bytes = doc.transact().encode_state_as_update_v1(&StateVector::default()).len();
        self.base.store(bytes, Relaxed);
        self.since.store(0, Relaxed);
    }
}

/// Whether `since` update bytes on top of a `base`-byte encode call for a new encode.
fn needs_encode(base: usize, since: usize) -> bool {
    since >= (base / 4).max(MIN_DRIFT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;
    use yrs::{Map, Transact};

    #[wasm_bindgen_test]
    fn encodes_again_only_after_a_quarter_of_the_size() {
        assert!(!needs_encode(400_000, 99_999));
        assert!(needs_encode(400_000, 100_000));
        assert!(!needs_encode(1_000, 16_000), "small documents: at least 16 KiB of drift");
        assert!(needs_encode(1_000, MIN_DRIFT));
    }

    #[wasm_bindgen_test]
    fn follows_updates_without_encoding() {
        let doc = Doc::new();
        let map = doc.get_or_insert_map("nodes");
        let size = DocSize::follow(&doc);
        let empty = size.bytes();
        for i in 0..10 {
            map.insert(&mut doc.transact_mut(), format!("k{i}"), i as f64);
        }
        let real = doc.transact().encode_state_as_update_v1(&StateVector::default()).len();
        assert!(size.bytes() >= real, "an upper estimate: {} < {real}", size.bytes());
        assert!(size.bytes() > empty);
        size.encode(&doc);
        assert_eq!(size.bytes(), real);
    }
}
