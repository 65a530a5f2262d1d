//! Presence that came from another relay (cluster mode) and is no longer renewed.
//!
//! A relay that leaves gracefully sends its users' removals through Redis; a relay that
//! crashes cannot, and the other relays would keep its users' states, and hand them to every
//! joiner as if they were there, for as long as the room stays in memory. Stock clients renew
//! their own state every 15 s and drop a peer's after 30 s without one; the relay applies the
//! same rule to the states that none of its own connections holds.
//!
//! Presence timestamps come from a monotonic clock ([`presence_clock`]): they never leave
//! the relay, and a wall-clock jump must neither expire everybody nor keep stale states.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use yrs::sync::Timestamp;
use yrs::ClientID;

use super::Room;

/// Milliseconds since the relay's first use of it: the clock of the rooms' awareness.
pub(super) fn presence_clock() -> Timestamp {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as Timestamp
}

impl Room {
    /// Removes the presence states that no member of this relay holds and that were not
    /// renewed for `timeout`, and tells the members. Other relays expire them on their own,
    /// so nothing goes to Redis. Returns how many states were removed.
    pub fn expire_remote_presence(&self, timeout: Duration) -> usize {
        let mut state = self.state.lock();
        let cutoff = presence_clock().saturating_sub(timeout.as_millis() as Timestamp);
        let held: HashSet<ClientID> = state.members.values().flat_map(|m| m.controlled.iter().copied()).collect();
        let stale: Vec<ClientID> = state
            .awareness
            .iter()
            .filter(|(client, s)| s.data.is_some() && s.last_updated < cutoff && !held.contains(client))
            .map(|(client, _)| client)
            .collect();
        let removed = stale.len();
        if removed > 0 {
            tracing::debug!(room = %self.name, states = removed, "presence from another relay expired");
            super::remove_presence(&mut state, stale);
        }
        removed
    }
}
