//! Who is in the room: our own awareness state (a name and a colour) and the table of the other
//! clients' states, with y-protocols' rules (a higher clock wins, `null` means "left", a state not
//! renewed for 30 s is gone). This is kept here rather than in `yrs::sync::Awareness` because a
//! client must be able to forget every peer when its connection drops (the relay sends the full
//! list again on reconnect) and to keep its own clock growing across connections, neither of
//! which `Awareness` allows.
//!
//! The state itself (name, colour, cursor, selection, view, drag) is built and read in
//! [`crate::awareness_state`]; this table only keeps the JSON and the clocks.

use std::collections::HashMap;

use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry};
use yrs::ClientID;

pub use crate::awareness_state::Peer;

/// Our state is renewed this often, as stock clients do, so peers do not expire it.
pub const RENEW_EVERY_MS: f64 = 15_000.0;
/// A peer state not renewed for this long is considered gone.
pub const OUTDATED_AFTER_MS: f64 = 30_000.0;

/// The page's clock in milliseconds, the one the table keeps time with (its callers pass
/// the time in, so tests can use any clock).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// How this client shows up to others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub color: String,
}

const ADJECTIVES: &[&str] = &[
    "Amber", "Brisk", "Calm", "Deft", "Eager", "Fuzzy", "Gentle", "Happy", "Keen", "Lucky", "Mellow", "Nimble",
    "Quiet", "Swift", "Witty",
];
const ANIMALS: &[&str] = &[
    "Otter", "Falcon", "Lynx", "Panda", "Heron", "Koala", "Fox", "Badger", "Ibex", "Marten", "Gecko", "Puffin",
    "Tapir", "Wombat",
];
const COLORS: &[&str] =
    &["#e4572e", "#17bebb", "#ffb400", "#76b041", "#9b5de5", "#f15bb5", "#00bbf9", "#ef476f", "#118ab2", "#06d6a0"];

impl User {
    /// A random friendly name and colour, new on every page load.
    pub fn random() -> Self {
        let pick = |list: &[&'static str]| list[(js_sys::Math::random() * list.len() as f64) as usize % list.len()];
        User { name: format!("{} {}", pick(ADJECTIVES), pick(ANIMALS)), color: pick(COLORS).to_owned() }
    }

    /// The awareness state stock Yjs editors understand: `{"user":{"name":..,"color":..}}`
    /// (the editor publishes more: [`crate::awareness_state::LocalState`]).
    #[cfg(test)]
    pub fn state_json(&self) -> String {
        serde_json::json!({ "user": { "name": self.name, "color": self.color } }).to_string()
    }
}


struct Entry {
    clock: u32,
    /// The JSON state; `None` once the client left or expired.
    state: Option<String>,
    last_seen_ms: f64,
}

/// Our awareness state and the states of everyone else in the room.
pub struct Presence {
    client: ClientID,
    /// Our awareness state as JSON.
    state: String,
    clock: u32,
    last_sent_ms: f64,
    peers: HashMap<u64, Entry>,
}

impl Presence {
    /// `client` is the document's client id: awareness states are keyed by it. `state` is
    /// our awareness state as JSON.
    pub fn new(client: ClientID, state: String) -> Self {
        Presence { client, state, clock: 0, last_sent_ms: f64::NEG_INFINITY, peers: HashMap::new() }
    }

    /// Replaces our state; the next [`Presence::announce`] sends it.
    pub fn set_state(&mut self, state: String) {
        self.state = state;
    }

    /// A frame announcing our state with a fresh clock (so it wins over anything older, including
    /// the `null` the relay sent for us when our previous connection closed).
    pub fn announce(&mut self, now_ms: f64) -> Vec<u8> {
        self.clock += 1;
        self.last_sent_ms = now_ms;
        let mut update = AwarenessUpdate { clients: Default::default() };
        update
            .clients
            .insert(self.client, AwarenessUpdateEntry { clock: self.clock, json: self.state.clone().into() });
        protocol::awareness(update)
    }

    /// A frame saying we left (our state `null` with a fresh clock), as y-protocols sends
    /// when a page closes.
    pub fn leave(&mut self) -> Vec<u8> {
        self.clock += 1;
        let mut update = AwarenessUpdate { clients: Default::default() };
        update.clients.insert(self.client, AwarenessUpdateEntry { clock: self.clock, json: "null".into() });
        protocol::awareness(update)
    }

    /// A renewal frame when our state is due for one.
    pub fn renew_if_due(&mut self, now_ms: f64) -> Option<Vec<u8>> {
        (now_ms - self.last_sent_ms >= RENEW_EVERY_MS).then(|| self.announce(now_ms))
    }

    /// Applies states received from the relay; true when the list of peers changed.
    pub fn apply(&mut self, update: AwarenessUpdate, now_ms: f64) -> bool {
        let mut changed = false;
        for (client, entry) in update.clients {
            let client = client.get();
            if client == self.client.get() {
                // Only we decide about our own state; a stale echo changes nothing.
                continue;
            }
            let state = (&*entry.json != "null").then(|| entry.json.to_string());
            match self.peers.get_mut(&client) {
                Some(known) => {
                    let removal = known.clock == entry.clock && state.is_none() && known.state.is_some();
                    if known.clock < entry.clock || removal {
                        changed |= known.state != state;
                        known.clock = entry.clock;
                        known.state = state;
                        known.last_seen_ms = now_ms;
                    }
                }
                None => {
                    changed |= state.is_some();
                    self.peers.insert(client, Entry { clock: entry.clock, state, last_seen_ms: now_ms });
                }
            }
        }
        changed
    }

    /// Drops the states of peers that stopped renewing; true when any was dropped. Their clocks
    /// are kept, so a late renewal is still accepted.
    pub fn expire(&mut self, now_ms: f64) -> bool {
        let mut changed = false;
        for entry in self.peers.values_mut() {
            if entry.state.is_some() && now_ms - entry.last_seen_ms >= OUTDATED_AFTER_MS {
                entry.state = None;
                changed = true;
            }
        }
        changed
    }

    /// Forgets every peer: called when the connection drops, as the relay sends every current
    /// state again when we reconnect.
    pub fn forget_peers(&mut self) {
        self.peers.clear();
    }

    /// The peers currently present, in a stable order.
    pub fn peers(&self) -> Vec<Peer> {
        let mut peers: Vec<Peer> = self
            .peers
            .iter()
            .filter_map(|(client, entry)| crate::awareness_state::peer(*client, entry.state.as_deref()?))
            .collect();
        shared::order::sort_by(&mut peers, |a, b| a.name.cmp(&b.name).then(a.client.cmp(&b.client)));
        peers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn user(name: &str) -> User {
        User { name: name.to_owned(), color: "#123456".to_owned() }
    }

    fn update(client: u64, clock: u32, json: &str) -> AwarenessUpdate {
        let mut update = AwarenessUpdate { clients: Default::default() };
        update.clients.insert(ClientID::new(client), AwarenessUpdateEntry { clock, json: json.into() });
        update
    }

    fn names(presence: &Presence) -> Vec<String> {
        presence.peers().into_iter().map(|p| p.name).collect()
    }

    #[wasm_bindgen_test]
    fn our_announcements_decode_and_their_clock_grows() {
        let mut me = Presence::new(ClientID::new(7), user("Swift Otter").state_json());
        for expected_clock in 1..=3 {
            let frame = me.announce(0.0);
            let messages = protocol::decode_frame(&frame).unwrap();
            let protocol::Message::Awareness(update) = &messages[0] else { panic!("{messages:?}") };
            let entry = &update.clients[&ClientID::new(7)];
            assert_eq!(entry.clock, expected_clock);
            assert_eq!(&*entry.json, r##"{"user":{"color":"#123456","name":"Swift Otter"}}"##);
        }
    }

    #[wasm_bindgen_test]
    fn renewal_is_due_after_fifteen_seconds() {
        let mut me = Presence::new(ClientID::new(7), user("A").state_json());
        me.announce(1_000.0);
        assert!(me.renew_if_due(10_000.0).is_none());
        assert!(me.renew_if_due(16_000.0).is_some());
    }

    #[wasm_bindgen_test]
    fn higher_clocks_win_and_null_means_gone() {
        let mut me = Presence::new(ClientID::new(1), user("Me").state_json());
        assert!(me.apply(update(2, 3, r##"{"user":{"name":"Bo","color":"#abc"}}"##), 0.0));
        assert_eq!(names(&me), ["Bo"]);
        // an older state is ignored
        assert!(!me.apply(update(2, 2, r#"{"user":{"name":"Old"}}"#), 0.0));
        assert_eq!(names(&me), ["Bo"]);
        // a removal at the same clock counts, as in y-protocols
        assert!(me.apply(update(2, 3, "null"), 0.0));
        assert!(me.peers().is_empty());
        // it comes back with a newer clock
        assert!(me.apply(update(2, 4, r#"{"user":{"name":"Bo"}}"#), 0.0));
        assert_eq!(names(&me), ["Bo"]);
        // our own state echoed back is not a peer
        assert!(!me.apply(update(1, 9, r#"{"user":{"name":"Me"}}"#), 0.0));
        assert_eq!(me.peers().len(), 1);
    }

    #[wasm_bindgen_test]
    fn silent_peers_expire_and_a_late_renewal_brings_them_back() {
        let mut me = Presence::new(ClientID::new(1), user("Me").state_json());
        me.apply(update(2, 1, r#"{"user":{"name":"Bo"}}"#), 0.0);
        assert!(!me.expire(29_000.0));
        assert!(me.expire(30_000.0));
        assert!(me.peers().is_empty());
        assert!(me.apply(update(2, 2, r#"{"user":{"name":"Bo"}}"#), 31_000.0));
        assert_eq!(names(&me), ["Bo"]);
    }

    #[wasm_bindgen_test]
    fn forgetting_peers_accepts_their_states_again() {
        let mut me = Presence::new(ClientID::new(1), user("Me").state_json());
        me.apply(update(2, 5, r#"{"user":{"name":"Bo"}}"#), 0.0);
        me.forget_peers();
        assert!(me.peers().is_empty());
        // after a reconnect the relay sends the same state, same clock
        assert!(me.apply(update(2, 5, r#"{"user":{"name":"Bo"}}"#), 0.0));
        assert_eq!(names(&me), ["Bo"]);
    }

    #[wasm_bindgen_test]
    fn odd_states_get_defaults_and_unsafe_colours_are_dropped() {
        let mut me = Presence::new(ClientID::new(1), user("Me").state_json());
        me.apply(update(2, 1, r#"{"cursor":3}"#), 0.0);
        me.apply(update(3, 1, r#"{"user":{"name":"Eve","color":"red;background:url(x)"}}"#), 0.0);
        let peers = me.peers();
        assert_eq!(peers[0].name, "Client 2");
        assert_eq!(peers[1].name, "Eve");
        assert_eq!(peers[1].color, "#8892a6");
    }
}
