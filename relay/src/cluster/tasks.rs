//! What a clustered room runs while it is in memory.
//!
//! The publisher XADDs the room's local changes in the order the room applied them
//! (batched into one pipelined round trip when several wait) and, once Redis answered,
//! tells the room to fan the updates out and acknowledge them. The room also follows its
//! stream, from where its state stands, through the relay's one reader ([`super::reader`]),
//! which hands it every entry (the room ignores its own, except to fan them out if the
//! publisher has not yet). Failing to reach Redis either way takes the room offline with
//! 4503; neither holds the room strongly, and both stop when it leaves memory.

use std::sync::{Arc, Weak};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::entry::{self, Kind};
use super::{Cluster, Keys, Outgoing};
use crate::room::Room;

/// Most changes sent to Redis in one pipelined round trip.
const BATCH: usize = 256;

/// What a link needs to start its tasks once the room exists.
pub struct LinkTasks {
    pub(super) cluster: Arc<Cluster>,
    pub(super) keys: Keys,
    pub(super) origin: String,
    pub(super) rx: mpsc::UnboundedReceiver<Outgoing>,
    pub(super) stop: CancellationToken,
}

impl LinkTasks {
    /// Starts the publisher of `room` and has the relay's reader follow its stream after
    /// id `position`.
    pub fn spawn(self, room: &Arc<Room>, position: String) {
        let LinkTasks { cluster, keys, origin, rx, stop } = self;
        tokio::spawn(publish(cluster.clone(), Arc::downgrade(room), keys.log.clone(), origin, rx));
        cluster.reader.register(keys.log, position, Arc::downgrade(room), stop);
    }
}

async fn publish(cluster: Arc<Cluster>, room: Weak<Room>, key: String, origin: String, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
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
                    room.fan_out_published(n);
                }
            }
            Err(error) => {
                tracing::error!(stream = key, %error, "XADD failed: the room refuses writes until redis is back");
                if let Some(room) = room.upgrade() {
                    room.cluster_failed("redis refused a write");
                }
                return;
            }
        }
    }
}
