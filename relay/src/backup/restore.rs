//! `relay restore --from FILE --data-dir D`: only into an empty (or new) data directory,
//! never over a relay's data. The archive is unpacked into a staging directory beside `D`,
//! every file checked against the manifest and every room loaded ([`super::verify`]); only
//! then are the files moved into `D` (renames on one filesystem) and synced. A restore that
//! fails leaves `D` as it was.

use std::path::{Path, PathBuf};

use super::{archive, parts, verify, BackupError, Summary};

/// Whether `dir` is missing or holds nothing.
fn is_empty_or_missing(dir: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(BackupError::io("listing", dir)(error)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(BackupError::io("syncing", dir))
}

/// Restores the archive `from` into `data_dir`, which must be empty or missing.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
    if !is_empty_or_missing(data_dir)? {
        return Err(BackupError::NotEmpty(data_dir.to_owned()));
    }
    std::fs::create_dir_all(data_dir).map_err(BackupError::io("creating", data_dir))?;
    let parent = data_dir.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let staging = tempfile::Builder::new().prefix(".relay-restore-").tempdir_in(&parent).map_err(BackupError::io("creating a staging directory in", &parent))?;
    let manifest = archive::unpack(from, staging.path())?;
    for dir in parts(staging.path()) {
        std::fs::create_dir_all(&dir).map_err(BackupError::io("creating", &dir))?;
    }
    let damaged_rooms = verify::check(staging.path())?;
    if !damaged_rooms.is_empty() {
        tracing::warn!(?damaged_rooms, "rooms that were already damaged when backed up are restored as they were");
    }
    // The checks may have left companions of the room files (a rollback journal): only the
    // manifest's files move into place.
    for (stage, target) in parts(staging.path()).into_iter().zip(parts(data_dir)) {
        std::fs::create_dir_all(&target).map_err(BackupError::io("creating", &target))?;
        for file in manifest.files.iter().filter(|f| Path::new(&f.path).parent().is_some_and(|p| stage.ends_with(p))) {
            let name = Path::new(&file.path).file_name().unwrap_or_default();
            let to = target.join(name);
            std::fs::rename(stage.join(name), &to).map_err(BackupError::io("moving into place", &to))?;
        }
        sync_dir(&target)?;
    }
    sync_dir(data_dir)?;
    let journal_records = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("journal/"))
        .map(|f| std::fs::read(data_dir.join(&f.path)).map(|bytes| crate::store::journal::format::scan(&bytes).records.len()))
        .sum::<Result<usize, _>>()
        .map_err(BackupError::io("reading", data_dir))?;
    let bytes = std::fs::metadata(from).map(|m| m.len()).unwrap_or(0);
    Ok(Summary {
        archive: from.to_owned(),
        commit_point_ms: manifest.commit_point_ms,
        rooms: manifest.rooms.len(),
        journal_records,
        deleted_during_backup: Vec::new(),
        damaged_rooms,
        bytes,
        attempts: 1,
    })
}
