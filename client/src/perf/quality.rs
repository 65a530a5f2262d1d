//! Adaptive quality: how often this client streams its awareness state (cursor, drag), chosen
//! from the measured round-trip time and the socket's send backlog. Plain Rust with no browser
//! calls, so the decision (with its hysteresis) is unit tested natively.
//!
//! Levels are 60, 30, 15 and 5 Hz. A bad reading steps down at once, as far as it calls for;
//! coming back up goes one level at a time, after [`RECOVER_MS`] of readings that would allow
//! the higher level, so a link that flaps does not make the stream flap with it.

/// The streaming rates, best first.
pub const LEVELS: [u32; 4] = [60, 30, 15, 5];
/// RTT p95 above these (ms) caps the level at 30, 15 and 5 Hz.
pub const RTT_LIMITS_MS: [f64; 3] = [150.0, 300.0, 600.0];
/// A send backlog above this (bytes) drops one level below the current one.
pub const BACKLOG_LIMIT: u32 = 64 * 1024;
/// How long the figures must stay good before one step up.
pub const RECOVER_MS: f64 = 5_000.0;

/// The current level and how long the figures have allowed a better one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quality {
    /// Index into [`LEVELS`] (0 = 60 Hz).
    level: usize,
    good_since_ms: Option<f64>,
}

impl Quality {
    /// The rate in Hz.
    pub fn hz(&self) -> u32 {
        LEVELS[self.level]
    }

    /// Takes one reading (`rtt_p95_ms` is `None` when there is no measurement yet) and
    /// returns the rate to use from now on.
    pub fn update(&mut self, rtt_p95_ms: Option<f64>, backlog: u32, now_ms: f64) -> u32 {
        let mut allowed = rtt_p95_ms.map_or(0, |rtt| RTT_LIMITS_MS.iter().filter(|limit| rtt > **limit).count());
        if backlog > BACKLOG_LIMIT {
            allowed = allowed.max((self.level + 1).min(LEVELS.len() - 1));
        }
        if allowed > self.level {
            self.level = allowed;
            self.good_since_ms = None;
        } else if allowed < self.level {
            let since = *self.good_since_ms.get_or_insert(now_ms);
            if now_ms - since >= RECOVER_MS {
                self.level -= 1;
                self.good_since_ms = (allowed < self.level).then_some(now_ms);
            }
        } else {
            self.good_since_ms = None;
        }
        self.hz()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn starts_at_60_and_stays_there_on_a_good_link() {
        let mut q = Quality::default();
        assert_eq!(q.update(None, 0, 0.0), 60);
        assert_eq!(q.update(Some(20.0), 0, 1000.0), 60);
    }

    #[wasm_bindgen_test]
    fn steps_down_at_once_as_far_as_the_rtt_calls_for() {
        let mut q = Quality::default();
        assert_eq!(q.update(Some(200.0), 0, 0.0), 30);
        let mut q = Quality::default();
        assert_eq!(q.update(Some(450.0), 0, 0.0), 15);
        assert_eq!(q.update(Some(900.0), 0, 1.0), 5);
    }

    #[wasm_bindgen_test]
    fn a_backlog_drops_one_level_per_reading() {
        let mut q = Quality::default();
        assert_eq!(q.update(Some(10.0), 100_000, 0.0), 30);
        assert_eq!(q.update(Some(10.0), 100_000, 1000.0), 15);
        assert_eq!(q.update(Some(10.0), 100_000, 2000.0), 5);
        assert_eq!(q.update(Some(10.0), 100_000, 3000.0), 5);
    }

    #[wasm_bindgen_test]
    fn climbs_back_one_level_after_five_good_seconds() {
        let mut q = Quality::default();
        q.update(Some(900.0), 0, 0.0);
        assert_eq!(q.update(Some(10.0), 0, 1000.0), 5);
        assert_eq!(q.update(Some(10.0), 0, 5000.0), 5);
        assert_eq!(q.update(Some(10.0), 0, 6000.0), 15);
        assert_eq!(q.update(Some(10.0), 0, 7000.0), 15);
        assert_eq!(q.update(Some(10.0), 0, 11000.0), 30);
        assert_eq!(q.update(Some(10.0), 0, 16000.0), 60);
    }

    #[wasm_bindgen_test]
    fn a_bad_reading_restarts_the_wait() {
        let mut q = Quality::default();
        q.update(Some(200.0), 0, 0.0);
        q.update(Some(10.0), 0, 1000.0);
        q.update(Some(200.0), 0, 4000.0); // still bad for 30: no change, wait restarts
        assert_eq!(q.update(Some(10.0), 0, 5000.0), 30);
        assert_eq!(q.update(Some(10.0), 0, 9000.0), 30);
        assert_eq!(q.update(Some(10.0), 0, 10000.0), 60);
    }
}
