//! The embedded default store: accepted updates in the shared journal
//! (`{data-dir}/journal/`, see [`crate::store::journal`]), and one SQLite file per room under
//! `{data-dir}/rooms/` (WAL mode) for what stays with the room: its snapshot, restore points
//! and blobs. A single writer thread does group commit ([`writer`]: the jobs of [`job`],
//! the room files' share in [`room_files`]); loads and listings use short-lived read-only
//! connections and the journal's index ([`reads`]).
//!
//! Damage is contained per room: a file SQLite reports as corrupt or truncated, a blob whose
//! CRC does not match, a journal batch that fails its checksum, or a log with a gap refuses
//! that room with [`StoreError::Damaged`]; other rooms load as usual.

mod deleted;
mod files;
mod job;
mod reads;
mod room_files;
mod schema;
mod shared;
mod writer;

pub use deleted::DELETED_DIR;
pub use files::{room_file, ROOMS_DIR};
pub use schema::read_meta;
pub use shared::DurabilityStats;

use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use super::journal::{Journal, DEFAULT_SEGMENT_BYTES};
use crate::instruments::Instruments;
use super::{BlobUsage, OnDurable, RestorePoint, RoomArchive, RoomInfo, StoreError, StoredRoom, UpdateLog};
use job::Job;
use reads::Reads;
use shared::Shared;

pub struct SqliteStore {
    reads: Reads,
    jobs: Mutex<Option<Sender<Job>>>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    /// Opens the store in `data_dir` (creating `rooms/` if needed). `commit_window` is how
    /// long the writer waits for more updates before a commit round.
    pub fn open(data_dir: &Path, commit_window: Duration) -> Result<Self, StoreError> {
        Self::open_with_segments(data_dir, commit_window, DEFAULT_SEGMENT_BYTES)
    }

    /// [`SqliteStore::open`] with journal segments of `segment_bytes` (`--journal-segment-bytes`;
    /// tests and the soak use small ones).
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
            reads: Reads { data_dir: data_dir.to_path_buf(), journal: reader },
            jobs: Mutex::new(Some(tx)),
            shared,
            writer: Mutex::new(Some(writer)),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.reads.data_dir
    }

    /// Latency from receipt to durable commit, and volumes, since the store opened.
    pub fn durability_stats(&self) -> DurabilityStats {
        self.shared.durability_stats()
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

    /// Waits until every job queued before it is durable.
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
}

impl UpdateLog for SqliteStore {
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

    fn durability(&self) -> Option<DurabilityStats> {
        Some(self.durability_stats())
    }

    fn instrument(&self, instruments: Arc<Instruments>) {
        // A relay hands its instruments over once; a second relay on the same store (tests)
        // keeps recording into the first's.
        let _ = self.shared.instruments.set(instruments);
    }
}

impl RoomArchive for SqliteStore {
    fn load(&self, room: &str) -> Result<StoredRoom, StoreError> {
        self.barrier()?;
        let stored = self.reads.room(room)?;
        self.shared.clear_room_failure(room);
        Ok(stored)
    }

    fn delete_room(&self, room: &str) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::Delete { room: room.into(), done }, answer)
    }

    fn remember_deletion(&self, room: &str, history: &[u8]) -> Result<(), StoreError> {
        deleted::remember(&self.reads.data_dir, room, history)
    }

    fn deletion_history(&self, room: &str) -> Result<Option<Vec<u8>>, StoreError> {
        deleted::read(&self.reads.data_dir, room)
    }

    fn list_rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        self.barrier()?;
        self.reads.list_rooms()
    }

    fn save_restore_point(&self, room: &str, name: &str, state: Vec<u8>) -> Result<RestorePoint, StoreError> {
        let (done, answer) = mpsc::channel();
        self.wait(Job::RestorePoint { room: room.into(), name: name.to_owned(), state, done }, answer)
    }

    fn restore_points(&self, room: &str) -> Result<Vec<RestorePoint>, StoreError> {
        self.barrier()?;
        self.reads.restore_points(room)
    }

    fn restore_point_state(&self, room: &str, id: i64) -> Result<Vec<u8>, StoreError> {
        self.barrier()?;
        self.reads.restore_point_state(room, id)
    }

    fn put_blob(&self, room: &str, id: &str, content_type: &str, data: Vec<u8>) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        let job = Job::Blob { room: room.into(), id: id.to_owned(), content_type: content_type.to_owned(), data, done };
        self.wait(job, answer)
    }

    fn blob(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        self.reads.blob(room, id)
    }

    fn blob_usage(&self, room: &str, id: &str) -> Result<BlobUsage, StoreError> {
        self.reads.blob_usage(room, id)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.barrier()
    }

    fn close(&self) {
        SqliteStore::close(self);
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}
