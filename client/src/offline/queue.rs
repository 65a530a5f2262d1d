//! Document changes waiting to be written to IndexedDB. The document's update observer
//! pushes into it (yrs wants that observer `Send`, hence the mutex; the page has one thread)
//! and wakes the writer, which takes everything queued a moment later and writes it as one
//! record. Taking is synchronous, so the page's `pagehide` handler can also write what is
//! left when the page goes away.

use std::sync::{Arc, Mutex};

use futures_channel::mpsc;

#[derive(Clone)]
pub struct Queue {
    items: Arc<Mutex<Vec<Vec<u8>>>>,
    wake: mpsc::UnboundedSender<()>,
}

impl Queue {
    /// A queue and the receiver woken when it turns non-empty.
    pub fn new() -> (Queue, mpsc::UnboundedReceiver<()>) {
        let (wake, woken) = mpsc::unbounded();
        (Queue { items: Arc::default(), wake }, woken)
    }

    pub fn push(&self, update: Vec<u8>) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.push(update);
        if items.len() == 1 {
            let _ = self.wake.unbounded_send(());
        }
    }

    /// Everything queued, oldest first; the queue is then empty.
    pub fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// `batch` as the records to write: one merged update, or (if merging fails, which it
/// should not) the updates one by one.
pub fn records(mut batch: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    if batch.len() > 1 {
        match yrs::merge_updates_v1(&batch) {
            Ok(merged) => batch = vec![merged],
            Err(error) => leptos::logging::warn!("cannot merge updates, storing them one by one: {error}"),
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

    #[wasm_bindgen_test]
    fn a_batch_becomes_one_record_holding_every_change() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let (queue, _woken) = Queue::new();
        let sink = queue.clone();
        let _sub = doc.observe_update_v1("q", move |_, e| sink.push(e.update.clone()));
        for word in ["a", "b", "c"] {
            text.push(&mut doc.transact_mut(), word);
        }
        let batch = queue.take();
        assert_eq!(batch.len(), 3);
        assert!(queue.take().is_empty());
        let written = records(batch);
        assert_eq!(written.len(), 1);
        let copy = Doc::new();
        let copied = copy.get_or_insert_text("t");
        copy.transact_mut().apply_update(Update::decode_v1(&written[0]).expect("decodes")).expect("applies");
        assert_eq!(copied.get_string(&copy.transact()), "abc");
        let _ = copy.transact().state_vector();
    }
}
