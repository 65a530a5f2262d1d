//! Rooms sharded over a real Redis Cluster (three masters, one replica each; see
//! tests/src/redis_cluster.rs) and three relays started with `--redis redis+cluster://…`:
//! rooms whose keys land on different masters converge across relays, their streams live on
//! the master owning their slot, and presence crosses relays; the admin list, compaction and
//! delete work on sharded rooms; a master SIGKILLed under
//! durable-ack writers closes only its rooms (4503), its replica takes over, and the room
//! converges again while a room on another shard keeps going without a close; with
//! `--redis-wait-replicas 1` an acknowledged update is on the replica already (and the
//! durable-ack latency with and without the WAIT is printed), and every acknowledged update
//! survives its master's SIGKILL with no help from its author; the per-room blob quota holds
//! across relays; a busy room's slot moved to
//! another master (resharding) keeps the room going with nothing lost and no close; the
//! cross-relay delivery time with one server and with the cluster is printed.
//!
//! Needs the `cluster` feature, redis-server and redis-cli (scripts/cluster-test.sh).

use std::time::Duration;

use shared::close;
use tests::cluster::{join_until_synced, map_len, put, relays_at};
use tests::redis_cluster::RedisCluster;
use tests::{eventually, TestClient};
use yrs::{Doc, Map, Transact};

const WAIT: Duration = Duration::from_secs(20);

fn stream_key(room: &str) -> String {
    format!("scene:{{{room}}}:log")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_on_three_shards_converge_across_three_relays() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 3, |_| {}).await;
    let rooms = cluster.rooms_on_each_master("shard");
    assert_eq!(rooms.len(), 3, "one room per master: {rooms:?}");

    // Every room has a member on every relay; everybody writes.
    let mut members: Vec<Vec<TestClient>> = Vec::new();
    for (room, _) in &rooms {
        let mut clients = Vec::new();
        for relay in &relays {
            clients.push(TestClient::join(&relay.ws_url(), room).await);
        }
        members.push(clients);
    }
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        for clients in &members {
            for (i, client) in clients.iter().enumerate() {
                put(client, &format!("c{i}-{round}"), round as i64);
            }
        }
    }
    let expected = (relays.len() * ROUNDS) as u32;
    for ((room, _), clients) in rooms.iter().zip(&members) {
        for (i, client) in clients.iter().enumerate() {
            eventually(WAIT, &format!("room {room}: client on relay {i} sees every key"), || async { map_len(client) == expected }).await;
        }
    }
    // Each room's stream is on the master owning its slot, and nowhere else.
    for (room, master) in &rooms {
        let here = cluster.stream_len_on(*master, &stream_key(room)).unwrap_or(0);
        assert!(here >= expected as u64, "room {room}'s stream on its master {master} has {here} entries");
        for (_, other) in rooms.iter().filter(|(_, port)| port != master) {
            assert_ne!(cluster.stream_len_on(*other, &stream_key(room)), Some(here), "room {room} is not on master {other}");
        }
    }

    // Presence crosses relays in a sharded room.
    let room = &rooms[1].0;
    let a = TestClient::join(&relays[0].ws_url(), room).await;
    let b = TestClient::join(&relays[2].ws_url(), room).await;
    a.set_presence(r#"{"user":{"name":"Ada"}}"#);
    b.set_presence(r#"{"user":{"name":"Bob"}}"#);
    let (a_id, b_id) = (a.client_id(), b.client_id());
    eventually(WAIT, "Bob (relay 3) sees Ada (relay 1)", || async { b.presence_of(a_id).await.is_some_and(|s| s.contains("Ada")) }).await;
    eventually(WAIT, "Ada sees Bob", || async { a.presence_of(b_id).await.is_some_and(|s| s.contains("Bob")) }).await;
    a.close().await;
    eventually(WAIT, "Ada's state leaves relay 3", || async { b.presence_of(a_id).await.is_none() }).await;

    // A relay that was not there loads a sharded room from its master.
    let late = relays_at(&cluster.url(), 1, |_| {}).await;
    let joiner = TestClient::join(&late[0].ws_url(), &rooms[2].0).await;
    assert_eq!(map_len(&joiner), expected, "a late relay loads the whole room");
}

/// The admin list finds rooms on every master; compaction (lease, snapshot script, trim)
/// and a delete (script, blobs found by SCAN on every master) work on sharded rooms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_list_compaction_and_delete_work_across_shards() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 2, |_| {}).await;
    let rooms = cluster.rooms_on_each_master("admin");
    let mut writers = Vec::new();
    for (room, _) in &rooms {
        let writer = TestClient::join(&relays[0].ws_url(), room).await;
        for i in 0..10 {
            put(&writer, &format!("k{i}"), i);
        }
        writers.push(writer);
    }
    let listed = |addr| async move {
        let (status, body) = tests::http_get(addr, "/api/rooms").await;
        assert_eq!(status, 200, "{body}");
        let rooms: Vec<serde_json::Value> = serde_json::from_str(&body).expect("a JSON list");
        rooms.iter().filter_map(|r| r["name"].as_str().map(str::to_owned)).collect::<Vec<_>>()
    };
    let mut names: Vec<String> = rooms.iter().map(|(room, _)| room.clone()).collect();
    names.sort();
    eventually(WAIT, "relay 2 lists the rooms of every shard", || async { listed(relays[1].addr()).await == names }).await;

    // Compaction on a sharded room: a snapshot a late relay loads.
    let (compacted, _) = &rooms[2];
    let room = relays[0].state().rooms.get_loaded(compacted).expect("room in memory");
    assert!(relays[0].state().rooms.compact_now(&room, true).await, "a snapshot is written");
    let late = relays_at(&cluster.url(), 1, |_| {}).await;
    assert_eq!(map_len(&TestClient::join(&late[0].ws_url(), compacted).await), 10, "snapshot plus tail load");

    // Delete a sharded room through the other relay, with a blob on its master.
    let (doomed, _) = &rooms[0];
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"sharded preview"].concat();
    let upload = format!("/api/rooms/{doomed}/blobs");
    let (status, body) = tests::http(relays[0].addr(), "PUT", &upload, &[("Content-Type", "image/png")], &png).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = tests::http(relays[1].addr(), "DELETE", &format!("/api/rooms/{doomed}"), &[], &[]).await;
    assert_eq!(status, 204, "{body}");
    let (code, reason) = writers[0].wait_closed().await;
    assert_eq!((code, reason.as_str()), (close::ROOM_UNAVAILABLE, "room deleted"));
    names.retain(|name| name != doomed);
    assert_eq!(listed(relays[0].addr()).await, names, "a deleted room is not listed");
    assert!(!writers[1].is_closed() && !writers[2].is_closed(), "the other shards' rooms are untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_closes_only_its_rooms_and_its_replica_takes_over() {
    let mut cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 2, |_| {}).await;
    let rooms = cluster.rooms_on_each_master("failover");
    let ((doomed, doomed_master), (steady, _)) = (rooms[0].clone(), rooms[1].clone());

    // A durable-ack writer on relay 1 and an observer on relay 2 in each room.
    let (doomed_doc, steady_doc) = (Doc::new(), Doc::new());
    let doomed_writer = TestClient::connect_with_acks(&relays[0].ws_url(), &doomed, doomed_doc.clone()).await;
    let steady_writer = TestClient::connect_with_acks(&relays[0].ws_url(), &steady, steady_doc.clone()).await;
    doomed_writer.wait_synced().await;
    steady_writer.wait_synced().await;
    let steady_observer = TestClient::join(&relays[1].ws_url(), &steady).await;

    const BEFORE: i64 = 50;
    for n in 0..BEFORE {
        put(&doomed_writer, &format!("d{n}"), n);
        put(&steady_writer, &format!("s{n}"), n);
    }
    eventually(WAIT, "the writes before the kill are acknowledged", || async {
        doomed_writer.acked() >= BEFORE as u64 && steady_writer.acked() >= BEFORE as u64
    })
    .await;

    let killed_at = tokio::time::Instant::now();
    cluster.kill(doomed_master);
    // The doomed room's writer keeps writing into the outage (none of it can be acknowledged).
    const DURING: i64 = 20;
    for n in BEFORE..BEFORE + DURING {
        put(&doomed_writer, &format!("d{n}"), n);
    }
    // The steady room keeps going meanwhile: every write is acknowledged and observed.
    let mut written = BEFORE;
    let mut latencies = Vec::new();
    while killed_at.elapsed() < Duration::from_millis(NODE_TIMEOUT_MS_PLUS) {
        let sent = tokio::time::Instant::now();
        put(&steady_writer, &format!("s{written}"), written);
        written += 1;
        let target = written as u64;
        let acked = tokio::time::timeout(WAIT, async {
            while steady_writer.acked() < target && !steady_writer.is_closed() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(acked.is_ok() && !steady_writer.is_closed(), "steady write {written} after {:?}: closed {}", killed_at.elapsed(), steady_writer.is_closed());
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    eprintln!(
        "steady room during the failover: {} durable writes, ack p50 {:?} p99 {:?} max {:?}",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    assert!(!steady_writer.is_closed() && !steady_observer.is_closed(), "the other shard's room saw no close");
    let steady_expected = written as u32;
    eventually(WAIT, "the steady room's observer has every write", || async { map_len(&steady_observer) == steady_expected }).await;

    // The doomed room's members were closed with "store unavailable" (its reader's node died).
    let (code, reason) = doomed_writer.wait_closed().await;
    assert_eq!(code, close::STORE_UNAVAILABLE, "the doomed room's writer: {reason}");

    // The replica took over: the room's members resync and converge, nothing acknowledged lost
    // (the writer's document holds all of it; its reconnect uploads what the dead master lacked).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    tokio::task::block_in_place(|| cluster.wait_until_ok(deadline));
    let writer = join_until_synced(&relays[0].ws_url(), &doomed, &doomed_doc, 20).await.expect("the writer resyncs");
    eprintln!("the doomed room's writer resynced {:?} after the kill", killed_at.elapsed());
    put(&writer, "after", 1);
    let observer = join_until_synced(&relays[1].ws_url(), &doomed, &Doc::new(), 20).await.expect("an observer joins");
    let expected = (BEFORE + DURING) as u32 + 1;
    eventually(WAIT, "the doomed room converges on the promoted replica, the outage's writes too", || async {
        map_len(&observer) == expected
    })
    .await;
}

/// A PNG of exactly `len` bytes, different for each `seed`.
fn png_of(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = [b"\x89PNG\r\n\x1a\n".as_slice(), &[seed]].concat();
    bytes.resize(len, seed);
    bytes
}

/// The per-room blob quota is the cluster's: uploads through any relay count against the
/// room's blobs in Redis, racing relays cannot overshoot it together, a blob the room holds
/// is free again, an expired one no longer counts, and a deleted room starts from nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blob_quota_holds_across_relays() {
    const QUOTA: u64 = 10_000;
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 3, |c| c.max_room_blob_bytes = QUOTA).await;
    let (room, _) = cluster.rooms_on_each_master("quota")[1].clone();
    let path = format!("/api/rooms/{room}/blobs");
    let upload = |at: usize, bytes: Vec<u8>| {
        let (addr, path) = (relays[at].addr(), path.clone());
        async move {
            let (status, body) = tests::http(addr, "PUT", &path, &[("Content-Type", "image/png")], &bytes).await;
            (status, serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default())
        }
    };
    let first = png_of(6_000, 1);
    assert_eq!(upload(0, first.clone()).await.0, 201);
    // Through another relay, whose own store holds nothing of the room: 6,000 of 10,000 in use.
    let (status, answer) = upload(1, png_of(6_000, 2)).await;
    assert_eq!(status, 507, "{answer}");
    assert_eq!((answer["quotaBytes"].as_u64(), answer["usedBytes"].as_u64(), answer["bytes"].as_u64()), (Some(QUOTA), Some(6_000), Some(6_000)));
    assert_eq!(upload(2, first.clone()).await.0, 201, "a blob the room holds is free through any relay");

    // Three relays race for the last 4,000 bytes with 2,000 each: two get in.
    let racing: Vec<_> = (0..3).map(|at| upload(at, png_of(2_000, 10 + at as u8))).collect();
    let answers = futures_util::future::join_all(racing).await;
    let stored = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers.iter().filter(|(status, _)| *status == 507).count();
    assert_eq!((stored, refused), (2, 1), "{answers:?}");

    // The first blob expires (as its TTL would end it): it no longer counts.
    let id = relay::blob_id(&first);
    let [sizes, expiries] = [format!("scene:{{{room}}}:blobsizes"), format!("scene:{{{room}}}:blobexpiry")];
    assert_eq!(cluster.on_master_of_room(&room, &["HGET", &sizes, &id]).as_deref().map(str::trim), Some("6000"), "the ledger has it");
    cluster.on_master_of_room(&room, &["ZADD", &expiries, "1", &id]).expect("zadd");
    cluster.on_master_of_room(&room, &["DEL", &format!("scene:{{{room}}}:blob:{id}")]).expect("del");
    assert_eq!(upload(1, png_of(6_000, 3)).await.0, 201, "4,000 + 6,000 fit once the expired blob is out");
    assert_eq!(upload(0, png_of(100, 4)).await.0, 507, "and the room is full again");

    // Deleted, the room's ledger goes with it.
    let (status, body) = tests::http(relays[2].addr(), "DELETE", &format!("/api/rooms/{room}"), &[], &[]).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(cluster.on_master_of_room(&room, &["EXISTS", &sizes, &expiries]).as_deref().map(str::trim), Some("0"));
    assert_eq!(upload(1, png_of(10_000, 5)).await.0, 201, "a deleted room's quota starts from nothing");
}

/// How long the steady room is written to after the kill: past the node timeout, so the
/// promotion happens meanwhile.
const NODE_TIMEOUT_MS_PLUS: u64 = tests::redis_cluster::NODE_TIMEOUT_MS + 3000;

/// `--redis-wait-replicas 1`: an update is acknowledged only once the room master's replica
/// has it. Prints the durable-ack latency with and without the WAIT (sequential writes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_replica_before_the_durable_ack() {
    const WRITES: usize = 200;
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let rooms = cluster.rooms_on_each_master("wait");
    let (room, master) = rooms[0].clone();
    let replica = cluster.replica_of(master).expect("the master has a replica");
    for wait in [0u32, 1] {
        let relays = relays_at(&cluster.url(), 1, |config| config.redis_wait_replicas = wait).await;
        let writer = TestClient::connect_with_acks(&relays[0].ws_url(), &room, Doc::new()).await;
        writer.wait_synced().await;
        let mut latencies = Vec::with_capacity(WRITES);
        for n in 0..WRITES {
            let before = writer.acked();
            let sent = tokio::time::Instant::now();
            put(&writer, &format!("w{wait}-{n}"), n as i64);
            let acked = tokio::time::timeout(WAIT, async {
                while writer.acked() <= before {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            });
            assert!(acked.await.is_ok(), "write {n} is acknowledged");
            latencies.push(sent.elapsed());
            if wait > 0 && n % 20 == 0 {
                // Acknowledged means the replica has it now, not eventually.
                let (on_master, on_replica) = (cluster.stream_len_on(master, &stream_key(&room)), cluster.stream_len_on(replica, &stream_key(&room)));
                assert!(on_replica.is_some() && on_replica >= on_master.map(|n| n.saturating_sub(1)), "replica {on_replica:?}, master {on_master:?}");
            }
        }
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        eprintln!("--redis-wait-replicas {wait}: {WRITES} sequential durable acks, p50 {:?} p99 {:?} max {:?}", at(0.5), at(0.99), at(1.0));
        assert!(!writer.is_closed());
    }
}

/// With `--redis-wait-replicas 1`, what the relay acknowledged as durable survives the loss
/// of the room's master even when its author never comes back to upload it again: a writer
/// streams durable updates, the master is SIGKILLed while more are in flight, the writer goes
/// away, and a relay started after the replica took over loads every acknowledged update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_updates_survive_a_failover_when_waiting_for_a_replica() {
    const ACKED_BEFORE_KILL: u64 = 100;
    let mut cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 1, |config| config.redis_wait_replicas = 1).await;
    let (room, master) = cluster.rooms_on_each_master("survive")[0].clone();
    let writer = TestClient::connect_with_acks(&relays[0].ws_url(), &room, Doc::new()).await;
    writer.wait_synced().await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut written, mut killed) = (0i64, false);
    while !writer.is_closed() && tokio::time::Instant::now() < deadline && written < 5_000 {
        put(&writer, &format!("w{written}"), written);
        written += 1;
        if !killed && writer.acked() >= ACKED_BEFORE_KILL {
            // A burst in flight (in the relay, on its way to Redis or waiting for the
            // replica) as the master dies.
            for _ in 0..20 {
                put(&writer, &format!("w{written}"), written);
                written += 1;
            }
            cluster.kill(master);
            killed = true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(killed, "{ACKED_BEFORE_KILL} writes were acknowledged before the deadline");
    let (code, reason) = writer.wait_closed().await;
    assert_eq!(code, close::STORE_UNAVAILABLE, "{reason}");
    let acked = writer.acked();
    drop(writer);

    let promoted_by = std::time::Instant::now() + Duration::from_secs(30);
    tokio::task::block_in_place(|| cluster.wait_until_ok(promoted_by));
    let fresh = relays_at(&cluster.url(), 1, |_| {}).await;
    let observer = join_until_synced(&fresh[0].ws_url(), &room, &Doc::new(), 20).await.expect("a relay loads the room from the promoted replica");
    let missing: Vec<u64> = {
        let map = observer.doc.get_or_insert_map("m");
        let txn = observer.doc.transact();
        (0..acked).filter(|n| map.get(&txn, &format!("w{n}")).is_none()).collect()
    };
    eprintln!(
        "failover with --redis-wait-replicas 1: {written} written, {acked} acknowledged before the master died; \
         the promoted replica has {} of them ({} in all)",
        acked - missing.len() as u64,
        map_len(&observer)
    );
    assert!(missing.is_empty(), "acknowledged updates lost in the failover: {missing:?}");
}

/// A busy room's slot is moved to another master (resharding): the publishers follow the
/// ASK/MOVED redirects, the relays' readers hand the room to the new master's reader, and the
/// room keeps going across relays with nothing lost and no close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resharded_room_keeps_going() {
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let relays = relays_at(&cluster.url(), 2, |_| {}).await;
    let rooms = cluster.rooms_on_each_master("moving");
    let ((room, from), (_, to)) = (rooms[0].clone(), rooms[1].clone());
    let writer = TestClient::connect_with_acks(&relays[0].ws_url(), &room, Doc::new()).await;
    writer.wait_synced().await;
    let observer = TestClient::join(&relays[1].ws_url(), &room).await;
    let writing = async {
        for n in 0..300i64 {
            put(&writer, &format!("k{n}"), n);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let slot = relay::room_slot(&room);
    let moving = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = tokio::time::Instant::now();
        tokio::task::block_in_place(|| cluster.move_slot(slot, from, to));
        started.elapsed()
    };
    let ((), took) = tokio::join!(writing, moving);
    eprintln!("slot {slot} moved from {from} to {to} in {took:?} while the room was written to");
    put(&writer, "after", 1);
    eventually(WAIT, "the observer on the other relay has every write", || async { map_len(&observer) == 301 }).await;
    eventually(WAIT, "every write is acknowledged", || async { writer.acked() >= 301 }).await;
    assert!(!writer.is_closed() && !observer.is_closed(), "nobody was closed by the move");
    assert_eq!(cluster.master_of(slot), Some(to), "the slot moved");
    assert!(cluster.stream_len_on(to, &stream_key(&room)).is_some_and(|n| n >= 301), "the stream is on the new master");
}

/// What the polling readers cost in delivery time: a write on relay 1 until an observer on
/// relay 2 has it, one Redis server (blocking XREAD) against the Redis Cluster (a reader per
/// master, polling every 10 ms when idle). Prints both; asserts only a loose bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_relay_delivery_one_server_and_cluster() {
    const WRITES: usize = 100;
    let cluster = tokio::task::spawn_blocking(RedisCluster::start).await.unwrap();
    let server = tests::redis_server::RedisServer::start();
    for (what, url) in [("one server", server.url()), ("cluster", cluster.url())] {
        let relays = relays_at(&url, 2, |_| {}).await;
        let writer = TestClient::join(&relays[0].ws_url(), "latency").await;
        let observer = TestClient::join(&relays[1].ws_url(), "latency").await;
        let mut latencies = Vec::with_capacity(WRITES);
        for n in 0..WRITES {
            let sent = tokio::time::Instant::now();
            put(&writer, &format!("k{n}"), n as i64);
            let arrived = tokio::time::timeout(WAIT, async {
                while map_len(&observer) <= n as u32 {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            });
            assert!(arrived.await.is_ok(), "{what}: write {n} reaches the other relay");
            latencies.push(sent.elapsed());
            // Idle between writes, as editing is: the cluster's readers are back to polling.
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        eprintln!("{what}: write on relay 1 → observer on relay 2, p50 {:?} p99 {:?} max {:?}", at(0.5), at(0.99), at(1.0));
        assert!(at(0.5) < Duration::from_millis(500), "{what}: delivery is prompt");
    }
}
