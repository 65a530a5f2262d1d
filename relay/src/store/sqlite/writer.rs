//! The one thread that writes: group commit.
//!
//! Jobs queue up while the previous round is being fsynced; the writer takes everything
//! queued (waiting at most the commit window for more) and commits it as one round:
//! 1. room files (snapshots, restore points, blobs, deletes), each room's share in one SQLite
//!    transaction (see [`room_files`]);
//! 2. every update of the round in one journal append and one `fdatasync`, whatever the
//!    number of rooms (see [`crate::store::journal`]);
//! 3. then, and only then, the appends' `on_durable` callbacks and the callers' answers.
//!
//! Deletes remove the room's file before the journal records them: a crash in between
//! leaves a log without its start, which a load refuses; it never serves half a room.
//! A room whose file fails twice is marked failed, and a journal that fails an append or
//! fsync refuses every later write: refused appends make their rooms reload, and clients
//! keep their edits until they can be stored.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::job::Job;
use super::room_files::RoomFiles;
use super::shared::Shared;
use crate::store::journal::{Entry, Journal};
use crate::store::{now_ms, RestorePoint, StoreError};

/// Jobs or bytes per commit round, at most.
const MAX_BATCH_JOBS: usize = 8192;
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

struct Writer {
    files: RoomFiles,
    /// Rooms known to have their file (created on the room's first append).
    with_file: HashSet<Arc<str>>,
    journal: Journal,
    shared: Arc<Shared>,
}

pub fn run(data_dir: PathBuf, journal: Journal, jobs: Receiver<Job>, shared: Arc<Shared>, window: Duration) {
    let mut writer = Writer { files: RoomFiles::new(data_dir), with_file: HashSet::new(), journal, shared };
    while let Ok(first) = jobs.recv() {
        let started = Instant::now();
        let mut bytes = first.bytes();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_JOBS && bytes < MAX_BATCH_BYTES {
            let left = window.saturating_sub(started.elapsed());
            let next = if left.is_zero() { jobs.try_recv().map_err(|_| RecvTimeoutError::Timeout) } else { jobs.recv_timeout(left) };
            match next {
                Ok(job) => {
                    bytes += job.bytes();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        writer.commit_round(batch);
    }
    tracing::debug!("store writer stopped");
}

/// The journal entries of a round, in queue order: consecutive updates of a room become one
/// batch; a delete ends the room's batch.
fn journal_entries(batch: &[Job]) -> Vec<Entry<'_>> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut open_batch: HashMap<&str, usize> = HashMap::new();
    for job in batch {
        match job {
            Job::Append { room, seq, data, .. } => {
                let continues = open_batch.get(&**room).and_then(|&i| match entries.get_mut(i) {
                    Some(Entry::Batch { first_seq, updates, .. }) if *first_seq + updates.len() as u64 == *seq => Some(updates),
                    _ => None,
                });
                match continues {
                    Some(updates) => updates.push(data),
                    None => {
                        open_batch.insert(room, entries.len());
                        entries.push(Entry::Batch { room, first_seq: *seq, updates: vec![data] });
                    }
                }
            }
            Job::Delete { room, .. } => {
                open_batch.remove(&**room);
                entries.push(Entry::Delete { room });
            }
            Job::Compact { .. } | Job::RestorePoint { .. } | Job::Blob { .. } | Job::Barrier { .. } => {}
        }
    }
    entries
}

impl Writer {
    fn commit_round(&mut self, batch: Vec<Job>) {
        let started = Instant::now();
        // 1. Room files, each room's jobs in queue order.
        let mut file_rooms: Vec<Arc<str>> = Vec::new();
        for room in batch.iter().filter_map(Job::file_room) {
            if !file_rooms.contains(room) {
                file_rooms.push(room.clone());
            }
        }
        let mut file_outcomes: HashMap<Arc<str>, Result<std::vec::IntoIter<i64>, StoreError>> = HashMap::new();
        for room in file_rooms {
            let jobs: Vec<&Job> = batch.iter().filter(|job| job.file_room() == Some(&room)).collect();
            let outcome = self.write_room_file(&room, &jobs);
            if outcome.is_ok() {
                let bytes: usize = jobs.iter().map(|job| job.bytes()).sum();
                self.shared.room_file_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                for job in &jobs {
                    match job {
                        Job::Compact { through, .. } => self.journal.fold(&room, *through),
                        Job::Delete { .. } => {
                            self.with_file.remove(&room);
                            self.shared.clear_room_failure(&room);
                        }
                        _ => {}
                    }
                }
            }
            file_outcomes.insert(room, outcome.map(Vec::into_iter));
        }

        // 2. The round's updates (and deletes) in one journal append.
        let entries = journal_entries(&batch);
        let before = self.journal.bytes_written();
        let journaled = self.journal.append(&entries, now_ms()).map(drop);
        drop(entries);
        if let Err(reason) = &journaled {
            tracing::error!(error = %reason, "the journal failed; refusing every later write");
            self.shared.fail_journal(reason.clone());
            self.count_error("journal");
        }
        if let Some(instruments) = self.shared.instruments.get() {
            instruments.store_commit.observe(started.elapsed().as_secs_f64());
        }

        // 3. Answers.
        let now = Instant::now();
        let mut latencies = Vec::new();
        for job in batch {
            match job {
                Job::Append { room, queued, on_durable, data, .. } => {
                    if journaled.is_err() || self.shared.room_failure(&room).is_some() {
                        continue; // never acknowledged: the client re-sends it on resync
                    }
                    self.ensure_file(&room);
                    latencies.push(now.duration_since(queued));
                    self.shared.count_durable(data.len());
                    if let Some(done) = on_durable {
                        done();
                    }
                }
                Job::Barrier { done } => {
                    let _ = done.send(journaled.clone().map_err(StoreError::Unavailable));
                }
                Job::Compact { .. } => {}
                Job::Blob { room, done, .. } => {
                    let answer = match file_outcomes.get(&room) {
                        Some(Ok(_)) => Ok(()),
                        Some(Err(error)) => Err(error.clone()),
                        None => Err(StoreError::Io("room file job lost".into())),
                    };
                    let _ = done.send(answer);
                }
                Job::Delete { room, done } => {
                    let answer = match file_outcomes.get(&room) {
                        Some(Ok(_)) => journaled.clone().map_err(StoreError::Unavailable),
                        Some(Err(error)) => Err(error.clone()),
                        None => Err(StoreError::Io("room file job lost".into())),
                    };
                    let _ = done.send(answer);
                }
                Job::RestorePoint { room, name, state, done } => {
                    let answer = match file_outcomes.get_mut(&room) {
                        Some(Ok(ids)) => Ok(RestorePoint { id: ids.next().unwrap_or_default(), name, created_ms: now_ms(), bytes: state.len() as u64 }),
                        Some(Err(error)) => Err(error.clone()),
                        None => Err(StoreError::Io("room file job lost".into())),
                    };
                    let _ = done.send(answer);
                }
            }
        }
        self.shared.record_latencies(&latencies);

        // 4. Seal and clean journal segments when one is full.
        let files = &self.files;
        if let Err(reason) = self.journal.maintain(|room| files.snapshot_through(room)) {
            tracing::error!(error = %reason, "journal upkeep failed");
        }
        let appended = self.journal.bytes_written() - before;
        self.shared.journal_bytes.fetch_add(appended, Ordering::Relaxed);
        self.files.close_least_recent();
    }

    /// Writes one room's file jobs, retrying once; a second failure marks the room failed.
    fn write_room_file(&mut self, room: &Arc<str>, jobs: &[&Job]) -> Result<Vec<i64>, StoreError> {
        if let Some(reason) = self.shared.room_failure(room) {
            return Err(StoreError::Unavailable(reason));
        }
        let mut outcome = self.files.write(room, jobs);
        if let Err(first) = &outcome {
            self.count_error("room_file");
            tracing::warn!(room = %room, error = %first, "room file commit failed; retrying once");
            self.files.forget(room);
            std::thread::sleep(Duration::from_millis(50));
            outcome = self.files.write(room, jobs);
        }
        outcome.map_err(|reason| {
            self.count_error("room_file");
            tracing::error!(room = %room, error = %reason, "room file commit failed twice; refusing its writes");
            self.files.forget(room);
            self.shared.fail_room(room, reason.clone());
            StoreError::Unavailable(reason)
        })
    }

    fn count_error(&self, kind: &'static str) {
        if let Some(instruments) = self.shared.instruments.get() {
            instruments.store_error(kind);
        }
    }

    /// Creates the room's file on its first append (it names the room for listings and
    /// will hold its snapshots).
    fn ensure_file(&mut self, room: &Arc<str>) {
        if self.with_file.contains(room) {
            return;
        }
        match self.files.ensure(room) {
            Ok(()) => {
                self.with_file.insert(room.clone());
            }
            Err(reason) => tracing::error!(room = %room, error = %reason, "could not create the room's file"),
        }
    }
}
