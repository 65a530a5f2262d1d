//! The SQLite schema of one room's file and the connection settings, in one place.
//!
//! Each room lives in its own file, so damage to one file (a bad disk sector, a truncated
//! copy) takes down that room only. In it: `updates` is the log (one row per accepted
//! update, keyed by sequence number); `snapshot` holds at most one folded state;
//! `restore_points` the named snapshots; `blobs` the files scene jobs made (content-addressed
//! by SHA-256; a table created by `IF NOT EXISTS`, so older files gain it on their next write); `meta` the schema version and the room's name.
//! Every blob carries a CRC-32 so damaged rows are refused instead of served.

use rusqlite::{Connection, OptionalExtension};

pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    through    INTEGER NOT NULL,
    state      BLOB NOT NULL,
    crc        INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    seq   INTEGER PRIMARY KEY,
    data  BLOB NOT NULL,
    crc   INTEGER NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    id           TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    crc          INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS restore_points (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    state      BLOB NOT NULL,
    crc        INTEGER NOT NULL
);
";

/// Settings for a writing connection: WAL so reads never wait for the writer, a full fsync
/// per commit so a commit is durable when it returns, 1 KiB pages, a small page cache (many rooms may be
/// open at once), and a busy timeout.
pub fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    // Small pages: every commit rewrites the log's last page, so the page size is the floor
    // of bytes written per commit (takes effect when the file is created).
    conn.pragma_update(None, "page_size", 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -256)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Creates the tables of a new room file, or checks an existing one: same schema version,
/// same room (file names are derived from a hash of the room name).
pub fn prepare(conn: &Connection, room: &str) -> Result<(), String> {
    conn.execute_batch(SCHEMA).map_err(|e| format!("creating tables: {e}"))?;
    let version = read_meta(conn, "schema_version")?;
    match version.as_deref().map(str::parse::<i64>) {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('room', ?2)",
                rusqlite::params![SCHEMA_VERSION.to_string(), room],
            )
            .map_err(|e| format!("writing meta: {e}"))?;
        }
        Some(Ok(v)) if v == SCHEMA_VERSION => {}
        Some(Ok(v)) => return Err(format!("schema version {v} is newer than this relay's ({SCHEMA_VERSION})")),
        Some(Err(_)) => return Err("schema version is not a number".into()),
    }
    check_room(conn, room)
}

/// Refuses a file that belongs to another room.
pub fn check_room(conn: &Connection, room: &str) -> Result<(), String> {
    match read_meta(conn, "room")? {
        Some(stored) if stored == room => Ok(()),
        Some(stored) => Err(format!("file belongs to room {stored:?}")),
        None => Err("file does not name its room".into()),
    }
}

pub fn read_meta(conn: &Connection, key: &str) -> Result<Option<String>, String> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
        .optional()
        .map_err(|e| format!("reading {key}: {e}"))
}

pub fn crc(bytes: &[u8]) -> i64 {
    i64::from(crc32fast::hash(bytes))
}
