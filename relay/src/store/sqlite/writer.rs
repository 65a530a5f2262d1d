//! The one thread that writes to the database: group commit.
//!
//! Jobs queue up while the previous commit is being fsynced; the writer takes everything
//! queued (waiting at most the commit window for more), writes it in one transaction,
//! commits once, and only then runs the appends' `on_durable` callbacks and answers the
//! callers. Jobs are written in queue order, so a compaction never overtakes the appends it
//! covers. If a commit fails twice the store turns unavailable: later appends are refused
//! rather than accepted into memory and never stored.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use super::schema::crc;
use super::Shared;
use crate::store::{now_ms, OnDurable, RestorePoint, StoreError};

pub enum Job {
    Append { room: Arc<str>, seq: u64, data: Vec<u8>, queued: Instant, on_durable: Option<OnDurable> },
    Compact { room: Arc<str>, through: u64, state: Vec<u8> },
    Delete { room: String, done: Sender<Result<(), StoreError>> },
    RestorePoint { room: String, name: String, state: Vec<u8>, done: Sender<Result<RestorePoint, StoreError>> },
    /// Answers once every job queued before it is durable.
    Barrier { done: Sender<Result<(), StoreError>> },
}

/// Jobs or bytes per commit, at most.
const MAX_BATCH_JOBS: usize = 8192;
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

pub fn run(mut conn: Connection, jobs: Receiver<Job>, shared: Arc<Shared>, window: Duration) {
    while let Ok(first) = jobs.recv() {
        let started = Instant::now();
        let mut batch = vec![first];
        let mut bytes = 0usize;
        while batch.len() < MAX_BATCH_JOBS && bytes < MAX_BATCH_BYTES {
            let left = window.saturating_sub(started.elapsed());
            let next = if left.is_zero() { jobs.try_recv().map_err(|_| RecvTimeoutError::Timeout) } else { jobs.recv_timeout(left) };
            match next {
                Ok(job) => {
                    bytes += job_bytes(&job);
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch, &shared);
    }
    tracing::debug!("store writer stopped");
}

fn job_bytes(job: &Job) -> usize {
    match job {
        Job::Append { data, .. } => data.len(),
        Job::Compact { state, .. } | Job::RestorePoint { state, .. } => state.len(),
        Job::Delete { .. } | Job::Barrier { .. } => 0,
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>, shared: &Shared) {
    if let Some(reason) = shared.failure() {
        answer(batch, Err(StoreError::Unavailable(reason)), shared);
        return;
    }
    let mut outcome = write(conn, &batch);
    if let Err(first) = &outcome {
        tracing::warn!(error = %first, "store commit failed; retrying once");
        std::thread::sleep(Duration::from_millis(100));
        outcome = write(conn, &batch);
    }
    match outcome {
        Ok(points) => answer_ok(batch, points, shared),
        Err(error) => {
            tracing::error!(%error, "store commit failed twice; refusing further writes");
            shared.fail(error.to_string());
            answer(batch, Err(StoreError::Unavailable(error.to_string())), shared);
        }
    }
}

/// Writes the batch in one transaction; returns the ids of the restore points it created.
fn write(conn: &mut Connection, batch: &[Job]) -> rusqlite::Result<Vec<i64>> {
    let tx = conn.transaction()?;
    let now = now_ms();
    let mut points = Vec::new();
    {
        let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO updates (room, seq, data, crc, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for job in batch {
            match job {
                Job::Append { room, seq, data, .. } => {
                    insert.execute(params![&**room, *seq as i64, data, crc(data), now])?;
                }
                Job::Compact { room, through, state } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO snapshots (room, through, state, crc, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![&**room, *through as i64, state, crc(state), now],
                    )?;
                    tx.execute("DELETE FROM updates WHERE room = ?1 AND seq <= ?2", params![&**room, *through as i64])?;
                }
                Job::Delete { room, .. } => {
                    tx.execute("DELETE FROM updates WHERE room = ?1", [room])?;
                    tx.execute("DELETE FROM snapshots WHERE room = ?1", [room])?;
                    tx.execute("DELETE FROM restore_points WHERE room = ?1", [room])?;
                }
                Job::RestorePoint { room, name, state, .. } => {
                    tx.execute(
                        "INSERT INTO restore_points (room, name, created_ms, state, crc) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![room, name, now, state, crc(state)],
                    )?;
                    points.push(tx.last_insert_rowid());
                }
                Job::Barrier { .. } => {}
            }
        }
    }
    tx.commit()?;
    Ok(points)
}

fn answer_ok(batch: Vec<Job>, points: Vec<i64>, shared: &Shared) {
    let now = Instant::now();
    let mut points = points.into_iter();
    let mut latencies = Vec::new();
    for job in batch {
        match job {
            Job::Append { queued, on_durable, data, .. } => {
                latencies.push(now.duration_since(queued));
                shared.count_durable(data.len());
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
    shared.record_latencies(&latencies);
}

fn answer(batch: Vec<Job>, result: Result<(), StoreError>, _shared: &Shared) {
    let error = match result {
        Ok(()) => return,
        Err(e) => e,
    };
    for job in batch {
        match job {
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
