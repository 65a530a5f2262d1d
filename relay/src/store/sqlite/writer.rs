//! The one thread that writes room files: group commit.
//!
//! Jobs queue up while the previous commits are being fsynced; the writer takes everything
//! queued (waiting at most the commit window for more), groups it by room, writes each
//! room's share in one transaction and commits it, and only then runs the appends'
//! `on_durable` callbacks and answers the callers. Jobs of a room are written in queue
//! order, so a compaction never overtakes the appends it covers.
//!
//! A room whose commit fails twice is marked failed: its later appends are refused (the
//! room reloads, and clients keep their edits until it can be stored) while every other
//! room carries on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use super::schema::{self, crc};
use super::{files, Shared};
use crate::store::{now_ms, OnDurable, RestorePoint, StoreError};

pub enum Job {
    Append { room: Arc<str>, seq: u64, data: Vec<u8>, queued: Instant, on_durable: Option<OnDurable> },
    Compact { room: Arc<str>, through: u64, state: Vec<u8> },
    Delete { room: Arc<str>, done: Sender<Result<(), StoreError>> },
    RestorePoint { room: Arc<str>, name: String, state: Vec<u8>, done: Sender<Result<RestorePoint, StoreError>> },
    /// Answers once every job queued before it is durable.
    Barrier { done: Sender<Result<(), StoreError>> },
}

impl Job {
    fn room(&self) -> Option<&Arc<str>> {
        match self {
            Job::Append { room, .. } | Job::Compact { room, .. } | Job::Delete { room, .. } | Job::RestorePoint { room, .. } => Some(room),
            Job::Barrier { .. } => None,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Job::Append { data, .. } => data.len(),
            Job::Compact { state, .. } | Job::RestorePoint { state, .. } => state.len(),
            Job::Delete { .. } | Job::Barrier { .. } => 0,
        }
    }

    /// Answers a job that could not be written.
    fn fail(self, error: &StoreError) {
        match self {
            Job::Delete { done, .. } | Job::Barrier { done } => {
                let _ = done.send(Err(error.clone()));
            }
            Job::RestorePoint { done, .. } => {
                let _ = done.send(Err(error.clone()));
            }
            // Never acknowledged: the client keeps the update and re-sends it on resync.
            Job::Append { .. } | Job::Compact { .. } => {}
        }
    }
}

/// Jobs or bytes per commit round, at most.
const MAX_BATCH_JOBS: usize = 8192;
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// Room files kept open between commits.
const MAX_OPEN_FILES: usize = 256;

struct Writer {
    data_dir: PathBuf,
    open: HashMap<Arc<str>, (Connection, u64)>,
    round: u64,
    shared: Arc<Shared>,
}

pub fn run(data_dir: PathBuf, jobs: Receiver<Job>, shared: Arc<Shared>, window: Duration) {
    let mut writer = Writer { data_dir, open: HashMap::new(), round: 0, shared };
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

impl Writer {
    fn commit_round(&mut self, batch: Vec<Job>) {
        self.round += 1;
        let mut by_room: Vec<(Arc<str>, Vec<Job>)> = Vec::new();
        let mut barriers = Vec::new();
        for job in batch {
            match job.room().cloned() {
                Some(room) => match by_room.iter_mut().find(|(r, _)| *r == room) {
                    Some((_, jobs)) => jobs.push(job),
                    None => by_room.push((room, vec![job])),
                },
                None => barriers.push(job),
            }
        }
        let mut latencies = Vec::new();
        for (room, jobs) in by_room {
            self.commit_room(&room, jobs, &mut latencies);
        }
        self.shared.record_latencies(&latencies);
        for barrier in barriers {
            if let Job::Barrier { done } = barrier {
                let _ = done.send(Ok(()));
            }
        }
        self.close_least_recent();
    }

    fn commit_room(&mut self, room: &Arc<str>, jobs: Vec<Job>, latencies: &mut Vec<Duration>) {
        if let Some(reason) = self.shared.room_failure(room) {
            let error = StoreError::Unavailable(reason);
            jobs.into_iter().for_each(|job| job.fail(&error));
            return;
        }
        let mut outcome = self.write_room(room, &jobs);
        if let Err(first) = &outcome {
            tracing::warn!(room = %room, error = %first, "room commit failed; retrying once");
            self.open.remove(room);
            std::thread::sleep(Duration::from_millis(50));
            outcome = self.write_room(room, &jobs);
        }
        match outcome {
            Ok(points) => self.answer(jobs, points, latencies),
            Err(reason) => {
                tracing::error!(room = %room, error = %reason, "room commit failed twice; refusing its writes");
                self.open.remove(room);
                self.shared.fail_room(room, reason.clone());
                let error = StoreError::Unavailable(reason);
                jobs.into_iter().for_each(|job| job.fail(&error));
            }
        }
    }

    /// Writes one room's jobs in one transaction; returns the ids of restore points created.
    fn write_room(&mut self, room: &Arc<str>, jobs: &[Job]) -> Result<Vec<i64>, String> {
        if let [Job::Delete { .. }] = jobs {
            return self.delete(room).map(|()| Vec::new());
        }
        let round = self.round;
        let conn = self.connection(room)?;
        let now = now_ms();
        let mut points = Vec::new();
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        for job in jobs {
            let written = match job {
                Job::Append { seq, data, .. } => tx
                    .prepare_cached("INSERT OR REPLACE INTO updates (seq, data, crc, at_ms) VALUES (?1, ?2, ?3, ?4)")
                    .and_then(|mut s| s.execute(params![*seq as i64, data, crc(data), now]))
                    .map(drop),
                Job::Compact { through, state, .. } => tx
                    .execute(
                        "INSERT OR REPLACE INTO snapshot (id, through, state, crc, updated_ms) VALUES (1, ?1, ?2, ?3, ?4)",
                        params![*through as i64, state, crc(state), now],
                    )
                    .and_then(|_| tx.execute("DELETE FROM updates WHERE seq <= ?1", [*through as i64]))
                    .map(drop),
                Job::RestorePoint { name, state, .. } => tx
                    .execute(
                        "INSERT INTO restore_points (name, created_ms, state, crc) VALUES (?1, ?2, ?3, ?4)",
                        params![name, now, state, crc(state)],
                    )
                    .map(|_| points.push(tx.last_insert_rowid())),
                Job::Delete { .. } => {
                    tx.execute_batch("DELETE FROM updates; DELETE FROM snapshot; DELETE FROM restore_points;")
                }
                Job::Barrier { .. } => Ok(()),
            };
            written.map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        if let Some(entry) = self.open.get_mut(room) {
            entry.1 = round;
        }
        Ok(points)
    }

    /// The open connection of `room`, opening (and creating) its file if needed.
    fn connection(&mut self, room: &Arc<str>) -> Result<&mut Connection, String> {
        if !self.open.contains_key(room) {
            let conn = open_for_writes(&self.data_dir, room)?;
            self.open.insert(room.clone(), (conn, self.round));
        }
        self.open.get_mut(room).map(|(conn, _)| conn).ok_or_else(|| "room file not open".to_owned())
    }

    fn delete(&mut self, room: &Arc<str>) -> Result<(), String> {
        self.open.remove(room);
        for path in files::with_companions(&files::room_file(&self.data_dir, room)) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("removing {}: {e}", path.display())),
            }
        }
        self.shared.clear_room_failure(room);
        Ok(())
    }

    fn answer(&self, jobs: Vec<Job>, points: Vec<i64>, latencies: &mut Vec<Duration>) {
        let now = Instant::now();
        let mut points = points.into_iter();
        for job in jobs {
            match job {
                Job::Append { queued, on_durable, data, .. } => {
                    latencies.push(now.duration_since(queued));
                    self.shared.count_durable(data.len());
                    if let Some(done) = on_durable {
                        done();
                    }
                }
                Job::Compact { .. } => {}
                Job::Delete { done, .. } | Job::Barrier { done } => {
                    let _ = done.send(Ok(()));
                }
                Job::RestorePoint { name, state, done, .. } => {
                    let id = points.next().unwrap_or_default();
                    let point = RestorePoint { id, name, created_ms: now_ms(), bytes: state.len() as u64 };
                    let _ = done.send(Ok(point));
                }
            }
        }
    }

    fn close_least_recent(&mut self) {
        while self.open.len() > MAX_OPEN_FILES {
            let oldest = self.open.iter().min_by_key(|(_, (_, used))| *used).map(|(room, _)| room.clone());
            match oldest {
                Some(room) => {
                    self.open.remove(&room);
                }
                None => break,
            }
        }
    }
}

fn open_for_writes(data_dir: &Path, room: &str) -> Result<Connection, String> {
    let path = files::room_file(data_dir, room);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let conn = Connection::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    schema::configure_writer(&conn).map_err(|e| format!("configuring {}: {e}", path.display()))?;
    schema::prepare(&conn, room).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}
