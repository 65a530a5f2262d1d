//! chromedriver for the browser tests: started on a free loopback port in a process group of
//! its own, asked for its status until it answers, and stopped (with every Chromium it
//! started) when dropped.

use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{program, DRIVER_START};
use crate::process::stop_process_group;

/// A chromedriver child in a process group of its own (so the Chromium processes it starts
/// can be stopped with it); the group is stopped on drop.
pub struct Driver {
    pub child: Option<Child>,
    pub url: String,
}

impl Driver {
    pub async fn start() -> Driver {
        let binary = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        let mut last_problem = String::new();
        // A port picked free can be taken before chromedriver binds it: try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {binary}: {e} (scripts/browser-test.sh installs it)"));
            let mut driver = Driver { child: Some(child), url: format!("http://127.0.0.1:{port}") };
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + DRIVER_START;
            loop {
                if let Some(Ok(Some(status))) = driver.child.as_mut().map(Child::try_wait) {
                    last_problem = format!("chromedriver exited with {status}");
                    break;
                }
                match driver_status(addr).await {
                    Ok(status) if status.contains("\"ready\":true") => return driver,
                    Ok(status) => last_problem = format!("/status answered {status:?}"),
                    Err(error) => last_problem = error,
                }
                if Instant::now() > deadline {
                    last_problem = format!("chromedriver did not answer within {DRIVER_START:?} ({last_problem})");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            driver.stop();
        }
        panic!("cannot start chromedriver: {last_problem}");
    }

    /// SIGTERM to the whole group (chromedriver and any browser left), then SIGKILL.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_process_group(child, "-TERM", Duration::from_secs(3));
        }
    }
}

/// chromedriver's `GET /status` response (head and body), read until the status JSON is
/// complete: chromedriver keeps the connection open, so reading to the end would wait.
pub async fn driver_status(addr: SocketAddr) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let request = format!("GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            response.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&response);
            let body = text.split_once("\r\n\r\n").map(|(_, body)| body.trim_end());
            if n == 0 || body.is_some_and(|b| b.ends_with('}') && serde_json::from_str::<Value>(b).is_ok()) {
                return Ok(text.into_owned());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), exchange).await.map_err(|_| "no /status answer in 2 s".to_owned())?
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}
