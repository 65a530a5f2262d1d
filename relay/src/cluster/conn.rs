//! Where `--redis` points, and the connection every room command goes through.
//!
//! Two forms are accepted:
//! - `redis://[user:password@]host:port[/db]` (or `rediss://`, `unix://`): one Redis server,
//!   reached through an auto-reconnecting `ConnectionManager`, exactly as before clustering.
//! - `redis+cluster://[user:password@]host:port[,host:port...]`: a Redis Cluster, the
//!   addresses being seeds (any reachable node will do; the slot map is discovered). Room
//!   commands go through redis-rs's `cluster_async::ClusterConnection`, which routes each
//!   command (or pipeline, or script) by its key's slot to the slot's master and follows
//!   MOVED/ASK and topology changes. Every key of one room carries the `{room}` hash tag, so
//!   a room's commands, pipelines and scripts all touch one slot.
//!
//! [`RedisConn`] is either, behind redis-rs's `ConnectionLike`, so the code sending room
//! commands does not care which. What does care (a pipeline over several rooms, SCAN, the
//! stream reader) asks [`RedisConn::is_sharded`].

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use super::ClusterSettings;

/// The scheme of a Redis Cluster in `--redis`.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// Where `--redis` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One Redis server (its URL as given).
    Single(String),
    /// A Redis Cluster: one `redis://` URL per seed node (credentials repeated in each).
    Sharded(Vec<String>),
}

impl Target {
    /// Parses `--redis`; a cluster URL needs at least one `host:port`.
    pub fn parse(url: &str) -> Result<Target, RedisError> {
        let Some(rest) = url.strip_prefix(CLUSTER_SCHEME) else { return Ok(Target::Single(url.to_owned())) };
        let rest = rest.trim_end_matches('/');
        let (credentials, hosts) = match rest.rsplit_once('@') {
            Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
            None => (String::new(), rest),
        };
        let seeds: Vec<String> =
            hosts.split(',').map(str::trim).filter(|host| !host.is_empty()).map(|host| format!("redis://{credentials}{host}/")).collect();
        if seeds.is_empty() {
            return Err(RedisError::from((redis::ErrorKind::InvalidClientConfig, "redis+cluster:// needs at least one host:port")));
        }
        Ok(Target::Sharded(seeds))
    }

    /// The URL of one cluster node ("host:port"), with the seeds' credentials.
    pub fn node_url(&self, node: &str) -> String {
        let credentials = match self {
            Target::Sharded(seeds) => seeds
                .first()
                .and_then(|seed| seed.strip_prefix("redis://"))
                .and_then(|rest| rest.rsplit_once('@'))
                .map(|(credentials, _)| format!("{credentials}@"))
                .unwrap_or_default(),
            Target::Single(_) => String::new(),
        };
        format!("redis://{credentials}{node}/")
    }
}

/// The shared connection for short commands: one server's, or the cluster's.
#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Sharded(ClusterConnection),
}

impl RedisConn {
    /// Connects to `target` (fails if it cannot be reached now).
    pub async fn connect(target: &Target, settings: &ClusterSettings) -> Result<RedisConn, RedisError> {
        let timed_out = || RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        match target {
            Target::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(settings.timeout))
                    .set_response_timeout(Some(settings.timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                let manager = tokio::time::timeout(settings.timeout * 2, ConnectionManager::new_with_config(client, config))
                    .await
                    .map_err(|_| timed_out())??;
                Ok(RedisConn::Single(manager))
            }
            Target::Sharded(seeds) => {
                // Retries cover a failover (MOVED, then a refreshed slot map); a command on a
                // shard that stays down fails after them and its room goes offline (4503).
                let client = ClusterClient::builder(seeds.iter().map(String::as_str)).retries(3).max_retry_wait(500).build()?;
                let config =
                    ClusterConfig::new().set_connection_timeout(settings.timeout).set_response_timeout(settings.timeout);
                let conn = tokio::time::timeout(settings.timeout * 2, client.get_async_connection_with_config(config))
                    .await
                    .map_err(|_| timed_out())??;
                Ok(RedisConn::Sharded(conn))
            }
        }
    }

    /// Whether this is a Redis Cluster (keys of different rooms may live on different nodes).
    pub fn is_sharded(&self) -> bool {
        matches!(self, RedisConn::Sharded(_))
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_command(cmd),
            RedisConn::Sharded(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(&'a mut self, pipeline: &'a Pipeline, offset: usize, count: usize) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            RedisConn::Sharded(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(conn) => conn.get_db(),
            RedisConn::Sharded(conn) => conn.get_db(),
        }
    }
}

/// The cluster slot of `key` (CRC16/XMODEM of its hash tag, or of the whole key, mod 16384),
/// as the Redis Cluster specification defines it.
pub fn slot_of(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = bytes.iter().position(|&b| b == b'{').and_then(|open| {
        let close = bytes[open + 1..].iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &bytes[open + 1..open + 1 + close])
    });
    crc16(tagged.unwrap_or(bytes)) % 16384
}

/// CRC16/XMODEM (polynomial 0x1021, initial 0), bit by bit: keys are short.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster_keyslot() {
        // `redis-cli cluster keyslot` on Redis 7.0.
        assert_eq!(slot_of("{a}"), 15495);
        assert_eq!(slot_of("scene:{b}:log"), 3300);
        assert_eq!(slot_of("scene:{c}:snap"), 7365);
        assert_eq!(slot_of("123456789"), 12739);
        // An empty tag does not count: the whole key is hashed.
        assert_eq!(slot_of("a{}b"), crc16(b"a{}b") % 16384);
    }

    #[test]
    fn cluster_urls_list_their_seeds() {
        assert_eq!(Target::parse("redis://127.0.0.1:6379/0").ok(), Some(Target::Single("redis://127.0.0.1:6379/0".into())));
        assert_eq!(
            Target::parse("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001/").ok(),
            Some(Target::Sharded(vec!["redis://:pw@10.0.0.1:7000/".into(), "redis://:pw@10.0.0.2:7001/".into()]))
        );
        assert!(Target::parse("redis+cluster://").is_err());
        let target = Target::parse("redis+cluster://u:pw@10.0.0.1:7000").ok();
        assert_eq!(target.map(|t| t.node_url("10.0.0.9:7005")), Some("redis://u:pw@10.0.0.9:7005/".to_owned()));
    }
}
