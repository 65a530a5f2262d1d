//! Starting and stopping the relay. [`spawn`] is the one path that builds and serves it, for
//! the `relay` binary ([`run`]) and for the tests and load generators alike: it picks the
//! rooms' backend (the one place that asks whether `--redis` is set), binds, starts the
//! background tasks on the relay's [`Lifecycle`] and serves until the lifecycle stops.
//!
//! Shutdown order (see `crate::lifecycle`): stop accepting, close every WebSocket with 1001
//! (going away) and wait for the connections (bounded by the grace period), compact the
//! rooms in memory, flush the backend, let the rooms leave memory and close the backend,
//! wait for the background tasks (bounded), return.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::backend::standalone::Standalone;
use crate::backend::{BackendError, RoomBackend};
use crate::cli::{Config, StoreKind};
use crate::instruments::Instruments;
use crate::lifecycle::Lifecycle;
use crate::rooms::Rooms;
use crate::state::AppState;
use crate::store::{MemoryStore, SharedStore, SqliteStore, StoreError};
use crate::telemetry::sampler::Sampler;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Access(#[from] crate::auth::AccessError),
    #[error("cannot reach redis at start: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(transparent)]
    Config(#[from] crate::config_file::ConfigError),
}

/// Opens the store configured for this relay.
pub fn open_store(config: &Config) -> Result<SharedStore, ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    Ok(match config.store {
        StoreKind::Sqlite => {
            let store = SqliteStore::open_with_segments(&config.data_dir, config.commit_window(), config.journal_segment_bytes)?;
            tracing::info!(dir = %store.data_dir().display(), "rooms stored in SQLite, one file per room");
            Arc::new(store)
        }
        StoreKind::Memory => {
            tracing::warn!("rooms kept in memory only: a restart loses them");
            Arc::new(MemoryStore::new())
        }
    })
}

/// The first line the relay prints on stdout: where it serves. Launchers (tests, loadgen)
/// read the bound address back from it with [`addr_from_banner`].
pub fn banner(addr: SocketAddr, base: &str) -> String {
    format!("Scene editor: http://{addr}{base}/  (WebSocket rooms at ws://{addr}{base}/ws/ROOM)")
}

/// The address in a line printed by [`banner`].
pub fn addr_from_banner(line: &str) -> Option<SocketAddr> {
    line.split("http://").nth(1)?.split('/').next()?.parse().ok()
}

/// Who may into which room; unusable key files or a bad webhook URL stop the relay from
/// starting.
pub fn load_access(config: &Config) -> Result<crate::auth::Access, ServerError> {
    Ok(crate::auth::Access::new(config.access())?)
}

/// The rooms of this relay, on its backend: standalone on `store`, or shared through Redis
/// with `--redis` (the one place that asks which).
async fn rooms(config: &Config, store: SharedStore, lifecycle: &Lifecycle, instruments: &Arc<Instruments>) -> Result<Rooms, ServerError> {
    store.instrument(instruments.clone());
    let backend: Arc<dyn RoomBackend> = match &config.redis {
        Some(url) => {
            let (settings, quota) = (config.cluster_settings(), config.max_room_blob_bytes);
            let (lifecycle, instruments) = (lifecycle.clone(), instruments.clone());
            Arc::new(crate::cluster::ClusterBackend::connect(url, settings, store, quota, lifecycle, instruments).await?)
        }
        None => Arc::new(Standalone::new(store, config.max_room_blob_bytes)),
    };
    Ok(Rooms::new(backend, config.cache_limits(), config.compaction()))
}

/// A relay serving in the background.
pub struct RunningRelay {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningRelay {
    /// Shuts down gracefully (as on SIGTERM) and waits until it has.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.state.lifecycle.stop();
        self.finished().await
    }

    /// Waits until the relay has stopped (its lifecycle stopped, or serving failed).
    pub async fn finished(self) -> Result<(), ServerError> {
        self.task.await.map_err(|e| ServerError::Serve(std::io::Error::other(e)))?
    }

    /// The base URL for WebSockets, e.g. `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}/ws", self.addr, self.state.config.base_path)
    }
}

/// Builds the relay on `store` and serves in the background until its lifecycle stops.
pub async fn spawn(mut config: Config, store: SharedStore) -> Result<RunningRelay, ServerError> {
    crate::config_file::read_secret_files(&mut config)?;
    let lifecycle = Lifecycle::new();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let access = load_access(&config)?;
    if access.is_open() {
        tracing::warn!("no --auth-key-file, --auth-jwks-file or --auth-webhook: the relay is open, anyone who can reach it can join any room");
    }
    let instruments = Arc::new(Instruments::default());
    let rooms = rooms(&config, store, &lifecycle, &instruments).await?;
    let state = Arc::new(AppState::new(config, rooms, access, lifecycle.clone(), instruments));
    if let Some(keys) = state.access.key_store() {
        let (stopping, poll) = (lifecycle.clone(), state.config.auth_keys_poll_secs);
        let poll = (poll > 0).then(|| Duration::from_secs(poll));
        lifecycle.spawn(async move { crate::auth::reload::watch(keys, poll, stopping.stopping()).await });
    }
    lifecycle.spawn(sweep_rooms(state.clone()));
    lifecycle.spawn(sample_telemetry(state.clone()));
    let task = tokio::spawn(serve(listener, state.clone()));
    Ok(RunningRelay { addr, state, task })
}

/// The `relay` binary: the configured store, served until `shutdown` resolves (SIGTERM,
/// Ctrl-C), then stopped like [`RunningRelay::stop`].
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
    let store = open_store(&config)?;
    let data_dir = config.data_dir.clone();
    let relay = spawn(config, store).await?;
    tracing::info!(addr = %relay.addr, data_dir = %data_dir.display(), "relay listening");
    println!("{}", banner(relay.addr, &relay.state.config.base_path));
    let lifecycle = relay.state.lifecycle.clone();
    relay.state.lifecycle.spawn(async move {
        tokio::select! {
            _ = shutdown => lifecycle.stop(),
            _ = lifecycle.stopping() => {}
        }
    });
    relay.finished().await
}

async fn serve(listener: TcpListener, state: Arc<AppState>) -> Result<(), ServerError> {
    let router = crate::http::router(state.clone());
    let lifecycle = state.lifecycle.clone();
    let graceful = async move {
        lifecycle.stopping().await;
        tracing::info!("shutting down: closing connections");
    };
    // Real-time traffic: small frames must leave at once, not wait for Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(graceful)
        .await;
    // Serving may also have failed on its own: everything else stops then too.
    state.lifecycle.stop();
    drain(&state).await?;
    served.map_err(ServerError::Serve)
}

/// The rest of a shutdown, once nothing new gets in.
async fn drain(state: &AppState) -> Result<(), ServerError> {
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    if !state.lifecycle.drain_connections(grace).await {
        tracing::warn!("connections still open after the grace period");
    }
    for room in state.rooms.loaded() {
        state.rooms.compact_now(&room, false).await;
    }
    let flushed = state.rooms.flush().await;
    state.rooms.close().await;
    if !state.lifecycle.drain_tasks(grace).await {
        tracing::warn!("background tasks still running after the grace period");
    }
    flushed?;
    tracing::info!("relay stopped cleanly");
    Ok(())
}

/// Room upkeep (`Rooms::sweep`) every quarter of the idle time (0.2 to 5 s), until the
/// relay stops; a sweep under way finishes first.
async fn sweep_rooms(state: Arc<AppState>) {
    let every = (state.config.room_idle() / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            biased;
            _ = state.lifecycle.stopping() => return,
            _ = tick.tick() => {}
        }
        state.rooms.sweep().await;
    }
}

/// A telemetry sample every [`crate::telemetry::INTERVAL`] until the relay stops.
async fn sample_telemetry(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(crate::telemetry::INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sampler = Sampler::new(&state.counters);
    loop {
        tokio::select! {
            biased;
            _ = state.lifecycle.stopping() => return,
            _ = ticker.tick() => {}
        }
        sampler.sample(&state.counters, &state.telemetry, &state.rooms);
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_gives_back_its_address() {
        let addr: SocketAddr = "127.0.0.1:40123".parse().unwrap();
        assert_eq!(addr_from_banner(&banner(addr, "/collab")), Some(addr));
        assert_eq!(addr_from_banner("something else"), None);
    }
}
