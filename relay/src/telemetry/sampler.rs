//! The once-a-second sample: rates from the relay's counters, quantiles of message handling,
//! outbound queue depths, cache and store figures, memory. Published to the history, the
//! live subscribers and the Prometheus registry. (The task that takes one a second runs on
//! the relay's lifecycle, in `server.rs`.)

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use serde::Serialize;

use super::metrics::catch_up;
use super::Telemetry;
use crate::rooms::Rooms;
use crate::stats::Counters;

/// One second of the relay, as the performance view charts it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sample {
    /// Unix milliseconds when the sample was taken.
    pub t_ms: i64,
    pub connections: i64,
    pub rooms: usize,
    pub frames_in_per_s: f64,
    pub frames_out_per_s: f64,
    pub bytes_in_per_s: f64,
    pub bytes_out_per_s: f64,
    /// Receipt of a message to every member's queue holding what it caused (this second).
    pub handling_p50_us: u64,
    pub handling_p99_us: u64,
    pub handling_max_us: u64,
    /// Frames waiting in outbound queues, summed over connections, and the deepest queue.
    pub queued_control: usize,
    pub queued_updates: usize,
    pub queued_awareness: usize,
    pub deepest_queue: usize,
    /// Joins served from memory ÷ all joins, since start (`None` before the first join).
    pub cache_hit_rate: Option<f64>,
    pub cache_bytes: u64,
    /// Receipt to durable commit since start (SQLite store only).
    pub store_latency_p50_us: Option<u64>,
    pub store_latency_p99_us: Option<u64>,
    pub rss_bytes: u64,
    pub subscribers: usize,
}

/// Counter readings the next sample takes its rates from.
#[derive(Default, Clone, Copy)]
struct Totals {
    frames_in: u64,
    frames_out: u64,
    bytes_in: u64,
    bytes_out: u64,
}

/// Takes the samples: each from the counters' change since the previous one.
pub struct Sampler {
    previous: (Instant, Totals),
}

impl Sampler {
    pub fn new(counters: &Counters) -> Self {
        Sampler { previous: (Instant::now(), totals(counters)) }
    }

    /// Takes a sample of the relay now and publishes it.
    pub fn sample(&mut self, counters: &Counters, telemetry: &Telemetry, rooms: &Rooms) {
        let now = (Instant::now(), totals(counters));
        let sample = take(counters, telemetry, rooms, self.previous, now);
        self.previous = now;
        telemetry.publish(sample);
    }
}

fn totals(c: &Counters) -> Totals {
    Totals {
        frames_in: c.frames_in.load(Relaxed),
        frames_out: c.frames_out.load(Relaxed),
        bytes_in: c.bytes_in.load(Relaxed),
        bytes_out: c.bytes_out.load(Relaxed),
    }
}

fn take(c: &Counters, telemetry: &Telemetry, rooms: &Rooms, (then, before): (Instant, Totals), (now, after): (Instant, Totals)) -> Sample {
    let seconds = now.duration_since(then).as_secs_f64().max(1e-3);
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / seconds;
    let (handling_p50_us, handling_p99_us, handling_max_us) = telemetry.take_handling();
    let queues = rooms.queue_depths();
    let cache = rooms.cache_stats();
    let joins = cache.joins_from_memory + cache.joins_from_store;
    let durability = rooms.backend().durability();
    let (rss_bytes, _) = crate::stats::memory();
    let sample = Sample {
        t_ms: crate::store::now_ms(),
        connections: c.connections_open.load(Relaxed),
        rooms: cache.rooms_in_memory,
        frames_in_per_s: rate(before.frames_in, after.frames_in),
        frames_out_per_s: rate(before.frames_out, after.frames_out),
        bytes_in_per_s: rate(before.bytes_in, after.bytes_in),
        bytes_out_per_s: rate(before.bytes_out, after.bytes_out),
        handling_p50_us,
        handling_p99_us,
        handling_max_us,
        queued_control: queues.control,
        queued_updates: queues.updates,
        queued_awareness: queues.awareness,
        deepest_queue: queues.deepest,
        cache_hit_rate: (joins > 0).then(|| cache.joins_from_memory as f64 / joins as f64),
        cache_bytes: cache.bytes_in_memory,
        store_latency_p50_us: durability.as_ref().map(|d| d.latency_p50_us),
        store_latency_p99_us: durability.as_ref().map(|d| d.latency_p99_us),
        rss_bytes,
        subscribers: telemetry.subscribers(),
    };

    let m = &telemetry.metrics;
    m.connections.set(sample.connections);
    catch_up(&m.connections_opened, c.connections_total.load(Relaxed));
    m.rooms.set(sample.rooms as i64);
    catch_up(&m.frames_in, after.frames_in);
    catch_up(&m.frames_out, after.frames_out);
    catch_up(&m.frames_out_direct, c.frames_out_direct.load(Relaxed));
    catch_up(&m.bytes_in, after.bytes_in);
    catch_up(&m.bytes_out, after.bytes_out);
    catch_up(&m.closed_for_bad_input, c.closed_for_bad_input.load(Relaxed));
    for (queue, depth) in [("control", queues.control), ("updates", queues.updates), ("awareness", queues.awareness)] {
        m.queued_frames.get_or_create(&vec![("queue", queue)]).set(depth as i64);
    }
    catch_up(&m.joins.get_or_create(&vec![("from", "memory")]), cache.joins_from_memory);
    catch_up(&m.joins.get_or_create(&vec![("from", "store")]), cache.joins_from_store);
    m.cache_bytes.set(cache.bytes_in_memory as i64);
    if let Some(d) = &durability {
        catch_up(&m.store_bytes_written.get_or_create(&vec![("file", "journal")]), d.journal_bytes_written);
        catch_up(&m.store_bytes_written.get_or_create(&vec![("file", "room")]), d.room_file_bytes_written);
    }
    m.stream_subscribers.set(sample.subscribers as i64);
    sample
}
