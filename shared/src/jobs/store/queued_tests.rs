//! Tests of queued jobs in the store: queued → running → finished, a queued job cancelled or
//! failed before it runs (and never started afterwards), idempotence, undo, and a cancel
//! racing the runner's start on two documents merged in both orders.

use super::*;
use crate::jobs::JOBS_ORIGIN;
use crate::scene::SceneUndo;
use yrs::updates::decoder::Decode;
use yrs::{StateVector, Transact, Update};

fn enqueue(jobs: &Jobs, doc: &Doc, id: &str, now: f64) {
    let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
    jobs.enqueue(&mut txn, &NewJob { id, kind: JobKind::Check, started_by: "Ann", client: 7, now_ms: now });
}

fn job(jobs: &Jobs, doc: &Doc, id: &str) -> Job {
    jobs.get(&doc.transact(), id).unwrap_or_default()
}

#[test]
fn a_queued_job_runs_later_with_its_own_start_time() {
    let doc = Doc::new();
    let jobs = Jobs::new(&doc);
    enqueue(&jobs, &doc, "q", 1000.0);
    let waiting = job(&jobs, &doc, "q");
    assert_eq!((waiting.state, waiting.phase.as_str(), waiting.started_ms), (Some(JobState::Queued), QUEUED_PHASE, None));
    assert!(waiting.is_active() && waiting.is_queued());
    // Its runner keeps it alive while it waits.
    assert!(jobs.heartbeat(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", 2000.0));
    {
        let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
        assert!(jobs.begin(&mut txn, "q", 5000.0));
        // Starting twice changes nothing.
        assert!(!jobs.begin(&mut txn, "q", 6000.0));
    }
    let running = job(&jobs, &doc, "q");
    assert_eq!((running.state, running.phase.as_str()), (Some(JobState::Running), "starting"));
    assert_eq!((running.created_ms, running.started_ms, running.heartbeat_ms), (1000.0, Some(5000.0), 5000.0));
    let done = Outcome::Done { blob: None, note: None, findings: Vec::new() };
    assert!(jobs.finish(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", done, &[], 7000.0));
    assert_eq!(job(&jobs, &doc, "q").state, Some(JobState::Done));
    assert!(!jobs.begin(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", 8000.0), "a finished job never starts again");
}

#[test]
fn a_job_started_at_once_has_its_start_time_too() {
    let doc = Doc::new();
    let jobs = Jobs::new(&doc);
    jobs.start(&mut doc.transact_mut_with(JOBS_ORIGIN), &NewJob { id: "r", kind: JobKind::Render, started_by: "Ann", client: 7, now_ms: 10.0 });
    let running = job(&jobs, &doc, "r");
    assert_eq!((running.state, running.started_ms), (Some(JobState::Running), Some(10.0)));
    assert!(!jobs.begin(&mut doc.transact_mut_with(JOBS_ORIGIN), "r", 20.0), "only a queued job begins");
}

#[test]
fn a_cancelled_queued_job_ends_at_once_and_never_runs() {
    let doc = Doc::new();
    let jobs = Jobs::new(&doc);
    enqueue(&jobs, &doc, "q", 1000.0);
    assert!(jobs.request_cancel(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", "Bob", 1500.0));
    let cancelled = job(&jobs, &doc, "q");
    assert_eq!((cancelled.state, cancelled.finished_ms, cancelled.cancelled_by.as_deref()), (Some(JobState::Cancelled), Some(1500.0), Some("Bob")));
    assert_eq!((cancelled.started_ms, cancelled.timings.len()), (None, 0));
    let before = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
        assert!(!jobs.begin(&mut txn, "q", 2000.0), "the runner skips it");
        assert!(!jobs.request_cancel(&mut txn, "q", "Cy", 2100.0), "a second cancel changes nothing");
        assert!(!jobs.heartbeat(&mut txn, "q", 2200.0));
        assert!(!jobs.finish(&mut txn, "q", Outcome::Failed("runner disconnected".into()), &[], 2300.0));
    }
    assert_eq!(doc.transact().state_vector(), before, "nothing was written");
    assert_eq!(job(&jobs, &doc, "q"), cancelled);
}

#[test]
fn a_queued_job_whose_runner_left_is_failed_and_never_runs() {
    let doc = Doc::new();
    let jobs = Jobs::new(&doc);
    enqueue(&jobs, &doc, "q", 1000.0);
    let lost = || Outcome::Failed("runner disconnected".into());
    assert!(jobs.finish(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", lost(), &[], 1500.0));
    assert!(!jobs.finish(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", lost(), &[], 1600.0), "idempotent");
    assert!(!jobs.begin(&mut doc.transact_mut_with(JOBS_ORIGIN), "q", 2000.0));
    let failed = job(&jobs, &doc, "q");
    assert_eq!((failed.state, failed.error.as_deref(), failed.started_ms), (Some(JobState::Failed), Some("runner disconnected"), None));
}

#[test]
fn queueing_starting_and_cancelling_stay_out_of_the_undo_stack() {
    let doc = Doc::new();
    let jobs = Jobs::new(&doc);
    let mut undo = SceneUndo::with_system_clock(&doc, "editor");
    enqueue(&jobs, &doc, "a", 1.0);
    enqueue(&jobs, &doc, "b", 2.0);
    jobs.begin(&mut doc.transact_mut_with(JOBS_ORIGIN), "a", 3.0);
    jobs.request_cancel(&mut doc.transact_mut_with(JOBS_ORIGIN), "b", "Bob", 4.0);
    assert!(!undo.can_undo());
    assert!(!undo.undo());
    assert_eq!(job(&jobs, &doc, "b").state, Some(JobState::Cancelled));
}

fn update_since(from: &Doc, to: &StateVector) -> Update {
    let bytes = from.transact().encode_state_as_update_v1(to);
    Update::decode_v1(&bytes).unwrap_or_else(|e| panic!("a document's own update decodes: {e}"))
}

fn apply(doc: &Doc, update: Update) {
    doc.transact_mut_with(JOBS_ORIGIN).apply_update(update).unwrap_or_else(|e| panic!("update applies: {e}"));
}

/// The runner (client `runner_id`) starts queued job "q" while a collaborator (client
/// `other_id`) cancels it; then each gets the other's update. Returns both documents.
fn race(runner_id: u64, other_id: u64) -> (Doc, Doc) {
    let (runner, other) = (Doc::with_client_id(runner_id), Doc::with_client_id(other_id));
    let (runner_jobs, other_jobs) = (Jobs::new(&runner), Jobs::new(&other));
    enqueue(&runner_jobs, &runner, "q", 1000.0);
    apply(&other, update_since(&runner, &StateVector::default()));
    let (runner_sv, other_sv) = (runner.transact().state_vector(), other.transact().state_vector());
    assert!(runner_jobs.begin(&mut runner.transact_mut_with(JOBS_ORIGIN), "q", 2000.0));
    assert!(other_jobs.request_cancel(&mut other.transact_mut_with(JOBS_ORIGIN), "q", "Bob", 2000.0));
    let (from_runner, from_other) = (update_since(&runner, &runner_sv), update_since(&other, &other_sv));
    apply(&runner, from_other);
    apply(&other, from_runner);
    (runner, other)
}

#[test]
fn a_cancel_racing_the_start_of_a_queued_job_ends_cancelled_on_both_sides() {
    // Both client-id orders, so each of the two concurrent `state` writes wins once.
    for (runner_id, other_id) in [(1, 2), (2, 1)] {
        let (runner, other) = race(runner_id, other_id);
        let (runner_jobs, other_jobs) = (Jobs::new(&runner), Jobs::new(&other));
        let (on_runner, on_other) = (job(&runner_jobs, &runner, "q"), job(&other_jobs, &other, "q"));
        assert_eq!(on_runner, on_other, "the two documents agree (runner {runner_id}, other {other_id})");
        assert!(on_runner.cancel_requested, "the cancel request survives either way");
        match on_runner.state {
            Some(JobState::Cancelled) => {}
            Some(JobState::Running) => {
                // The runner's next cancel check sees the request and stops the job.
                let sv = other.transact().state_vector();
                assert!(runner_jobs.finish(&mut runner.transact_mut_with(JOBS_ORIGIN), "q", Outcome::Cancelled, &[], 2500.0));
                apply(&other, update_since(&runner, &sv));
            }
            state => panic!("unexpected state after the merge: {state:?}"),
        }
        let (on_runner, on_other) = (job(&runner_jobs, &runner, "q"), job(&other_jobs, &other, "q"));
        assert_eq!(on_runner, on_other);
        assert_eq!((on_runner.state, on_runner.cancelled_by.as_deref()), (Some(JobState::Cancelled), Some("Bob")));
    }
}

#[test]
fn the_racing_updates_merge_the_same_in_either_order() {
    for (runner_id, other_id) in [(1, 2), (2, 1)] {
        let (runner, other) = race(runner_id, other_id);
        let (a, b) = (update_since(&runner, &StateVector::default()), update_since(&other, &StateVector::default()));
        let (first, second) = (Doc::with_client_id(9), Doc::with_client_id(10));
        apply(&first, a);
        apply(&first, update_since(&other, &StateVector::default()));
        apply(&second, b);
        apply(&second, update_since(&runner, &StateVector::default()));
        let read = |doc: &Doc| job(&Jobs::new(doc), doc, "q");
        assert_eq!(read(&first), read(&second));
        assert_eq!(read(&first), read(&runner));
    }
}
