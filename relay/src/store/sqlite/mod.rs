//! The embedded default store: accepted updates in the shared journal
//! (`{data-dir}/journal/`, see [`crate::store::journal`]), and one SQLite file per room under
//! `{data-dir}/rooms/` (WAL mode) for what stays with the room: its snapshot and restore
//! points. A single writer thread does group commit (see [`writer`]); loads and listings
//! use short-lived read-only connections and the journal's index.
//!
//! Damage is contained per room: a file SQLite reports as corrupt or truncated, a blob whose
//! CRC does not match, a journal batch that fails its checksum, or a log with a gap refuses
//! that room with [`StoreError::Damaged`]; other rooms load as usual.

mod deleted;
mod files;
mod room_files;
mod schema;
mod writer;

pub use files::{room_file, ROOMS_DIR};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::journal::{Journal, JournalRead, JournalReader, DEFAULT_SEGMENT_BYTES};
use super::{BlobUsage, OnDurable, RestorePoint, RoomInfo, RoomStore, StoreError, StoredRoom};
use schema::crc;
use writer::Job;

pub struct SqliteStore {
    data_dir: PathBuf,
    journal: JournalReader,
    jobs: Mutex<Option<Sender<Job>>>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// State the writer thread shares with the store's callers.
#[derive(Default)]
pub struct Shared {
    failed_rooms: Mutex<HashMap<String, String>>,
    /// Why the journal refuses writes (a failed append or fsync), if it does.
    journal_failure: Mutex<Option<String>>,
    /// Receipt to durable commit, in microseconds.
    latency_us: Mutex<Option<Histogram<u64>>>,
    durable_updates: AtomicU64,
    durable_bytes: AtomicU64,
    /// Bytes appended to the journal, and bytes of snapshots and restore points handed to
    /// room files: what the store itself writes (the figure write amplification is about,
    /// before the filesystem rounds it up to pages).
    journal_bytes: AtomicU64,
    room_file_bytes: AtomicU64,
}

impl Shared {
    fn room_failure(&self, room: &str) -> Option<String> {
        if let Some(reason) = self.journal_failure.lock().clone() {
            return Some(reason);
        }
        self.failed_rooms.lock().get(room).cloned()
    }

    fn fail_journal(&self, reason: String) {
        self.journal_failure.lock().get_or_insert(reason);
    }

    fn fail_room(&self, room: &str, reason: String) {
        self.failed_rooms.lock().entry(room.to_owned()).or_insert(reason);
    }

    fn clear_room_failure(&self, room: &str) {
        self.failed_rooms.lock().remove(room);
    }

    fn count_durable(&self, bytes: usize) {
        self.durable_updates.fetch_add(1, Ordering::Relaxed);
        self.durable_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn record_latencies(&self, latencies: &[Duration]) {
        if latencies.is_empty() {
            return;
        }
        let mut slot = self.latency_us.lock();
        if slot.is_none() {
            *slot = Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        }
        if let Some(histogram) = slot.as_mut() {
            for latency in latencies {
                histogram.saturating_record((latency.as_micros() as u64).max(1));
            }
        }
    }
}

/// Durability figures since the store opened.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DurabilityStats {
    pub durable_updates: u64,
    pub durable_bytes: u64,
    pub journal_bytes_written: u64,
    pub room_file_bytes_written: u64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
}

impl SqliteStore {
    /// Opens the store in `data_dir` (creating `rooms/` if needed). `commit_window` is how
    /// long the writer waits for more updates before a commit round.
    pub fn open(data_dir: &Path, commit_window: Duration) -> Result<Self, StoreError> {
        Self::open_with_segments(data_dir, commit_window, DEFAULT_SEGMENT_BYTES)
    }

    /// [`SqliteStore::open`] with journal segments of `segment_bytes` (tests use small ones).
    pub fn open_with_segments(data_dir: &Path, commit_window: Duration, segment_bytes: u64) -> Result<Self, StoreError> {
        let rooms = data_dir.join(ROOMS_DIR);
        std::fs::create_dir_all(&rooms).map_err(|e| StoreError::Io(format!("creating {}: {e}", rooms.display())))?;
        let journal = Journal::open(data_dir, segment_bytes).map_err(StoreError::Io)?;
        let reader = journal.reader();
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let (thread_shared, thread_dir) = (shared.clone(), data_dir.to_path_buf());
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(thread_dir, journal, rx, thread_shared, commit_window))
            .map_err(|e| StoreError::Io(format!("starting the writer thread: {e}")))?;
        Ok(SqliteStore {
            data_dir: data_dir.to_path_buf(),
            journal: reader,
            jobs: Mutex::new(Some(tx)),
            shared,
            writer: Mutex::new(Some(writer)),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Latency from receipt to durable commit, and volumes, since the store opened.
    pub fn durability_stats(&self) -> DurabilityStats {
        let slot = self.shared.latency_us.lock();
        let (p50, p99, max) =
            slot.as_ref().map(|h| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max())).unwrap_or_default();
        DurabilityStats {
            durable_updates: self.shared.durable_updates.load(Ordering::Relaxed),
            durable_bytes: self.shared.durable_bytes.load(Ordering::Relaxed),
            journal_bytes_written: self.shared.journal_bytes.load(Ordering::Relaxed),
            room_file_bytes_written: self.shared.room_file_bytes.load(Ordering::Relaxed),
            latency_p50_us: p50,
            latency_p99_us: p99,
            latency_max_us: max,
        }
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let jobs = self.jobs.lock();
        let sender = jobs.as_ref().ok_or_else(|| StoreError::Unavailable("store closed".into()))?;
        sender.send(job).map_err(|_| StoreError::Unavailable("store writer stopped".into()))
    }

    fn wait<T>(&self, job: Job, answer: mpsc::Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
        self.send(job)?;
        answer.recv().map_err(|_| StoreError::Unavailable("store writer stopped".into()))?
    }

    fn barrier(&self) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::Barrier { done }, answer)
    }

    /// Stops the writer after everything queued is committed.
    pub fn close(&self) {
        self.jobs.lock().take();
        if let Some(handle) = self.writer.lock().take() {
            let _ = handle.join();
        }
    }

    /// A read-only connection to `room`'s file, or `None` if the room was never stored.
    fn reader(&self, room: &str) -> Result<Option<Connection>, StoreError> {
        let path = room_file(&self.data_dir, room);
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| classify(room, e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| classify(room, e))?;
        schema::check_room(&conn, room).map_err(|reason| damaged(room, reason))?;
        Ok(Some(conn))
    }

    /// Snapshot (from the room's file), then the log: rows an older relay left in the file
    /// and the journal's batches, in sequence order, without gaps.
    fn read_room(&self, room: &str) -> Result<StoredRoom, StoreError> {
        let mut stored = StoredRoom::default();
        let mut log: Vec<(u64, Vec<u8>)> = Vec::new();
        if let Some(conn) = self.reader(room)? {
            let sql = |e: rusqlite::Error| classify(room, e);
            let snapshot: Option<(i64, Vec<u8>, i64)> = conn
                .query_row("SELECT through, state, crc FROM snapshot WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(sql)?;
            if let Some((through, state, sum)) = snapshot {
                if crc(&state) != sum {
                    return Err(damaged(room, "snapshot checksum mismatch".into()));
                }
                stored.last_seq = through as u64;
                stored.snapshot_bytes = state.len() as u64;
                stored.updates.push(state);
                self.journal.fold(room, through as u64);
            }
            let mut statement = conn.prepare("SELECT seq, data, crc FROM updates ORDER BY seq").map_err(sql)?;
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))
                .map_err(sql)?;
            for row in rows {
                let (seq, data, sum) = row.map_err(sql)?;
                if crc(&data) != sum {
                    return Err(damaged(room, format!("log entry {seq} checksum mismatch")));
                }
                log.push((seq as u64, data));
            }
        }
        let journal = self.journal.read_room(room).map_err(|error| match error {
            JournalRead::Damaged(reason) => damaged(room, reason),
            JournalRead::Io(reason) => StoreError::Io(format!("room {room:?}: {reason}")),
        })?;
        log.extend(journal);
        log.sort_by_key(|(seq, _)| *seq);
        for (seq, data) in log {
            if seq <= stored.last_seq {
                continue; // covered by the snapshot (or a copy of an entry already taken)
            }
            if seq != stored.last_seq + 1 {
                return Err(damaged(room, format!("log jumps from {} to {seq}", stored.last_seq)));
            }
            stored.last_seq = seq;
            stored.log_count += 1;
            stored.log_bytes += data.len() as u64;
            stored.updates.push(data);
        }
        Ok(stored)
    }

    fn room_info(&self, path: &Path) -> Option<RoomInfo> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).ok()?;
        let name = schema::read_meta(&conn, "room").ok()??;
        let (log_bytes, log_entries, last_update): (i64, i64, Option<i64>) = conn
            .query_row("SELECT COALESCE(SUM(length(data)), 0), COUNT(*), MAX(at_ms) FROM updates", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ok()?;
        let (snapshot_bytes, snapshot_at, through): (i64, Option<i64>, i64) = conn
            .query_row("SELECT COALESCE(SUM(length(state)), 0), MAX(updated_ms), COALESCE(MAX(through), 0) FROM snapshot", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ok()?;
        let (journal_entries, journal_bytes, journal_ms) = self.journal.room_shape(&name, through as u64);
        Some(RoomInfo {
            stored_bytes: (log_bytes + snapshot_bytes) as u64 + journal_bytes,
            log_entries: log_entries as u64 + journal_entries,
            last_activity_ms: last_update.max(snapshot_at).unwrap_or(0).max(journal_ms),
            name,
        })
    }
}

fn damaged(room: &str, reason: String) -> StoreError {
    StoreError::Damaged { room: room.to_owned(), reason }
}

/// What SQLite says about a room's file: corruption is that room's damage; anything else
/// is an I/O problem.
fn classify(room: &str, error: rusqlite::Error) -> StoreError {
    let corrupt = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    );
    if corrupt || matches!(error, rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..)) {
        damaged(room, error.to_string())
    } else {
        StoreError::Io(format!("room {room:?}: {error}"))
    }
}

impl RoomStore for SqliteStore {
    fn load(&self, room: &str) -> Result<StoredRoom, StoreError> {
        self.barrier()?;
        let stored = self.read_room(room)?;
        self.shared.clear_room_failure(room);
        Ok(stored)
    }

    fn append(&self, room: &str, seq: u64, update: &[u8], on_durable: Option<OnDurable>) -> Result<(), StoreError> {
        if let Some(reason) = self.shared.room_failure(room) {
            return Err(StoreError::Unavailable(reason));
        }
        let queued = std::time::Instant::now();
        self.send(Job::Append { room: room.into(), seq, data: update.to_vec(), queued, on_durable })
    }

    fn compact(&self, room: &str, through: u64, state: Vec<u8>) -> Result<(), StoreError> {
        self.send(Job::Compact { room: room.into(), through, state })
    }

    fn delete_room(&self, room: &str) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::Delete { room: room.into(), done }, answer)
    }

    fn remember_deletion(&self, room: &str, history: &[u8]) -> Result<(), StoreError> {
        deleted::remember(&self.data_dir, room, history)
    }

    fn deletion_history(&self, room: &str) -> Result<Option<Vec<u8>>, StoreError> {
        deleted::read(&self.data_dir, room)
    }

    fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        self.barrier()?;
        let dir = self.data_dir.join(ROOMS_DIR);
        let entries = std::fs::read_dir(&dir).map_err(|e| StoreError::Io(format!("listing {}: {e}", dir.display())))?;
        let mut rooms: Vec<RoomInfo> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == files::EXTENSION))
            .filter_map(|path| self.room_info(&path))
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::RestorePoint { room: room.into(), name: name.to_owned(), state, done }, answer)
    }

    fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError> {
        self.barrier()?;
        let Some(conn) = self.reader(room)? else { return Ok(Vec::new()) };
        let sql = |e: rusqlite::Error| classify(room, e);
        let mut statement = conn
            .prepare("SELECT id, name, created_ms, length(state) FROM restore_points ORDER BY id DESC")
            .map_err(sql)?;
        let rows = statement
            .query_map([], |r| {
                Ok(RestorePoint { id: r.get(0)?, name: r.get(1)?, created_ms: r.get(2)?, bytes: r.get::<_, i64>(3)? as u64 })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError> {
        self.barrier()?;
        let not_found = || StoreError::NotFound(format!("restore point {id} of room {room:?}"));
        let conn = self.reader(room)?.ok_or_else(not_found)?;
        let found: Option<(Vec<u8>, i64)> = conn
            .query_row("SELECT state, crc FROM restore_points WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| classify(room, e))?;
        let (state, sum) = found.ok_or_else(not_found)?;
        if crc(&state) != sum {
            return Err(damaged(room, format!("restore point {id} checksum mismatch")));
        }
        Ok(state)
    }

    fn put_blob(&self, room: &str, id: &str, content_type: &str, data: Vec<u8>) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        let job = Job::Blob { room: room.into(), id: id.to_owned(), content_type: content_type.to_owned(), data, done };
        self.wait(job, answer)
    }

    fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let not_found = || StoreError::NotFound(format!("blob {id} of room {room:?}"));
        let conn = self.reader(room)?.ok_or_else(not_found)?;
        let found: Result<Option<(String, Vec<u8>, i64)>, rusqlite::Error> = conn
            .query_row("SELECT content_type, data, crc FROM blobs WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional();
        let found = match found {
            // A file written before blobs existed has no table until its next write.
            Err(e) if e.to_string().contains("no such table") => return Err(not_found()),
            other => other.map_err(|e| classify(room, e))?,
        };
        let (content_type, data, sum) = found.ok_or_else(not_found)?;
        if crc(&data) != sum {
            return Err(damaged(room, format!("blob {id} checksum mismatch")));
        }
        Ok((content_type, data))
    }

    fn blob_usage(&self, room: &str, id: &str) -> Result<BlobUsage, StoreError> {
        let Some(conn) = self.reader(room)? else { return Ok(BlobUsage::default()) };
        // length() of a BLOB comes from the row header: no blob content is read.
        let found = conn.query_row(
            "SELECT COALESCE(SUM(length(data)), 0), COALESCE(MAX(id = ?1), 0) FROM blobs",
            [id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        );
        match found {
            Ok((bytes, present)) => Ok(BlobUsage { bytes: bytes.max(0) as u64, present: present != 0 }),
            // A file written before blobs existed has no table until its next write.
            Err(e) if e.to_string().contains("no such table") => Ok(BlobUsage::default()),
            Err(e) => Err(classify(room, e)),
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.barrier()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}
