//! The traffic engine behind the update workloads (fan-out, many writers, the classic
//! shapes): rooms of writers and observers on any target, latency measured end to end.
//!
//! A writer puts its send time (µs since the UNIX epoch) into its own entry of the map
//! `lat` and sends the transaction's update; every observer applies what it receives to its
//! own yrs document, like a real client, and a map observer reads the timestamps back out of
//! the applied changes. So a latency sample covers encoding, the server, the network and
//! the observer's decoding. Samples go to an HDR histogram that each measured stretch
//! takes for itself (the shapes watch latency move window by window).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use shared::protocol::{self, Message, SyncMessage};
use tokio::sync::watch;
use tokio::task::JoinSet;
use yrs::types::EntryChange;
use yrs::{Any, Doc, Map, Number, Observable, Out, Transact};

use crate::client::{self, Framing, Peer, Receiver, Sender};
use crate::incidents::Incidents;
use crate::relay_process::ProcFigures;
use crate::report::{histogram, LoadError};
use crate::workloads::target::Target;

/// Microseconds since the UNIX epoch: the clock every simulated client shares.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

const MAP: &str = "lat";
/// Connections opened at once while a swarm assembles.
const JOIN_CONCURRENCY: usize = 64;
const JOIN_LIMIT: Duration = Duration::from_secs(60);

/// Counters and histograms every client of a swarm writes into.
pub struct Tally {
    window: Mutex<Histogram<u64>>,
    pub sent: AtomicU64,
    pub delivered: AtomicU64,
    pub errors: AtomicU64,
    recording: AtomicBool,
    /// Every error: when, which client, why.
    pub incidents: Incidents,
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            window: Mutex::new(histogram()),
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            recording: AtomicBool::new(false),
            incidents: Incidents::new(),
        }
    }

    /// One delivery, `latency_us` after its send time.
    pub fn record(&self, latency_us: u64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        if self.recording.load(Ordering::Relaxed) {
            let v = latency_us.max(1);
            if let Ok(mut h) = self.window.lock() {
                h.saturating_record(v);
            }
        }
    }

    /// An error of the client named `client` (e.g. "shape-3 observer 7").
    pub fn error(&self, client: &str, error: &LoadError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.incidents.record(client, error);
    }

    /// The first error, with when and which client.
    pub fn first_error(&self) -> Option<String> {
        self.incidents.first()
    }

    /// Starts (or pauses) recording latencies, e.g. after a warm-up.
    pub fn set_recording(&self, on: bool) {
        self.recording.store(on, Ordering::Relaxed);
    }

    /// The latencies recorded since the last call.
    pub fn take_window(&self) -> Histogram<u64> {
        self.window.lock().map(|mut h| std::mem::replace(&mut *h, histogram())).unwrap_or_else(|_| histogram())
    }

    pub fn counts(&self) -> (u64, u64, u64) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        (load(&self.sent), load(&self.delivered), load(&self.errors))
    }
}

/// How the swarm is laid out: in each room, `writers` clients write (and observe the
/// others) and `observers` only observe.
#[derive(Debug, Clone)]
pub struct Layout {
    pub rooms: usize,
    pub writers: usize,
    pub observers: usize,
    pub room_prefix: String,
}

impl Layout {
    /// How many clients receive each update.
    pub fn receivers_per_update(&self) -> usize {
        self.observers + self.writers.saturating_sub(1)
    }
}

/// A running swarm: its tasks, the writers' rate (updates per second per writer) and a
/// stop signal. Every task also stops at `deadline`.
pub struct Swarm {
    pub tally: Arc<Tally>,
    rate: watch::Sender<f64>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    pub layout: Layout,
}

/// Figures over one measured stretch of a swarm's life.
pub struct Stretch {
    pub latency: Histogram<u64>,
    pub sent: u64,
    pub delivered: u64,
    pub errors: u64,
    pub seconds: f64,
    pub cpu_seconds: f64,
    /// CPU of the relay's store thread over the stretch (0 for other servers).
    pub store_writer_cpu_seconds: f64,
    pub after: ProcFigures,
}

impl Swarm {
    /// Joins every client (observers first, so they see the writers' first updates), then
    /// starts the writers at `rate` updates per second each.
    pub async fn start(target: &Target, layout: Layout, rate: f64, deadline: Instant) -> Result<Swarm, LoadError> {
        let tally = Arc::new(Tally::new());
        let (rate_tx, rate_rx) = watch::channel(rate);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut plan = Vec::new();
        for room in 0..layout.rooms {
            let name = format!("{}-{room}", layout.room_prefix);
            plan.extend((0..layout.observers).map(|o| (name.clone(), None, format!("{name} observer {o}"))));
            plan.extend((0..layout.writers).map(|w| (name.clone(), Some(format!("w{w}")), format!("{name} writer w{w}"))));
        }
        let framing = target.framing;
        let joined: Vec<_> = futures_util::stream::iter(plan)
            .map(|(room, key, who)| {
                let url = target.url(&room);
                async move { Peer::join(&url, framing, &room, JOIN_LIMIT).await.map(|(peer, _)| (peer, key, who)) }
            })
            .buffer_unordered(JOIN_CONCURRENCY)
            .collect()
            .await;
        let mut tasks = JoinSet::new();
        let total_writers = (layout.rooms * layout.writers).max(1);
        let mut writer_index = 0;
        for result in joined {
            let (peer, key, who) = result?;
            let Peer { tx, rx, framing, doc } = peer;
            tasks.spawn(observe(rx, framing, key.clone(), who.clone(), tally.clone(), stop_rx.clone(), deadline));
            if let Some(key) = key {
                let phase = writer_index as f64 / total_writers as f64;
                writer_index += 1;
                let ctx = WriterCtx { framing, doc, key, who, phase, tally: tally.clone(), deadline };
                tasks.spawn(write(tx, ctx, rate_rx.clone(), stop_rx.clone()));
            }
        }
        Ok(Swarm { tally, rate: rate_tx, stop: stop_tx, tasks, layout })
    }

    /// Changes every writer's rate (updates per second).
    pub fn set_rate(&self, rate: f64) {
        let _ = self.rate.send(rate);
    }

    /// Lets the swarm run for `seconds`, ticking `bar` each second, and returns what
    /// happened in that stretch, including the target's CPU time over it.
    pub async fn run_for(&self, target: &Target, seconds: f64, bar: Option<&indicatif::ProgressBar>) -> Stretch {
        let (sent0, delivered0, errors0) = self.tally.counts();
        let before = target.figures();
        let cpu0 = before.cpu_seconds;
        self.tally.take_window();
        let began = Instant::now();
        let end = began + Duration::from_secs_f64(seconds);
        while Instant::now() < end {
            let step = end.saturating_duration_since(Instant::now()).min(Duration::from_secs(1));
            tokio::time::sleep(step).await;
            if let Some(bar) = bar {
                let (sent, delivered, errors) = self.tally.counts();
                bar.set_position(began.elapsed().as_secs());
                bar.set_message(format!("sent {sent} delivered {delivered} errors {errors}"));
            }
        }
        let after = target.figures();
        let (sent1, delivered1, errors1) = self.tally.counts();
        Stretch {
            latency: self.tally.take_window(),
            sent: sent1 - sent0,
            delivered: delivered1 - delivered0,
            errors: errors1 - errors0,
            seconds: began.elapsed().as_secs_f64(),
            cpu_seconds: after.cpu_seconds - cpu0,
            store_writer_cpu_seconds: after.store_writer_cpu_seconds - before.store_writer_cpu_seconds,
            after,
        }
    }

    /// Stops the writers, waits (at most `drain`) for the last deliveries, then stops
    /// everything. Returns the deliveries that never arrived.
    pub async fn finish(mut self, drain: Duration) -> u64 {
        self.set_rate(0.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let expected = self.tally.sent.load(Ordering::Relaxed) * self.layout.receivers_per_update() as u64;
        let until = Instant::now() + drain;
        while self.tally.delivered.load(Ordering::Relaxed) < expected && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let lost = expected.saturating_sub(self.tally.delivered.load(Ordering::Relaxed));
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), async { while self.tasks.join_next().await.is_some() {} }).await;
        self.tasks.abort_all();
        lost
    }
}

/// Reads frames until stopped, applying updates to a document and recording the send
/// times found in the applied changes (except the client's own, which some servers echo).
async fn observe(
    mut rx: Receiver,
    framing: Framing,
    own_key: Option<String>,
    who: String,
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
    deadline: Instant,
) {
    let doc = Doc::new();
    let map = doc.get_or_insert_map(MAP);
    let found = Arc::new(Mutex::new(Vec::<u64>::new()));
    let sink = found.clone();
    map.observe("latency", move |txn, event| {
        let Ok(mut sink) = sink.lock() else { return };
        for (key, change) in event.keys(txn) {
            if own_key.as_deref() == Some(&**key) {
                continue;
            }
            if let EntryChange::Inserted(value) | EntryChange::Updated(_, value) = change {
                // yrs may encode the integer as a float (it is below 2^53, so exact)
                if let Out::Any(Any::Number(t)) = value {
                    sink.push(t.as_f64().unwrap_or(0.0) as u64);
                }
            }
        }
    });
    loop {
        let messages = tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(deadline.into()) => return,
            messages = client::next_messages(&mut rx, framing) => messages,
        };
        let messages = match messages {
            Ok(messages) => messages,
            Err(e) => return tally.error(&who, &e),
        };
        for message in messages {
            let update = match message {
                Message::Sync(SyncMessage::Update(u)) | Message::Sync(SyncMessage::SyncStep2(u)) => u,
                _ => continue,
            };
            let applied = protocol::decode_update(&update)
                .map_err(|e| LoadError::Client(e.to_string()))
                .and_then(|u| doc.transact_mut().apply_update(u).map_err(|e| LoadError::Client(e.to_string())));
            if let Err(e) = applied {
                return tally.error(&who, &e);
            }
            let now = now_us();
            let stamps = found.lock().map(|mut f| std::mem::take(&mut *f)).unwrap_or_default();
            for sent in stamps {
                tally.record(now.saturating_sub(sent));
            }
        }
    }
}

struct WriterCtx {
    framing: Framing,
    doc: String,
    key: String,
    /// The client's name in error reports.
    who: String,
    /// Where in the period this writer sends (0..1), so writers do not all fire at once.
    phase: f64,
    tally: Arc<Tally>,
    deadline: Instant,
}

fn ticker(rate: f64, phase: f64) -> Option<tokio::time::Interval> {
    if rate <= 0.0 {
        return None;
    }
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + period.mul_f64(phase);
    let mut interval = tokio::time::interval_at(start, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    Some(interval)
}

/// Sends one timestamped update per tick of the current rate, until stopped.
async fn write(mut tx: Sender, ctx: WriterCtx, mut rate: watch::Receiver<f64>, mut stop: watch::Receiver<bool>) {
    let doc = Doc::new();
    let map = doc.get_or_insert_map(MAP);
    let mut interval = ticker(*rate.borrow(), ctx.phase);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(ctx.deadline.into()) => return,
            changed = rate.changed() => {
                if changed.is_err() { return; }
                interval = ticker(*rate.borrow(), ctx.phase);
            }
            _ = async { match interval.as_mut() { Some(i) => { i.tick().await; } None => std::future::pending().await } } => {
                let update = {
                    let mut txn = doc.transact_mut();
                    map.insert(&mut txn, ctx.key.as_str(), Any::Number(Number::Int(now_us() as i64)));
                    txn.encode_update_v1()
                };
                match client::send(&mut tx, ctx.framing.wrap(&ctx.doc, protocol::update(update))).await {
                    Ok(()) => { ctx.tally.sent.fetch_add(1, Ordering::Relaxed); }
                    Err(e) => return ctx.tally.error(&ctx.who, &e),
                }
            }
        }
    }
}
