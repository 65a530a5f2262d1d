//! A clustered room's publisher: it XADDs the room's local changes in the order the room
//! applied them (batched into one pipelined round trip when several wait) and, once Redis
//! answered, tells the room to release its held updates. Failing to reach Redis takes the
//! room offline with 4503. It holds the room weakly and ends when the room's link is
//! dropped (the room left service), after what was queued.

use std::sync::{Arc, Weak};

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
        batch.clear();
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                if let (Some(n), Some(room)) = (last_update, room.upgrade()) {
                    room.released(n);
                }
            }
            Err(error) => {
                tracing::error!(stream = key, %error, "XADD failed: the room refuses writes until redis is back");
                if let Some(room) = room.upgrade() {
                    room.unavailable("redis refused a write");
                }
                return;
            }
        }
    }
}
