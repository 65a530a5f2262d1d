//! Room blobs in cluster mode: every relay behind the load balancer must serve the render a
//! collaborator uploaded through another one, so uploads are written to Redis and a relay
//! that does not hold a blob looks there (and keeps a copy in its own store).
//!
//! A blob is a hash `scene:{room}:blob:{id}` with `type` (its content type) and `data`,
//! kept for [`BLOB_TTL`] after its last upload: the id names one content forever, so the
//! copies in the relays' stores stay valid; only a relay that never fetched it before the
//! TTL ran out answers 404 afterwards.
//!
//! **The quota is the cluster's, per room** (`--max-room-blob-bytes`): whichever relay an
//! upload reaches, it is checked against every blob the room holds in Redis. Beside the blobs
//! the room has a ledger, `scene:{room}:blobsizes` (id → bytes) and `scene:{room}:blobexpiry`
//! (id → when its blob expires), all in the room's hash slot; one script prunes what expired,
//! sums the rest, and stores the upload only if it fits, so two relays racing for a room's
//! last bytes cannot both get in. A blob the room already holds costs nothing again (its
//! TTL is renewed). Deleting the room removes the ledger with it (see [`super::delete`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;

use super::{Cluster, ClusterError, PREFIX};
use crate::backend::OverQuota;

/// How long Redis keeps a blob after its last upload.
pub const BLOB_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Checks the room's quota and stores the blob, in one step for the room's slot.
/// KEYS: blob, sizes, expiries. ARGV: id, type, data, limit, now (s), ttl (s).
/// Returns `{0, used}` stored, `{1, used}` already there (nothing counted), `{2, used}` over
/// the quota.
const PUT: &str = r#"
local now, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for i = 1, #expired, 500 do
  redis.call('HDEL', KEYS[2], unpack(expired, i, math.min(i + 499, #expired)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local expiry = now + ttl
local function total()
  local sum = 0
  for _, size in ipairs(redis.call('HVALS', KEYS[2])) do sum = sum + tonumber(size) end
  return sum
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIREAT', KEYS[1], expiry)
  redis.call('ZADD', KEYS[3], expiry, ARGV[1])
  redis.call('EXPIREAT', KEYS[2], expiry)
  redis.call('EXPIREAT', KEYS[3], expiry)
  return {1, total()}
end
-- An entry whose blob is gone (evicted) no longer counts.
redis.call('HDEL', KEYS[2], ARGV[1])
local used = total()
local size = string.len(ARGV[3])
if used + size > tonumber(ARGV[4]) then return {2, used} end
redis.call('HSET', KEYS[1], 'type', ARGV[2], 'data', ARGV[3])
redis.call('EXPIREAT', KEYS[1], expiry)
redis.call('HSET', KEYS[2], ARGV[1], size)
redis.call('ZADD', KEYS[3], expiry, ARGV[1])
redis.call('EXPIREAT', KEYS[2], expiry)
redis.call('EXPIREAT', KEYS[3], expiry)
return {0, used}
"#;

/// Why a blob was not shared.
#[derive(Debug, thiserror::Error)]
pub enum SharedBlobError {
    #[error(transparent)]
    OverQuota(OverQuota),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

fn key(room: &str, id: &str) -> String {
    format!("{PREFIX}{{{room}}}:blob:{id}")
}

/// The room's blob ledger: sizes and expiry times by id (same slot as its blobs).
pub fn ledger_keys(room: &str) -> [String; 2] {
    [format!("{PREFIX}{{{room}}}:blobsizes"), format!("{PREFIX}{{{room}}}:blobexpiry")]
}

impl Cluster {
    /// Shares a blob with the other relays if the room's blobs in Redis leave room for it
    /// under `limit` bytes.
    pub async fn put_blob(
        &self,
        room: &str,
        id: &str,
        content_type: &str,
        bytes: &[u8],
        limit: u64,
    ) -> Result<(), SharedBlobError> {
        let [sizes, expiries] = ledger_keys(room);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut conn = self.conn();
        let (outcome, used): (u8, u64) = Script::new(PUT)
            .key(key(room, id))
            .key(sizes)
            .key(expiries)
            .arg(id)
            .arg(content_type)
            .arg(bytes)
            .arg(limit)
            .arg(now)
            .arg(BLOB_TTL.as_secs())
            .invoke_async(&mut conn)
            .await
            .map_err(ClusterError::from)?;
        if outcome == 2 {
            return Err(SharedBlobError::OverQuota(OverQuota { limit, used, needed: bytes.len() as u64 }));
        }
        Ok(())
    }

    /// A blob another relay shared: its content type and bytes, if Redis holds it.
    pub async fn blob(&self, room: &str, id: &str) -> Result<Option<(String, Vec<u8>)>, ClusterError> {
        let mut conn = self.conn();
        let (content_type, data): (Option<String>, Option<Vec<u8>>) =
            redis::cmd("HMGET").arg(key(room, id)).arg("type").arg("data").query_async(&mut conn).await?;
        Ok(content_type.zip(data))
    }
}
