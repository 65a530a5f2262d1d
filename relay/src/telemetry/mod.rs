//! Telemetry: what operators and the client's performance view see of the relay.
//!
//! Once a second the [`sampler`] turns the relay's plain counters into a [`Sample`]
//! (rates, latency quantiles, queue depths, cache hit rate, store latency, memory), keeps
//! the last five minutes of them, pushes each to live subscribers, and mirrors the figures
//! into a Prometheus registry ([`metrics`]), which also holds the latency histograms and
//! counters recorded elsewhere (`crate::instruments`), the build information and the
//! standard process metrics ([`process`]), served in the format the scraper asks for
//! ([`exposition`]). The HTTP routes that serve them (`{base}/metrics`,
//! `{base}/api/stats/stream`) are with the other handlers, in `http/telemetry.rs`.
//!
//! The hot path only bumps atomics and records one histogram value per handled message;
//! everything derived is computed by the sampler.

pub mod exposition;
pub mod metrics;
mod process;
pub mod sampler;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use tokio::sync::broadcast;

pub use sampler::Sample;

/// Samples kept: five minutes at one a second.
pub const HISTORY: usize = 300;
/// How often a sample is taken.
pub const INTERVAL: Duration = Duration::from_secs(1);

pub struct Telemetry {
    pub metrics: metrics::Metrics,
    history: Mutex<VecDeque<Arc<Sample>>>,
    live: broadcast::Sender<Arc<Sample>>,
    /// Receipt of a message to every member's queue holding what it caused, in µs, since
    /// the last sample.
    /// (`None` only if hdrhistogram refused the bounds, which it does not for these.)
    handling_us: Mutex<Option<Histogram<u64>>>,
}

impl Telemetry {
    /// Telemetry whose registry also holds `instruments` (what the rest of the relay records).
    pub fn new(instruments: &crate::instruments::Instruments) -> Self {
        let (live, _) = broadcast::channel(16);
        Telemetry {
            metrics: metrics::Metrics::new(instruments),
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            live,
            handling_us: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).ok()),
        }
    }
}

impl Telemetry {
    /// Records how long handling one incoming message took (decode, validate, apply, hand
    /// to the store, offer to every member).
    pub fn record_handling(&self, took: Duration) {
        let micros = (took.as_micros() as u64).max(1);
        if let Some(histogram) = self.handling_us.lock().as_mut() {
            histogram.saturating_record(micros);
        }
        self.metrics.handling_seconds.observe(took.as_secs_f64());
    }

    /// The quantiles of message handling since the last call, and a fresh histogram.
    fn take_handling(&self) -> (u64, u64, u64) {
        let mut slot = self.handling_us.lock();
        let Some(histogram) = slot.as_mut() else { return (0, 0, 0) };
        let figures = if histogram.is_empty() {
            (0, 0, 0)
        } else {
            (histogram.value_at_quantile(0.5), histogram.value_at_quantile(0.99), histogram.max())
        };
        histogram.reset();
        figures
    }

    fn publish(&self, sample: Sample) {
        let sample = Arc::new(sample);
        {
            let mut history = self.history.lock();
            if history.len() == HISTORY {
                history.pop_front();
            }
            history.push_back(sample.clone());
        }
        // No subscribers is fine.
        let _ = self.live.send(sample);
    }

    /// The samples of the last five minutes, oldest first.
    pub fn history(&self) -> Vec<Arc<Sample>> {
        self.history.lock().iter().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Sample>> {
        self.live.subscribe()
    }

    pub fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }
}
