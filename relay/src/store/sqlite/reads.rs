//! The store's reads: short-lived read-only connections to the room files (WAL mode, so
//! they never wait for the writer) and the journal's index. Loads, listings, restore points
//! and blobs; the callers first wait for what was queued before them to be committed where
//! that matters (see `mod.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::files::{self, room_file, ROOMS_DIR};
use super::schema::{self, crc};
use crate::store::journal::{JournalRead, JournalReader};
use crate::store::{BlobUsage, RestorePoint, RoomInfo, StoreError, StoredRoom};

pub struct Reads {
    pub data_dir: PathBuf,
    pub journal: JournalReader,
}

impl Reads {
    /// A read-only connection to `room`'s file, or `None` if the room was never stored.
    fn reader(&self, room: &str) -> Result<Option<Connection>, StoreError> {
        let path = room_file(&self.data_dir, room);
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| classify(room, e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| classify(room, e))?;
        schema::check_room(&conn, room).map_err(|reason| damaged(room, reason))?;
        Ok(Some(conn))
    }

    /// Snapshot (from the room's file), then the log: rows an older relay left in the file
    /// and the journal's batches, in sequence order, without gaps.
    pub fn room(&self, room: &str) -> Result<StoredRoom, StoreError> {
        let mut stored = StoredRoom::default();
        let mut log: Vec<(u64, Vec<u8>)> = Vec::new();
        if let Some(conn) = self.reader(room)? {
            let sql = |e: rusqlite::Error| classify(room, e);
            let snapshot: Option<(i64, Vec<u8>, i64)> = conn
                .query_row("SELECT through, state, crc FROM snapshot WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(sql)?;
            if let Some((through, state, sum)) = snapshot {
                if crc(&state) != sum {
                    return Err(damaged(room, "snapshot checksum mismatch".into()));
                }
                stored.last_seq = through as u64;
                stored.snapshot_bytes = state.len() as u64;
                stored.updates.push(state);
                self.journal.fold(room, through as u64);
            }
            let mut statement = conn.prepare("SELECT seq, data, crc FROM updates ORDER BY seq").map_err(sql)?;
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))
                .map_err(sql)?;
            for row in rows {
                let (seq, data, sum) = row.map_err(sql)?;
                if crc(&data) != sum {
                    return Err(damaged(room, format!("log entry {seq} checksum mismatch")));
                }
                log.push((seq as u64, data));
            }
        }
        let journal = self.journal.read_room(room).map_err(|error| match error {
            JournalRead::Damaged(reason) => damaged(room, reason),
            JournalRead::Io(reason) => StoreError::Io(format!("room {room:?}: {reason}")),
        })?;
        log.extend(journal);
        log.sort_by_key(|(seq, _)| *seq);
        for (seq, data) in log {
            if seq <= stored.last_seq {
                continue; // covered by the snapshot (or a copy of an entry already taken)
            }
            if seq != stored.last_seq + 1 {
                return Err(damaged(room, format!("log jumps from {} to {seq}", stored.last_seq)));
            }
            stored.last_seq = seq;
            stored.log_count += 1;
            stored.log_bytes += data.len() as u64;
            stored.updates.push(data);
        }
        Ok(stored)
    }

    pub fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        let dir = self.data_dir.join(ROOMS_DIR);
        let entries = std::fs::read_dir(&dir).map_err(|e| StoreError::Io(format!("listing {}: {e}", dir.display())))?;
        let mut rooms: Vec<RoomInfo> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == files::EXTENSION))
            .filter_map(|path| self.room_info(&path))
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    fn room_info(&self, path: &Path) -> Option<RoomInfo> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        let name = schema::read_meta(&conn, "room").ok()??;
        let (log_bytes, log_entries, last_update): (i64, i64, Option<i64>) = conn
            .query_row("SELECT COALESCE(SUM(length(data)), 0), COUNT(*), MAX(at_ms) FROM updates", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ok()?;
        let (snapshot_bytes, snapshot_at, through): (i64, Option<i64>, i64) = conn
            .query_row("SELECT COALESCE(SUM(length(state)), 0), MAX(updated_ms), COALESCE(MAX(through), 0) FROM snapshot", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ok()?;
        let (journal_entries, journal_bytes, journal_ms) = self.journal.room_shape(&name, through as u64);
        Some(RoomInfo {
            stored_bytes: (log_bytes + snapshot_bytes) as u64 + journal_bytes,
            log_entries: log_entries as u64 + journal_entries,
            last_activity_ms: last_update.max(snapshot_at).unwrap_or(0).max(journal_ms),
            name,
        })
    }

    pub fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError> {
        let Some(conn) = self.reader(room)? else { return Ok(Vec::new()) };
        let sql = |e: rusqlite::Error| classify(room, e);
        let mut statement = conn
            .prepare("SELECT id, name, created_ms, length(state) FROM restore_points ORDER BY id DESC")
            .map_err(sql)?;
        let rows = statement
            .query_map([], |r| {
                Ok(RestorePoint { id: r.get(0)?, name: r.get(1)?, created_ms: r.get(2)?, bytes: r.get::<_, i64>(3)? as u64 })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    pub fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError> {
        let not_found = || StoreError::NotFound(format!("restore point {id} of room {room:?}"));
        let conn = self.reader(room)?.ok_or_else(not_found)?;
        let found: Option<(Vec<u8>, i64)> = conn
            .query_row("SELECT state, crc FROM restore_points WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| classify(room, e))?;
        let (state, sum) = found.ok_or_else(not_found)?;
        if crc(&state) != sum {
            return Err(damaged(room, format!("restore point {id} checksum mismatch")));
        }
        Ok(state)
    }

    pub fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let not_found = || StoreError::NotFound(format!("blob {id} of room {room:?}"));
        let conn = self.reader(room)?.ok_or_else(not_found)?;
        let found: Result<Option<(String, Vec<u8>, i64)>, rusqlite::Error> = conn
            .query_row("SELECT content_type, data, crc FROM blobs WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional();
        let found = match found {
            // A file written before blobs existed has no table until its next write.
            Err(e) if e.to_string().contains("no such table") => return Err(not_found()),
            other => other.map_err(|e| classify(room, e))?,
        };
        let (content_type, data, sum) = found.ok_or_else(not_found)?;
        if crc(&data) != sum {
            return Err(damaged(room, format!("blob {id} checksum mismatch")));
        }
        Ok((content_type, data))
    }

    pub fn blob_usage(&self, room: &str, id: &str) -> Result<BlobUsage, StoreError> {
        let Some(conn) = self.reader(room)? else { return Ok(BlobUsage::default()) };
        // length() of a BLOB comes from the row header: no blob content is read.
        let found = conn.query_row(
            "SELECT COALESCE(SUM(length(data)), 0), COALESCE(MAX(id = ?1), 0) FROM blobs",
            [id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        );
        match found {
            Ok((bytes, present)) => Ok(BlobUsage { bytes: bytes.max(0) as u64, present: present != 0 }),
            // A file written before blobs existed has no table until its next write.
            Err(e) if e.to_string().contains("no such table") => Ok(BlobUsage::default()),
            Err(e) => Err(classify(room, e)),
        }
    }
}

fn damaged(room: &str, reason: String) -> StoreError {
    StoreError::Damaged { room: room.to_owned(), reason }
}

/// What SQLite says about a room's file: corruption is that room's damage; anything else
/// is an I/O problem.
fn classify(room: &str, error: rusqlite::Error) -> StoreError {
    let corrupt = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    );
    if corrupt || matches!(error, rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..)) {
        damaged(room, error.to_string())
    } else {
        StoreError::Io(format!("room {room:?}: {error}"))
    }
}
