//! A real Caddy (Debian's package, 2.6) for the proxy tests, running the shipped
//! `deploy/Caddyfile` with its upstreams pointed at test relays and its site on a free
//! loopback port over plain HTTP, in a temp directory (no admin endpoint, no certificates,
//! nothing written outside it). Caddy runs in a process group of its own, stopped on drop.

use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::free_port;

pub struct Caddy {
    child: Option<Child>,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

fn binary() -> String {
    std::env::var("CADDY").unwrap_or_else(|_| "/usr/bin/caddy".to_owned())
}

/// `deploy/Caddyfile` with `upstreams` in place of its example relays and
/// `http://127.0.0.1:{port}` as its site, after global options that keep Caddy inside `dir`.
pub fn config(dir: &std::path::Path, upstreams: &[SocketAddr], port: u16) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shipped = std::fs::read_to_string(root.join("deploy/Caddyfile")).expect("deploy/Caddyfile");
    let relays: Vec<String> = upstreams.iter().map(SocketAddr::to_string).collect();
    let (mut site, mut proxied) = (false, false);
    let mut out = format!(
        "{{\n\tadmin off\n\tauto_https off\n\tstorage file_system {}\n}}\n\n",
        dir.join("data").display()
    );
    for line in shipped.lines() {
        let trimmed = line.trim_start();
        if trimmed == "scenes.example.com {" {
            out.push_str(&format!("http://127.0.0.1:{port} {{\n"));
            site = true;
        } else if let Some(rest) = trimmed.strip_prefix("reverse_proxy 127.0.0.1:8081 127.0.0.1:8082") {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(&format!("{indent}reverse_proxy {}{rest}\n", relays.join(" ")));
            proxied = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(site && proxied, "deploy/Caddyfile no longer has the site and reverse_proxy lines this harness rewrites");
    out
}

impl Caddy {
    /// Starts Caddy in front of `upstreams` on a free loopback port.
    pub fn start(upstreams: &[SocketAddr]) -> Caddy {
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir for caddy");
            let port = free_port();
            let file = dir.path().join("Caddyfile");
            std::fs::write(&file, config(dir.path(), upstreams, port)).expect("write the Caddyfile");
            let log = std::fs::File::create(dir.path().join("caddy.log")).expect("caddy's log");
            let child = Command::new(binary())
                .args(["run", "--adapter", "caddyfile", "--config"])
                .arg(&file)
                .env("HOME", dir.path())
                .env("XDG_DATA_HOME", dir.path().join("data"))
                .env("XDG_CONFIG_HOME", dir.path().join("config"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e} (scripts/cluster-test.sh installs caddy)", binary()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = dir.path().join("caddy.log");
            let mut caddy = Caddy { child: Some(child), addr, _dir: dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return caddy;
                }
                if let Some(Ok(Some(_))) = caddy.child.as_mut().map(|c| c.try_wait()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            eprintln!("caddy did not start on port {port}: {}", std::fs::read_to_string(&log).unwrap_or_default());
            caddy.stop();
        }
        panic!("caddy did not start");
    }

    /// Stops Caddy (its whole process group), bounded.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            crate::process::stop_process_group(child, "-TERM", Duration::from_secs(3));
        }
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        self.stop();
    }
}
