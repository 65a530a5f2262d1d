//! The relay under test, started as a child process on a free loopback port with its own
//! data directory; its memory, CPU and disk figures are read from /proc.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::report::LoadError;

pub struct RelayProcess {
    child: Option<Child>,
    pub addr: SocketAddr,
}

/// Figures read from /proc for the relay process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcFigures {
    pub rss_bytes: u64,
    pub peak_rss_bytes: u64,
    pub cpu_seconds: f64,
    pub disk_write_bytes: u64,
}

impl RelayProcess {
    pub fn start(bin: &Path, data_dir: &Path, extra: &[&str]) -> Result<Self, LoadError> {
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--ping-interval-secs", "30"])
            // Every simulated client comes from 127.0.0.1 and some send fast: the benchmarks
            // measure the relay's capacity, not its per-address and per-connection limits.
            .args(["--max-conns-per-ip", "1000000", "--max-conns-per-room", "1000000"])
            .args(["--message-rate", "1000000", "--message-burst", "1000000"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| LoadError::Relay(format!("starting {}: {e}", bin.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| LoadError::Relay("no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| LoadError::Relay(e.to_string()))?;
        let addr = relay::server::addr_from_banner(&line)
            .ok_or_else(|| LoadError::Relay(format!("unexpected first line {line:?}")))?;
        Ok(RelayProcess { child: Some(child), addr })
    }

    pub fn ws_url(&self, room: &str) -> String {
        format!("ws://{}/ws/{room}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn figures(&self) -> ProcFigures {
        proc_figures(self.pid())
    }

    /// The relay's own JSON statistics.
    pub async fn stats(&self) -> Result<serde_json::Value, LoadError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.map_err(|e| LoadError::Relay(e.to_string()))?;
        let request = format!("GET /api/stats HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        stream.write_all(request.as_bytes()).await.map_err(|e| LoadError::Relay(e.to_string()))?;
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
            .await
            .map_err(|_| LoadError::Timeout("stats".into()))?
            .map_err(|e| LoadError::Relay(e.to_string()))?;
        let text = String::from_utf8_lossy(&response);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).map_err(|e| LoadError::Relay(format!("stats not JSON: {e}")))
    }

    /// SIGTERM and wait (bounded).
    pub fn stop(mut self) -> Result<(), LoadError> {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            for _ in 0..600 {
                if let Ok(Some(_)) = child.try_wait() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(LoadError::Relay("did not stop within 30 s of SIGTERM".into()));
        }
        Ok(())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// CPU, memory and disk figures of any process (the relay, or a peer server under test).
pub fn proc_figures(pid: u32) -> ProcFigures {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |v| v * 1024)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // fields after the command name: utime is the 14th field, stime the 15th
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let cpu_seconds = (ticks(11) + ticks(12)) / 100.0;
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let disk_write_bytes = io
        .lines()
        .find(|l| l.starts_with("write_bytes:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ProcFigures { rss_bytes: kb("VmRSS:"), peak_rss_bytes: kb("VmHWM:"), cpu_seconds, disk_write_bytes }
}
