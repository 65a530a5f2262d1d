//! Limits how often the runner writes progress into the document: at most one write per
//! interval (250 ms: four a second), except phase changes and the end, which always go out.

/// Decides which progress reports become document writes.
#[derive(Debug, Clone)]
pub struct Throttle {
    interval_ms: f64,
    last_ms: f64,
}

impl Throttle {
    /// The default: at most four writes a second.
    pub const DEFAULT_INTERVAL_MS: f64 = 250.0;

    pub fn new(interval_ms: f64) -> Self {
        Throttle { interval_ms, last_ms: f64::NEG_INFINITY }
    }

    /// Whether a report at `now_ms` should be written; `force` for phase changes.
    pub fn ready(&mut self, now_ms: f64, force: bool) -> bool {
        if force || now_ms - self.last_ms >= self.interval_ms {
            self.last_ms = now_ms;
            true
        } else {
            false
        }
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Self::DEFAULT_INTERVAL_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_four_writes_a_second_plus_forced_ones() {
        let mut throttle = Throttle::default();
        let written = (0..1000).filter(|ms| throttle.ready(*ms as f64, false)).count();
        assert_eq!(written, 4);
        assert!(throttle.ready(1000.5, true));
    }
}
