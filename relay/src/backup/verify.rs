//! Checks a staged data directory (a backup before it is packed, a restore before it is
//! moved into place) the way a relay would find it: every room file passes SQLite's
//! integrity check, and every room loads through the store (snapshot and journal CRCs, no
//! gap in its log). Damaged rooms are named, not hidden: a room the relay already refused
//! is copied as it is.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::BackupError;
use crate::store::sqlite::{read_meta, ROOMS_DIR};
use crate::store::{RoomArchive, SqliteStore, StoreError};

/// The rooms of the data directory `root` that are damaged (none, for a sound copy of a
/// sound relay).
pub fn check(root: &Path) -> Result<Vec<String>, BackupError> {
    let mut damaged = Vec::new();
    let rooms_dir = root.join(ROOMS_DIR);
    let entries = std::fs::read_dir(&rooms_dir).map_err(BackupError::io("listing", &rooms_dir))?;
    for entry in entries {
        let path = entry.map_err(BackupError::io("listing", &rooms_dir))?.path();
        if path.extension().is_some_and(|ext| ext == "sqlite3") {
            if let Some(room) = failed_integrity(&path) {
                damaged.push(room);
            }
        }
    }
    let store = SqliteStore::open(root, Duration::ZERO).map_err(|e| BackupError::Unloadable(e.to_string()))?;
    let rooms = store.list_rooms().map_err(|e| BackupError::Unloadable(e.to_string()))?;
    for room in rooms {
        match store.load(&room.name) {
            Ok(_) => {}
            Err(StoreError::Damaged { reason, .. }) => {
                tracing::warn!(room = room.name, reason, "damaged room");
                damaged.push(room.name);
            }
            Err(error) => return Err(BackupError::Unloadable(error.to_string())),
        }
    }
    store.close();
    damaged.sort();
    damaged.dedup();
    Ok(damaged)
}

/// The room (or file) name if the file fails SQLite's integrity check.
fn failed_integrity(path: &Path) -> Option<String> {
    let name = || path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX) else {
        return Some(name());
    };
    let verdict: Result<String, _> = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0));
    match verdict {
        Ok(ok) if ok == "ok" => None,
        _ => Some(read_meta(&conn, "room").ok().flatten().unwrap_or_else(name)),
    }
}
