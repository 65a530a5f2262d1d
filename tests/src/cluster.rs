//! Helpers for the scale-out tests: in-process relays sharing a real redis-server, a client
//! that keeps reconnecting until it syncs (through outages), and a look inside Redis.

use std::time::Duration;

use yrs::{Doc, Map, Transact};

use crate::redis_server::RedisServer;
use crate::{TestClient, TestRelay};

/// `n` in-process relays sharing rooms through `redis`, each tuned by `tune`.
pub async fn relays(redis: &RedisServer, n: usize, tune: impl Fn(&mut relay::cli::Config)) -> Vec<TestRelay> {
    relays_at(&redis.url(), n, tune).await
}

/// `n` in-process relays sharing rooms through the Redis (or Redis Cluster) at `url`.
pub async fn relays_at(url: &str, n: usize, tune: impl Fn(&mut relay::cli::Config)) -> Vec<TestRelay> {
    let mut relays = Vec::new();
    for _ in 0..n {
        relays.push(
            TestRelay::start_with(|config| {
                config.redis = Some(url.to_owned());
                tune(config);
            })
            .await,
        );
    }
    relays
}

/// Connects with `doc` until a connection syncs (bounded: `attempts` tries, each waiting
/// up to 3 s); the relay may refuse while Redis is down or coming back.
pub async fn join_until_synced(ws_base: &str, room: &str, doc: &Doc, attempts: usize) -> Option<TestClient> {
    for _ in 0..attempts {
        let client = TestClient::connect_with_doc(ws_base, room, doc.clone()).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while tokio::time::Instant::now() < deadline && !client.is_closed() {
            if client.is_synced() {
                return Some(client);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(client);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// Entries of map `m` in a client's copy of the room.
pub fn map_len(client: &TestClient) -> u32 {
    let map = client.doc.get_or_insert_map("m");
    let txn = client.doc.transact();
    map.len(&txn)
}

/// Sets `m[key] = value` in a client's document (sent to its relay as an update).
pub fn put(client: &TestClient, key: &str, value: i64) {
    let map = client.doc.get_or_insert_map("m");
    map.insert(&mut client.doc.transact_mut(), key, value);
}

/// A connection to `redis` for looking inside it.
pub async fn inspect(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection")
}
