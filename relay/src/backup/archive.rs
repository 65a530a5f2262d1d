//! The backup archive: a plain tar file (inspect it with `tar tvf`), `manifest.json` first,
//! then the staged data directory's files. The manifest names the format, the relay that
//! wrote it, the commit point, the rooms, and every file's size and SHA-256, which a
//! restore checks before it trusts a byte. Only the paths a data directory holds are
//! written or accepted (`rooms/*.sqlite3`, `journal/*.log`, `deleted/*.history`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{parts, BackupError, Copied};
use crate::store::sqlite::read_meta;

pub const FORMAT: &str = "scene-relay-backup";
pub const VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub relay_version: String,
    pub relay_commit: String,
    pub created_ms: i64,
    /// Every update acknowledged durable before this (Unix milliseconds) is in the backup.
    pub commit_point_ms: i64,
    /// The rooms whose files the backup holds.
    pub rooms: Vec<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the data directory, with `/` separators.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Whether `path` (relative, `/`-separated) is a file a data directory holds.
fn allowed(path: &str) -> bool {
    let Some((dir, name)) = path.split_once('/') else { return false };
    let plain = !name.is_empty() && !name.contains('/') && !name.starts_with('.') && !name.contains("..");
    let suffix = match dir {
        "rooms" => ".sqlite3",
        "journal" => ".log",
        "deleted" => ".history",
        _ => return false,
    };
    plain && name.ends_with(suffix)
}

fn digest(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = File::open(path).map_err(BackupError::io("reading", path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(BackupError::io("reading", path))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    let hex = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((bytes, hex))
}

/// The files under the staged data directory `root`, as manifest entries.
fn entries(root: &Path) -> Result<Vec<FileEntry>, BackupError> {
    let mut files = Vec::new();
    for dir in parts(root) {
        let listing = std::fs::read_dir(&dir).map_err(BackupError::io("listing", &dir))?;
        for entry in listing {
            let path = entry.map_err(BackupError::io("listing", &dir))?.path();
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if !allowed(&relative) {
                continue; // e.g. a companion file a check left behind
            }
            let (bytes, sha256) = digest(&path)?;
            files.push(FileEntry { path: relative, bytes, sha256 });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

impl Manifest {
    pub(super) fn new(root: &Path, copied: &Copied) -> Result<Manifest, BackupError> {
        let files = entries(root)?;
        let mut rooms = Vec::new();
        for file in files.iter().filter(|f| f.path.starts_with("rooms/")) {
            let path = root.join(&file.path);
            let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| BackupError::RoomFile { path: path.clone(), reason: e.to_string() })?;
            if let Ok(Some(room)) = read_meta(&conn, "room") {
                rooms.push(room);
            }
        }
        rooms.sort();
        Ok(Manifest {
            format: FORMAT.to_owned(),
            version: VERSION,
            relay_version: env!("CARGO_PKG_VERSION").to_owned(),
            relay_commit: env!("RELAY_COMMIT").to_owned(),
            created_ms: crate::store::now_ms(),
            commit_point_ms: copied.commit_point_ms,
            rooms,
            files,
        })
    }
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(BackupError::io("syncing", dir))
}

/// Writes the archive of the staged `root` to `out` (beside it first, then renamed);
/// returns its size.
pub fn write(root: &Path, manifest: &Manifest, out: &Path) -> Result<u64, BackupError> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = File::create(&partial).map_err(BackupError::io("creating", &partial))?;
    let mut tar = tar::Builder::new(file);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Io { what: "encoding", path: partial.clone(), source: e.into() })?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(manifest.created_ms / 1000).unwrap_or(0));
    header.set_cksum();
    let written = tar
        .append_data(&mut header, MANIFEST, json.as_slice())
        .and_then(|()| manifest.files.iter().try_for_each(|f| tar.append_path_with_name(root.join(&f.path), &f.path)))
        .and_then(|()| tar.into_inner())
        .and_then(|mut file| file.flush().and_then(|()| file.sync_all()).map(|()| file));
    let file = match written {
        Ok(file) => file,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(BackupError::io("writing", &partial)(error));
        }
    };
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    std::fs::rename(&partial, out).map_err(BackupError::io("renaming into place", out))?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(bytes)
}

/// Unpacks the archive `from` into the empty directory `root` and checks every file
/// against its manifest.
pub fn unpack(from: &Path, root: &Path) -> Result<Manifest, BackupError> {
    let file = File::open(from).map_err(BackupError::io("opening", from))?;
    let mut tar = tar::Archive::new(file);
    let mut manifest: Option<Manifest> = None;
    let mut unpacked = Vec::new();
    let entries = tar.entries().map_err(BackupError::io("reading", from))?;
    for entry in entries {
        let mut entry = entry.map_err(BackupError::io("reading", from))?;
        let path = entry.path().map_err(BackupError::io("reading", from))?.to_string_lossy().into_owned();
        if path == MANIFEST {
            let mut json = Vec::new();
            entry.by_ref().take(16 << 20).read_to_end(&mut json).map_err(BackupError::io("reading", from))?;
            let read: Manifest = serde_json::from_slice(&json).map_err(|e| BackupError::NotABackup(format!("manifest: {e}")))?;
            if read.format != FORMAT || read.version != VERSION {
                return Err(BackupError::NotABackup(format!("format {} version {}", read.format, read.version)));
            }
            manifest = Some(read);
            continue;
        }
        if !allowed(&path) || entry.header().entry_type() != tar::EntryType::Regular {
            return Err(BackupError::NotABackup(format!("unexpected entry {path:?}")));
        }
        let target = root.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(BackupError::io("creating", parent))?;
        }
        let mut out = File::create(&target).map_err(BackupError::io("creating", &target))?;
        std::io::copy(&mut entry, &mut out).and_then(|_| out.sync_all()).map_err(BackupError::io("writing", &target))?;
        unpacked.push(path);
    }
    let manifest = manifest.ok_or_else(|| BackupError::NotABackup("no manifest.json".into()))?;
    unpacked.sort();
    let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    if unpacked != listed {
        return Err(BackupError::Damaged(format!("the archive holds {unpacked:?}, its manifest lists {listed:?}")));
    }
    for expected in &manifest.files {
        let (bytes, sha256) = digest(&root.join(&expected.path))?;
        if bytes != expected.bytes || sha256 != expected.sha256 {
            return Err(BackupError::Damaged(format!("{} does not match its checksum", expected.path)));
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_data_directorys_files_are_allowed() {
        for path in ["rooms/a-0123.sqlite3", "journal/0000000000000001.log", "deleted/a-0123.history"] {
            assert!(allowed(path), "{path}");
        }
        for path in ["manifest.json", "../etc/passwd", "rooms/../x.sqlite3", "rooms/a.sqlite3-wal", "journal/x/y.log", "/rooms/a.sqlite3", "rooms/.hidden.sqlite3"] {
            assert!(!allowed(path), "{path}");
        }
    }
}
