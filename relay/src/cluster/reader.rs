//! One stream reader per relay for all of its clustered rooms.
//!
//! Every room in memory must follow its Redis stream. A reader per room held one Redis
//! connection per room, each in its own blocking XREAD: thousands of rooms per relay meant
//! thousands of connections (Redis allows 10,000 clients by default) and thousands of idle
//! XREADs a second. Here one task per relay reads every room's stream with one XREAD over
//! all of them, from each room's own position, on one connection of its own.
//!
//! A room registers its stream and where its state stands ([`RoomReader::register`]); the
//! task hands it each batch of new entries (`Room::apply_from_cluster`) and forgets it when
//! the room leaves memory (its link's stop token, or the room dropped) or stops following.
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

use super::entry::Entry;
use super::{ClusterSettings, PREFIX};
use crate::room::Room;

/// Most entries read from one stream in one XREAD.
const READ_COUNT: usize = 512;
/// How long the wake-up stream lives after its last use (a relay that dies leaves it behind).
const WAKE_TTL_SECS: i64 = 3600;
/// Pause before reconnecting after Redis failed.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// A room following its stream.
struct Following {
    position: String,
    room: Weak<Room>,
    stop: CancellationToken,
}

struct Registration {
    key: String,
    following: Following,
}

/// The handle rooms register with; the reading task runs as long as the handle lives.
pub struct RoomReader {
    tx: mpsc::UnboundedSender<Registration>,
    wake_key: String,
    conn: ConnectionManager,
}

impl RoomReader {
    /// Starts the reading task of the relay `relay_id`.
    pub fn start(client: redis::Client, conn: ConnectionManager, settings: ClusterSettings, relay_id: &str) -> RoomReader {
        let wake_key = format!("{PREFIX}relay:{{{relay_id}}}:wake");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(read(client, settings, wake_key.clone(), rx));
        RoomReader { tx, wake_key, conn }
    }

    /// Follows `key` (a room's stream) after id `position`, handing entries to `room` until
    /// `stop` is cancelled or the room is gone.
    pub fn register(&self, key: String, position: String, room: Weak<Room>, stop: CancellationToken) {
        if self.tx.send(Registration { key, following: Following { position, room, stop } }).is_err() {
            return;
        }
        let (mut conn, wake_key) = (self.conn.clone(), self.wake_key.clone());
        tokio::spawn(async move {
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

async fn read(client: redis::Client, settings: ClusterSettings, wake_key: String, mut rx: mpsc::UnboundedReceiver<Registration>) {
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
            None => match connect(&client, &settings).await {
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
        keys.push(&wake_key);
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
            if stream.key == wake_key {
                if let Some(last) = stream.ids.last() {
                    wake_position = last.id.clone();
                }
                continue;
            }
            let Some(following) = rooms.get_mut(&stream.key) else { continue };
            let mut entries = Vec::with_capacity(stream.ids.len());
            for raw in &stream.ids {
                following.position = raw.id.clone();
                match Entry::decode(raw) {
                    Ok(entry) => entries.push(entry),
                    Err(error) => tracing::warn!(stream = stream.key, %error, "stream entry ignored"),
                }
            }
            let keeps_following = following.room.upgrade().is_some_and(|room| room.apply_from_cluster(&entries, &following.position));
            if !keeps_following {
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

fn fail_all(rooms: &mut HashMap<String, Following>, why: &str) {
    for (_, following) in rooms.drain() {
        if let Some(room) = following.room.upgrade() {
            room.cluster_failed(why);
        }
    }
}
