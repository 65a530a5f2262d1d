//! A TCP proxy on loopback that delays every chunk by a fixed time in each direction, for
//! browser tests of the editor on a slow link (its adaptive streaming rate). Latency only: the
//! chunks are read at once and written after the delay, so throughput is not capped. Bounded:
//! at most [`MAX_CONNECTIONS`] connections and [`MAX_CHUNKS_IN_FLIGHT`] chunks queued per
//! direction (reading waits when the queue is full). Dropping the proxy stops every task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub const MAX_CONNECTIONS: usize = 64;
pub const MAX_CHUNKS_IN_FLIGHT: usize = 256;

/// The running proxy; stops when dropped.
pub struct SlowProxy {
    pub addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl SlowProxy {
    /// Listens on a free loopback port and forwards to `upstream` with `delay` per chunk.
    pub async fn start(upstream: SocketAddr, delay: Duration) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let accept = tokio::spawn(async move {
            // Owned by this task: when it is aborted, every connection task goes with it.
            let mut connections = JoinSet::new();
            let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
                connections.spawn(async move {
                    let _slot = slot;
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(pipe(client_read, server_write, delay), pipe(server_read, client_write, delay));
                });
                // Reap finished connections so the set does not grow.
                while connections.try_join_next().is_some() {}
            }
        });
        SlowProxy { addr, accept }
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(MAX_CHUNKS_IN_FLIGHT);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
