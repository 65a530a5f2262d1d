//! Restore points in cluster mode: kept in Redis, so every relay behind the load balancer
//! lists, previews and restores the same points (in a relay's own store, a point made
//! through one relay was missing on the others).
//!
//! A room's points are three keys under its hash tag: `scene:{room}:points:seq` (a counter
//! for ids), `scene:{room}:points` (a hash: id → `{"name", "created_ms", "bytes", "crc"}`)
//! and `scene:{room}:points:data` (a hash: id → the room's state as one update). A point is
//! written by one script, so no reader sees its metadata without its content; deleting the
//! room removes all three (see `delete.rs`).

use redis::Script;

use super::{Cluster, ClusterError, PREFIX};
use crate::store::RestorePoint;

/// The keys holding `room`'s restore points: the id counter, the metadata, the contents.
pub fn point_keys(room: &str) -> [String; 3] {
    [format!("{PREFIX}{{{room}}}:points:seq"), format!("{PREFIX}{{{room}}}:points"), format!("{PREFIX}{{{room}}}:points:data")]
}

const SAVE: &str = r#"
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('HSET', KEYS[3], id, ARGV[2])
return id
"#;

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    name: String,
    created_ms: i64,
    bytes: u64,
    crc: u32,
}

/// What went wrong reading a point from Redis.
#[derive(Debug, thiserror::Error)]
pub enum PointError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("no such restore point {id} of room {room:?}")]
    NotFound { room: String, id: i64 },
    #[error("restore point {id} of room {room:?} is damaged: {reason}")]
    Damaged { room: String, id: i64, reason: String },
}

impl Cluster {
    /// Stores a restore point of `room` holding `state`.
    pub async fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, ClusterError> {
        let created_ms = crate::store::now_ms();
        let meta = Meta { name: name.to_owned(), created_ms, bytes: state.len() as u64, crc: crc32fast::hash(&state) };
        let meta_json = serde_json::to_string(&meta).map_err(|e| ClusterError::Damaged { room: room.to_owned(), reason: e.to_string() })?;
        let [seq, metas, data] = point_keys(room);
        let mut conn = self.conn();
        let id: i64 = Script::new(SAVE).key(&seq).key(&metas).key(&data).arg(&meta_json).arg(state.as_slice()).invoke_async(&mut conn).await?;
        Ok(RestorePoint { id, name: meta.name, created_ms, bytes: meta.bytes })
    }

    /// `room`'s restore points, newest first (as the room store lists them). Entries whose
    /// metadata does not parse are left out (and logged).
    pub async fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, ClusterError> {
        let [_, metas, _] = point_keys(room);
        let mut conn = self.conn();
        let all: Vec<(i64, String)> = redis::cmd("HGETALL").arg(&metas).query_async(&mut conn).await?;
        let mut points: Vec<RestorePoint> = all
            .into_iter()
            .filter_map(|(id, json)| match serde_json::from_str::<Meta>(&json) {
                Ok(meta) => Some(RestorePoint { id, name: meta.name, created_ms: meta.created_ms, bytes: meta.bytes }),
                Err(error) => {
                    tracing::warn!(room, id, %error, "restore point metadata in redis ignored");
                    None
                }
            })
            .collect();
        points.sort_by_key(|point| std::cmp::Reverse(point.id));
        Ok(points)
    }

    /// The content of restore point `id` of `room`, checked against its checksum.
    pub async fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, PointError> {
        let [_, metas, data] = point_keys(room);
        let mut conn = self.conn();
        let (meta, state): (Option<String>, Option<Vec<u8>>) = redis::pipe()
            .hget(&metas, id)
            .hget(&data, id)
            .query_async(&mut conn)
            .await
            .map_err(ClusterError::from)?;
        let (Some(meta), Some(state)) = (meta, state) else { return Err(PointError::NotFound { room: room.to_owned(), id }) };
        let damaged = |reason: String| PointError::Damaged { room: room.to_owned(), id, reason };
        let meta: Meta = serde_json::from_str(&meta).map_err(|e| damaged(format!("metadata: {e}")))?;
        if crc32fast::hash(&state) != meta.crc {
            return Err(damaged("checksum mismatch".into()));
        }
        Ok(state)
    }
}
