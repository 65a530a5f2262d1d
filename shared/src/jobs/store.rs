//! The `jobs` root map: one nested map per job, keyed by job id, with one flat key per field
//! (so the runner's progress writes and a collaborator's cancel request never collide). The
//! exact layout, for plain Yjs clients too, is in `docs/scene-schema.md` ("Jobs").
//!
//! Every method takes the caller's transaction; open it with [`super::JOBS_ORIGIN`]. Writers
//! only move a job forward: nothing changes a finished job, so two collaborators marking the
//! same lost job failed write the same values (idempotent), and a late progress write cannot
//! resurrect a cancelled job.

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

/// What starting a job needs.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: JobKind,
    pub started_by: &'a str,
    /// The starting client, which also runs it.
    pub client: u64,
    pub now_ms: f64,
}

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
        jobs.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms).then_with(|| b.id.cmp(&a.id)));
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

    /// Adds a running job (the starter runs it at once) and prunes old finished ones.
    pub fn start(&self, txn: &mut TransactionMut, job: &NewJob) {
        let fields: Vec<(&str, In)> = vec![
            (keys::KIND, In::from(job.kind.as_str())),
            (keys::STARTED_BY, In::from(job.started_by)),
            (keys::STARTED_BY_CLIENT, In::from(job.client as f64)),
            (keys::RUNNER, In::from(job.client as f64)),
            (keys::STATE, In::from(JobState::Running.as_str())),
            (keys::PHASE, In::from("starting")),
            (keys::PROGRESS, In::from(0.0)),
            (keys::CREATED, In::from(job.now_ms)),
            (keys::HEARTBEAT, In::from(job.now_ms)),
            (keys::CANCEL, In::from(false)),
        ];
        self.map.insert(txn, job.id, fields.into_iter().collect::<MapPrelim>());
        self.prune(txn);
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

    /// Asks the runner to stop (anyone may). Ignored for a finished job.
    pub fn request_cancel(&self, txn: &mut TransactionMut, id: &str, by: &str) -> bool {
        let Some(map) = self.active_map(txn, id) else { return false };
        set(txn, &map, keys::CANCEL, Any::from(true));
        set(txn, &map, keys::CANCELLED_BY, Any::from(by));
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
        finished.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
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
        heartbeat_ms: number(map, txn, keys::HEARTBEAT).unwrap_or(0.0),
        finished_ms: number(map, txn, keys::FINISHED),
        timings: json_list(map, txn, keys::TIMINGS).unwrap_or_default(),
        blob: string(map, txn, keys::BLOB).filter(|b| !b.is_empty()),
        note: string(map, txn, keys::NOTE),
        findings: json_list(map, txn, keys::FINDINGS).unwrap_or_default(),
        error: string(map, txn, keys::ERROR),
        cancel_requested: matches!(map.get(txn, keys::CANCEL), Some(Out::Any(Any::Bool(true)))),
        cancelled_by: string(map, txn, keys::CANCELLED_BY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JOBS_ORIGIN;
    use crate::scene::SceneUndo;
    use yrs::Transact;

    fn start(jobs: &Jobs, doc: &Doc, id: &str, now: f64) {
        let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
        jobs.start(&mut txn, &NewJob { id, kind: JobKind::Render, started_by: "Ann", client: 7, now_ms: now });
    }

    #[test]
    fn a_job_goes_from_running_to_done_and_reads_back() {
        let doc = Doc::new();
        let jobs = Jobs::new(&doc);
        start(&jobs, &doc, "j1", 1000.0);
        {
            let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
            let timings = vec![PhaseTiming { phase: "tiles".into(), ms: 12.0 }];
            let report = Report { phase: "tiles", percent: 42.04, eta_secs: Some(3.0), timings: &timings, now_ms: 1500.0 };
            assert!(jobs.progress(&mut txn, "j1", &report));
        }
        let job = jobs.get(&doc.transact(), "j1").unwrap();
        assert_eq!((job.kind, job.state, job.progress, job.eta_secs), (Some(JobKind::Render), Some(JobState::Running), 42.0, Some(3.0)));
        assert_eq!((job.started_by.as_str(), job.runner, job.heartbeat_ms), ("Ann", 7, 1500.0));
        {
            let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
            let done = Outcome::Done { blob: Some("abc".into()), note: None, findings: Vec::new() };
            assert!(jobs.finish(&mut txn, "j1", done, &[], 2000.0));
            // Finished jobs don't move any more: no progress, no second ending.
            let late = Report { phase: "tiles", percent: 50.0, eta_secs: None, timings: &[], now_ms: 2100.0 };
            assert!(!jobs.progress(&mut txn, "j1", &late));
            assert!(!jobs.finish(&mut txn, "j1", Outcome::Failed("late".into()), &[], 2200.0));
            assert!(!jobs.request_cancel(&mut txn, "j1", "Bob"));
        }
        let job = jobs.get(&doc.transact(), "j1").unwrap();
        assert_eq!((job.state, job.progress, job.blob.as_deref(), job.error), (Some(JobState::Done), 100.0, Some("abc"), None));
        assert_eq!(job.timings, vec![PhaseTiming { phase: "tiles".into(), ms: 12.0 }]);
    }

    #[test]
    fn cancel_requests_and_check_reports_round_trip() {
        let doc = Doc::new();
        let jobs = Jobs::new(&doc);
        {
            let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
            jobs.start(&mut txn, &NewJob { id: "c", kind: JobKind::Check, started_by: "Ann", client: 1, now_ms: 1.0 });
            assert!(jobs.request_cancel(&mut txn, "c", "Bob"));
        }
        let job = jobs.get(&doc.transact(), "c").unwrap();
        assert!(job.cancel_requested && job.is_active());
        assert_eq!(job.cancelled_by.as_deref(), Some("Bob"));
        let findings = vec![Finding { kind: crate::jobs::FindingKind::Orphan, nodes: vec!["n1".into()], message: "m".into() }];
        jobs.finish(&mut doc.transact_mut_with(JOBS_ORIGIN), "c", Outcome::Done { blob: None, note: None, findings: findings.clone() }, &[], 5.0);
        assert_eq!(jobs.get(&doc.transact(), "c").unwrap().findings, findings);
    }

    #[test]
    fn only_the_most_recent_finished_jobs_are_kept() {
        let doc = Doc::new();
        let jobs = Jobs::new(&doc);
        for i in 0..30 {
            let id = format!("j{i:02}");
            start(&jobs, &doc, &id, i as f64);
            if i != 3 {
                jobs.finish(&mut doc.transact_mut_with(JOBS_ORIGIN), &id, Outcome::Cancelled, &[], 100.0 + i as f64);
            }
        }
        let list = jobs.list(&doc.transact());
        assert_eq!(list.len(), KEEP_FINISHED + 1, "20 finished plus the running one");
        assert!(list.iter().any(|j| j.id == "j03" && j.is_active()));
        assert!(list.iter().all(|j| j.id.as_str() >= "j10" || j.id == "j03"));
    }

    #[test]
    fn job_writes_never_enter_the_editors_undo_stack() {
        let doc = Doc::new();
        let jobs = Jobs::new(&doc);
        let mut undo = SceneUndo::with_system_clock(&doc, "editor");
        start(&jobs, &doc, "j", 1.0);
        let report = Report { phase: "tiles", percent: 10.0, eta_secs: None, timings: &[], now_ms: 2.0 };
        jobs.progress(&mut doc.transact_mut_with(JOBS_ORIGIN), "j", &report);
        assert!(!undo.can_undo());
        assert!(!undo.undo());
        assert!(jobs.get(&doc.transact(), "j").is_some());
    }

    #[test]
    fn malformed_values_read_as_defaults() {
        let doc = Doc::new();
        let jobs = Jobs::new(&doc);
        {
            let mut txn = doc.transact_mut();
            let fields: Vec<(&str, In)> = vec![(keys::KIND, In::from(5.0)), (keys::PROGRESS, In::from("x")), (keys::FINDINGS, In::from("{"))];
            jobs.root().insert(&mut txn, "odd", fields.into_iter().collect::<MapPrelim>());
            jobs.root().insert(&mut txn, "not-a-map", "x");
        }
        let list = jobs.list(&doc.transact());
        assert_eq!(list.len(), 1);
        let job = &list[0];
        assert_eq!((job.kind, job.state, job.progress, job.findings.len()), (None, None, 0.0, 0));
        assert!(!job.is_active());
    }
}
