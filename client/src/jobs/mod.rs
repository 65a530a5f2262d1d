//! Scene jobs in the browser (issue #5): start a render preview, a scene check or a .glb
//! export; follow everyone's jobs live; cancel any queued or running one; see the results.
//!
//! Jobs live in the document (`shared::jobs`, layout in `docs/scene-schema.md`), so every
//! collaborator, late joiners included, sees the same list. The client that starts a job
//! runs it ([`runner`]) in the tools worker (`crate::tools_worker`, whose code is the `worker`
//! crate's own WebAssembly module) and writes progress at most
//! four times a second, with the jobs origin (never the editor's undo origin). Results go
//! to the relay's blob endpoint ([`upload`]).
//!
//! Each client runs one job at a time: a job started while this client's runner is busy is
//! written `queued`, and when the running job ends the runner takes the next one of its
//! queue (`shared::jobs::queue`, oldest first), skipping those cancelled or failed meanwhile.
//!
//! Once a second, every client:
//! - renews the heartbeat of the jobs it runs and of those waiting in its queue;
//! - fails a queued or running job whose runner has left the room (gone from awareness for
//!   [`RUNNER_GONE_MS`]) or whose heartbeat has not moved for
//!   `shared::jobs::HEARTBEAT_STALE_MS`: "runner disconnected". Finishing is idempotent, so
//!   several collaborators doing it at once agree.
//!
//! A view-only page writes nothing here either: it starts, cancels and fails no job (and
//! its panel offers none of that); it sees every job and its results like anyone.
//!
//! Test knobs (URL parameters, for the browser tests): `jobsize=WxH` sets the render size
//! (default 480x300) and `jobdelay=MS` waits that long between tiles and check phases.

mod panel;
mod runner;
mod upload;

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use gloo_timers::future::IntervalStream;
use leptos::prelude::*;
use shared::jobs::store::Outcome;
use shared::jobs::{queue, Job, JobKind, Jobs, JOBS_ORIGIN};
use yrs::{Doc, Transact, TransactionMut};

use crate::access::Access;
use crate::connection::{ConnectionState, Status};
use crate::presence::User;
use crate::room::Room;

pub use panel::JobsPanel;

/// Key of the document observer that refreshes the job list.
const JOBS_OBSERVER: &str = "jobs";
/// A runner missing from awareness this long (and silent meanwhile) has disconnected.
pub const RUNNER_GONE_MS: f64 = 3_000.0;

/// Render size and pacing, from the page address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub width: u32,
    pub height: u32,
    pub delay_ms: u32,
}

impl Settings {
    fn from_address() -> Settings {
        let mut settings = Settings { width: 480, height: 300, delay_ms: 0 };
        let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
        let Ok(url) = web_sys::Url::new(&href) else { return settings };
        let params = url.search_params();
        if let Some((w, h)) = params.get("jobsize").as_deref().and_then(|s| s.split_once('x')) {
            if let (Ok(w), Ok(h)) = (w.parse::<u32>(), h.parse::<u32>()) {
                settings.width = w.clamp(8, 2048);
                settings.height = h.clamp(8, 2048);
            }
        }
        if let Some(delay) = params.get("jobdelay").and_then(|d| d.parse::<u32>().ok()) {
            settings.delay_ms = delay.min(10_000);
        }
        settings
    }
}

/// The jobs as the UI sees them; `Copy` (signals and stored values only).
#[derive(Clone, Copy)]
pub struct JobsState {
    /// Every job in the document, newest first.
    pub list: Memo<Vec<Job>>,
    doc: StoredValue<Doc>,
    jobs: StoredValue<Jobs>,
    pub room: StoredValue<Room>,
    user: RwSignal<User>,
    /// This client's id (a job's runner).
    pub client: u64,
    pub settings: Settings,
    /// Jobs this client is running right now (at most one).
    pub running: RwSignal<HashSet<String>>,
    /// Whether this page may write jobs (a viewer's may not).
    pub access: Access,
}

impl JobsState {
    /// One transaction with the jobs origin; nothing (the default answer) on a view-only
    /// page.
    fn write<R: Default>(&self, f: impl FnOnce(&Jobs, &mut TransactionMut) -> R) -> R {
        if !self.access.can_edit_now() {
            return R::default();
        }
        let (doc, jobs) = (self.doc.get_value(), self.jobs.get_value());
        let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
        f(&jobs, &mut txn)
    }

    fn get(&self, id: &str) -> Option<Job> {
        let (doc, jobs) = (self.doc.get_value(), self.jobs.get_value());
        let txn = doc.transact();
        jobs.get(&txn, id)
    }

    /// Starts a job of `kind`, run by this client: at once when its runner is idle, else
    /// queued behind the jobs it already has.
    pub fn start(&self, kind: JobKind) {
        if !self.access.can_edit_now() {
            return;
        }
        let now = js_sys::Date::now();
        let id = self.new_id(now);
        let name = self.user.get_untracked().name;
        // No job running means no queue either (the runner only stops when it is empty).
        let idle = self.running.with_untracked(HashSet::is_empty);
        self.write(|jobs, txn| {
            let job = shared::jobs::NewJob { id: &id, kind, started_by: &name, client: self.client, now_ms: now };
            if idle {
                jobs.start(txn, &job);
            } else {
                jobs.enqueue(txn, &job);
            }
        });
        if idle {
            self.running.update(|r| {
                r.insert(id.clone());
            });
            leptos::task::spawn_local(work_through_queue(*self, id, kind));
        }
    }

    /// An id no other job has: this client, the time, and a count for several in one ms.
    fn new_id(&self, now: f64) -> String {
        let base = format!("{:x}-{}", self.client, now as u64);
        let taken = |id: &str| self.get(id).is_some();
        if !taken(&base) {
            return base;
        }
        (1u32..).map(|n| format!("{base}-{n}")).find(|id| !taken(id)).unwrap_or(base)
    }

    /// This client's queued jobs, in the order it runs them (read from the document).
    fn my_queue(&self) -> Vec<Job> {
        let (doc, jobs) = (self.doc.get_value(), self.jobs.get_value());
        let all = jobs.list(&doc.transact());
        queue::queued_for(&all, self.client).into_iter().cloned().collect()
    }

    /// Cancels job `id` (anyone may): a queued job ends at once, a running one's runner is
    /// asked to stop.
    pub fn cancel(&self, id: &str) {
        let name = self.user.get_untracked().name;
        let now = js_sys::Date::now();
        self.write(|jobs, txn| jobs.request_cancel(txn, id, &name, now));
    }
}

/// This client's runner: runs `first` (already written running), then each next job of its
/// queue, one at a time, until the queue is empty. Only one runs per client: it is started
/// only when `running` is empty, and keeps a job in `running` from start to end (moving to
/// the next one without yielding in between).
async fn work_through_queue(state: JobsState, first: String, kind: JobKind) {
    let mut next = Some((first, kind));
    while let Some((id, kind)) = next.take() {
        runner::run(state, id.clone(), kind).await;
        if state
            .running
            .try_update(|r| {
                r.remove(&id);
            })
            .is_none()
        {
            return; // the page is gone
        }
        for queued in state.my_queue() {
            let now = js_sys::Date::now();
            // Skips one cancelled or failed since it was read (and one of an unknown kind).
            let Some(kind) = queued.kind else { continue };
            if state.write(|jobs, txn| jobs.begin(txn, &queued.id, now)) {
                if state
                    .running
                    .try_update(|r| {
                        r.insert(queued.id.clone());
                    })
                    .is_none()
                {
                    return;
                }
                next = Some((queued.id, kind));
                break;
            }
        }
    }
}

/// Starts following the jobs of `doc` (and the once-a-second watchdog).
pub fn start(doc: Doc, room: Room, user: RwSignal<User>, status: Status, access: Access) -> JobsState {
    let jobs = Jobs::new(&doc);
    let revision = RwSignal::new(0u64);
    let observed = doc.observe_update_v1(JOBS_OBSERVER, move |_: &TransactionMut, _| {
        revision.try_update(|r| *r += 1);
    });
    if observed.is_err() {
        leptos::logging::warn!("cannot observe the document for jobs");
    }
    let list = Memo::new({
        let (doc, jobs) = (doc.clone(), jobs.clone());
        move |_| {
            revision.track();
            jobs.list(&doc.transact())
        }
    });
    let state = JobsState {
        list,
        client: doc.client_id().get(),
        doc: StoredValue::new(doc),
        jobs: StoredValue::new(jobs),
        room: StoredValue::new(room),
        user,
        settings: Settings::from_address(),
        running: RwSignal::new(HashSet::new()),
        access,
    };
    leptos::task::spawn_local(watchdog(state, status));
    state
}

/// Once a second: heartbeats for my jobs (running and queued), and failing jobs whose
/// runner is gone.
async fn watchdog(state: JobsState, status: Status) {
    // Per job: the last heartbeat value seen and when (local clock) it last changed, so a
    // runner's clock being off does not matter.
    let mut seen: HashMap<String, (f64, f64)> = HashMap::new();
    let mut seconds = IntervalStream::new(1000);
    while seconds.next().await.is_some() {
        let now = js_sys::Date::now();
        let mut mine: Vec<String> = state.running.with_untracked(|r| r.iter().cloned().collect());
        mine.extend(state.my_queue().into_iter().map(|job| job.id));
        if !mine.is_empty() {
            state.write(|jobs, txn| {
                for id in &mine {
                    jobs.heartbeat(txn, id, now);
                }
            });
        }
        // Judge others only while connected: offline, everyone looks gone.
        if status.state.get_untracked() != ConnectionState::Synced {
            seen.clear();
            continue;
        }
        let present: HashSet<u64> = status.peers.with_untracked(|p| p.iter().map(|peer| peer.client).collect());
        let jobs = state.list.get_untracked();
        seen.retain(|id, _| jobs.iter().any(|j| &j.id == id && j.is_active()));
        let mut lost = Vec::new();
        for job in jobs.iter().filter(|j| j.is_active() && j.runner != state.client) {
            let entry = seen.entry(job.id.clone()).or_insert((job.heartbeat_ms, now));
            if entry.0 != job.heartbeat_ms {
                *entry = (job.heartbeat_ms, now);
            }
            let silent_for = now - entry.1;
            let gone = !present.contains(&job.runner) && silent_for > RUNNER_GONE_MS;
            if gone || silent_for > shared::jobs::HEARTBEAT_STALE_MS {
                lost.push(job.id.clone());
            }
        }
        if !lost.is_empty() {
            state.write(|jobs, txn| {
                for id in &lost {
                    jobs.finish(txn, id, Outcome::Failed("runner disconnected".into()), &[], now);
                }
            });
        }
    }
}
