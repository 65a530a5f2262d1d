//! The state every HTTP handler and WebSocket connection shares: the configuration, the
//! rooms (and through them their backend), the lifecycle, counters and telemetry, who may
//! into a room (`auth::Access`), the per-address connection counts and the send budget for large frames.
//!
//! A leaf of the module map: it names nothing of the handlers (`http/`) or of the
//! connection task, which all take it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::admission::AddressCounts;
use crate::auth::Access;
use crate::cli::Config;
use crate::instruments::Instruments;
use crate::lifecycle::Lifecycle;
use crate::rooms::Rooms;
use crate::stats::Counters;
use crate::telemetry::Telemetry;

/// Frames larger than this wait for the send budget.
const LARGE_FRAME: usize = 1 << 20;

fn send_budget_permits(config: &Config) -> usize {
    ((config.send_budget_bytes / 1024) as usize).clamp(LARGE_FRAME / 1024, Semaphore::MAX_PERMITS)
}

pub struct AppState {
    pub config: Config,
    pub rooms: Rooms,
    /// The stop signal, and the connections and tasks a shutdown waits for.
    pub lifecycle: Lifecycle,
    pub counters: Counters,
    /// Samples, history, live stream and Prometheus registry (see `telemetry`).
    pub telemetry: Telemetry,
    /// What the connections, the store and the backend measure (registered in `telemetry`).
    pub instruments: Arc<Instruments>,
    /// Who may into which room: token keys, the auth webhook, or nobody checks (open).
    pub access: Access,
    pub address_counts: Arc<AddressCounts>,
    /// Whether rooms write frames to idle sockets themselves (`outbound`): on a runtime with
    /// one worker, where the hand-off to each connection's task buys no parallelism.
    pub direct_writes: bool,
    /// Bounds the bytes of large frames being written at once (in KiB permits).
    large_sends: Semaphore,
    next_conn: AtomicU64,
}

impl AppState {
    pub fn new(config: Config, rooms: Rooms, access: Access, lifecycle: Lifecycle, instruments: Arc<Instruments>) -> Self {
        let send_budget = send_budget_permits(&config);
        let mut telemetry = Telemetry::new(&instruments);
        telemetry.metrics.register_auth_webhook(access.webhook_answers());
        AppState {
            config,
            rooms,
            lifecycle,
            counters: Counters::default(),
            telemetry,
            instruments,
            access,
            address_counts: Arc::default(),
            direct_writes: tokio::runtime::Handle::try_current().is_ok_and(|runtime| runtime.metrics().num_workers() == 1),
            large_sends: Semaphore::new(send_budget),
            next_conn: AtomicU64::new(1),
        }
    }

    /// Waits until a frame of `len` bytes may be written, if it is large; the permit is
    /// held until the write completes.
    pub async fn admit_send(&self, len: usize) -> Option<SemaphorePermit<'_>> {
        if len <= LARGE_FRAME {
            return None;
        }
        let wanted = (len.div_ceil(1024) as u32).min(send_budget_permits(&self.config) as u32);
        self.large_sends.acquire_many(wanted).await.ok()
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
