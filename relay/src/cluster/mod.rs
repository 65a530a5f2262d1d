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
//! trimmed behind them (see [`snapshot`]). The keys of one room share a hash tag, so its
//! commands, pipelines and scripts touch one slot.
//!
//! `--redis` is one Redis server (`redis://…`) or a Redis Cluster (`redis+cluster://a:p,b:p`,
//! see [`conn`]): room commands then go through a cluster connection that routes by slot and
//! follows MOVED/ASK, and the streams are read by one reader per master node
//! ([`shards`]; the one-server reader's multi-key XREAD would be refused across slots).
//! What spans rooms (the trim-point check, the room list, SCAN) goes slot by slot or node by
//! node. A failed node closes only the rooms whose slots it served (4503).
//!
//! **What "durable" means** (`?acks=1`, `relay_durable_ack_seconds`): the update's XADD was
//! answered by the Redis that owns the room's stream, i.e. it is in that server's memory (and
//! in its append-only file as its `appendfsync` says). With one server and `appendfsync
//! always`, an acknowledged update survives a Redis crash. In a Redis Cluster replication is
//! asynchronous: a master that acknowledged an XADD and died before its replica received it
//! loses that update when the replica is promoted. Nothing is lost for good from the room as
//! long as a member that made the update reconnects: the member's document still holds it,
//! and the reconnect handshake uploads it again (the members of a room on a failed master
//! are closed with 4503 for exactly that). An update whose author never comes back can be
//! lost in that window (about the replication lag, typically under a millisecond).
//! `--redis-wait-replicas N` closes it: the publisher sends `WAIT N` after the XADDs (same
//! connection, so the same master), an update is released and acknowledged only once N
//! replicas have it, and a Redis that cannot confirm that within the command timeout takes
//! the room offline (4503) rather than acknowledge less (see [`tasks`]).

mod backend;
mod blobs;
mod conn;
mod delete;
mod entry;
mod follow;
mod link;
mod list;
mod points;
mod reader;
mod shards;
mod snapshot;
mod tasks;
mod topology;

pub use backend::ClusterBackend;
pub use conn::RedisConn;
use conn::slot_of;
use conn::Target;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use crate::instruments::Instruments;
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
    /// How long one XREAD blocks (one Redis server).
    pub block: Duration,
    /// A Redis Cluster's readers poll: how long one waits after a round that found nothing
    /// (see [`shards`]).
    pub poll: Duration,
    /// How long a command may take before Redis counts as unavailable.
    pub timeout: Duration,
    /// How long a presence state learnt from another relay lives without a renewal (stock
    /// clients renew theirs every 15 s and drop peers' after 30 s). A relay that dies cannot
    /// send its users' removals; this is what removes them. `None` keeps them.
    pub remote_presence_timeout: Option<Duration>,
    /// Replicas that must hold a local update (WAIT) before it is released and acknowledged;
    /// 0: the master's answer is enough.
    pub wait_replicas: u32,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            trim_slack: Duration::from_secs(60),
            lease: Duration::from_secs(10),
            block: Duration::from_secs(2),
            poll: Duration::from_millis(10),
            timeout: Duration::from_secs(3),
            remote_presence_timeout: Some(Duration::from_secs(30)),
            wait_replicas: 0,
        }
    }
}

/// This relay's handle on Redis.
pub struct Cluster {
    conn: RedisConn,
    target: Target,
    relay_id: String,
    next_instance: AtomicU64,
    pub settings: ClusterSettings,
    /// The relay's one reader of every room's stream.
    reader: reader::RoomReader,
    /// Where the reader, the publishers and their requests run.
    lifecycle: Lifecycle,
    /// Round trips, errors and the reader's lag are recorded here.
    instruments: Arc<Instruments>,
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
    /// reader and the publishers run on `lifecycle` and record into `instruments`.
    pub async fn connect(
        url: &str,
        settings: ClusterSettings,
        archive: Archive,
        lifecycle: Lifecycle,
        instruments: Arc<Instruments>,
    ) -> Result<Cluster, ClusterError> {
        let target = Target::parse(url)?;
        let conn = RedisConn::connect(&target, &settings).await?;
        let relay_id = format!("{:016x}", random_u64());
        tracing::info!(relay_id, sharded = conn.is_sharded(), "rooms shared through redis");
        let context = follow::ReaderContext { settings, archive, lifecycle: lifecycle.clone(), instruments: instruments.clone() };
        let reader = reader::RoomReader::start(&target, conn.clone(), &relay_id, context)?;
        Ok(Cluster { conn, target, relay_id, next_instance: AtomicU64::new(1), settings, reader, lifecycle, instruments })
    }

    /// Whether Redis answers a PING within the command timeout (`/readyz`).
    pub async fn ping(&self) -> Result<(), ClusterError> {
        let mut conn = self.conn();
        let ping = redis::cmd("PING");
        crate::instruments::timed(&self.instruments, "ping", ping.query_async::<String>(&mut conn)).await?;
        Ok(())
    }

    /// Times `request` as operation `op` (its round trip, or an error).
    pub(crate) async fn timed<T>(&self, op: &'static str, request: impl std::future::Future<Output = Result<T, ClusterError>>) -> Result<T, ClusterError> {
        crate::instruments::timed(&self.instruments, op, request).await
    }

    /// A clone of the shared, auto-reconnecting connection (short commands only; in a
    /// Redis Cluster, a pipeline or script must keep to one room's keys).
    pub fn conn(&self) -> RedisConn {
        self.conn.clone()
    }

    /// Every key matching `pattern` (a Redis glob), only those of type `kind` if given.
    /// SCAN walks the keyspace in bounded steps, so Redis never blocks on it.
    pub(crate) async fn scan_keys(&self, pattern: &str, kind: Option<&str>) -> Result<Vec<String>, ClusterError> {
        let conn = self.conn();
        if !conn.is_sharded() {
            return Ok(scan(conn, pattern, kind).await?);
        }
        // A Redis Cluster: SCAN walks one node's keys; walk every master's.
        let mut shared = conn;
        let mut keys = Vec::new();
        for master in topology::slot_map(&mut shared).await?.masters() {
            let client = redis::Client::open(self.target.node_url(&master))?;
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.settings.timeout))
                .set_response_timeout(Some(self.settings.timeout));
            let node = client.get_multiplexed_async_connection_with_config(&config).await?;
            keys.extend(scan(node, pattern, kind).await?);
        }
        Ok(keys)
    }
}

/// Every key of one Redis server (or node) matching `pattern`, of type `kind` if given.
async fn scan(mut conn: impl redis::aio::ConnectionLike, pattern: &str, kind: Option<&str>) -> Result<Vec<String>, redis::RedisError> {
    const STEP: usize = 500;
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

/// The Redis Cluster slot every key of `room` hashes to (they share the `{room}` tag).
pub fn room_slot(room: &str) -> u16 {
    slot_of(&Keys::of(room).log)
}

/// A random id for this relay process (std's randomly seeded hasher: no extra crate).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    hasher.write_u32(std::process::id());
    hasher.finish()
}
