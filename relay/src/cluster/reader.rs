//! One stream reader per relay for all of its clustered rooms.
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
//! rooms loaded afterwards register again, and the task reconnects for them.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncConnectionConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::entry::{Entry, Kind};
use super::{ClusterSettings, PREFIX};
use crate::backend::{Change, ChangeKind, Delivery, RoomSink};
use crate::lifecycle::Lifecycle;
use crate::store::Archive;

/// Most entries read from one stream in one XREAD.
const READ_COUNT: usize = 512;
/// How long the wake-up stream lives after its last use (a relay that dies leaves it behind).
const WAKE_TTL_SECS: i64 = 3600;
/// Pause before reconnecting after Redis failed.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// A room following its stream.
struct Following {
    position: String,
    /// This room instance's origin: its own entries release its held updates.
    origin: String,
    room: Weak<dyn RoomSink>,
    stop: CancellationToken,
}

struct Registration {
    key: String,
    following: Following,
}

/// The handle rooms register with; the reading task runs until the relay stops (or the
/// handle is dropped).
pub struct RoomReader {
    tx: mpsc::UnboundedSender<Registration>,
    wake_key: String,
    conn: ConnectionManager,
    lifecycle: Lifecycle,
}

impl RoomReader {
    /// Starts the reading task of the relay `relay_id` on `lifecycle`; `archive` is this
    /// relay's store, whose copy of a deleted room it drops.
    pub fn start(
        client: redis::Client,
        conn: ConnectionManager,
        settings: ClusterSettings,
        relay_id: &str,
        archive: Archive,
        lifecycle: Lifecycle,
    ) -> RoomReader {
        let wake_key = format!("{PREFIX}relay:{{{relay_id}}}:wake");
        let (tx, rx) = mpsc::unbounded_channel();
        let reading = Reading { client, settings, wake_key: wake_key.clone(), archive, lifecycle: lifecycle.clone() };
        lifecycle.spawn(read(reading, rx));
        RoomReader { tx, wake_key, conn, lifecycle }
    }

    /// Follows `key` (a room's stream) after id `position`, handing entries to `room` (whose
    /// own are those of `origin`) until `stop` is cancelled or the room is gone.
    pub fn register(&self, key: String, position: String, origin: String, room: Weak<dyn RoomSink>, stop: CancellationToken) {
        let following = Following { position, origin, room, stop };
        if self.tx.send(Registration { key, following }).is_err() {
            return;
        }
        let (mut conn, wake_key) = (self.conn.clone(), self.wake_key.clone());
        self.lifecycle.spawn(async move {
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
    settings: ClusterSettings,
    wake_key: String,
    archive: Archive,
    lifecycle: Lifecycle,
}

/// The reading task: until the relay stops, or nobody can register any more.
async fn read(reading: Reading, mut rx: mpsc::UnboundedReceiver<Registration>) {
    let stopping = reading.lifecycle.clone();
    tokio::select! {
        biased;
        _ = stopping.stopping() => {}
        _ = read_streams(&reading, &mut rx) => {}
    }
}

async fn read_streams(reading: &Reading, rx: &mut mpsc::UnboundedReceiver<Registration>) {
    let Reading { client, settings, wake_key, archive, lifecycle } = reading;
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
        rooms.retain(|_, following| !following.stop.is_cancelled() && following.room.strong_count() > 0);
        if rooms.is_empty() {
            continue;
        }

        let connection = match conn.as_mut() {
            Some(connection) => connection,
            None => match connect(client, settings).await {
                Ok(connection) => conn.insert(connection),
                Err(error) => {
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
            let mut changes = Vec::with_capacity(stream.ids.len());
            for raw in &stream.ids {
                following.position = raw.id.clone();
                match Entry::decode(raw) {
                    Ok(entry) => changes.extend(change(entry, &following.origin)),
                    Err(error) => tracing::warn!(stream = stream.key, %error, "stream entry ignored"),
                }
            }
            let Some(room) = following.room.upgrade() else {
                rooms.remove(&stream.key);
                continue;
            };
            match room.deliver(&changes, &following.position) {
                Delivery::Following => {}
                Delivery::Stopped => {
                    rooms.remove(&stream.key);
                }
                Delivery::Deleted => {
                    rooms.remove(&stream.key);
                    drop_local_copy(archive, lifecycle, room.name());
                }
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

fn fail_all(rooms: &mut HashMap<String, Following>, why: &str) {
    for (_, following) in rooms.drain() {
        if let Some(room) = following.room.upgrade() {
            room.unavailable(why);
        }
    }
}

/// What an entry means to the room following the stream: another relay's change, the
/// release of its own held updates (its own awareness changes mean nothing to it), or the
/// room's deletion.
fn change(entry: Entry, own: &str) -> Option<Change> {
    let kind = match entry.kind {
        Kind::Deleted => ChangeKind::Deleted,
        Kind::Update if entry.origin == own => ChangeKind::Own(entry.n),
        Kind::Awareness if entry.origin == own => return None,
        Kind::Update => ChangeKind::Update(entry.data.into()),
        Kind::Awareness => ChangeKind::Awareness(entry.data.into()),
    };
    Some(Change { id: entry.id, kind })
}

/// Drops this relay's own copy of a room deleted through some relay (its blobs).
fn drop_local_copy(archive: &Archive, lifecycle: &Lifecycle, room: &str) {
    let (archive, room) = (archive.clone(), room.to_owned());
    lifecycle.spawn(async move {
        if let Err(error) = archive.run({
            let room = room.clone();
            move |store| store.delete_room(&room)
        })
        .await
        {
            tracing::warn!(room, %error, "the deleted room's local copy could not be removed");
        }
    });
}
