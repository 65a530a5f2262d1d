//! A relay started in-process on a free loopback port, stopped gracefully on request and
//! aborted on drop (so a failing test leaves nothing running).

use relay::cli::Config;
use relay::server::{self, RunningRelay};
use relay::store::{MemoryStore, SharedStore};
use std::sync::Arc;

pub struct TestRelay {
    running: Option<RunningRelay>,
    pub store: SharedStore,
    _data: tempfile::TempDir,
}

impl TestRelay {
    /// Starts a relay with default settings and an in-memory store.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a relay after `tune` adjusted its configuration.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        let store: SharedStore = Arc::new(MemoryStore::new());
        Self::start_with_store(store, tune).await
    }

    /// Starts a relay storing rooms in SQLite under `dir` (kept by the caller, so a test
    /// can restart a relay on the same data).
    pub async fn start_sqlite(dir: &std::path::Path, tune: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests(dir.to_path_buf());
        config.store = relay::cli::StoreKind::Sqlite;
        tune(&mut config);
        let store = server::open_store(&config).expect("store opens");
        let running = server::spawn(config, store.clone()).await.expect("relay starts");
        TestRelay { running: Some(running), store, _data: tempfile::tempdir().expect("temp dir") }
    }

    pub async fn start_with_store(store: SharedStore, tune: impl FnOnce(&mut Config)) -> Self {
        // Relay logs show up in failing tests' output when RUST_LOG asks for them.
        if std::env::var_os("RUST_LOG").is_some() {
            relay::logging::init(relay::cli::LogFormat::Text);
        }
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_tests(data.path().to_path_buf());
        tune(&mut config);
        let running = server::spawn(config, store.clone()).await.expect("relay starts");
        TestRelay { running: Some(running), store, _data: data }
    }

    fn running(&self) -> &RunningRelay {
        self.running.as_ref().expect("relay running")
    }

    /// `ws://127.0.0.1:PORT{base}/ws`; clients append `/ROOM`.
    pub fn ws_url(&self) -> String {
        self.running().ws_url()
    }

    /// `http://127.0.0.1:PORT{base}`.
    pub fn http_url(&self) -> String {
        let running = self.running();
        format!("http://{}{}", running.addr, running.state.config.base_path)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.running().addr
    }

    /// The relay's shared state (rooms, counters), for tests that reach inside.
    pub fn state(&self) -> &std::sync::Arc<relay::state::AppState> {
        &self.running().state
    }

    pub fn rooms_in_memory(&self) -> usize {
        self.running().state.rooms.loaded().len()
    }

    pub fn cache_stats(&self) -> relay::rooms::CacheStats {
        self.running().state.rooms.cache_stats()
    }

    /// Graceful shutdown, as on SIGTERM.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean shutdown");
        }
    }
}
