//! One stream reader per relay for all of its clustered rooms, with one Redis server; a Redis
//! Cluster gets one reader per master node instead ([`super::shards`], started from here).
//!
//! Every room in memory must follow its Redis stream. A reader per room held one Redis
//! connection per room, each in its own blocking XREAD: thousands of rooms per relay meant
//! thousands of connections (Redis allows 10,000 clients by default) and thousands of idle
//! XREADs a second. Here one task per relay reads every room's stream with one XREAD over
//! all of them, from each room's own position, on one connection of its own.
//!
//! A room registers its stream and where its state stands ([`RoomReader::register`]); the
//! task hands it each batch of new entries as changes (`RoomSink::deliver`: its own
//! entries release its held updates, the others are applied) and forgets it when the room
//! leaves service (its link's stop token, or the room dropped) or stops following. A room
//! deleted through any relay stops following and this relay's copy of it is dropped.
//! A blocking XREAD cannot take new streams while it waits, so registering also XADDs to a
//! wake-up stream of this relay's own, which is part of every XREAD: the read returns at
//! once and the next one includes the new room.
//!
//! Redis failing takes every registered room offline with 4503 (as a room's own reader did);
//! rooms loaded afterwards register again, and the task reconnects for them. What both
//! kinds of reader share (a room's registration, handing entries over) is in
//! [`super::follow`].

use std::collections::HashMap;
use std::sync::Weak;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncConnectionConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn::{RedisConn, Target};
use super::follow::{fail_all, hand_over, Following, ReaderContext, Registration, READ_COUNT, RECONNECT_PAUSE};
use super::{shards, ClusterSettings, PREFIX};
use crate::backend::RoomSink;
use crate::lifecycle::Lifecycle;

/// How long the wake-up stream lives after its last use (a relay that dies leaves it behind).
const WAKE_TTL_SECS: i64 = 3600;


/// The handle rooms register with; the reading task runs until the relay stops (or the
/// handle is dropped).
pub struct RoomReader {
    tx: mpsc::UnboundedSender<Registration>,
    /// One Redis server: the wake-up stream that interrupts the blocking XREAD. A Redis
    /// Cluster's readers poll (see [`super::shards`]) and take registrations between polls.
    wake: Option<Wake>,
}

struct Wake {
    key: String,
    conn: RedisConn,
    lifecycle: Lifecycle,
}


impl RoomReader {
    /// Starts the reading of the relay `relay_id` on the context's lifecycle: for one Redis
    /// server one task with one blocking XREAD; for a Redis Cluster one reader per master
    /// ([`super::shards`]). `conn` is the relay's shared connection.
    pub(super) fn start(target: &Target, conn: RedisConn, relay_id: &str, context: ReaderContext) -> Result<RoomReader, redis::RedisError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let lifecycle = context.lifecycle.clone();
        match target {
            Target::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let wake_key = format!("{PREFIX}relay:{{{relay_id}}}:wake");
                let reading = Reading { client, wake_key: wake_key.clone(), context };
                lifecycle.spawn(read(reading, rx));
                Ok(RoomReader { tx, wake: Some(Wake { key: wake_key, conn, lifecycle }) })
            }
            Target::Sharded(_) => {
                lifecycle.spawn(shards::read(shards::Sharded { conn, target: target.clone(), context }, rx));
                Ok(RoomReader { tx, wake: None })
            }
        }
    }

    /// Follows `key` (a room's stream) after id `position`, handing entries to `room` (whose
    /// own are those of `origin`) until `stop` is cancelled or the room is gone.
    pub fn register(&self, key: String, position: String, origin: String, room: Weak<dyn RoomSink>, stop: CancellationToken) {
        let following = Following { position, origin, room, stop };
        if self.tx.send(Registration { key, following }).is_err() {
            return;
        }
        let Some(wake) = &self.wake else { return };
        let (mut conn, wake_key) = (wake.conn.clone(), wake.key.clone());
        wake.lifecycle.spawn(async move {
            let woken = redis::pipe()
                .cmd("XADD")
                .arg(&wake_key)
                .arg("MAXLEN")
                .arg("~")
                .arg(16)
                .arg("*")
                .arg("w")
                .arg(1)
                .ignore()
                .expire(&wake_key, WAKE_TTL_SECS)
                .ignore()
                .query_async::<()>(&mut conn)
                .await;
            if let Err(error) = woken {
                // The reader fails on its own if Redis is gone; otherwise it picks the room
                // up at its next read (at most one block interval late).
                tracing::warn!(%error, "could not wake the stream reader");
            }
        });
    }
}

/// What the reading task works with.
struct Reading {
    client: redis::Client,
    wake_key: String,
    context: ReaderContext,
}

/// The reading task: until the relay stops, or nobody can register any more.
async fn read(reading: Reading, mut rx: mpsc::UnboundedReceiver<Registration>) {
    let stopping = reading.context.lifecycle.clone();
    tokio::select! {
        biased;
        _ = stopping.stopping() => {}
        _ = read_streams(&reading, &mut rx) => {}
    }
}

async fn read_streams(reading: &Reading, rx: &mut mpsc::UnboundedReceiver<Registration>) {
    let Reading { client, wake_key, context } = reading;
    let ReaderContext { settings, instruments, .. } = context;
    let mut rooms: HashMap<String, Following> = HashMap::new();
    let mut wake_position = "0-0".to_owned();
    let options = StreamReadOptions::default().block(settings.block.as_millis() as usize).count(READ_COUNT);
    let mut conn: Option<MultiplexedConnection> = None;
    loop {
        // Take every waiting registration; with nothing to read, wait for one.
        if rooms.is_empty() {
            let Some(registration) = rx.recv().await else { return };
            rooms.insert(registration.key, registration.following);
        }
        while let Ok(registration) = rx.try_recv() {
            // A newer instance of a room replaces the old one, which has left service.
            rooms.insert(registration.key, registration.following);
        }
        rooms.retain(|_, following| following.live());
        if rooms.is_empty() {
            continue;
        }

        let connection = match conn.as_mut() {
            Some(connection) => connection,
            None => match connect(client, settings).await {
                Ok(connection) => conn.insert(connection),
                Err(error) => {
                    instruments.redis_error("read");
                    tracing::error!(%error, "cannot open the stream reader's connection");
                    fail_all(&mut rooms, "redis unreachable");
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let mut keys: Vec<&str> = Vec::with_capacity(rooms.len() + 1);
        let mut ids: Vec<&str> = Vec::with_capacity(rooms.len() + 1);
        keys.push(wake_key);
        ids.push(&wake_position);
        for (key, following) in &rooms {
            keys.push(key);
            ids.push(&following.position);
        }
        let reply = redis::AsyncCommands::xread_options::<_, _, Option<StreamReadReply>>(connection, &keys, &ids, &options).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                instruments.redis_error("read");
                tracing::error!(%error, rooms = rooms.len(), "XREAD failed: the rooms go offline until redis is back");
                fail_all(&mut rooms, "redis unreachable");
                conn = None;
                tokio::time::sleep(RECONNECT_PAUSE).await;
                continue;
            }
        };
        let Some(reply) = reply else { continue };
        for stream in reply.keys {
            if &stream.key == wake_key {
                if let Some(last) = stream.ids.last() {
                    wake_position = last.id.clone();
                }
                continue;
            }
            let Some(following) = rooms.get_mut(&stream.key) else { continue };
            if !hand_over(following, &stream, context) {
                rooms.remove(&stream.key);
            }
        }
    }
}

/// A connection of its own: a blocking XREAD would hold up every other command on a shared one.
async fn connect(client: &redis::Client, settings: &ClusterSettings) -> Result<MultiplexedConnection, redis::RedisError> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.timeout))
        .set_response_timeout(Some(settings.block + settings.timeout));
    client.get_multiplexed_async_connection_with_config(&config).await
}
