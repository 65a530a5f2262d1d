//! The admin room list in cluster mode: the rooms in Redis, whichever relay wrote them.
//!
//! A clustered room's content lives in Redis, not in the relays' stores, so listing a
//! relay's store would show only the rooms that relay happens to hold restore points of. A
//! room is listed when its stream exists and its newest entry is not a deletion (see
//! [`super::delete`]). Sizes come from Redis: the snapshot's bytes plus the stream's memory
//! (`MEMORY USAGE`, sampled); the last activity is the time in the newest entry's id. In a
//! Redis Cluster the streams are found on every master, and each room's figures come from
//! its own slot's master.

use redis::streams::StreamRangeReply;

use super::entry::{parse_id, Entry, Kind};
use super::{Cluster, ClusterError, Keys, PREFIX};
use crate::store::RoomInfo;

/// Rooms whose figures are fetched in one pipelined round trip.
const BATCH: usize = 500;

impl Cluster {
    /// Every room Redis holds that is not deleted, by name.
    pub async fn list_rooms(&self) -> Result<Vec<RoomInfo>, ClusterError> {
        let mut conn = self.conn();
        let streams = self.scan_keys(&format!("{PREFIX}{{*}}:log"), Some("stream")).await?;
        let mut names: Vec<String> = streams.iter().filter_map(|key| room_of(key)).map(str::to_owned).collect();
        names.sort();
        names.dedup();
        let mut rooms = Vec::with_capacity(names.len());
        for chunk in names.chunks(BATCH) {
            let replies: Vec<Figures> = if conn.is_sharded() {
                // A pipeline may not span slots: one per room, sent together.
                let reads = chunk.iter().map(|name| {
                    let mut conn = conn.clone();
                    let mut pipe = redis::pipe();
                    figures(&mut pipe, name);
                    async move { pipe.query_async::<Figures>(&mut conn).await }
                });
                let answers = futures_util::future::join_all(reads).await;
                answers.into_iter().collect::<Result<Vec<_>, _>>()?
            } else {
                let mut pipe = redis::pipe();
                for name in chunk {
                    figures(&mut pipe, name);
                }
                pipe.query_async(&mut conn).await?
            };
            for (name, (entries, newest, snapshot_bytes, log_bytes)) in chunk.iter().zip(replies) {
                let Some(newest) = newest.ids.first() else { continue };
                if Entry::decode(newest).is_ok_and(|entry| entry.kind == Kind::Deleted) {
                    continue;
                }
                let last_activity_ms = parse_id(&newest.id).map_or(0, |(ms, _)| ms as i64);
                rooms.push(RoomInfo {
                    name: name.clone(),
                    stored_bytes: snapshot_bytes + log_bytes.unwrap_or(0),
                    log_entries: entries,
                    last_activity_ms,
                });
            }
        }
        Ok(rooms)
    }
}

/// A room's stream length, newest entry, snapshot bytes and stream memory.
type Figures = (u64, StreamRangeReply, u64, Option<u64>);

/// Asks for a room's [`Figures`] (its keys share one slot: one pipeline per room is fine in
/// a Redis Cluster).
fn figures(pipe: &mut redis::Pipeline, room: &str) {
    let keys = Keys::of(room);
    pipe.cmd("XLEN").arg(&keys.log);
    pipe.cmd("XREVRANGE").arg(&keys.log).arg("+").arg("-").arg("COUNT").arg(1);
    pipe.cmd("HSTRLEN").arg(&keys.snap).arg("data");
    pipe.cmd("MEMORY").arg("USAGE").arg(&keys.log);
}

/// The room a stream key belongs to (`scene:{room}:log`).
fn room_of(key: &str) -> Option<&str> {
    key.strip_prefix(PREFIX)?.strip_prefix('{')?.strip_suffix("}:log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_come_back_from_their_keys() {
        for name in ["plain", "with}brace", "a{b}c", "ünï cödé"] {
            assert_eq!(room_of(&Keys::of(name).log), Some(name));
        }
        assert_eq!(room_of("scene:{x}:snap"), None);
        assert_eq!(room_of("other:{x}:log"), None);
    }
}
