//! A clustered room's publisher: it XADDs the room's local changes in the order the room
//! applied them (batched into one pipelined round trip when several wait) and, once Redis
//! answered, tells the room to release its held updates. Failing to reach Redis takes the
//! room offline with 4503. It holds the room weakly and ends when the room's link is
//! dropped (the room left service), after what was queued.
//!
//! With `wait_replicas` (`--redis-wait-replicas N`) a batch holding updates ends with
//! `WAIT N timeout`: the updates are released only once N replicas have them, and fewer
//! in time take the room offline (4503) instead; the reader then does not release the
//! room's own entries it meets first (see `super::follow`), so the publisher alone acknowledges.

use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::mpsc;

use super::entry::{self, Kind};
use super::Cluster;
use crate::backend::RoomSink;

/// Most changes sent to Redis in one pipelined round trip.
const BATCH: usize = 256;

/// A local change waiting for its XADD.
#[derive(Debug)]
pub struct Outgoing {
    pub kind: Kind,
    pub n: u64,
    pub data: Vec<u8>,
    /// When the room handed it over (a local update's durability is timed from here).
    pub queued: Instant,
}

pub(super) async fn publish(
    cluster: Arc<Cluster>,
    room: Weak<dyn RoomSink>,
    key: String,
    origin: String,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) {
    let mut conn = cluster.conn();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for item in &batch {
            entry::add_to(&mut pipe, &key, &origin, item.kind, item.n, &item.data);
        }
        let last_update = batch.iter().filter(|item| item.kind == Kind::Update).map(|item| item.n).max();
        let wait = cluster.settings.wait_replicas;
        if wait > 0 && last_update.is_some() {
            pipe.cmd("WAIT").arg(wait).arg(cluster.settings.timeout.as_millis() as u64);
        } else {
            pipe.cmd("PING").ignore();
        }
        let sent = Instant::now();
        let answer = pipe.query_async::<Vec<i64>>(&mut conn).await.map_err(|error| error.to_string()).and_then(|replicas| {
            match replicas.first() {
                Some(&got) if got < i64::from(wait) => Err(format!("WAIT: {got} of {wait} replicas confirmed")),
                _ => Ok(()),
            }
        });
        match answer {
            Ok(()) => {
                let instruments = &cluster.instruments;
                instruments.redis_round_trip("publish", sent.elapsed());
                for item in batch.iter().filter(|item| item.kind == Kind::Update) {
                    instruments.durable_ack.observe(item.queued.elapsed().as_secs_f64());
                }
                batch.clear();
                if let (Some(n), Some(room)) = (last_update, room.upgrade()) {
                    room.released(n);
                }
            }
            Err(error) => {
                cluster.instruments.redis_error("publish");
                tracing::error!(stream = key, %error, "XADD failed: the room refuses writes until redis is back");
                if let Some(room) = room.upgrade() {
                    room.unavailable("redis refused a write");
                }
                return;
            }
        }
    }
}
