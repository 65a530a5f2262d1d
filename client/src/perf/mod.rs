//! The performance view (issue #5): live figures of this client's link to the relay and of the
//! relay itself, and the adaptive streaming quality that depends on them.
//!
//! [`start`] runs the once-a-second sampler for the page's lifetime (so the charts have five
//! minutes of history when the panel opens, and the quality adapts whether or not anyone
//! looks): it takes the [`meter::Meter`] counts the connection recorded, computes round-trip
//! percentiles, the document size ([`doc_size`]: no full encode per second), the unconfirmed changes and the frame times, and picks the
//! streaming rate with [`quality::Quality`]. The relay's own figures come from its SSE stream,
//! opened only while the panel shows ([`relay_stats`]).

mod chart;
mod doc_size;
mod frames;
pub mod meter;
mod panel;
pub mod quality;
mod relay_stats;
mod series;

use futures_util::StreamExt;
use gloo_timers::future::IntervalStream;
use leptos::prelude::*;

use crate::connection::{ConnectionState, Status};
use crate::editor::Editor;
use meter::Meter;
use quality::Quality;
pub use panel::PerfPanel;
use series::{percentile, Series};

/// What the panel shows; all signals, so `Copy`.
#[derive(Clone, Copy)]
pub struct Perf {
    /// The panel is open (the same signal as the editor's toggle).
    pub open: RwSignal<bool>,
    /// This client's figures, one value a second.
    pub local: RwSignal<Series>,
    /// The relay's figures from its stats stream.
    pub relay: RwSignal<Series>,
    /// Samples received on the stats stream since the panel opened (history included).
    pub relay_samples: RwSignal<u32>,
    /// Whether the stats stream is connected.
    pub relay_live: RwSignal<bool>,
    /// The current awareness and drag streaming rate (Hz).
    pub quality: RwSignal<u32>,
}

/// Starts the sampler and the relay stats follower; returns the panel's state.
pub fn start(editor: Editor, status: Status, meter: Meter) -> Perf {
    let perf = Perf {
        open: editor.ui.perf,
        local: RwSignal::new(Series::default()),
        relay: RwSignal::new(Series::default()),
        relay_samples: RwSignal::new(0),
        relay_live: RwSignal::new(false),
        quality: RwSignal::new(quality::LEVELS[0]),
    };
    let frame_times = frames::watch(perf.open);
    let doc_size = doc_size::DocSize::watch(editor.doc());
    relay_stats::follow(perf);
    leptos::task::spawn_local(async move {
        let mut quality = Quality::default();
        let mut confirmed_local = editor.local_updates.get_untracked();
        let mut seconds = IntervalStream::new(1000);
        while seconds.next().await.is_some() {
            let now = js_sys::Date::now();
            let s = meter.take_second(now);
            let (p50, p95) = (percentile(&s.rtts, 50.0), percentile(&s.rtts, 95.0));
            // A probe still waiting is a lower bound of the round trip: a link that slows down
            // is seen before its answers arrive.
            let reading = match (p95, s.oldest_waiting_ms) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            let hz = quality.update(reading, s.backlog, now);
            if perf.quality.get_untracked() != hz {
                perf.quality.set(hz);
            }
            // Local changes not confirmed: those made since the last synced second (offline
            // edits wait for the next session) plus updates the relay has not acknowledged.
            let local = editor.local_updates.get_untracked();
            let synced = status.state.get_untracked() == ConnectionState::Synced;
            if synced {
                confirmed_local = local;
            }
            let unsynced = local.saturating_sub(confirmed_local) + s.unacked;
            let doc_bytes = doc_size.bytes();
            let frame_p95 = frame_times.take().and_then(|times| percentile(&times, 95.0));
            perf.local.update(|l| {
                l.push("rtt_p50", p50);
                l.push("rtt_p95", p95);
                l.push("lost", Some(s.lost as f64));
                l.push("updates_in", Some(s.updates_in as f64));
                l.push("updates_out", Some(s.updates_out as f64));
                l.push("bytes_in", Some(s.bytes_in as f64));
                l.push("bytes_out", Some(s.bytes_out as f64));
                l.push("awareness_in", Some(s.awareness_in as f64));
                l.push("awareness_out", Some(s.awareness_out as f64));
                l.push("doc_bytes", Some(doc_bytes as f64));
                l.push("frame_p95", frame_p95);
                l.push("unsynced", Some(unsynced as f64));
                l.push("quality", Some(hz as f64));
                l.push("backlog", Some(s.backlog as f64));
            });
        }
    });
    perf
}
