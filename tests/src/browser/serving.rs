//! The relay binary serving the built client for the browser tests, with a data directory
//! that outlives a stop so the relay can come back on the same address and data.

use std::path::PathBuf;

use shared::scene::Scene;
use yrs::Transact;

use super::dist_dir;
use crate::process::ChildRelay;
use crate::TestClient;

/// The real relay binary serving dist/, with a temp data dir kept as long as it runs.
pub struct Relay {
    pub relay: ChildRelay,
    pub _data: tempfile::TempDir,
    pub base: &'static str,
}

impl Relay {
    pub async fn start(base: &'static str) -> Relay {
        Self::start_with(base, Vec::new()).await
    }

    /// Started with extra flags (e.g. `--auth-key-file`).
    pub async fn start_with(base: &'static str, extra: Vec<String>) -> Relay {
        let data = tempfile::tempdir().expect("temp data dir");
        let relay = Self::spawn("127.0.0.1:0".to_owned(), data.path().to_path_buf(), base, extra).await;
        Relay { relay, _data: data, base }
    }

    async fn spawn(listen: String, data_path: PathBuf, base: &'static str, extra: Vec<String>) -> ChildRelay {
        let dist = dist_dir();
        // Building the relay binary on first use blocks: keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            let dist = dist.to_str().expect("utf-8 path").to_owned();
            let mut args = vec!["--static-dir", dist.as_str()];
            if !base.is_empty() {
                args.extend(["--base-path", base]);
            }
            args.extend(extra.iter().map(String::as_str));
            ChildRelay::start_at(&listen, &data_path, &args)
        })
        .await
        .expect("relay starts")
    }

    /// Stops the relay (SIGTERM, as an operator would), keeping its data directory and
    /// address for [`StoppedRelay::restart`].
    pub async fn stop(self) -> StoppedRelay {
        let Relay { relay, _data, base } = self;
        let addr = relay.addr;
        tokio::task::spawn_blocking(move || relay.terminate()).await.expect("relay stops");
        StoppedRelay { addr, data: _data, base }
    }

    /// The page of `room` (a plain name: no escaping needed).
    pub fn page(&self, room: &str) -> String {
        format!("http://{}{}/?room={room}", self.relay.addr, self.base)
    }

    /// Where native clients connect; they append `/ROOM`.
    pub fn ws(&self) -> String {
        format!("ws://{}{}/ws", self.relay.addr, self.base)
    }
}

/// A relay stopped by [`Relay::stop`]: its address and data, to start it again.
pub struct StoppedRelay {
    pub addr: std::net::SocketAddr,
    data: tempfile::TempDir,
    base: &'static str,
}

impl StoppedRelay {
    /// Starts the relay again on the same address with the same data directory.
    pub async fn restart(self) -> Relay {
        let relay = Relay::spawn(self.addr.to_string(), self.data.path().to_path_buf(), self.base, Vec::new()).await;
        Relay { relay, _data: self.data, base: self.base }
    }
}

/// Nodes in a native client's copy of the document.
pub fn native_node_count(client: &TestClient, scene: &Scene) -> usize {
    scene.node_count(&client.doc.transact())
}
