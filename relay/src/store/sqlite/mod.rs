//! The embedded default store: one SQLite file (`rooms.sqlite3` under `--data-dir`), WAL
//! mode, a single writer thread doing group commit (see [`writer`]) and a reader
//! connection for loads and listings.
//!
//! Damage is contained per room: a row whose CRC does not match, a log with a gap, or a
//! page SQLite reports as corrupt refuses that room with [`StoreError::Damaged`]; other
//! rooms load as usual.

mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{OnDurable, RestorePoint, RoomInfo, RoomStore, StoreError, StoredRoom};
use schema::crc;
use writer::Job;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "rooms.sqlite3";

pub struct SqliteStore {
    path: PathBuf,
    jobs: Mutex<Option<Sender<Job>>>,
    reader: Mutex<Connection>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// State the writer thread shares with the store's callers.
#[derive(Default)]
pub struct Shared {
    failure: Mutex<Option<String>>,
    /// Receipt to durable commit, in microseconds.
    latency_us: Mutex<Option<Histogram<u64>>>,
    durable_updates: AtomicU64,
    durable_bytes: AtomicU64,
}

impl Shared {
    fn failure(&self) -> Option<String> {
        self.failure.lock().clone()
    }

    fn fail(&self, reason: String) {
        self.failure.lock().get_or_insert(reason);
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
        let histogram = slot.get_or_insert_with(|| {
            Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| Histogram::new(3).expect("3 sigfigs is valid"))
        });
        for latency in latencies {
            let _ = histogram.record((latency.as_micros() as u64).max(1));
        }
    }
}

/// Durability figures since the store opened.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DurabilityStats {
    pub durable_updates: u64,
    pub durable_bytes: u64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`. `commit_window` is how long
    /// the writer waits for more updates before a commit.
    pub fn open(data_dir: &Path, commit_window: Duration) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let io = |what: &str, e: rusqlite::Error| StoreError::Io(format!("{what} {}: {e}", path.display()));
        let writer_conn = Connection::open(&path).map_err(|e| io("opening", e))?;
        schema::configure(&writer_conn).map_err(|e| io("configuring", e))?;
        schema::migrate(&writer_conn).map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| io("opening for reads", e))?;
        reader.busy_timeout(Duration::from_secs(10)).map_err(|e| io("configuring", e))?;

        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let thread_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(writer_conn, rx, thread_shared, commit_window))
            .map_err(|e| StoreError::Io(format!("starting the writer thread: {e}")))?;
        Ok(SqliteStore {
            path,
            jobs: Mutex::new(Some(tx)),
            reader: Mutex::new(reader),
            shared,
            writer: Mutex::new(Some(writer)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Latency from receipt to durable commit, and volumes, since the store opened.
    pub fn durability_stats(&self) -> DurabilityStats {
        let slot = self.shared.latency_us.lock();
        let (p50, p99, max) = slot
            .as_ref()
            .map(|h| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max()))
            .unwrap_or_default();
        DurabilityStats {
            durable_updates: self.shared.durable_updates.load(Ordering::Relaxed),
            durable_bytes: self.shared.durable_bytes.load(Ordering::Relaxed),
            latency_p50_us: p50,
            latency_p99_us: p99,
            latency_max_us: max,
        }
    }

    /// The store's failure, if a commit failed for good.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure()
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        if let Some(reason) = self.shared.failure() {
            return Err(StoreError::Unavailable(reason));
        }
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

    fn read_room(&self, room: &str) -> Result<StoredRoom, StoreError> {
        let reader = self.reader.lock();
        let damaged = |reason: String| StoreError::Damaged { room: room.to_owned(), reason };
        let sql = |e: rusqlite::Error| classify(room, e);
        let mut stored = StoredRoom::default();
        let snapshot: Option<(i64, Vec<u8>, i64)> = reader
            .query_row("SELECT through, state, crc FROM snapshots WHERE room = ?1", [room], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(sql)?;
        if let Some((through, state, sum)) = snapshot {
            if crc(&state) != sum {
                return Err(damaged("snapshot checksum mismatch".into()));
            }
            stored.last_seq = through as u64;
            stored.snapshot_bytes = state.len() as u64;
            stored.updates.push(state);
        }
        let mut statement = reader
            .prepare_cached("SELECT seq, data, crc FROM updates WHERE room = ?1 ORDER BY seq")
            .map_err(sql)?;
        let rows = statement
            .query_map([room], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))
            .map_err(sql)?;
        for row in rows {
            let (seq, data, sum) = row.map_err(sql)?;
            let seq = seq as u64;
            if crc(&data) != sum {
                return Err(damaged(format!("log entry {seq} checksum mismatch")));
            }
            if seq <= stored.last_seq {
                continue; // covered by the snapshot (a compaction raced a crash)
            }
            if seq != stored.last_seq + 1 {
                return Err(damaged(format!("log jumps from {} to {seq}", stored.last_seq)));
            }
            stored.last_seq = seq;
            stored.log_count += 1;
            stored.log_bytes += data.len() as u64;
            stored.updates.push(data);
        }
        Ok(stored)
    }
}

/// Corruption SQLite detects while reading a room is that room's damage; anything else is
/// an I/O problem.
fn classify(room: &str, error: rusqlite::Error) -> StoreError {
    let corrupt = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    );
    if corrupt || matches!(error, rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..)) {
        StoreError::Damaged { room: room.to_owned(), reason: error.to_string() }
    } else {
        StoreError::Io(error.to_string())
    }
}

impl RoomStore for SqliteStore {
    fn load(&self, room: &str) -> Result<StoredRoom, StoreError> {
        self.barrier()?;
        let started = Instant::now();
        let stored = self.read_room(room)?;
        tracing::debug!(room, updates = stored.updates.len(), elapsed = ?started.elapsed(), "room read from sqlite");
        Ok(stored)
    }

    fn append(&self, room: &str, seq: u64, update: &[u8], on_durable: Option<OnDurable>) -> Result<(), StoreError> {
        self.send(Job::Append { room: room.into(), seq, data: update.to_vec(), queued: Instant::now(), on_durable })
    }

    fn compact(&self, room: &str, through: u64, state: Vec<u8>) -> Result<(), StoreError> {
        self.send(Job::Compact { room: room.into(), through, state })
    }

    fn delete_room(&self, room: &str) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::Delete { room: room.to_owned(), done }, answer)
    }

    fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        self.barrier()?;
        let reader = self.reader.lock();
        let io = |e: rusqlite::Error| StoreError::Io(e.to_string());
        let mut statement = reader
            .prepare_cached(
                "SELECT room, SUM(bytes), SUM(entries), MAX(at) FROM (
                    SELECT room, length(state) AS bytes, 0 AS entries, updated_ms AS at FROM snapshots
                    UNION ALL
                    SELECT room, SUM(length(data)), COUNT(*), MAX(at_ms) FROM updates GROUP BY room
                 ) GROUP BY room ORDER BY room",
            )
            .map_err(io)?;
        let rows = statement
            .query_map([], |r| {
                Ok(RoomInfo {
                    name: r.get(0)?,
                    stored_bytes: r.get::<_, i64>(1)? as u64,
                    log_entries: r.get::<_, i64>(2)? as u64,
                    last_activity_ms: r.get(3)?,
                })
            })
            .map_err(io)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(io)
    }

    fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::RestorePoint { room: room.to_owned(), name: name.to_owned(), state, done }, answer)
    }

    fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError> {
        let reader = self.reader.lock();
        let sql = |e: rusqlite::Error| classify(room, e);
        let mut statement = reader
            .prepare_cached(
                "SELECT id, name, created_ms, length(state) FROM restore_points WHERE room = ?1 ORDER BY id DESC",
            )
            .map_err(sql)?;
        let rows = statement
            .query_map([room], |r| {
                Ok(RestorePoint { id: r.get(0)?, name: r.get(1)?, created_ms: r.get(2)?, bytes: r.get::<_, i64>(3)? as u64 })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError> {
        let reader = self.reader.lock();
        let found: Option<(Vec<u8>, i64)> = reader
            .query_row("SELECT state, crc FROM restore_points WHERE room = ?1 AND id = ?2", params![room, id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| classify(room, e))?;
        let (state, sum) = found.ok_or_else(|| StoreError::NotFound(format!("restore point {id} of room {room:?}")))?;
        if crc(&state) != sum {
            return Err(StoreError::Damaged { room: room.to_owned(), reason: format!("restore point {id} checksum mismatch") });
        }
        Ok(state)
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
