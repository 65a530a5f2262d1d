//! What parts deep inside the relay measure as they work, as Prometheus instruments: how
//! long an update takes to become durable, a store commit round, a Redis round trip, a join;
//! why connections close; Redis errors and how far behind the stream reader delivers.
//!
//! Why a module of its own: the store's writer thread, the Redis backend and the connection
//! task record into these, and telemetry (which imports the rooms) registers them. Created
//! once per relay by `server.rs` and handed down as an `Arc`; no process-global state, so
//! several relays in one test process keep their own figures. A leaf: it imports nothing of
//! the crate.
//!
//! Latencies are histograms, so they aggregate over relays and over time
//! (`histogram_quantile(0.99, sum by (le) (rate(relay_durable_ack_seconds_bucket[5m])))`).

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// A label set with one label whose value is fixed at the call site (`op`, `kind`).
pub type OneLabel = Vec<(&'static str, &'static str)>;
/// The labels of a connection close: its code and who closed it.
pub type CloseLabels = Vec<(&'static str, String)>;

/// Upper bounds (seconds) of the latency buckets, per kind of latency.
const DURABLE_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const COMMIT_BUCKETS: [f64; 13] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const REDIS_BUCKETS: [f64; 14] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
const LAG_BUCKETS: [f64; 15] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const JOIN_BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn histogram(buckets: &[f64]) -> Histogram {
    Histogram::new(buckets.iter().copied())
}

fn redis_histogram() -> Histogram {
    histogram(&REDIS_BUCKETS)
}

pub struct Instruments {
    /// Receipt of a local update to its durability: the store's commit (standalone) or
    /// Redis's stream holding it (cluster mode). What a `?acks=1` client waits for.
    pub durable_ack: Histogram,
    /// One commit round of the store's writer: room files, the journal append and its fsync.
    pub store_commit: Histogram,
    /// Store writes that failed, by what failed (`journal`, `room_file`).
    pub store_errors: Family<OneLabel, Counter>,
    /// Redis round trips, by operation (`publish`, `load`, `compact`, `ping`, …).
    pub redis_round_trip: Family<OneLabel, Histogram, fn() -> Histogram>,
    /// Redis commands that failed, by operation (`publish`, `read` and the above).
    pub redis_errors: Family<OneLabel, Counter>,
    /// Age of a stream entry when the reader hands it to its room: Redis's id time to now.
    pub redis_reader_lag: Histogram,
    /// Rooms taken out of service because their stream was trimmed past where they stood.
    pub redis_rooms_behind: Counter,
    /// From a WebSocket's upgrade to its membership of the room (the room loaded if needed).
    pub join: Histogram,
    /// Connections closed, by close code and by whom (`relay` or `client`).
    pub closes: Family<CloseLabels, Counter>,
}

/// Operations whose Redis round trips and errors are counted (`op` label).
pub const REDIS_OPS: [&str; 6] = ["publish", "read", "load", "compact", "trim_check", "ping"];
/// What store errors are counted by (`kind` label).
pub const STORE_ERROR_KINDS: [&str; 2] = ["journal", "room_file"];
/// Every close code the relay sends (`shared::close`), and the ones clients commonly send.
const RELAY_CLOSE_CODES: [u16; 16] = {
    use shared::close::*;
    [
        NORMAL, GOING_AWAY, UNSUPPORTED_DATA, INVALID_PAYLOAD, POLICY_VIOLATION, MESSAGE_TOO_BIG, INTERNAL_ERROR,
        TRY_AGAIN_LATER, RESYNC, ROOM_UNAVAILABLE, IDLE_TIMEOUT, ROOM_TOO_LARGE, RATE_LIMITED, UNAUTHORIZED, FORBIDDEN,
        STORE_UNAVAILABLE,
    ]
};
const CLIENT_CLOSE_CODES: [u16; 4] = [1000, 1001, 1005, 1006];

impl Default for Instruments {
    /// Every instrument, with the label values known in advance at zero: a series exists
    /// (and `rate()`/`increase()` see its first event) from the start, on every relay,
    /// whether it runs with Redis or not.
    fn default() -> Self {
        let instruments = Instruments::empty();
        for op in REDIS_OPS {
            let _ = instruments.redis_errors.get_or_create(&vec![("op", op)]);
            if op != "read" {
                let _ = instruments.redis_round_trip.get_or_create(&vec![("op", op)]);
            }
        }
        for kind in STORE_ERROR_KINDS {
            let _ = instruments.store_errors.get_or_create(&vec![("kind", kind)]);
        }
        for code in RELAY_CLOSE_CODES {
            let _ = instruments.closes.get_or_create(&close_labels(code, true));
        }
        for code in CLIENT_CLOSE_CODES {
            let _ = instruments.closes.get_or_create(&close_labels(code, false));
        }
        instruments
    }
}

fn close_labels(code: u16, by_relay: bool) -> CloseLabels {
    let by = if by_relay { "relay" } else { "client" };
    vec![("code", code.to_string()), ("by", by.to_owned())]
}

impl Instruments {
    fn empty() -> Self {
        Instruments {
            durable_ack: histogram(&DURABLE_BUCKETS),
            store_commit: histogram(&COMMIT_BUCKETS),
            store_errors: Family::default(),
            redis_round_trip: Family::new_with_constructor(redis_histogram as fn() -> Histogram),
            redis_errors: Family::default(),
            redis_reader_lag: histogram(&LAG_BUCKETS),
            redis_rooms_behind: Counter::default(),
            join: histogram(&JOIN_BUCKETS),
            closes: Family::default(),
        }
    }
}

impl Instruments {
    /// Registers every instrument (the registry adds its `relay_` prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register_with_unit(
            "durable_ack",
            "Receipt of a local update to its durability (store commit, or Redis holding it)",
            Unit::Seconds,
            self.durable_ack.clone(),
        );
        registry.register_with_unit(
            "store_commit",
            "One commit round of the store: room files, journal append and fsync",
            Unit::Seconds,
            self.store_commit.clone(),
        );
        registry.register("store_errors", "Store writes that failed, by what failed (journal, room_file)", self.store_errors.clone());
        registry.register_with_unit(
            "redis_round_trip",
            "Redis round trips, by operation",
            Unit::Seconds,
            self.redis_round_trip.clone(),
        );
        registry.register("redis_errors", "Redis commands that failed, by operation", self.redis_errors.clone());
        registry.register_with_unit(
            "redis_reader_lag",
            "Age of a Redis stream entry when the reader hands it to its room",
            Unit::Seconds,
            self.redis_reader_lag.clone(),
        );
        registry.register(
            "redis_rooms_behind_trim",
            "Rooms taken out of service because their Redis stream was trimmed past them",
            self.redis_rooms_behind.clone(),
        );
        registry.register_with_unit("join", "WebSocket upgrade to room membership, room load included", Unit::Seconds, self.join.clone());
        registry.register("connections_closed", "WebSocket connections closed, by close code and by whom", self.closes.clone());
    }

    pub fn store_error(&self, kind: &'static str) {
        self.store_errors.get_or_create(&vec![("kind", kind)]).inc();
    }

    pub fn redis_round_trip(&self, op: &'static str, took: Duration) {
        self.redis_round_trip.get_or_create(&vec![("op", op)]).observe(took.as_secs_f64());
    }

    pub fn redis_error(&self, op: &'static str) {
        self.redis_errors.get_or_create(&vec![("op", op)]).inc();
    }

    /// A connection closed with `code`, by the relay (`by_relay`) or by the client.
    pub fn closed(&self, code: u16, by_relay: bool) {
        self.closes.get_or_create(&close_labels(code, by_relay)).inc();
    }
}

/// Times `op` against Redis: its round trip when it succeeds, an error when it fails.
pub async fn timed<T, E>(instruments: &Instruments, op: &'static str, request: impl std::future::Future<Output = Result<T, E>>) -> Result<T, E> {
    let started = std::time::Instant::now();
    let outcome = request.await;
    match &outcome {
        Ok(_) => instruments.redis_round_trip(op, started.elapsed()),
        Err(_) => instruments.redis_error(op),
    }
    outcome
}
