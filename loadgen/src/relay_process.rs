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
    /// CPU of the relay's durable store thread (`store-writer`): what durability costs.
    pub store_writer_cpu_seconds: f64,
    pub disk_write_bytes: u64,
}

/// Flags every benchmark relay gets unless `extra` sets them itself. Every simulated client
/// comes from 127.0.0.1 and some send fast: the benchmarks measure the relay's capacity, not
/// its per-address and per-connection limits.
const DEFAULTS: [(&str, &str); 5] = [
    ("--ping-interval-secs", "30"),
    ("--max-conns-per-ip", "1000000"),
    ("--max-conns-per-room", "1000000"),
    ("--message-rate", "1000000"),
    ("--message-burst", "1000000"),
];

/// A command for `bin`, under `taskset -c CPUS` when `cpus` is given (taskset execs it: the
/// child's process id is the program's).
pub fn pinned(cpus: Option<&str>, bin: &Path) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(bin);
            command
        }
        None => Command::new(bin),
    }
}

impl RelayProcess {
    /// Starts `bin` on a free loopback port; `extra` flags (`--flag value` or `--flag=value`)
    /// come last and replace the defaults above they name.
    pub fn start(bin: &Path, data_dir: &Path, extra: &[&str]) -> Result<Self, LoadError> {
        Self::start_on(None, bin, data_dir, extra)
    }

    /// [`RelayProcess::start`], on the CPUs `cpus` (taskset's list, e.g. `0`) when given:
    /// pinned from its first instruction, so its runtime sizes itself for them as it would in
    /// a container limited to that many CPUs.
    pub fn start_on(cpus: Option<&str>, bin: &Path, data_dir: &Path, extra: &[&str]) -> Result<Self, LoadError> {
        let mut child = die_with_parent(&mut pinned(cpus, bin))
            .args(["--listen", "127.0.0.1:0"])
            .args(defaults_not_in(extra))
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

/// Has the child that `command` starts killed (SIGKILL) when the thread that started it
/// ends: a load generator killed by a signal runs no drop guard, and its servers must not
/// outlive it. Start children from a thread that lives as long as they should (the main
/// thread or a tokio worker), never from a blocking-pool thread, which ends when idle.
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the child between fork and exec; prctl is async-signal-safe and
    // touches no memory shared with the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The default flags (and their values) that `extra` does not set itself.
fn defaults_not_in(extra: &[&str]) -> Vec<&'static str> {
    let named = |flag: &str| extra.iter().any(|a| *a == flag || a.strip_prefix(flag).is_some_and(|rest| rest.starts_with('=')));
    DEFAULTS.iter().filter(|(flag, _)| !named(flag)).flat_map(|(flag, value)| [*flag, *value]).collect()
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
    let cpu = crate::proc_cpu::cpu_seconds(pid, "store-writer");
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let disk_write_bytes = io
        .lines()
        .find(|l| l.starts_with("write_bytes:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ProcFigures { rss_bytes: kb("VmRSS:"), peak_rss_bytes: kb("VmHWM:"), cpu_seconds: cpu.total, store_writer_cpu_seconds: cpu.named, disk_write_bytes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_flags_replace_the_defaults_they_name() {
        let all = defaults_not_in(&[]);
        assert_eq!(all.len(), 2 * DEFAULTS.len());
        let kept = defaults_not_in(&["--ping-interval-secs=1", "--message-rate", "5", "--ping-interval-secs-not"]);
        assert!(!kept.contains(&"--ping-interval-secs") && !kept.contains(&"--message-rate"), "{kept:?}");
        assert!(kept.contains(&"--message-burst") && kept.contains(&"1000000"));
    }
}
