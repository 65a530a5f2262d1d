//! The Prometheus side of telemetry: one registry per relay (no process-global state, so
//! several relays in one test process keep their own figures), filled by the sampler.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub connections_opened: Counter,
    pub rooms: Gauge,
    pub frames_in: Counter,
    pub frames_out: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub closed_for_bad_input: Counter,
    pub queued_frames: Family<Labels, Gauge>,
    pub joins: Family<Labels, Counter>,
    pub cache_bytes: Gauge,
    pub handling_seconds: Histogram,
    pub durable_latency_seconds: Family<Labels, Gauge<f64, AtomicU64>>,
    pub store_bytes_written: Family<Labels, Counter>,
    pub resident_memory_bytes: Gauge,
    pub stream_subscribers: Gauge,
    pub blob_quota_refusals: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("relay");
        let m = Metrics {
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            rooms: Gauge::default(),
            frames_in: Counter::default(),
            frames_out: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            closed_for_bad_input: Counter::default(),
            queued_frames: Family::default(),
            joins: Family::default(),
            cache_bytes: Gauge::default(),
            handling_seconds: Histogram::new(exponential_buckets(0.000_01, 2.0, 20)),
            durable_latency_seconds: Family::default(),
            store_bytes_written: Family::default(),
            resident_memory_bytes: Gauge::default(),
            stream_subscribers: Gauge::default(),
            blob_quota_refusals: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open WebSocket connections", m.connections.clone());
        registry.register("connections_opened", "WebSocket connections accepted", m.connections_opened.clone());
        registry.register("rooms_in_memory", "Rooms held in memory", m.rooms.clone());
        registry.register("frames_in", "WebSocket frames received", m.frames_in.clone());
        registry.register("frames_out", "WebSocket frames sent", m.frames_out.clone());
        registry.register("bytes_in", "WebSocket payload bytes received", m.bytes_in.clone());
        registry.register("bytes_out", "WebSocket payload bytes sent", m.bytes_out.clone());
        registry.register("closed_for_bad_input", "Connections closed for malformed input", m.closed_for_bad_input.clone());
        registry.register("queued_frames", "Frames waiting in outbound queues, by queue", m.queued_frames.clone());
        registry.register("room_joins", "Joins, by where the room came from (memory or store)", m.joins.clone());
        registry.register("cache_bytes", "Approximate bytes of the rooms held in memory", m.cache_bytes.clone());
        registry.register(
            "message_handling_seconds",
            "Receipt of a message to every member's queue holding what it caused",
            m.handling_seconds.clone(),
        );
        registry.register(
            "durable_latency_seconds",
            "Receipt of an update to its durable commit, by quantile, since start",
            m.durable_latency_seconds.clone(),
        );
        registry.register("store_bytes_written", "Bytes the store wrote, by file kind", m.store_bytes_written.clone());
        registry.register("resident_memory_bytes", "Resident set size of the relay process", m.resident_memory_bytes.clone());
        registry.register("stats_stream_subscribers", "Live subscribers of the stats stream", m.stream_subscribers.clone());
        registry.register(
            "blob_uploads_over_quota",
            "Blob uploads refused because the room's blobs would exceed --max-room-blob-bytes",
            m.blob_quota_refusals.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The registry in the Prometheus / OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Brings a counter up to `total` (the relay's own monotonic counter).
pub fn catch_up(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}
