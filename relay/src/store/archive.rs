//! [`Archive`]: how the relay's async code reaches the blocking part of a store. Every call
//! runs on tokio's blocking threads, so a slow disk holds up that call only, never the
//! runtime's workers or a room's lock; holding an `Archive` instead of the store is what
//! makes that a rule of the types rather than of the comments.

use std::sync::Arc;

use super::{RoomArchive, StoreError};

/// The blocking part of a store, called off the async runtime.
#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn RoomArchive>,
}

impl Archive {
    pub fn new(store: Arc<dyn RoomArchive>) -> Self {
        Archive { store }
    }

    /// Runs `call` with the store on a blocking thread and returns what it returned.
    pub async fn run<T, F>(&self, call: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn RoomArchive) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(&*store))
            .await
            .map_err(|e| StoreError::Io(format!("store task failed: {e}")))?
    }
}
