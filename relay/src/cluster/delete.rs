//! Deleting a room in cluster mode, for every relay at once.
//!
//! Deleting only this relay's copy would not delete anything: the room lives in Redis, and the
//! other relays hold it in memory and would hand it to the next joiner. So a delete is one
//! script, atomic for the room's keys: it appends a `Deleted` entry to the room's stream (see
//! [`super::entry`]), removes the snapshot, the compaction lease and the restore points (see
//! [`super::points`]) and the blob ledger (see [`super::blobs`]), and trims the stream to that
//! entry. The entry carries the room's deletion history (see the room's `deletion.rs`), so
//! copies of the deleted content stay refused on every relay. Every relay's reader meets the
//! entry, closes the room's members with "room deleted" and drops its own copy (blobs);
//! loading starts after the last such entry, so a snapshot that a compaction racing the delete
//! wrote from the old content is ignored. The blobs shared through Redis are removed after the
//! script (SCAN: their ids are not known; they would also expire with their TTL).

use redis::Script;

use super::entry::{Entry, Kind};
use super::{Cluster, ClusterError, Keys, PREFIX};

const DELETE: &str = r#"
local id = redis.call('XADD', KEYS[1], '*', 'o', ARGV[1], 'k', 'x', 'n', 0, 'd', ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('XTRIM', KEYS[1], 'MINID', id)
return id
"#;

impl Cluster {
    /// Deletes `room` for every relay: returns the id of its `Deleted` stream entry, which
    /// carries `history` (what the room held, see `crate::room::deletion`; empty if unknown).
    pub async fn delete_room(&self, room: &str, history: Option<&[u8]>) -> Result<String, ClusterError> {
        let keys = Keys::of(room);
        let mut conn = self.conn();
        let origin = format!("{}/admin", self.relay_id);
        let [point_seq, point_metas, point_data] = super::points::point_keys(room);
        let [blob_sizes, blob_expiries] = super::blobs::ledger_keys(room);
        let id: String = Script::new(DELETE)
            .key(&keys.log)
            .key(&keys.snap)
            .key(&keys.lease)
            .key(&point_seq)
            .key(&point_metas)
            .key(&point_data)
            .key(&blob_sizes)
            .key(&blob_expiries)
            .arg(&origin)
            .arg(history.unwrap_or_default())
            .invoke_async(&mut conn)
            .await?;
        let blobs = self.scan_keys(&format!("{PREFIX}{{{}}}:blob:*", escape_glob(room)), None).await?;
        for chunk in blobs.chunks(500) {
            redis::cmd("DEL").arg(chunk).query_async::<()>(&mut conn).await?;
        }
        tracing::info!(room, entry = id, "room deleted for every relay");
        Ok(id)
    }
}

/// The entries that count for a room loaded now: those after its last `Deleted` entry. With
/// one, the snapshot is void too (it was written from older content); returns that entry
/// (its id is where the room starts from, its data the room's deletion history).
pub fn after_last_deletion(tail: &mut Vec<Entry>) -> Option<Entry> {
    let last = tail.iter().rposition(|entry| entry.kind == Kind::Deleted)?;
    let deletion = tail[last].clone();
    tail.drain(..=last);
    Some(deletion)
}

/// `text` as a literal in a Redis glob pattern.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, kind: Kind) -> Entry {
        Entry { id: id.into(), origin: "r/1".into(), kind, n: 0, data: Vec::new() }
    }

    #[test]
    fn loading_starts_after_the_last_deletion() {
        let mut tail = vec![entry("1-0", Kind::Update), entry("2-0", Kind::Deleted), entry("3-0", Kind::Update), entry("4-0", Kind::Deleted), entry("5-0", Kind::Awareness)];
        assert_eq!(after_last_deletion(&mut tail).map(|e| e.id), Some("4-0".to_owned()));
        assert_eq!(tail.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["5-0"]);
        let mut untouched = vec![entry("1-0", Kind::Update)];
        assert!(after_last_deletion(&mut untouched).is_none());
        assert_eq!(untouched.len(), 1);
    }

    #[test]
    fn glob_characters_in_room_names_are_literal() {
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(escape_glob("plain-room"), "plain-room");
    }
}
