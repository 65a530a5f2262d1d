//! The Prometheus side of telemetry: one registry per relay (no process-global state, so
//! several relays in one test process keep their own figures). The sampler fills the
//! counters and gauges from the relay's own counters once a second; the histograms are
//! observed where things happen (message handling here, the rest in `instruments.rs`); the
//! process metrics are read at each scrape (`process.rs`). Every metric has help text.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::instruments::Instruments;

type Labels = Vec<(&'static str, &'static str)>;

/// The relay's version, and the commit it was built from (`build.rs`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("RELAY_COMMIT");

pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub connections_opened: Counter,
    pub rooms: Gauge,
    pub frames_in: Counter,
    pub frames_out: Counter,
    pub frames_out_direct: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub closed_for_bad_input: Counter,
    pub queued_frames: Family<Labels, Gauge>,
    pub joins: Family<Labels, Counter>,
    pub cache_bytes: Gauge,
    pub handling_seconds: Histogram,
    pub store_bytes_written: Family<Labels, Counter>,
    pub stream_subscribers: Gauge,
    pub blob_quota_refusals: Counter,
}

impl Metrics {
    /// The relay's metrics, the `instruments` the rest of the relay records into, the build
    /// information and the process metrics, in one registry.
    pub fn new(instruments: &Instruments) -> Self {
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("relay");
        let m = Metrics {
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            rooms: Gauge::default(),
            frames_in: Counter::default(),
            frames_out: Counter::default(),
            frames_out_direct: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            closed_for_bad_input: Counter::default(),
            queued_frames: Family::default(),
            joins: Family::default(),
            cache_bytes: Gauge::default(),
            handling_seconds: Histogram::new(exponential_buckets(0.000_01, 2.0, 20)),
            store_bytes_written: Family::default(),
            stream_subscribers: Gauge::default(),
            blob_quota_refusals: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open WebSocket connections", m.connections.clone());
        registry.register("connections_opened", "WebSocket connections accepted", m.connections_opened.clone());
        registry.register("rooms_in_memory", "Rooms held in memory", m.rooms.clone());
        registry.register("frames_in", "WebSocket frames received", m.frames_in.clone());
        registry.register("frames_out", "WebSocket frames sent", m.frames_out.clone());
        registry.register(
            "frames_out_direct",
            "Of the frames sent, those a room wrote to an idle socket itself (one-worker runtimes)",
            m.frames_out_direct.clone(),
        );
        registry.register("bytes_in", "WebSocket payload bytes received", m.bytes_in.clone());
        registry.register("bytes_out", "WebSocket payload bytes sent", m.bytes_out.clone());
        registry.register("closed_for_bad_input", "Connections closed for malformed input", m.closed_for_bad_input.clone());
        registry.register("queued_frames", "Frames waiting in outbound queues, by queue", m.queued_frames.clone());
        registry.register("room_joins", "Joins, by where the room came from (memory or store)", m.joins.clone());
        registry.register("cache_bytes", "Approximate bytes of the rooms held in memory", m.cache_bytes.clone());
        registry.register_with_unit(
            "message_handling",
            "Receipt of a message to every member's queue holding what it caused",
            Unit::Seconds,
            m.handling_seconds.clone(),
        );
        registry.register("store_bytes_written", "Bytes the store wrote, by file kind", m.store_bytes_written.clone());
        registry.register("stats_stream_subscribers", "Live subscribers of the stats stream", m.stream_subscribers.clone());
        registry.register(
            "blob_uploads_over_quota",
            "Blob uploads refused because the room's blobs would exceed --max-room-blob-bytes",
            m.blob_quota_refusals.clone(),
        );
        registry.register(
            "build",
            "The relay's version and the commit it was built from",
            Info::new(vec![("version", VERSION), ("commit", COMMIT)]),
        );
        instruments.register(registry);
        super::process::register(root.sub_registry_with_prefix("process"));
        Metrics { registry: root, ..m }
    }
}

impl Default for Metrics {
    /// Metrics with instruments nobody else records into (tests of telemetry alone).
    fn default() -> Self {
        Metrics::new(&Instruments::default())
    }
}

impl Metrics {
    /// `relay_auth_webhook_answers{outcome="allowed|refused|failed|cached"}`, counted by
    /// `auth::Access` (which exists before the telemetry does).
    pub fn register_auth_webhook(&mut self, answers: Family<Labels, Counter>) {
        // Known outcomes start at zero, like the other labelled series.
        for outcome in ["allowed", "refused", "failed", "cached"] {
            let _ = answers.get_or_create(&vec![("outcome", outcome)]);
        }
        // The registry kept here is the root (the `relay` prefix is a sub-registry's), so the
        // name carries the prefix itself.
        self.registry.register("relay_auth_webhook_answers", "Auth webhook answers by outcome (failed: the request was refused, fail closed)", answers);
    }

    /// The registry in the OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The registry in `format`.
    pub fn render_as(&self, format: super::exposition::Format) -> Result<String, std::fmt::Error> {
        let text = self.render()?;
        Ok(match format {
            super::exposition::Format::OpenMetrics => text,
            super::exposition::Format::Prometheus => super::exposition::to_prometheus_text(&text),
        })
    }
}

/// Brings a counter up to `total` (the relay's own monotonic counter).
pub fn catch_up(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}
