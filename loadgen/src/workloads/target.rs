//! The server a workload drives: our relay (started here), the bare broadcast ceiling
//! (`loadgen/src/bin/ceiling.rs`, started here), or an external server already listening
//! on loopback (the peer Yjs servers, started by `scripts/bench.sh`), whose process id is
//! passed in so its CPU and memory can be read from /proc like ours.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::Framing;
use crate::relay_process::{pinned, proc_figures, ProcFigures, RelayProcess};
use crate::report::LoadError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetKind {
    /// Start our relay (release build, `--relay-bin`).
    Ours,
    /// Start the bare tokio broadcast relay (no CRDT): the ceiling.
    Ceiling,
    /// A server already listening at `--url` (its process id in `--pid`).
    External,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Which server to drive.
    #[arg(long, value_enum, default_value_t = TargetKind::Ours)]
    pub target: TargetKind,
    /// External target: WebSocket URL rooms are appended to, e.g. ws://127.0.0.1:1234/.
    #[arg(long)]
    pub url: Option<String>,
    /// External target: how it frames messages.
    #[arg(long, value_enum, default_value_t = Framing::Yws)]
    pub framing: Framing,
    /// External target: its process id, for CPU and memory figures from /proc.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Name shown in reports (default: ours, ceiling, or the URL).
    #[arg(long)]
    pub label: Option<String>,
    /// The ceiling binary to start.
    #[arg(long, default_value = "target/release/ceiling")]
    pub ceiling_bin: PathBuf,
    /// Our relay's store: sqlite (durable, what ships) or memory (like the peers).
    #[arg(long, default_value = "sqlite")]
    pub relay_store: String,
    /// Our relay: one more flag for it (repeatable), e.g. `--relay-arg=--ping-interval-secs=1`;
    /// it replaces loadgen's default for that flag.
    #[arg(long = "relay-arg", allow_hyphen_values = true)]
    pub relay_args: Vec<String>,
    /// Our relay or the ceiling: the CPUs to pin it to (taskset's list, e.g. `0`), for
    /// one-core figures; run loadgen itself on the others (`taskset -c 1 loadgen …`).
    #[arg(long)]
    pub server_cpus: Option<String>,
}

/// A started or attached target.
pub struct Target {
    kind: Kind,
    pub framing: Framing,
    pub label: String,
}

enum Kind {
    Ours { relay: RelayProcess, _data: tempfile::TempDir },
    Ceiling { child: Owned, base: String },
    External { base: String, pid: Option<u32> },
}

impl Target {
    pub fn start(relay_bin: &Path, args: &TargetArgs) -> Result<Target, LoadError> {
        let (kind, framing, default_label) = match args.target {
            TargetKind::Ours => {
                let data = tempfile::tempdir().map_err(|e| LoadError::Relay(e.to_string()))?;
                let mut extra = vec!["--store", args.relay_store.as_str()];
                extra.extend(args.relay_args.iter().map(String::as_str));
                let relay = RelayProcess::start_on(args.server_cpus.as_deref(), relay_bin, data.path(), &extra)?;
                (Kind::Ours { relay, _data: data }, Framing::Yws, "ours".to_owned())
            }
            TargetKind::Ceiling => {
                let mut child = pinned(args.server_cpus.as_deref(), &args.ceiling_bin)
                    .args(["--listen", "127.0.0.1:0"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .map_err(|e| LoadError::Relay(format!("starting {}: {e}", args.ceiling_bin.display())))?;
                let stdout = child.stdout.take().ok_or_else(|| LoadError::Relay("ceiling: no stdout".into()))?;
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map_err(|e| LoadError::Relay(e.to_string()))?;
                let addr = relay::server::addr_from_banner(&line)
                    .ok_or_else(|| LoadError::Relay(format!("ceiling: unexpected first line {line:?}")))?;
                (Kind::Ceiling { child: Owned(child), base: format!("ws://{addr}/") }, Framing::Yws, "ceiling".to_owned())
            }
            TargetKind::External => {
                let url = args.url.clone().ok_or_else(|| LoadError::Relay("--target external needs --url".into()))?;
                let loopback = ["ws://127.0.0.1:", "ws://localhost:", "ws://[::1]:"];
                if !loopback.iter().any(|p| url.starts_with(p)) {
                    return Err(LoadError::Relay(format!("{url}: benchmarks run on loopback only")));
                }
                let base = if url.ends_with('/') { url.clone() } else { format!("{url}/") };
                (Kind::External { base, pid: args.pid }, args.framing, url)
            }
        };
        Ok(Target { kind, framing, label: args.label.clone().unwrap_or(default_label) })
    }

    /// The URL a client of `room` opens. Hocuspocus serves every document at one URL (the
    /// document name travels in each message), stock servers take the room as the path.
    pub fn url(&self, room: &str) -> String {
        match (&self.kind, self.framing) {
            (Kind::Ours { relay, .. }, _) => relay.ws_url(room),
            (Kind::Ceiling { base, .. }, _) => format!("{base}{room}"),
            (Kind::External { base, .. }, Framing::Hocuspocus) => base.clone(),
            (Kind::External { base, .. }, Framing::Yws) => format!("{base}{room}"),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match &self.kind {
            Kind::Ours { relay, .. } => Some(relay.pid()),
            Kind::Ceiling { child, .. } => Some(child.0.id()),
            Kind::External { pid, .. } => *pid,
        }
    }

    /// The server's /proc figures (zeros when its process id is unknown).
    pub fn figures(&self) -> ProcFigures {
        self.pid().map(proc_figures).unwrap_or_default()
    }

    /// What to put in a report's parameters about the target.
    pub fn describe(&self) -> Value {
        let cpus = self.pid().and_then(allowed_cpus);
        json!({ "target": self.label, "framing": self.framing, "pid_known": self.pid().is_some(), "server_cpus": cpus })
    }

    pub fn stop(self) -> Result<(), LoadError> {
        match self.kind {
            Kind::Ours { relay, .. } => relay.stop(),
            Kind::Ceiling { child, .. } => {
                drop(child);
                Ok(())
            }
            Kind::External { .. } => Ok(()),
        }
    }
}

/// The CPUs process `pid` may run on (`Cpus_allowed_list` in /proc), e.g. `0` or `0-1`.
fn allowed_cpus(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("Cpus_allowed_list:")).map(|list| list.trim().to_owned())
}

/// A child process that is killed when dropped (also when a workload fails half-way).
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the server's resident memory stops moving (allocators return memory late),
/// at most `limit`; returns the last reading.
pub async fn settled_rss(target: &Target, limit: Duration) -> u64 {
    let mut last = target.figures().rss_bytes;
    let rounds = (limit.as_millis() / 500).max(1);
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = target.figures().rss_bytes;
        if now.abs_diff(last) < 64 * 1024 {
            return now;
        }
        last = now;
    }
    last
}
