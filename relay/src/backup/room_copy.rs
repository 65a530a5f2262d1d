//! Copying a live relay's room files with SQLite's online backup API: each copy is one
//! read transaction on the source (WAL mode: the relay's writer never waits for it, and
//! the copy is a state the file was in), written into a fresh file in the staging
//! directory and switched from WAL to a rollback journal, so reading it later creates no
//! companions (a relay that opens it switches it back to WAL). Also what each copied
//! room's snapshot covers, which tells the journal copy what it may leave out.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::BackupError;
use crate::store::sqlite::{read_meta, room_file};

/// How long a copy waits for a lock (the writer's checkpoints are short), in steps.
const BUSY_RETRIES: usize = 500;
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// Copies every room file in `from` into `to`; returns each copied room's snapshot point
/// (0 without a snapshot). Files that vanish meanwhile (deleted rooms) are skipped.
/// `between` runs after each file (the journal copy looks for new segments).
pub fn copy_all(from: &Path, to: &Path, mut between: impl FnMut() -> Result<(), BackupError>) -> Result<HashMap<String, u64>, BackupError> {
    let mut throughs = HashMap::new();
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(throughs),
        Err(error) => return Err(BackupError::io("listing", from)(error)),
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sqlite3"))
        .collect();
    files.sort();
    for source in files {
        let Some(name) = source.file_name() else { continue };
        let target = to.join(name);
        if let Some((room, through)) = copy_one(&source, &target)? {
            throughs.insert(room, through);
        }
        between()?;
    }
    Ok(throughs)
}

/// Copies one room file; its room and snapshot point, or `None` if it vanished.
fn copy_one(source: &Path, target: &Path) -> Result<Option<(String, u64)>, BackupError> {
    let failed = |reason: String| BackupError::RoomFile { path: source.to_owned(), reason };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let src = match Connection::open_with_flags(source, flags) {
        Ok(conn) => conn,
        Err(_) if !source.exists() => return Ok(None),
        Err(error) => return Err(failed(error.to_string())),
    };
    src.busy_timeout(Duration::from_secs(10)).map_err(|e| failed(e.to_string()))?;
    let mut dst = Connection::open(target).map_err(|e| failed(format!("creating the copy: {e}")))?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(|e| failed(e.to_string()))?;
        let mut retries = 0;
        loop {
            // All pages in one step: one read transaction, one consistent state.
            match backup.step(-1) {
                Ok(StepResult::Done) => break,
                Ok(StepResult::More | StepResult::Busy | StepResult::Locked) if retries < BUSY_RETRIES => {
                    retries += 1;
                    std::thread::sleep(BUSY_PAUSE);
                }
                Ok(other) => return Err(failed(format!("the copy did not finish ({other:?})"))),
                Err(_) if !source.exists() => {
                    drop(backup);
                    drop(dst);
                    let _ = std::fs::remove_file(target);
                    return Ok(None);
                }
                Err(error) => return Err(failed(error.to_string())),
            }
        }
    }
    let Ok(Some(room)) = read_meta(&dst, "room") else {
        // Created but not yet set up by the relay (it names its room in the same moment):
        // nothing of the room is in it yet, its updates are in the journal.
        drop(dst);
        std::fs::remove_file(target).map_err(BackupError::io("removing", target))?;
        return Ok(None);
    };
    let through: Option<i64> = dst
        .query_row("SELECT through FROM snapshot WHERE id = 1", [], |row| row.get(0))
        .optional()
        .map_err(|e| failed(e.to_string()))?;
    dst.pragma_update(None, "journal_mode", "DELETE").map_err(|e| failed(e.to_string()))?;
    Ok(Some((room, through.map_or(0, |t| t.max(0) as u64))))
}

/// Removes the copy of `room`'s file (a room deleted while the backup ran).
pub fn remove(copies: &Path, room: &str) -> Result<(), BackupError> {
    let Some(name) = room_file(Path::new(""), room).file_name().map(ToOwned::to_owned) else { return Ok(()) };
    let path = copies.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(BackupError::io("removing", &path)(error)),
    }
}
