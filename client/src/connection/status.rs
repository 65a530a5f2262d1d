//! Where the connection to the relay stands, as the page shows it: the state word, why the
//! last connection ended, the countdown to the next attempt, the peers, and a way to ask for
//! an attempt now. A leaf: the session, the reconnect loop and the page (the header, the
//! performance view, the jobs) all read or write it, and it names none of them.

use futures_channel::mpsc;
use leptos::prelude::*;

use crate::presence::Peer;

/// Where the connection to the relay stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Opening the WebSocket.
    Connecting,
    /// Open; waiting for the relay's answer to our state vector.
    Syncing,
    /// Open and up to date with the room.
    Synced,
    /// No connection: waiting to retry, or stopped after an error.
    Offline,
}

impl ConnectionState {
    /// The word shown in the page and read by browser tests.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Syncing => "syncing",
            ConnectionState::Synced => "synced",
            ConnectionState::Offline => "offline",
        }
    }
}

/// What the UI shows about the connection. All fields are signals, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct Status {
    pub state: RwSignal<ConnectionState>,
    /// Why the last connection ended, when it did not end normally.
    pub problem: RwSignal<Option<String>>,
    /// Seconds until the next automatic attempt, while offline and retrying.
    pub retry_in_secs: RwSignal<Option<u32>>,
    /// The other clients in the room.
    pub peers: RwSignal<Vec<Peer>>,
    retry: StoredValue<mpsc::UnboundedSender<()>>,
}

impl Status {
    /// A connection about to start; `retry` reaches the reconnect loop.
    pub fn new(retry: mpsc::UnboundedSender<()>) -> Self {
        Status {
            state: RwSignal::new(ConnectionState::Connecting),
            problem: RwSignal::new(None),
            retry_in_secs: RwSignal::new(None),
            peers: RwSignal::new(Vec::new()),
            retry: StoredValue::new(retry),
        }
    }

    /// Asks the loop to reconnect now instead of waiting for its backoff.
    pub fn retry_now(&self) {
        self.retry.with_value(|tx| {
            let _ = tx.unbounded_send(());
        });
    }
}
