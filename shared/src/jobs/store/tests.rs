//! Tests of the job store: the life of a running job, cancel requests, check reports,
//! pruning, undo, and tolerant reading.

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
        assert!(!jobs.request_cancel(&mut txn, "j1", "Bob", 2300.0));
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
        assert!(jobs.request_cancel(&mut txn, "c", "Bob", 2.0));
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
