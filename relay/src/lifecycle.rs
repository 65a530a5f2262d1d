//! The relay's lifecycle: one stop signal and the tasks that must end before the relay has
//! stopped (in the spirit of mini-redis's `Shutdown`).
//!
//! Everything that runs in the background is spawned on it: the room sweep and the
//! telemetry sampler (`server.rs`), and with Redis the stream reader, each room's publisher
//! and their short requests (`cluster/`); every WebSocket connection is tracked on it.
//! SIGTERM and Ctrl-C (the binary's `server::run`), `RunningRelay::stop` and the tests all
//! stop the relay the same way, with [`Lifecycle::stop`]; then the server drains in order:
//!
//! 1. stop accepting (HTTP, WebSockets); `/readyz` answers 503;
//! 2. the connections close with 1001 and end ([`Lifecycle::drain_connections`], bounded
//!    by the grace period);
//! 3. the rooms in memory are compacted, held updates reach the backend and it flushes;
//! 4. the rooms leave memory (which ends their publishers) and the backend closes (the
//!    store's writer thread commits what is queued and stops);
//! 5. the background tasks end ([`Lifecycle::drain_tasks`], bounded by the grace period):
//!    the loops watch [`Lifecycle::stopping`], the publishers end with their rooms.
//!
//! Not on it: a crowded room's presence flush timer (at most 50 ms, holding only a weak
//! reference to the room's state), which the runtime drops at exit.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::task_tracker::TrackedFuture;
use tokio_util::task::TaskTracker;

/// The stop signal and the relay's tasks. Cloning gives another handle on the same ones.
#[derive(Clone, Default)]
pub struct Lifecycle {
    stop: CancellationToken,
    connections: TaskTracker,
    tasks: TaskTracker,
}

impl Lifecycle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts shutting down (again: nothing more happens).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// A signal that fires when the relay starts shutting down, and can also be fired on
    /// its own (a connection's kick: see `outbound::Kick::until`).
    pub fn stop_signal_child(&self) -> CancellationToken {
        self.stop.child_token()
    }

    /// Resolves once the relay starts shutting down.
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.stop.cancelled()
    }

    /// Runs `task` in the background, as one of the tasks a shutdown waits for: it must end
    /// once [`Lifecycle::stopping`] resolves, or once what it serves is gone.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn(task)
    }

    /// `connection` (a WebSocket's task), counted until it ends.
    pub fn track_connection<F: Future>(&self, connection: F) -> TrackedFuture<F> {
        self.connections.track_future(connection)
    }

    /// Waits for every connection to end, at most `grace`; false if some are still open.
    pub async fn drain_connections(&self, grace: Duration) -> bool {
        self.connections.close();
        tokio::time::timeout(grace, self.connections.wait()).await.is_ok()
    }

    /// Waits for every background task to end, at most `grace`; false if some still run.
    pub async fn drain_tasks(&self, grace: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stop_reaches_every_task_and_the_drain_waits_for_them() {
        let lifecycle = Lifecycle::new();
        let (ended, mut ends) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..3 {
            let (watcher, ended) = (lifecycle.clone(), ended.clone());
            lifecycle.spawn(async move {
                watcher.stopping().await;
                let _ = ended.send(());
            });
        }
        assert!(!lifecycle.drain_tasks(Duration::from_millis(10)).await, "nothing ends before the stop");
        lifecycle.stop();
        assert!(lifecycle.is_stopping());
        assert!(lifecycle.drain_tasks(Duration::from_secs(1)).await);
        for _ in 0..3 {
            assert_eq!(ends.recv().await, Some(()));
        }
    }
}
