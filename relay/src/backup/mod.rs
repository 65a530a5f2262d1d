//! `relay backup` and `relay restore`: a consistent copy of a live relay's rooms, taken
//! while it runs (another process, reading its data directory), and brought back into an
//! empty data directory.
//!
//! **The commit point.** The backup notes the time, then reads the journal
//! ([`journal_copy`]): every update acknowledged durable before that moment had been
//! appended and fsynced, so it is in a segment the backup reads, or it was copied forward
//! into a newer segment before its old one went (the backup lists the segments again until
//! no new one appears), or a snapshot covered it first, which the room files, copied next,
//! hold. The room files are copied after the journal with SQLite's online backup API
//! ([`room_copy`]: one read transaction per file, so each copy is a state the file was in;
//! the writer never waits for it). A room file can only be newer than the journal read
//! before it, never older, and the journal's updates a newer snapshot covers are skipped on
//! load. Then the journal written since the commit point is read once more for deletions:
//! a room deleted while the backup ran is left out whole (its file and records would not
//! belong together). The backup holds every journal segment it saw open, so one the relay
//! cleans away stays readable; only a segment written, sealed and cleaned between two looks
//! (a whole segment, 64 MiB, during one room file's copy) leaves it unable to know, and it
//! starts over (at most [`ATTEMPTS`] times).
//!
//! **The archive** ([`archive`]) is one tar file: `manifest.json` (format, versions, the
//! commit point, every file's size and SHA-256), `rooms/*.sqlite3`, `journal/` (one
//! segment holding the live records, re-written) and `deleted/*.history`. Before it is
//! written the staged copy is checked like a restore checks it ([`verify`]): every room
//! file passes SQLite's integrity check and every room loads. It is written beside its
//! destination and renamed into place, so a failed backup never leaves half an archive
//! under the final name.
//!
//! **Restore** ([`restore`]) refuses a data directory that holds anything, unpacks into a
//! staging directory beside it, checks every file against the manifest and every room as
//! above, and only then moves the files into place. A relay started on it loads exactly
//! the backed-up rooms.

mod archive;
mod journal_copy;
mod restore;
mod room_copy;
#[cfg(test)]
mod tests;
mod verify;

pub use restore::restore;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::store::journal::JOURNAL_DIR;
use crate::store::sqlite::{DELETED_DIR, ROOMS_DIR};

/// How many times a backup starts over when a journal segment came and went unseen (which
/// takes a whole segment, 64 MiB, written during the copy of one room file).
pub const ATTEMPTS: usize = 5;

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("room file {path}: {reason}")]
    RoomFile { path: PathBuf, reason: String },
    #[error("the relay cleaned journal segments faster than {ATTEMPTS} attempts could read them; try again")]
    KeptMoving,
    #[error("{0} is not empty: restore only into an empty (or new) data directory")]
    NotEmpty(PathBuf),
    #[error("not a relay backup: {0}")]
    NotABackup(String),
    #[error("{dir} belongs to uid {owner} and this runs as uid {me}: run the backup as the relay's user (e.g. sudo -u scene-relay relay backup …), or SQLite files it creates there would lock the relay out")]
    WrongUser { dir: PathBuf, owner: u32, me: u32 },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("the restored rooms do not load: {0}")]
    Unloadable(String),
}

impl BackupError {
    fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
        move |source| BackupError::Io { what, path: path.to_owned(), source }
    }
}

/// What a backup or restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The archive written or read.
    pub archive: PathBuf,
    /// Unix milliseconds: every update acknowledged durable before it is in the backup.
    pub commit_point_ms: i64,
    /// Rooms in the backup.
    pub rooms: usize,
    /// Journal records (batches of updates) in the backup.
    pub journal_records: usize,
    /// Rooms deleted while the backup ran, left out of it.
    pub deleted_during_backup: Vec<String>,
    /// Rooms whose stored data was already damaged in the relay (their records and files
    /// are copied as they are; the relay refuses them, and so will a restored one).
    pub damaged_rooms: Vec<String>,
    /// Bytes of the archive.
    pub bytes: u64,
    /// Attempts it took (more than one when the relay cleaned a journal segment meanwhile).
    pub attempts: usize,
}

/// The parts of a data directory a backup holds.
fn parts(root: &Path) -> [PathBuf; 3] {
    [root.join(ROOMS_DIR), root.join(JOURNAL_DIR), root.join(DELETED_DIR)]
}

/// Backs up the rooms of the relay whose data directory is `data_dir` into the archive
/// `out`, while the relay runs.
pub fn create(data_dir: &Path, out: &Path) -> Result<Summary, BackupError> {
    if !data_dir.join(JOURNAL_DIR).is_dir() {
        return Err(BackupError::NotABackup(format!("{} holds no relay data (no journal/)", data_dir.display())));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for attempt in 1..=ATTEMPTS {
        let staging = tempfile::Builder::new().prefix(".relay-backup-").tempdir_in(&parent).map_err(BackupError::io("creating a staging directory in", &parent))?;
        same_user(data_dir, staging.path())?;
        match copy(data_dir, staging.path())? {
            Some(copied) => {
                let damaged_rooms = verify::check(staging.path())?;
                let manifest = archive::Manifest::new(staging.path(), &copied)?;
                let bytes = archive::write(staging.path(), &manifest, out)?;
                return Ok(Summary {
                    archive: out.to_owned(),
                    commit_point_ms: copied.commit_point_ms,
                    rooms: manifest.rooms.len(),
                    journal_records: copied.journal_records,
                    deleted_during_backup: copied.deleted_during_backup,
                    damaged_rooms,
                    bytes,
                    attempts: attempt,
                });
            }
            None => tracing::info!("a journal segment was cleaned during the backup; starting over"),
        }
    }
    Err(BackupError::KeptMoving)
}

/// Refuses to read `data_dir` as another user than its owner: reading a room file SQLite
/// may create its shared-memory file (`-shm`), which the relay's user could then not open.
/// (`ours` is a directory this process just created: its owner is who we run as.)
fn same_user(data_dir: &Path, ours: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::MetadataExt;
    let rooms = data_dir.join(ROOMS_DIR);
    let dir = if rooms.is_dir() { rooms } else { data_dir.to_owned() };
    let owner = std::fs::metadata(&dir).map_err(BackupError::io("reading", &dir))?.uid();
    let me = std::fs::metadata(ours).map_err(BackupError::io("reading", ours))?.uid();
    if owner != me {
        return Err(BackupError::WrongUser { dir, owner, me });
    }
    Ok(())
}

/// What one attempt copied into the staging directory.
pub(crate) struct Copied {
    commit_point_ms: i64,
    journal_records: usize,
    deleted_during_backup: Vec<String>,
}

/// One attempt: the journal up to the commit point, the room files, the journal since for
/// deletions, the deletion histories. `None` if the attempt must start over.
fn copy(data_dir: &Path, staging: &Path) -> Result<Option<Copied>, BackupError> {
    for dir in parts(staging) {
        std::fs::create_dir_all(&dir).map_err(BackupError::io("creating", &dir))?;
    }
    let journal_dir = data_dir.join(JOURNAL_DIR);
    let commit_point_ms = crate::store::now_ms();
    let mut journal = journal_copy::read(&journal_dir)?;
    let throughs = room_copy::copy_all(&data_dir.join(ROOMS_DIR), &staging.join(ROOMS_DIR), || journal.watch(&journal_dir))?;
    let Some(deleted) = journal_copy::deleted_since(&journal_dir, &mut journal)? else { return Ok(None) };
    for room in &deleted {
        room_copy::remove(&staging.join(ROOMS_DIR), room)?;
    }
    let journal_records = journal.write_live(&staging.join(JOURNAL_DIR), &throughs, &deleted)?;
    copy_histories(&data_dir.join(DELETED_DIR), &staging.join(DELETED_DIR))?;
    let mut deleted_during_backup: Vec<String> = deleted.into_iter().collect();
    deleted_during_backup.sort();
    Ok(Some(Copied { commit_point_ms, journal_records, deleted_during_backup }))
}

/// Copies the deletion histories (each written whole and renamed into place by the relay,
/// so a copy is an old one or a new one, never half of one).
fn copy_histories(from: &Path, to: &Path) -> Result<(), BackupError> {
    let entries = match std::fs::read_dir(from) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(BackupError::io("listing", from)(error)),
    };
    for entry in entries {
        let path = entry.map_err(BackupError::io("listing", from))?.path();
        if path.extension().is_none_or(|ext| ext != "history") {
            continue; // a temporary file being written
        }
        let Some(name) = path.file_name() else { continue };
        match std::fs::copy(&path, to.join(name)) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(BackupError::io("copying", &path)(error)),
        }
    }
    Ok(())
}
