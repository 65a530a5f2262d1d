//! The SQLite schema and connection settings, in one place.
//!
//! `updates` is the log (one row per accepted update, keyed by room and sequence number);
//! `snapshots` holds one folded state per room; `restore_points` the named snapshots. Every
//! blob carries a CRC-32 so damaged rows are refused instead of served.

use rusqlite::Connection;

pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    room       TEXT PRIMARY KEY,
    through    INTEGER NOT NULL,
    state      BLOB NOT NULL,
    crc        INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    room  TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    data  BLOB NOT NULL,
    crc   INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restore_points (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    state      BLOB NOT NULL,
    crc        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS restore_points_by_room ON restore_points (room, id);
";

/// Settings for every connection: WAL so reads never wait for the writer, a full fsync
/// per commit so a commit is durable when it returns, and a busy timeout.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Creates the tables if missing and refuses a database written by a newer relay.
pub fn migrate(conn: &Connection) -> Result<(), String> {
    conn.execute_batch(SCHEMA).map_err(|e| format!("creating tables: {e}"))?;
    let found: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |row| row.get(0))
        .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
        .map_err(|e| format!("reading schema version: {e}"))?;
    match found {
        None => {
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)", [SCHEMA_VERSION])
                .map_err(|e| format!("writing schema version: {e}"))?;
            Ok(())
        }
        Some(v) if v == SCHEMA_VERSION => Ok(()),
        Some(v) => Err(format!("database schema version {v} is newer than this relay's ({SCHEMA_VERSION})")),
    }
}

pub fn crc(bytes: &[u8]) -> i64 {
    i64::from(crc32fast::hash(bytes))
}
