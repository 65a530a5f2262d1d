//! The simulated people of `loadgen cluster-scale`: one task per member of a room, writing
//! small map updates and/or presence states at steady rates, and counting what reaches it.
//!
//! Every update and presence state carries a marker, `@@u<writer>.<seq>.<µs>@@` in the
//! map value or `@@p…@@` in the presence JSON, with the author's number, its sequence number
//! and its send time (µs since the UNIX epoch). A member looks for markers in the raw bytes of
//! each frame it receives, without decoding it: Yjs v1 updates and awareness states hold
//! strings as plain UTF-8, so a marker survives whatever a relay does to a frame (forward it,
//! re-encode it from Redis, merge several into one). That makes each delivery countable
//! exactly (updates are deduplicated per member, so a lost update is `expected − unique`)
//! and timed from send to receipt, while the load generator stays cheap beside the servers
//! it measures on the same cores.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use shared::protocol::{self, AwarenessUpdate, AwarenessUpdateEntry};
use tokio::sync::watch;
use yrs::{ClientID, Doc, Map, Transact};

use crate::client::{self, Peer};
use crate::report::{histogram, LoadError};
use crate::workloads::swarm::now_us;

/// Where a run stands; every member follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connected, silent (the idle window).
    Idle,
    /// Writers write and presence moves at their rates.
    Send,
    /// Nothing more is sent; members keep counting what still arrives.
    Drain,
    /// Members leave.
    Stop,
}

/// What one member does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its number across the whole run (the author number in its markers).
    pub id: u32,
    /// Document updates per second (0: an observer).
    pub update_rate: f64,
    /// Presence states per second (0: none).
    pub presence_rate: f64,
    /// Where in its period it starts (0..1), so members do not send in lockstep.
    pub phase: f64,
    /// Filler in each update's value, to give updates a realistic size.
    pub value_bytes: usize,
}

/// Counters and histograms every member writes into.
pub struct Deliveries {
    pub updates_sent: AtomicU64,
    pub presence_sent: AtomicU64,
    /// Distinct (author, sequence) updates received, summed over members.
    pub update_deliveries: AtomicU64,
    /// Updates a member received more than once.
    pub duplicates: AtomicU64,
    pub presence_deliveries: AtomicU64,
    /// Members whose connection failed or was closed by a relay.
    pub errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    update_latency: Mutex<Histogram<u64>>,
    presence_latency: Mutex<Histogram<u64>>,
}

impl Deliveries {
    pub fn new() -> Deliveries {
        Deliveries {
            updates_sent: AtomicU64::new(0),
            presence_sent: AtomicU64::new(0),
            update_deliveries: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            presence_deliveries: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
            update_latency: Mutex::new(histogram()),
            presence_latency: Mutex::new(histogram()),
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The send-to-receipt histograms (µs) of updates and of presence states.
    pub fn latencies(&self) -> (Histogram<u64>, Histogram<u64>) {
        let take = |h: &Mutex<Histogram<u64>>| h.lock().map(|h| h.clone()).unwrap_or_else(|_| histogram());
        (take(&self.update_latency), take(&self.presence_latency))
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    fn error(&self, member: u32, error: &LoadError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| format!("member {member}: {error}"));
        }
    }

    fn record(&self, histogram: &Mutex<Histogram<u64>>, sent_us: u64) {
        if let Ok(mut h) = histogram.lock() {
            h.saturating_record(now_us().saturating_sub(sent_us).max(1));
        }
    }
}

/// A marker found in a frame: update or presence, author, sequence number, send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub presence: bool,
    pub author: u32,
    pub seq: u64,
    pub sent_us: u64,
}

impl Marker {
    pub fn encode(&self) -> String {
        let kind = if self.presence { 'p' } else { 'u' };
        format!("@@{kind}{}.{}.{}@@", self.author, self.seq, self.sent_us)
    }
}

/// Every marker in `bytes`, in order.
pub fn markers(bytes: &[u8]) -> Vec<Marker> {
    let mut found = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.windows(2).position(|w| w == b"@@") {
        match parse_marker(&rest[at + 2..]) {
            Some((marker, used)) => {
                found.push(marker);
                rest = &rest[at + 2 + used..];
            }
            // a stray '@' (a length byte of 64 is one) may stand just before a marker
            None => rest = &rest[at + 1..],
        }
    }
    found
}

/// A marker's body (after the opening `@@`) and how many bytes it took, closing `@@` included.
fn parse_marker(bytes: &[u8]) -> Option<(Marker, usize)> {
    let presence = match bytes.first()? {
        b'u' => false,
        b'p' => true,
        _ => return None,
    };
    let end = bytes.windows(2).take(64).position(|w| w == b"@@")?;
    let body = std::str::from_utf8(&bytes[1..end]).ok()?;
    let mut parts = body.split('.');
    let author = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let sent_us = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((Marker { presence, author, seq, sent_us }, end + 2))
}

/// One member until the phase says stop or `deadline` passes.
pub async fn member(mut peer: Peer, plan: Plan, tally: Arc<Deliveries>, mut phase: watch::Receiver<Phase>, deadline: Instant) {
    let doc = Doc::new();
    let map = doc.get_or_insert_map("scene");
    let filler = "x".repeat(plan.value_bytes);
    let client_id = 1_000_000 + u64::from(plan.id);
    let every = |rate: f64| Duration::from_secs_f64(1.0 / rate.max(0.001));
    let start = |rate: f64| {
        let period = every(rate);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period.mul_f64(plan.phase), period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    };
    let (mut update_ticks, mut presence_ticks) = (start(plan.update_rate), start(plan.presence_rate));
    let (mut update_seq, mut presence_seq) = (0u64, 0u64);
    let mut seen: HashSet<(u32, u64)> = HashSet::new();
    let mut now = *phase.borrow();
    loop {
        let sending = now == Phase::Send;
        let result = tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() { return; }
                let next = *phase.borrow();
                if next == Phase::Send && now != Phase::Send {
                    (update_ticks, presence_ticks) = (start(plan.update_rate), start(plan.presence_rate));
                }
                now = next;
                if now == Phase::Stop { return; }
                Ok(())
            }
            _ = tokio::time::sleep_until(deadline.into()) => return,
            _ = update_ticks.tick(), if sending && plan.update_rate > 0.0 => {
                let marker = Marker { presence: false, author: plan.id, seq: update_seq, sent_us: now_us() };
                let update = {
                    let mut txn = doc.transact_mut();
                    map.insert(&mut txn, format!("node{}", update_seq % 16), format!("{}{filler}", marker.encode()));
                    txn.encode_update_v1()
                };
                update_seq += 1;
                let sent = peer.send(protocol::update(update)).await;
                sent.map(|()| { tally.updates_sent.fetch_add(1, Ordering::Relaxed); })
            }
            _ = presence_ticks.tick(), if sending && plan.presence_rate > 0.0 => {
                let marker = Marker { presence: true, author: plan.id, seq: presence_seq, sent_us: now_us() };
                presence_seq += 1;
                let x = (presence_seq as f64 * 7.3) % 1920.0;
                let state = format!(
                    r##"{{"user":{{"name":"member {}","color":"#30bced"}},"cursor":{{"x":{x:.1},"y":{:.1}}},"m":"{}"}}"##,
                    plan.id, x / 2.0, marker.encode()
                );
                let mut update = AwarenessUpdate { clients: Default::default() };
                let clock = u32::try_from(presence_seq).unwrap_or(u32::MAX);
                update.clients.insert(ClientID::new(client_id), AwarenessUpdateEntry { clock, json: state.into() });
                let sent = peer.send(protocol::awareness(update)).await;
                sent.map(|()| { tally.presence_sent.fetch_add(1, Ordering::Relaxed); })
            }
            frame = client::next_frame(&mut peer.rx) => frame.map(|frame| count(&frame, plan.id, &mut seen, &tally)),
        };
        if let Err(error) = result {
            return tally.error(plan.id, &error);
        }
    }
}

/// Counts the markers of others in a received frame.
fn count(frame: &[u8], me: u32, seen: &mut HashSet<(u32, u64)>, tally: &Deliveries) {
    for marker in markers(frame).into_iter().filter(|m| m.author != me) {
        if marker.presence {
            tally.presence_deliveries.fetch_add(1, Ordering::Relaxed);
            tally.record(&tally.presence_latency, marker.sent_us);
        } else if seen.insert((marker.author, marker.seq)) {
            tally.update_deliveries.fetch_add(1, Ordering::Relaxed);
            tally.record(&tally.update_latency, marker.sent_us);
        } else {
            tally.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_in_any_bytes_around_them() {
        let a = Marker { presence: false, author: 7, seq: 42, sent_us: 1_700_000_000_000_000 };
        let b = Marker { presence: true, author: 0, seq: 0, sent_us: 5 };
        let frame = [b"\x00\x02@@@".as_slice(), a.encode().as_bytes(), b"xx@@", b"\x01", b.encode().as_bytes(), b"@@u1.2@@"].concat();
        assert_eq!(markers(&frame), vec![a, b]);
        assert!(markers(b"@@u1.2.x@@ @@q1.2.3@@ @@").is_empty());
    }

    #[test]
    fn a_marker_survives_a_yjs_update() {
        let marker = Marker { presence: false, author: 3, seq: 9, sent_us: 123 };
        let doc = Doc::new();
        let map = doc.get_or_insert_map("scene");
        let mut txn = doc.transact_mut();
        map.insert(&mut txn, "node1", format!("{}xxxx", marker.encode()));
        assert_eq!(markers(&protocol::update(txn.encode_update_v1())), vec![marker]);
    }
}
