//! What the connection counts for the performance view: frames and bytes each way, updates and
//! awareness messages, the round-trip probes (`102`/`103`), durable acknowledgements, and the
//! browser socket (for its send backlog). The connection holds a clone and reports to it where
//! it sends and receives; the per-second sampler takes the counts once a second. Nothing here is
//! global: the app creates one [`Meter`] and passes it to both.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use shared::protocol;

/// A probe with no answer after this long counts as lost.
pub const PROBE_TIMEOUT_MS: f64 = 5_000.0;
/// Probes waiting for an answer, at most (older ones are dropped as lost).
const MAX_OUTSTANDING: usize = 16;

/// Counts since the last [`Meter::take_second`].
#[derive(Debug, Default, Clone)]
pub struct Second {
    pub updates_in: u32,
    pub updates_out: u32,
    pub awareness_in: u32,
    pub awareness_out: u32,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Round trips of the probes answered, in milliseconds.
    pub rtts: Vec<f64>,
    pub lost: u32,
    /// Age of the oldest unanswered probe (ms): a lower bound of the current round trip.
    pub oldest_waiting_ms: Option<f64>,
    /// Updates sent on this connection that the relay has not yet acknowledged as durable.
    pub unacked: u64,
    /// Bytes the browser has queued on the socket but not sent yet.
    pub backlog: u32,
}

#[derive(Default)]
struct State {
    now: Second,
    /// (sequence number, sent at ms) of the probes waiting for an answer.
    waiting: VecDeque<(u32, f64)>,
    next_seq: u32,
    /// Updates this connection sent (as the relay counts them: non-empty ones) and how many it
    /// acknowledged.
    sent_updates: u64,
    acked: u64,
    socket: Option<web_sys::WebSocket>,
}

/// The connection's counters; cheap to clone (one shared cell, used from the UI thread only).
#[derive(Clone, Default)]
pub struct Meter(Rc<RefCell<State>>);

/// What kind of message a frame holds, from its first bytes.
fn kind(frame: &[u8]) -> (bool, bool) {
    let update = frame.first() == Some(&protocol::MSG_SYNC) && matches!(frame.get(1), Some(1 | 2));
    let awareness = frame.first() == Some(&protocol::MSG_AWARENESS);
    (update, awareness)
}

impl Meter {
    /// A new session on `socket`: probes and acknowledgements of the previous one are void.
    pub fn attach(&self, socket: Option<web_sys::WebSocket>) {
        let mut s = self.0.borrow_mut();
        s.socket = socket;
        s.waiting.clear();
        s.sent_updates = 0;
        s.acked = 0;
    }

    pub fn sent(&self, frame: &[u8]) {
        let (update, awareness) = kind(frame);
        let mut s = self.0.borrow_mut();
        s.now.bytes_out += frame.len() as u64;
        if update {
            s.now.updates_out += 1;
            // An empty update (`0 0`) is skipped by the relay, so never acknowledged.
            if frame.len() > 5 {
                s.sent_updates += 1;
            }
        }
        if awareness {
            s.now.awareness_out += 1;
        }
    }

    pub fn received(&self, frame: &[u8]) {
        let (update, awareness) = kind(frame);
        let mut s = self.0.borrow_mut();
        s.now.bytes_in += frame.len() as u64;
        if update {
            s.now.updates_in += 1;
        }
        if awareness {
            s.now.awareness_in += 1;
        }
    }

    /// A new probe frame carrying the next sequence number.
    pub fn probe(&self, now_ms: f64) -> Vec<u8> {
        let mut s = self.0.borrow_mut();
        let seq = s.next_seq;
        s.next_seq = s.next_seq.wrapping_add(1);
        s.waiting.push_back((seq, now_ms));
        while s.waiting.len() > MAX_OUTSTANDING {
            s.waiting.pop_front();
            s.now.lost += 1;
        }
        protocol::ping(&seq.to_le_bytes())
    }

    /// The relay's answer to a probe; unknown or malformed payloads are ignored.
    pub fn pong(&self, payload: &[u8], now_ms: f64) {
        let Ok(bytes) = <[u8; 4]>::try_from(payload) else { return };
        let seq = u32::from_le_bytes(bytes);
        let mut s = self.0.borrow_mut();
        if let Some(i) = s.waiting.iter().position(|(n, _)| *n == seq) {
            if let Some((_, sent)) = s.waiting.remove(i) {
                s.now.rtts.push((now_ms - sent).max(0.0));
            }
        }
    }

    /// The relay's durable acknowledgement: the first `count` updates are stored.
    pub fn acked(&self, count: u64) {
        let mut s = self.0.borrow_mut();
        s.acked = s.acked.max(count);
    }

    /// The counts of the second that ends now; probes older than [`PROBE_TIMEOUT_MS`] are lost.
    pub fn take_second(&self, now_ms: f64) -> Second {
        let mut s = self.0.borrow_mut();
        while s.waiting.front().is_some_and(|(_, sent)| now_ms - sent > PROBE_TIMEOUT_MS) {
            s.waiting.pop_front();
            s.now.lost += 1;
        }
        let mut second = std::mem::take(&mut s.now);
        second.oldest_waiting_ms = s.waiting.front().map(|(_, sent)| now_ms - sent);
        second.unacked = s.sent_updates.saturating_sub(s.acked);
        second.backlog = s.socket.as_ref().map_or(0, |socket| socket.buffered_amount());
        second
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn counts_updates_awareness_and_bytes_each_way() {
        let meter = Meter::default();
        let update = protocol::update(vec![1, 2, 3, 4]);
        meter.sent(&update);
        meter.sent(&protocol::sync_step2(vec![0, 0])); // empty: the relay will not count it
        meter.received(&update);
        meter.received(&protocol::ping(&[1]));
        let second = meter.take_second(0.0);
        assert_eq!((second.updates_out, second.updates_in, second.awareness_out), (2, 1, 0));
        assert_eq!(second.bytes_in as usize, update.len() + protocol::ping(&[1]).len());
        assert_eq!(second.unacked, 1);
        meter.acked(1);
        let next = meter.take_second(1.0);
        assert_eq!((next.updates_out, next.bytes_out, next.unacked), (0, 0, 0));
    }

    #[wasm_bindgen_test]
    fn probes_give_round_trips_and_unanswered_ones_are_lost() {
        let meter = Meter::default();
        let first = meter.probe(1000.0);
        let Ok(messages) = protocol::decode_frame(&first) else { panic!("a probe decodes") };
        let Some(protocol::Message::Custom(protocol::MSG_PING, payload)) = messages.into_iter().next() else { panic!("a ping") };
        meter.probe(1500.0);
        meter.pong(&payload, 1040.0);
        meter.pong(&payload, 1050.0); // a duplicate answer changes nothing
        meter.pong(b"junk", 1060.0);
        let second = meter.take_second(2000.0);
        assert_eq!(second.rtts, vec![40.0]);
        assert_eq!(second.oldest_waiting_ms, Some(500.0));
        assert_eq!(meter.take_second(6600.0).lost, 1);
        // A new session forgets the old probes.
        meter.probe(7000.0);
        meter.attach(None);
        assert_eq!(meter.take_second(20_000.0).lost, 0);
    }
}
