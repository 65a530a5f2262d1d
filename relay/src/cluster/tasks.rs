//! The two tasks a clustered room runs while it is in memory.
//!
//! The publisher XADDs the room's local changes in the order the room applied them
//! (batched into one pipelined round trip when several wait) and, once Redis answered,
//! tells the room to fan the updates out and acknowledge them. The reader XREADs the
//! room's stream from where the room's state stands and hands every entry to the room
//! (which ignores its own, except to fan them out if the publisher has not yet). Either
//! task failing to reach Redis takes the room offline with 4503; both hold the room only
//! weakly and stop when it leaves memory.

use std::sync::{Arc, Weak};

use redis::streams::{StreamReadOptions, StreamReadReply};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::entry::{self, Entry, Kind};
use super::{Cluster, Keys, Outgoing};
use crate::room::Room;

/// Most changes sent to Redis in one pipelined round trip.
const BATCH: usize = 256;
/// Most entries read in one XREAD.
const READ_COUNT: usize = 512;

/// What a link needs to start its tasks once the room exists.
pub struct LinkTasks {
    pub(super) cluster: Arc<Cluster>,
    pub(super) keys: Keys,
    pub(super) origin: String,
    pub(super) rx: mpsc::UnboundedReceiver<Outgoing>,
    pub(super) stop: CancellationToken,
}

impl LinkTasks {
    /// Starts the publisher and the reader of `room`, reading after stream id `position`.
    pub fn spawn(self, room: &Arc<Room>, position: String) {
        let LinkTasks { cluster, keys, origin, rx, stop } = self;
        tokio::spawn(publish(cluster.clone(), Arc::downgrade(room), keys.log.clone(), origin, rx));
        tokio::spawn(read(cluster, Arc::downgrade(room), keys.log, position, stop));
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

async fn read(cluster: Arc<Cluster>, room: Weak<Room>, key: String, mut position: String, stop: CancellationToken) {
    let fail = |room: &Weak<Room>, why: &str| {
        if let Some(room) = room.upgrade() {
            room.cluster_failed(why);
        }
    };
    let mut conn = match cluster.blocking_connection().await {
        Ok(conn) => conn,
        Err(error) => {
            tracing::error!(stream = key, %error, "cannot open a reader connection");
            return fail(&room, "redis unreachable");
        }
    };
    let options = StreamReadOptions::default().block(cluster.settings.block.as_millis() as usize).count(READ_COUNT);
    let keys = [key.as_str()];
    loop {
        let ids = [position.as_str()];
        let read = redis::AsyncCommands::xread_options::<_, _, Option<StreamReadReply>>(&mut conn, &keys, &ids, &options);
        let reply = tokio::select! {
            _ = stop.cancelled() => return,
            reply = read => reply,
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(stream = key, %error, "XREAD failed: the room goes offline until redis is back");
                return fail(&room, "redis unreachable");
            }
        };
        let Some(reply) = reply else { continue };
        let mut entries = Vec::new();
        for raw in reply.keys.iter().flat_map(|k| k.ids.iter()) {
            position = raw.id.clone();
            match Entry::decode(raw) {
                Ok(entry) => entries.push(entry),
                Err(error) => tracing::warn!(stream = key, %error, "stream entry ignored"),
            }
        }
        let Some(room) = room.upgrade() else { return };
        if !room.apply_from_cluster(&entries, &position) {
            return;
        }
    }
}
