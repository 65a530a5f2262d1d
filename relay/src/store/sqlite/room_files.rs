//! The writer's side of the room files: snapshots, restore points, blobs and deletes, one SQLite
//! transaction per room per round, over connections kept open between rounds.
//!
//! Updates do not come here (they go to the journal); a room's file holds what must stay
//! with the room: its name, its snapshot and its restore points. Old files may still hold
//! log rows in `updates` (written before the journal existed); a snapshot removes the rows
//! it covers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::files;
use super::schema::{self, crc};
use super::job::Job;
use crate::store::now_ms;

/// Room files kept open between rounds.
const MAX_OPEN_FILES: usize = 256;

pub struct RoomFiles {
    data_dir: PathBuf,
    open: HashMap<Arc<str>, (Connection, u64)>,
    uses: u64,
}

impl RoomFiles {
    pub fn new(data_dir: PathBuf) -> Self {
        RoomFiles { data_dir, open: HashMap::new(), uses: 0 }
    }

    /// Writes one room's jobs in one transaction; returns the ids of restore points created.
    pub fn write(&mut self, room: &Arc<str>, jobs: &[&Job]) -> Result<Vec<i64>, String> {
        if let [Job::Delete { .. }] = jobs {
            return self.delete(room).map(|()| Vec::new());
        }
        let conn = self.connection(room)?;
        let now = now_ms();
        let mut points = Vec::new();
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        for job in jobs {
            let written = match job {
                Job::Compact { through, state, .. } => tx
                    .execute(
                        "INSERT OR REPLACE INTO snapshot (id, through, state, crc, updated_ms) VALUES (1, ?1, ?2, ?3, ?4)",
                        params![*through as i64, state, crc(state), now],
                    )
                    .and_then(|_| tx.execute("DELETE FROM updates WHERE seq <= ?1", [*through as i64]))
                    .map(drop),
                Job::RestorePoint { name, state, .. } => tx
                    .execute(
                        "INSERT INTO restore_points (name, created_ms, state, crc) VALUES (?1, ?2, ?3, ?4)",
                        params![name, now, state, crc(state)],
                    )
                    .map(|_| points.push(tx.last_insert_rowid())),
                Job::Blob { id, content_type, data, .. } => tx
                    .execute(
                        "INSERT OR IGNORE INTO blobs (id, content_type, data, crc, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![id, content_type, data, crc(data), now],
                    )
                    .map(drop),
                Job::Delete { .. } => {
                    tx.execute_batch("DELETE FROM updates; DELETE FROM snapshot; DELETE FROM restore_points; DELETE FROM blobs;")
                }
                Job::Append { .. } | Job::Barrier { .. } => Ok(()),
            };
            written.map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(points)
    }

    /// Creates the room's file if it does not exist yet.
    pub fn ensure(&mut self, room: &Arc<str>) -> Result<(), String> {
        self.connection(room).map(drop)
    }

    /// Forgets the open connection of a room (after a failure).
    pub fn forget(&mut self, room: &Arc<str>) {
        self.open.remove(room);
    }

    /// How far the stored snapshot of `room` goes (`None`: no file, or unreadable).
    pub fn snapshot_through(&self, room: &str) -> Option<u64> {
        let path = files::room_file(&self.data_dir, room);
        if !path.exists() {
            return None;
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        conn.query_row("SELECT through FROM snapshot WHERE id = 1", [], |r| r.get::<_, i64>(0))
            .optional()
            .ok()?
            .map(|through| through as u64)
    }

    /// The open connection of `room`, opening (and creating) its file if needed.
    fn connection(&mut self, room: &Arc<str>) -> Result<&mut Connection, String> {
        self.uses += 1;
        let uses = self.uses;
        if !self.open.contains_key(room) {
            let conn = open_for_writes(&self.data_dir, room)?;
            self.open.insert(room.clone(), (conn, uses));
        }
        let (conn, used) = self.open.get_mut(room).ok_or_else(|| "room file not open".to_owned())?;
        *used = uses;
        Ok(conn)
    }

    fn delete(&mut self, room: &Arc<str>) -> Result<(), String> {
        self.open.remove(room);
        for path in files::with_companions(&files::room_file(&self.data_dir, room)) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("removing {}: {e}", path.display())),
            }
        }
        Ok(())
    }

    pub fn close_least_recent(&mut self) {
        while self.open.len() > MAX_OPEN_FILES {
            let oldest = self.open.iter().min_by_key(|(_, (_, used))| *used).map(|(room, _)| room.clone());
            match oldest {
                Some(room) => {
                    self.open.remove(&room);
                }
                None => break,
            }
        }
    }
}

fn open_for_writes(data_dir: &Path, room: &str) -> Result<Connection, String> {
    let path = files::room_file(data_dir, room);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let conn = Connection::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    schema::configure_writer(&conn).map_err(|e| format!("configuring {}: {e}", path.display()))?;
    schema::prepare(&conn, room).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}
