//! A real nginx (Debian's package) for the proxy tests, running a shipped configuration
//! (`deploy/nginx.conf`, `deploy/nginx-cluster.conf`) with its upstreams pointed at test relays and its listener on a free
//! loopback port, in a temp prefix. nginx runs in a process group of its own, which is
//! stopped on drop (master and workers), so a failing test leaves nothing running.

use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::free_port;

pub struct Nginx {
    child: Option<Child>,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

fn binary() -> String {
    std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".to_owned())
}

/// The shipped `file` (under the repository root) with `upstreams` in place of its example
/// servers and `port` as its listener, wrapped in a minimal main configuration rooted in `dir`.
pub fn config(file: &str, dir: &std::path::Path, upstreams: &[SocketAddr], port: u16) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shipped = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let servers: String = upstreams.iter().map(|a| format!("    server {a} max_fails=1 fail_timeout=5s;\n")).collect();
    let mut site = String::new();
    let mut replaced = false;
    for line in shipped.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("server 127.0.0.1:") {
            if !replaced {
                site.push_str(&servers);
                replaced = true;
            }
        } else if trimmed == "listen 80;" {
            site.push_str(&format!("    listen 127.0.0.1:{port};\n"));
        } else {
            site.push_str(line);
            site.push('\n');
        }
    }
    assert!(replaced, "{file} lists no upstream server");
    let d = dir.display();
    format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{site}}}\n"
    )
}

impl Nginx {
    /// Starts nginx running `deploy/nginx.conf` in front of `upstreams` on a free loopback port.
    pub fn start(upstreams: &[SocketAddr]) -> Nginx {
        Nginx::start_shipped("deploy/nginx.conf", upstreams)
    }

    /// Starts nginx running the shipped `file` in front of `upstreams` on a free loopback port.
    pub fn start_shipped(file: &str, upstreams: &[SocketAddr]) -> Nginx {
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir for nginx");
            let port = free_port();
            let conf = dir.path().join("nginx.conf");
            std::fs::write(&conf, config(file, dir.path(), upstreams, port)).expect("write nginx.conf");
            let child = Command::new(binary())
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e} (scripts/cluster-test.sh installs nginx)", binary()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = dir.path().join("error.log");
            let mut nginx = Nginx { child: Some(child), addr, _dir: dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return nginx;
                }
                if let Some(Ok(Some(_))) = nginx.child.as_mut().map(|c| c.try_wait()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            eprintln!("nginx did not start on port {port}: {}", std::fs::read_to_string(&log).unwrap_or_default());
            nginx.stop();
        }
        panic!("nginx did not start");
    }

    /// Stops master and workers (the whole process group), bounded.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            crate::process::stop_process_group(child, "-QUIT", Duration::from_secs(2));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}
