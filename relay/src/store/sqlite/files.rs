//! Where each room's file lives: `{data-dir}/rooms/{slug}-{hash}.sqlite3`, where the slug
//! is a readable prefix of the room name and the hash (SHA-256 of the full name, 16 hex
//! digits) makes the name unique and filesystem-safe whatever the room is called.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub const ROOMS_DIR: &str = "rooms";
pub const EXTENSION: &str = "sqlite3";

/// The file of `room` under `data_dir`.
pub fn room_file(data_dir: &Path, room: &str) -> PathBuf {
    let slug: String = room
        .chars()
        .take(40)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let digest = Sha256::digest(room.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    data_dir.join(ROOMS_DIR).join(format!("{slug}-{hash}.{EXTENSION}"))
}

/// The database file and its WAL and shared-memory companions.
pub fn with_companions(file: &Path) -> [PathBuf; 3] {
    let name = file.as_os_str().to_owned();
    let mut wal = name.clone();
    wal.push("-wal");
    let mut shm = name;
    shm.push("-shm");
    [file.to_path_buf(), PathBuf::from(wal), PathBuf::from(shm)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_unique_and_readable() {
        let dir = Path::new("/data");
        let a = room_file(dir, "Team/Scene: one");
        let b = room_file(dir, "Team/Scene: one!");
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("Team_Scene__one-"), "{name}");
        assert!(name.ends_with(".sqlite3"));
        let long = room_file(dir, &"é".repeat(200));
        assert!(long.file_name().unwrap().len() < 120);
    }
}
