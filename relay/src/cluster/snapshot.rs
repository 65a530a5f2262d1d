//! A clustered room's snapshot in Redis, and how a relay picks a room up.
//!
//! The snapshot is a hash `scene:{room}:snap` with `id` (the stream id it covers: every
//! entry up to it is folded in), `crc` (CRC-32 of `data`), `data` (the whole room as one
//! update) and `compactions` (a counter). Loading reads the snapshot and the stream entries
//! after its id in one Lua script, so a concurrent compaction cannot trim entries between
//! the two reads. Compaction takes a lease (SET NX PX) first, so only one relay folds a
//! room at a time, and writes through a script that refuses a snapshot older than the
//! stored one or a writer whose lease expired, then trims the stream (XTRIM MINID) to
//! `trim_slack` behind the snapshot: a reader lagging less than that loses nothing. The
//! trim point is kept in the hash (`trimmed`), so a relay whose reader fell further behind
//! finds out ([`Cluster::trim_points`]) and reloads the room instead of missing entries.

use redis::streams::StreamRangeReply;
use redis::Script;

use super::entry::{self, Entry};
use super::{Cluster, ClusterError, Keys};
use crate::backend::{Compacted, Fold};

/// What Redis holds for a room: a snapshot (if any) and the stream entries after it.
#[derive(Debug, Default)]
pub struct InRedis {
    pub snapshot: Option<Vec<u8>>,
    /// The stream id the snapshot covers ("0-0" without one).
    pub snapshot_id: String,
    pub tail: Vec<Entry>,
    /// The room's deletion history, if it was deleted (see `crate::store::history`).
    pub deleted_history: Option<Vec<u8>>,
}

const LOAD: &str = r#"
local snap = redis.call('HGETALL', KEYS[1])
local id = '0-0'
for i = 1, #snap, 2 do
  if snap[i] == 'id' then id = snap[i + 1] end
end
return {snap, redis.call('XRANGE', KEYS[2], '(' .. id, '+')}
"#;

const COMPACT: &str = r#"
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
local current = redis.call('HGET', KEYS[1], 'id')
if current and not older(current, ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'crc', ARGV[3], 'data', ARGV[4], 'trimmed', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'compactions', 1)
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[5])
return 1
"#;

impl Cluster {
    /// Reads the snapshot and the stream tail of `room`, checking the snapshot's CRC.
    pub async fn load(&self, room: &str) -> Result<InRedis, ClusterError> {
        let keys = Keys::of(room);
        let mut conn = self.conn();
        let (fields, tail): (Vec<Vec<u8>>, StreamRangeReply) =
            Script::new(LOAD).key(&keys.snap).key(&keys.log).invoke_async(&mut conn).await?;
        let damaged = |reason: String| ClusterError::Damaged { room: room.to_owned(), reason };
        let mut loaded = InRedis { snapshot_id: "0-0".into(), ..InRedis::default() };
        let (mut crc, mut data) = (None, None);
        for pair in fields.chunks(2) {
            if let [name, value] = pair {
                match name.as_slice() {
                    b"id" => loaded.snapshot_id = String::from_utf8_lossy(value).into_owned(),
                    b"crc" => crc = std::str::from_utf8(value).ok().and_then(|s| s.parse::<u32>().ok()),
                    b"data" => data = Some(value.clone()),
                    _ => {}
                }
            }
        }
        for raw in &tail.ids {
            // As the reader does: an entry no relay wrote is not part of the room.
            match Entry::decode(raw) {
                Ok(entry) => loaded.tail.push(entry),
                Err(error) => tracing::warn!(room, %error, "stream entry ignored"),
            }
        }
        // A deletion after the snapshot voids it (it holds the deleted content).
        if let Some(deletion) = super::delete::after_last_deletion(&mut loaded.tail) {
            loaded.snapshot_id = deletion.id;
            loaded.deleted_history = Some(deletion.data).filter(|history| !history.is_empty());
            data = None;
        }
        if let Some(data) = data {
            if crc != Some(crc32fast::hash(&data)) {
                return Err(damaged("the snapshot fails its checksum".into()));
            }
            loaded.snapshot = Some(data);
        }
        Ok(loaded)
    }

    /// Where each room's stream was last trimmed (`None`: never, or no snapshot), one round
    /// trip for all of them (one per node in a Redis Cluster).
    pub async fn trim_points(&self, rooms: &[&str]) -> Result<Vec<Option<String>>, ClusterError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn();
        if conn.is_sharded() {
            // A pipeline may not span slots: one HGET each, sent together (the cluster
            // connection multiplexes them over its node connections).
            let reads = rooms.iter().map(|room| {
                let (mut conn, key) = (conn.clone(), Keys::of(room).snap);
                async move { redis::cmd("HGET").arg(key).arg("trimmed").query_async::<Option<String>>(&mut conn).await }
            });
            return Ok(futures_util::future::join_all(reads).await.into_iter().collect::<Result<_, _>>()?);
        }
        let mut pipe = redis::pipe();
        for room in rooms {
            pipe.hget(Keys::of(room).snap, "trimmed");
        }
        Ok(pipe.query_async(&mut conn).await?)
    }

    /// Compacts `room` if no other relay holds the room's lease: `fold` takes the room's
    /// state and the stream id it covers under the room's lock.
    pub async fn compact(&self, room: &str, fold: &mut (dyn FnMut() -> Option<Fold> + Send)) -> Result<Compacted, ClusterError> {
        let keys = Keys::of(room);
        let mut conn = self.conn();
        let lease_ms = self.settings.lease.as_millis() as u64;
        let acquired: Option<String> = redis::cmd("SET")
            .arg(&keys.lease)
            .arg(&self.relay_id)
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query_async(&mut conn)
            .await?;
        if acquired.is_none() {
            // Another relay is folding the same stream: the room starts counting afresh.
            return Ok(Compacted::Elsewhere);
        }
        let Some(Fold { position: through, state, .. }) = fold() else { return Ok(Compacted::Skipped) };
        let minid = match entry::parse_id(&through) {
            Some((ms, _)) => format!("{}-0", ms.saturating_sub(self.settings.trim_slack.as_millis() as u64)),
            None => "0-0".to_owned(),
        };
        let written: i64 = Script::new(COMPACT)
            .key(&keys.snap)
            .key(&keys.log)
            .key(&keys.lease)
            .arg(&self.relay_id)
            .arg(&through)
            .arg(crc32fast::hash(&state))
            .arg(state.as_slice())
            .arg(&minid)
            .invoke_async(&mut conn)
            .await?;
        tracing::debug!(room, through, bytes = state.len(), written, "cluster compaction");
        Ok(if written == 1 { Compacted::Written } else { Compacted::Skipped })
    }
}
