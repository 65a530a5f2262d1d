//! Scene jobs in the browser (issue #5): start a render preview, a scene check or a .glb
//! export; follow everyone's jobs live; cancel any running one; see the results.
//!
//! Jobs live in the document (`shared::jobs`, layout in `docs/scene-schema.md`), so every
//! collaborator, late joiners included, sees the same list. The client that starts a job
//! runs it ([`runner`]) in a Web Worker ([`worker`], [`entry`]) and writes progress at most
//! four times a second, with the jobs origin (never the editor's undo origin). Results go
//! to the relay's blob endpoint ([`upload`]). Once a second, every client:
//! - renews the heartbeat of the jobs it runs;
//! - fails a job whose runner has left the room (gone from awareness for
//!   [`RUNNER_GONE_MS`]) or whose heartbeat has not moved for
//!   `shared::jobs::HEARTBEAT_STALE_MS`: "runner disconnected". Finishing is idempotent, so
//!   several collaborators doing it at once agree.
//!
//! Test knobs (URL parameters, for the browser tests): `jobsize=WxH` sets the render size
//! (default 480x300) and `jobdelay=MS` waits that long between tiles and check phases.

mod entry;
mod panel;
mod runner;
mod upload;
mod worker;

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use gloo_timers::future::IntervalStream;
use leptos::prelude::*;
use shared::jobs::store::Outcome;
use shared::jobs::{Job, JobKind, Jobs, JOBS_ORIGIN};
use yrs::{Doc, Transact, TransactionMut};

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
    /// Jobs this client is running right now.
    pub running: RwSignal<HashSet<String>>,
}

impl JobsState {
    /// One transaction with the jobs origin.
    fn write<R>(&self, f: impl FnOnce(&Jobs, &mut TransactionMut) -> R) -> R {
        let (doc, jobs) = (self.doc.get_value(), self.jobs.get_value());
        let mut txn = doc.transact_mut_with(JOBS_ORIGIN);
        f(&jobs, &mut txn)
    }

    fn get(&self, id: &str) -> Option<Job> {
        let (doc, jobs) = (self.doc.get_value(), self.jobs.get_value());
        let txn = doc.transact();
        jobs.get(&txn, id)
    }

    /// Starts a job of `kind`, run by this client.
    pub fn start(&self, kind: JobKind) {
        let now = js_sys::Date::now();
        let id = format!("{:x}-{}", self.client, now as u64);
        let name = self.user.get_untracked().name;
        self.write(|jobs, txn| {
            jobs.start(txn, &shared::jobs::NewJob { id: &id, kind, started_by: &name, client: self.client, now_ms: now });
        });
        self.running.update(|r| {
            r.insert(id.clone());
        });
        let state = *self;
        leptos::task::spawn_local(async move {
            runner::run(state, id.clone(), kind).await;
            state.running.try_update(|r| {
                r.remove(&id);
            });
        });
    }

    /// Asks the runner of job `id` to stop (anyone may).
    pub fn cancel(&self, id: &str) {
        let name = self.user.get_untracked().name;
        self.write(|jobs, txn| jobs.request_cancel(txn, id, &name));
    }
}

/// Starts following the jobs of `doc` (and the once-a-second watchdog).
pub fn start(doc: Doc, room: Room, user: RwSignal<User>, status: Status) -> JobsState {
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
    };
    leptos::task::spawn_local(watchdog(state, status));
    state
}

/// Once a second: heartbeats for my jobs, and failing jobs whose runner is gone.
async fn watchdog(state: JobsState, status: Status) {
    // Per job: the last heartbeat value seen and when (local clock) it last changed, so a
    // runner's clock being off does not matter.
    let mut seen: HashMap<String, (f64, f64)> = HashMap::new();
    let mut seconds = IntervalStream::new(1000);
    while seconds.next().await.is_some() {
        let now = js_sys::Date::now();
        let mine: Vec<String> = state.running.with_untracked(|r| r.iter().cloned().collect());
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
