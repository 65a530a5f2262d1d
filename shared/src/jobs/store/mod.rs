//! The `jobs` root map: one nested map per job, keyed by job id, with one flat key per field
//! (so the runner's progress writes and a collaborator's cancel request never collide). The
//! exact layout, for plain Yjs clients too, is in `docs/scene-schema.md` ("Jobs").
//!
//! Every method takes the caller's transaction; open it with [`super::JOBS_ORIGIN`]. Writers
//! only move a job forward (queued → running → done / failed / cancelled, or queued →
//! cancelled / failed): nothing changes a finished job, so two collaborators marking the same
//! lost job failed write the same values (idempotent), a late progress write cannot resurrect
//! a cancelled job, and a cancelled queued job is never started.

use yrs::{Any, Doc, In, Map, MapPrelim, MapRef, Out, ReadTxn, TransactionMut};

use crate::scene::read::{finite_number as number, string};

use super::model::{Finding, Job, JobKind, JobState, PhaseTiming};
use super::{JOBS, KEEP_FINISHED};

/// Key names of a job map.
pub mod keys {
    pub const KIND: &str = "kind";
    pub const STARTED_BY: &str = "startedBy";
    pub const STARTED_BY_CLIENT: &str = "startedByClient";
    pub const RUNNER: &str = "runner";
    pub const STATE: &str = "state";
    pub const PHASE: &str = "phase";
    pub const PROGRESS: &str = "progress";
    pub const ETA: &str = "eta";
    pub const CREATED: &str = "createdAt";
    pub const STARTED: &str = "startedAt";
    pub const HEARTBEAT: &str = "heartbeat";
    pub const FINISHED: &str = "finishedAt";
    pub const TIMINGS: &str = "timings";
    pub const BLOB: &str = "blob";
    pub const NOTE: &str = "note";
    pub const FINDINGS: &str = "findings";
    pub const ERROR: &str = "error";
    pub const CANCEL: &str = "cancel";
    pub const CANCELLED_BY: &str = "cancelledBy";
}

/// What starting (or queueing) a job needs.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: JobKind,
    pub started_by: &'a str,
    /// The starting client, which also runs it.
    pub client: u64,
    pub now_ms: f64,
}

/// The phase a queued job shows until its runner starts it.
pub const QUEUED_PHASE: &str = "queued";

/// A progress report of the runner, for [`Jobs::progress`].
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub phase: &'a str,
    /// 0..=100.
    pub percent: f64,
    pub eta_secs: Option<f64>,
    /// The phases finished so far (and the current one's time so far).
    pub timings: &'a [PhaseTiming],
    pub now_ms: f64,
}

/// How a job ended, for [`Jobs::finish`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done { blob: Option<String>, note: Option<String>, findings: Vec<Finding> },
    Failed(String),
    Cancelled,
}

/// Typed access to the jobs of a scene document.
#[derive(Clone)]
pub struct Jobs {
    map: MapRef,
}

impl Jobs {
    /// Binds to `doc`, creating the root map if needed (before the first transaction).
    pub fn new(doc: &Doc) -> Self {
        Jobs { map: doc.get_or_insert_map(JOBS) }
    }

    pub fn root(&self) -> &MapRef {
        &self.map
    }

    /// Every job, newest first (by creation time, then id).
    pub fn list<T: ReadTxn>(&self, txn: &T) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .map
            .iter(txn)
            .filter_map(|(id, value)| match value {
                Out::YMap(map) => Some(read(id, &map, txn)),
                _ => None,
            })
            .collect();
        crate::order::sort_by(&mut jobs, |a, b| b.created_ms.total_cmp(&a.created_ms).then_with(|| b.id.cmp(&a.id)));
        jobs
    }

    pub fn get<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<Job> {
        match self.map.get(txn, id)? {
            Out::YMap(map) => Some(read(id, &map, txn)),
            _ => None,
        }
    }

    fn job_map<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<MapRef> {
        match self.map.get(txn, id)? {
            Out::YMap(map) => Some(map),
            _ => None,
        }
    }

    /// Adds a running job (the starter's runner is idle and runs it at once) and prunes old
    /// finished ones.
    pub fn start(&self, txn: &mut TransactionMut, job: &NewJob) {
        self.add(txn, job, JobState::Running);
    }

    /// Adds a queued job (the starter's runner is busy; it runs the job later, see
    /// [`Jobs::begin`]) and prunes old finished ones.
    pub fn enqueue(&self, txn: &mut TransactionMut, job: &NewJob) {
        self.add(txn, job, JobState::Queued);
    }

    fn add(&self, txn: &mut TransactionMut, job: &NewJob, state: JobState) {
        let running = state == JobState::Running;
        let mut fields: Vec<(&str, In)> = vec![
            (keys::KIND, In::from(job.kind.as_str())),
            (keys::STARTED_BY, In::from(job.started_by)),
            (keys::STARTED_BY_CLIENT, In::from(job.client as f64)),
            (keys::RUNNER, In::from(job.client as f64)),
            (keys::STATE, In::from(state.as_str())),
            (keys::PHASE, In::from(if running { "starting" } else { QUEUED_PHASE })),
            (keys::PROGRESS, In::from(0.0)),
            (keys::CREATED, In::from(job.now_ms)),
            (keys::HEARTBEAT, In::from(job.now_ms)),
            (keys::CANCEL, In::from(false)),
        ];
        if running {
            fields.push((keys::STARTED, In::from(job.now_ms)));
        }
        self.map.insert(txn, job.id, fields.into_iter().collect::<MapPrelim>());
        self.prune(txn);
    }

    /// The runner starts a queued job: `running` from `now_ms` on. Ignored (false) unless the
    /// job is still queued and nobody asked to cancel it, so a job cancelled or failed while
    /// it waited is skipped, and starting twice changes nothing.
    pub fn begin(&self, txn: &mut TransactionMut, id: &str, now_ms: f64) -> bool {
        let Some(map) = self.job_map(txn, id) else { return false };
        if read_state(&map, txn) != Some(JobState::Queued) || cancel_requested(&map, txn) {
            return false;
        }
        set(txn, &map, keys::STATE, Any::from(JobState::Running.as_str()));
        set(txn, &map, keys::PHASE, Any::from("starting"));
        set(txn, &map, keys::PROGRESS, Any::from(0.0));
        set(txn, &map, keys::STARTED, Any::from(now_ms));
        set(txn, &map, keys::HEARTBEAT, Any::from(now_ms));
        true
    }

    /// The runner's progress: phase, percent, ETA, heartbeat, the timings so far. Ignored
    /// for a finished job. Returns whether anything was written.
    pub fn progress(&self, txn: &mut TransactionMut, id: &str, report: &Report) -> bool {
        let Some(map) = self.active_map(txn, id) else { return false };
        let Report { phase, percent, eta_secs, timings, now_ms } = *report;
        set(txn, &map, keys::PHASE, Any::from(phase));
        set(txn, &map, keys::PROGRESS, Any::from(round1(percent.clamp(0.0, 100.0))));
        match eta_secs.filter(|e| e.is_finite()) {
            Some(eta) => set(txn, &map, keys::ETA, Any::from(round1(eta.max(0.0)))),
            None => {
                map.remove(txn, keys::ETA);
            }
        }
        set(txn, &map, keys::TIMINGS, Any::from(timings_json(timings)));
        set(txn, &map, keys::HEARTBEAT, Any::from(now_ms));
        true
    }

    /// The runner is alive (written about once a second while the job runs, also when no
    /// progress is made, e.g. during an upload).
    pub fn heartbeat(&self, txn: &mut TransactionMut, id: &str, now_ms: f64) -> bool {
        let Some(map) = self.active_map(txn, id) else { return false };
        set(txn, &map, keys::HEARTBEAT, Any::from(now_ms));
        true
    }

    /// Cancels a job (anyone may): a queued job is cancelled at once (it never runs); a
    /// running one gets the request, and its runner stops and marks it cancelled. Ignored
    /// for a finished job.
    ///
    /// `cancel` is set in both cases, so a cancel racing the runner's [`Jobs::begin`] ends
    /// the same whichever `state` write wins the merge: either the job reads cancelled, or it
    /// reads running with the request, and the runner stops it.
    pub fn request_cancel(&self, txn: &mut TransactionMut, id: &str, by: &str, now_ms: f64) -> bool {
        let Some(map) = self.active_map(txn, id) else { return false };
        set(txn, &map, keys::CANCEL, Any::from(true));
        set(txn, &map, keys::CANCELLED_BY, Any::from(by));
        if read_state(&map, txn) == Some(JobState::Queued) {
            set(txn, &map, keys::STATE, Any::from(JobState::Cancelled.as_str()));
            set(txn, &map, keys::FINISHED, Any::from(now_ms));
            self.prune(txn);
        }
        true
    }

    /// Ends a job (the runner, or a collaborator for a lost runner), then prunes. Ignored for
    /// a job already finished, so the first ending wins and repeating it changes nothing.
    pub fn finish(&self, txn: &mut TransactionMut, id: &str, outcome: Outcome, timings: &[PhaseTiming], now_ms: f64) -> bool {
        let Some(map) = self.active_map(txn, id) else { return false };
        let state = match &outcome {
            Outcome::Done { .. } => JobState::Done,
            Outcome::Failed(_) => JobState::Failed,
            Outcome::Cancelled => JobState::Cancelled,
        };
        set(txn, &map, keys::STATE, Any::from(state.as_str()));
        set(txn, &map, keys::FINISHED, Any::from(now_ms));
        map.remove(txn, keys::ETA);
        if !timings.is_empty() {
            set(txn, &map, keys::TIMINGS, Any::from(timings_json(timings)));
        }
        match outcome {
            Outcome::Done { blob, note, findings } => {
                set(txn, &map, keys::PROGRESS, Any::from(100.0));
                set(txn, &map, keys::PHASE, Any::from("done"));
                if let Some(blob) = blob {
                    set(txn, &map, keys::BLOB, Any::from(blob));
                }
                if let Some(note) = note {
                    set(txn, &map, keys::NOTE, Any::from(note));
                }
                if state == JobState::Done && matches!(read_kind(&map, txn), Some(JobKind::Check)) {
                    let json = serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into());
                    set(txn, &map, keys::FINDINGS, Any::from(json));
                }
            }
            Outcome::Failed(reason) => set(txn, &map, keys::ERROR, Any::from(reason)),
            Outcome::Cancelled => {}
        }
        self.prune(txn);
        true
    }

    /// Deletes finished jobs beyond the [`KEEP_FINISHED`] most recent (by finishing time).
    pub fn prune(&self, txn: &mut TransactionMut) {
        let mut finished: Vec<(f64, String)> = self
            .list(txn)
            .into_iter()
            .filter(|job| !job.is_active())
            .map(|job| (job.finished_ms.unwrap_or(job.created_ms), job.id))
            .collect();
        crate::order::sort_by(&mut finished, |a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
        for (_, id) in finished.into_iter().skip(KEEP_FINISHED) {
            self.map.remove(txn, &id);
        }
    }

    fn active_map<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<MapRef> {
        let map = self.job_map(txn, id)?;
        read_state(&map, txn).filter(|s| !s.is_finished()).map(|_| map)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn timings_json(timings: &[PhaseTiming]) -> String {
    serde_json::to_string(timings).unwrap_or_else(|_| "[]".into())
}

/// Writes `value` unless it is already there (no update for a no-op).
fn set(txn: &mut TransactionMut, map: &MapRef, key: &str, value: Any) {
    if matches!(map.get(txn, key), Some(Out::Any(ref have)) if *have == value) {
        return;
    }
    map.insert(txn, key, In::Any(value));
}


fn read_state<T: ReadTxn>(map: &MapRef, txn: &T) -> Option<JobState> {
    string(map, txn, keys::STATE).as_deref().and_then(JobState::parse)
}

fn cancel_requested<T: ReadTxn>(map: &MapRef, txn: &T) -> bool {
    matches!(map.get(txn, keys::CANCEL), Some(Out::Any(Any::Bool(true))))
}

fn read_kind<T: ReadTxn>(map: &MapRef, txn: &T) -> Option<JobKind> {
    string(map, txn, keys::KIND).as_deref().and_then(JobKind::parse)
}

fn json_list<T: ReadTxn, V: serde::de::DeserializeOwned>(map: &MapRef, txn: &T, key: &str) -> Option<Vec<V>> {
    string(map, txn, key).and_then(|s| serde_json::from_str(&s).ok())
}

/// Reads a job map tolerantly: what is missing or malformed reads as the default.
fn read<T: ReadTxn>(id: &str, map: &MapRef, txn: &T) -> Job {
    let client = |key: &str| number(map, txn, key).filter(|n| *n >= 0.0).map_or(0, |n| n as u64);
    Job {
        id: id.to_owned(),
        kind: read_kind(map, txn),
        started_by: string(map, txn, keys::STARTED_BY).unwrap_or_default(),
        started_by_client: client(keys::STARTED_BY_CLIENT),
        runner: client(keys::RUNNER),
        state: read_state(map, txn),
        phase: string(map, txn, keys::PHASE).unwrap_or_default(),
        progress: number(map, txn, keys::PROGRESS).unwrap_or(0.0).clamp(0.0, 100.0),
        eta_secs: number(map, txn, keys::ETA),
        created_ms: number(map, txn, keys::CREATED).unwrap_or(0.0),
        started_ms: number(map, txn, keys::STARTED),
        heartbeat_ms: number(map, txn, keys::HEARTBEAT).unwrap_or(0.0),
        finished_ms: number(map, txn, keys::FINISHED),
        timings: json_list(map, txn, keys::TIMINGS).unwrap_or_default(),
        blob: string(map, txn, keys::BLOB).filter(|b| !b.is_empty()),
        note: string(map, txn, keys::NOTE),
        findings: json_list(map, txn, keys::FINDINGS).unwrap_or_default(),
        error: string(map, txn, keys::ERROR),
        cancel_requested: cancel_requested(map, txn),
        cancelled_by: string(map, txn, keys::CANCELLED_BY),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod queued_tests;
