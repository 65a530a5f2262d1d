//! The real `relay` binary as a child process, for tests that must kill it (SIGKILL) or
//! signal it (SIGTERM) like an operator or a crash would. The child is killed on drop, so
//! a failing test leaves nothing running.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct ChildRelay {
    child: Option<Child>,
    pub addr: SocketAddr,
}

/// `n` relay processes started with the same `args`, each with a data directory of its own
/// (which lives as long as the returned guards), started off the async runtime (each start
/// blocks until the relay prints its address).
pub async fn start_relays(n: usize, args: &[&str]) -> (Vec<ChildRelay>, Vec<tempfile::TempDir>) {
    let dirs: Vec<tempfile::TempDir> = (0..n).map(|_| tempfile::tempdir().expect("a temp dir")).collect();
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let relays = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        paths.iter().map(|p| ChildRelay::start(p, &args)).collect::<Vec<_>>()
    })
    .await
    .expect("relays start");
    (relays, dirs)
}

/// Path of the `relay` binary next to the test executables, built on first use.
pub fn relay_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // Benchmarks point this at a release build.
            if let Some(path) = std::env::var_os("RELAY_BIN") {
                return PathBuf::from(path);
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "relay", "--bin", "relay"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the relay binary failed");
            let exe = std::env::current_exe().expect("test executable path");
            // target/debug/deps/<test> → target/debug/relay
            let dir = exe.parent().and_then(Path::parent).expect("target directory");
            dir.join("relay")
        })
        .clone()
}

impl ChildRelay {
    /// Starts `relay` on a free loopback port with SQLite under `data_dir` and extra args.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_at("127.0.0.1:0", data_dir, extra)
    }

    /// Starts `relay` listening on `listen` (e.g. the address of a relay stopped earlier).
    pub fn start_at(listen: &str, data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(listen, data_dir, extra, "warn", Stdio::inherit())
    }

    /// Starts `relay` like [`ChildRelay::start`], logging at `RUST_LOG=filter` into `log`.
    pub fn start_logged(data_dir: &Path, extra: &[&str], filter: &str, log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn("127.0.0.1:0", data_dir, extra, filter, Stdio::from(file))
    }

    fn spawn(listen: &str, data_dir: &Path, extra: &[&str], filter: &str, stderr: Stdio) -> Self {
        let mut child = Command::new(relay_binary())
            .arg("--listen")
            .arg(listen)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("relay starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("relay prints its address");
        let addr = relay::server::addr_from_banner(&line).unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        ChildRelay { child: Some(child), addr }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Sends `signal` (e.g. "-HUP") to the relay.
    pub fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill").arg(signal).arg(child.id().to_string()).status();
        }
    }

    /// SIGKILL: no flush, no goodbye.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the exit status (bounded).
    pub fn terminate(mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for ChildRelay {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops `child`, the leader of a process group of its own, and everything in the group:
/// `signal` (e.g. "-TERM") to the group, up to `grace` for the leader to exit, then SIGKILL
/// to whatever is left (the leader, or children that outlived it).
pub fn stop_process_group(mut child: Child, signal: &str, grace: Duration) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args([signal, "--", &group]).stderr(Stdio::null()).status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
    let _ = child.kill();
    let _ = child.wait();
}
