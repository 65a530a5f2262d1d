//! A small auth webhook on loopback for the tests of `--auth-webhook`: a real HTTP/1.1
//! server on a TCP port that reads each POST's JSON question, records it, and answers as
//! the test's `answer` function says, after an optional delay (a slow hook). A dead hook is
//! [`dead_url`]: a port nothing listens on.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// An answer: the status code and the body.
pub type Answer = (u16, String);

/// A hook serving until dropped.
pub struct HookServer {
    pub addr: SocketAddr,
    /// Every question asked, in order.
    pub questions: Arc<Mutex<Vec<serde_json::Value>>>,
    task: JoinHandle<()>,
}

impl HookServer {
    /// Serves on a free loopback port, answering each question with `answer` after `delay`.
    pub async fn start(delay: Duration, answer: impl Fn(&serde_json::Value) -> Answer + Send + Sync + 'static) -> HookServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let questions = Arc::new(Mutex::new(Vec::new()));
        let (asked, answer) = (questions.clone(), Arc::new(answer));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (asked, answer) = (asked.clone(), answer.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, delay, &asked, &*answer).await;
                });
            }
        });
        HookServer { addr, questions, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/auth", self.addr)
    }

    pub fn asked(&self) -> usize {
        self.questions.lock().map(|q| q.len()).unwrap_or(0)
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The URL of a hook that is not there: a port that was free a moment ago.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    format!("http://{addr}/auth")
}

/// Answers the requests of one connection (keep-alive) until it closes.
async fn serve(mut stream: TcpStream, delay: Duration, asked: &Mutex<Vec<serde_json::Value>>, answer: &(dyn Fn(&serde_json::Value) -> Answer + Send + Sync)) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        let (head_end, length) = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        let question: serde_json::Value = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or_default();
        buffer.drain(..head_end + length);
        if let Ok(mut asked) = asked.lock() {
            asked.push(question.clone());
        }
        tokio::time::sleep(delay).await;
        let (status, body) = answer(&question);
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
    }
}
