//! Starting and stopping the relay: bind, serve, sweep idle rooms, shut down gracefully.
//!
//! Shutdown order: stop accepting, close every WebSocket with 1001 (going away), wait for
//! the connections to finish (bounded by the grace period), snapshot the rooms in memory,
//! flush the store, return.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{self, AppState};
use crate::backend::standalone::Standalone;
use crate::backend::RoomBackend;
use crate::cli::Config;
use crate::cli::StoreKind;
use crate::rooms::Rooms;
use crate::store::{MemoryStore, SharedStore, SqliteStore, StoreError};

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
    Backend(#[from] crate::backend::BackendError),
    #[error(transparent)]
    Auth(crate::auth::AuthError),
    #[error("cannot reach redis at start: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// The store configured for this relay, and the SQLite store itself when that is it (for
/// its durability figures).
pub struct OpenedStore {
    pub store: SharedStore,
    pub sqlite: Option<Arc<SqliteStore>>,
}

/// Opens the store configured for this relay.
pub fn open_store(config: &Config) -> Result<SharedStore, ServerError> {
    Ok(open_store_parts(config)?.store)
}

fn open_store_parts(config: &Config) -> Result<OpenedStore, ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    Ok(match config.store {
        StoreKind::Sqlite => {
            let store = Arc::new(SqliteStore::open(&config.data_dir, config.commit_window())?);
            tracing::info!(dir = %store.data_dir().display(), "rooms stored in SQLite, one file per room");
            OpenedStore { store: store.clone(), sqlite: Some(store) }
        }
        StoreKind::Memory => {
            tracing::warn!("rooms kept in memory only: a restart loses them");
            OpenedStore { store: Arc::new(MemoryStore::new()), sqlite: None }
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

/// The auth key, if one is configured; a bad key file stops the relay from starting.
pub fn load_token_key(config: &Config) -> Result<Option<crate::auth::TokenKey>, ServerError> {
    match &config.auth_key_file {
        None => Ok(None),
        Some(path) => crate::auth::TokenKey::from_file(path).map(Some).map_err(ServerError::Auth),
    }
}

/// The rooms of this relay, on its backend: standalone on `store`, or shared through Redis
/// with `--redis` (the one place that asks which).
async fn rooms(config: &Config, store: SharedStore) -> Result<Rooms, ServerError> {
    let backend: Arc<dyn RoomBackend> = match &config.redis {
        Some(url) => {
            let settings = config.cluster_settings();
            Arc::new(crate::cluster::ClusterBackend::connect(url, settings, store, config.max_room_blob_bytes).await?)
        }
        None => Arc::new(Standalone::new(store, config.max_room_blob_bytes)),
    };
    Ok(Rooms::new(backend, config.cache_limits(), config.compaction()))
}

/// A relay running in the background (tests, load generators).
pub struct RunningRelay {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: tokio_util::sync::CancellationToken,
    task: JoinHandle<Result<(), ServerError>>,
}

impl RunningRelay {
    /// Shuts down gracefully and waits until it has.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.stop.cancel();
        self.task.await.map_err(|e| ServerError::Serve(std::io::Error::other(e)))?
    }

    /// The base URL for WebSockets, e.g. `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}/ws", self.addr, self.state.config.base_path)
    }
}

/// Binds and serves in the background with the given store.
pub async fn spawn(config: Config, store: SharedStore) -> Result<RunningRelay, ServerError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let mut state = AppState::new(config.clone(), rooms(&config, store).await?);
    state.token_key = load_token_key(&config)?;
    let state = Arc::new(state);
    let stop = tokio_util::sync::CancellationToken::new();
    let signal = stop.clone();
    let task_state = state.clone();
    let task = tokio::spawn(async move { serve(listener, task_state, signal.cancelled_owned()).await });
    Ok(RunningRelay { addr, state, stop, task })
}

/// Runs the relay in the foreground until `shutdown` resolves.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
    let opened = open_store_parts(&config)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    let mut state = AppState::new(config.clone(), rooms(&config, opened.store).await?);
    state.token_key = load_token_key(&config)?;
    let state = Arc::new(state);
    if state.token_key.is_none() {
        tracing::warn!("no --auth-key-file: the relay is open, anyone who can reach it can join any room");
    }
    let base = &config.base_path;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "relay listening");
    println!("{}", banner(addr, base));
    serve(listener, state, shutdown).await
}

async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let sweeper = tokio::spawn(sweep_idle_rooms(state.clone()));
    let sampler = tokio::spawn(crate::telemetry::sampler::run(state.clone()));
    let router = app::router(state.clone());
    let on_signal = state.clone();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: closing connections");
        on_signal.begin_shutdown();
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
    sweeper.abort();
    sampler.abort();
    state.begin_shutdown();
    state.connections.close();
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    if tokio::time::timeout(grace, state.connections.wait()).await.is_err() {
        tracing::warn!("connections still open after the grace period");
    }
    for room in state.rooms.loaded() {
        state.rooms.compact_now(&room, false).await;
    }
    let flushed = state.rooms.flush().await;
    state.rooms.close().await;
    flushed?;
    tracing::info!("relay stopped cleanly");
    served.map_err(ServerError::Serve)
}

async fn sweep_idle_rooms(state: Arc<AppState>) {
    let every = (state.config.room_idle() / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        state.rooms.sweep().await;
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
