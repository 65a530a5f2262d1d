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
