//! Deletion histories (see [`crate::store::history`]): what the room held when it was
//! deleted, kept after its file is gone, as `{data-dir}/deleted/{name of its room file}.history`
//! (one encoded state vector). Written whole to a temporary file, synced and renamed, so a
//! crash leaves the old history or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::files::room_file;
use crate::store::StoreError;

pub const DELETED_DIR: &str = "deleted";

/// One delete at a time reads, merges and writes a history.
static WRITING: Mutex<()> = Mutex::new(());

fn history_file(data_dir: &Path, room: &str) -> PathBuf {
    let room_file = room_file(data_dir, room);
    let stem = room_file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    data_dir.join(DELETED_DIR).join(format!("{stem}.history"))
}

fn io(path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {error}", path.display()))
}

/// The history recorded for `room`, if it was ever deleted.
pub fn read(data_dir: &Path, room: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let path = history_file(data_dir, room);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io(&path, error)),
    }
}

/// Records `history` for `room`, merged with the one recorded before. Durable on return.
pub fn remember(data_dir: &Path, room: &str, history: &[u8]) -> Result<(), StoreError> {
    let _one_at_a_time = WRITING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let path = history_file(data_dir, room);
    let damaged = |reason: String| StoreError::Damaged { room: room.to_owned(), reason };
    let merged = match read(data_dir, room)? {
        Some(earlier) => crate::store::history::merge(&earlier, history).map_err(damaged)?,
        None => history.to_vec(),
    };
    let dir = data_dir.join(DELETED_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let temporary = path.with_extension("history.tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|e| io(&temporary, e))?;
    file.write_all(&merged).and_then(|()| file.sync_all()).map_err(|e| io(&temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| io(&path, e))?;
    std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| io(&dir, e))
}
