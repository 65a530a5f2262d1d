//! Scale-out: several relay processes serve the same rooms through Redis (`--redis URL`).
//! This is the Redis backend (`crate::backend::RoomBackend`, implemented in [`backend`]).
//!
//! Each room has one Redis stream (`scene:{room}:log`) carrying every accepted update and
//! awareness change as an entry tagged with the writing relay (see [`entry`]). A relay that
//! has the room in memory runs a publisher for it (see [`link`] and [`tasks`]) that XADDs
//! the room's local changes in the order the room applied them, and follows its stream with
//! the relay's one reader (see [`reader`]: one XREAD over every room's stream), which hands
//! the entries to the room as changes (`crate::backend::RoomSink`): the room's own release
//! its held updates, the others are validated and applied like a client's and fanned out to
//! its members.
//!
//! Redis is the source of truth for clustered rooms: a local update is fanned out to other
//! members and acknowledged (`?acks=1`) only after its XADD returned; a relay that loses
//! Redis closes its members with 4503 (store unavailable) instead of diverging. Snapshots
//! (`scene:{room}:snap`, a hash with the stream id they cover and a CRC-32) are written by
//! one relay at a time under a lease (`scene:{room}:lease`, SET NX PX), and the stream is
//! trimmed behind them (see [`snapshot`]). The keys of one room share a hash tag (its
//! scripts touch one slot), but the relay talks to one Redis server: the reader's XREAD
//! spans every room, which a Redis Cluster would refuse.

mod backend;
mod blobs;
mod delete;
mod entry;
mod link;
mod list;
mod points;
mod reader;
mod snapshot;
mod tasks;

pub use backend::ClusterBackend;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::lifecycle::Lifecycle;
use crate::store::Archive;

/// Why Redis could not do what the relay asked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis unavailable: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("room {room:?} in redis is damaged: {reason}")]
    Damaged { room: String, reason: String },
}

/// Tunables of the cluster mode.
#[derive(Debug, Clone, Copy)]
pub struct ClusterSettings {
    /// How far behind a snapshot the stream is trimmed (readers that lag by less lose nothing).
    pub trim_slack: Duration,
    /// How long a compaction lease lasts; at most one compaction per room per lease.
    pub lease: Duration,
    /// How long one XREAD blocks.
    pub block: Duration,
    /// How long a command may take before Redis counts as unavailable.
    pub timeout: Duration,
    /// How long a presence state learnt from another relay lives without a renewal (stock
    /// clients renew theirs every 15 s and drop peers' after 30 s). A relay that dies cannot
    /// send its users' removals; this is what removes them. `None` keeps them.
    pub remote_presence_timeout: Option<Duration>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            trim_slack: Duration::from_secs(60),
            lease: Duration::from_secs(10),
            block: Duration::from_secs(2),
            timeout: Duration::from_secs(3),
            remote_presence_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// This relay's handle on Redis.
pub struct Cluster {
    conn: ConnectionManager,
    relay_id: String,
    next_instance: AtomicU64,
    pub settings: ClusterSettings,
    /// The relay's one reader of every room's stream.
    reader: reader::RoomReader,
    /// Where the reader, the publishers and their requests run.
    lifecycle: Lifecycle,
}

pub(crate) const PREFIX: &str = "scene:";

/// The Redis keys of one room.
#[derive(Debug, Clone)]
pub struct Keys {
    pub log: String,
    pub snap: String,
    pub lease: String,
}

impl Keys {
    pub fn of(room: &str) -> Keys {
        Keys {
            log: format!("{PREFIX}{{{room}}}:log"),
            snap: format!("{PREFIX}{{{room}}}:snap"),
            lease: format!("{PREFIX}{{{room}}}:lease"),
        }
    }
}

impl Cluster {
    /// Connects to Redis at `url` (fails if it cannot be reached now). `archive` is this
    /// relay's store, whose copy of a room the reader drops when the room is deleted; the
    /// reader and the publishers run on `lifecycle`.
    pub async fn connect(url: &str, settings: ClusterSettings, archive: Archive, lifecycle: Lifecycle) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = tokio::time::timeout(settings.timeout * 2, ConnectionManager::new_with_config(client.clone(), config))
            .await
            .map_err(|_| redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))??;
        let relay_id = format!("{:016x}", random_u64());
        tracing::info!(relay_id, "rooms shared through redis");
        let reader = reader::RoomReader::start(client, conn.clone(), settings, &relay_id, archive, lifecycle.clone());
        Ok(Cluster { conn, relay_id, next_instance: AtomicU64::new(1), settings, reader, lifecycle })
    }

    /// A clone of the shared, auto-reconnecting connection (short commands only).
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Every key matching `pattern` (a Redis glob), only those of type `kind` if given.
    /// SCAN walks the keyspace in bounded steps, so Redis never blocks on it.
    pub(crate) async fn scan_keys(&self, pattern: &str, kind: Option<&str>) -> Result<Vec<String>, ClusterError> {
        const STEP: usize = 500;
        let mut conn = self.conn();
        let (mut keys, mut cursor) = (Vec::new(), 0u64);
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(STEP);
            if let Some(kind) = kind {
                scan.arg("TYPE").arg(kind);
            }
            let (next, found): (u64, Vec<String>) = scan.query_async(&mut conn).await?;
            keys.extend(found);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

/// A random id for this relay process (std's randomly seeded hasher: no extra crate).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    hasher.write_u32(std::process::id());
    hasher.finish()
}
