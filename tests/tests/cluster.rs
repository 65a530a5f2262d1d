//! Scale-out through a real redis-server: clients on different relay processes edit one room,
//! presence crosses relays and leaves with its owner, one relay at a time compacts a room
//! (a lease), the snapshot is checksummed and the stream trimmed behind it, and a relay that
//! picks a room up later loads snapshot plus stream tail.
//!
//! Needs the `cluster` feature and redis-server; scripts/cluster-test.sh installs it and runs
//! `cargo test -p tests --features cluster`. Relays here are in-process (`TestRelay`, each
//! its own Redis handle and relay id); tests/cluster_failures.rs uses the real binary.

use std::time::Duration;

use redis::AsyncCommands;
use shared::close;
use tests::cluster::{inspect, map_len, put, relays};
use tests::redis_server::RedisServer;
use tests::{eventually, TestClient};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_three_relays_edit_one_room() {
    let redis = RedisServer::start();
    let relays = relays(&redis, 3, |_| {}).await;
    let mut clients = Vec::new();
    for relay in &relays {
        for _ in 0..2 {
            clients.push(TestClient::join(&relay.ws_url(), "shared").await);
        }
    }
    const ROUNDS: usize = 20;
    for round in 0..ROUNDS {
        for (i, client) in clients.iter().enumerate() {
            put(client, &format!("c{i}-{round}"), round as i64);
            client.append_text("t", &format!("[{i}.{round}]"));
        }
    }
    let expected = (clients.len() * ROUNDS) as u32;
    for (i, client) in clients.iter().enumerate() {
        eventually(WAIT, &format!("client {i} sees every key"), || async { map_len(client) == expected }).await;
    }
    eventually(WAIT, "every client has the same text", || async {
        let first = clients[0].text("t");
        clients.iter().all(|c| c.text("t") == first)
    })
    .await;
    assert!(clients[0].text("t").contains("[5.19]"));

    // A relay that was not there picks the room up from Redis (no snapshot yet: the stream).
    let late_relay = tests::cluster::relays(&redis, 1, |_| {}).await;
    let late = TestClient::join(&late_relay[0].ws_url(), "shared").await;
    assert_eq!(map_len(&late), expected, "a late relay loads the whole stream");
    assert_eq!(late.text("t"), clients[0].text("t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_relays_and_leaves_with_its_owner() {
    let redis = RedisServer::start();
    let relays = relays(&redis, 3, |_| {}).await;
    let a = TestClient::join(&relays[0].ws_url(), "presence").await;
    let b = TestClient::join(&relays[1].ws_url(), "presence").await;
    a.set_presence(r#"{"user":{"name":"Ada"}}"#);
    b.set_presence(r#"{"user":{"name":"Bob"}}"#);
    let (a_id, b_id) = (a.client_id(), b.client_id());
    eventually(WAIT, "b (relay 2) sees Ada (relay 1)", || async { b.presence_of(a_id).await.is_some_and(|s| s.contains("Ada")) }).await;
    eventually(WAIT, "a sees Bob", || async { a.presence_of(b_id).await.is_some_and(|s| s.contains("Bob")) }).await;

    // A third relay joining later learns both states from the stream.
    let c = TestClient::join(&relays[2].ws_url(), "presence").await;
    eventually(WAIT, "a joiner on relay 3 gets both states", || async {
        c.presence_of(a_id).await.is_some() && c.presence_of(b_id).await.is_some()
    })
    .await;

    a.close().await;
    eventually(WAIT, "Ada's state is removed on relays 2 and 3", || async {
        b.presence_of(a_id).await.is_none() && c.presence_of(a_id).await.is_none()
    })
    .await;
    b.vanish();
    eventually(WAIT, "Bob's state (socket dropped) is removed on relay 3", || async { c.presence_of(b_id).await.is_none() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_compacts_under_the_lease_and_late_relays_load_snapshot_plus_tail() {
    let redis = RedisServer::start();
    let relays = relays(&redis, 3, |config| config.redis_trim_slack_ms = 0).await;
    let mut clients = Vec::new();
    for relay in &relays {
        clients.push(TestClient::join(&relay.ws_url(), "snap").await);
    }
    for round in 0..30 {
        for (i, client) in clients.iter().enumerate() {
            put(client, &format!("c{i}-{round}"), round);
        }
    }
    for client in &clients {
        eventually(WAIT, "all 90 keys everywhere", || async { map_len(client) == 90 }).await;
    }
    let mut conn = inspect(&redis).await;
    let log = "scene:{snap}:log";
    let snap = "scene:{snap}:snap";
    let before: u64 = conn.xlen(log).await.unwrap();
    assert!(before >= 90, "every update is a stream entry ({before})");

    // All three try at once: exactly one holds the lease and writes.
    let rooms: Vec<_> = relays.iter().map(|r| r.state().rooms.get_loaded("snap").expect("room in memory")).collect();
    let attempts = relays.iter().zip(&rooms).map(|(relay, room)| relay.state().rooms.compact_now(room, true));
    let written = futures_util::future::join_all(attempts).await;
    assert_eq!(written.iter().filter(|w| **w).count(), 1, "exactly one compaction: {written:?}");
    let compactions: u64 = conn.hget(snap, "compactions").await.unwrap();
    assert_eq!(compactions, 1);
    let data: Vec<u8> = conn.hget(snap, "data").await.unwrap();
    let crc: u32 = conn.hget(snap, "crc").await.unwrap();
    assert_eq!(crc, crc32fast::hash(&data), "the snapshot carries its CRC-32");
    let after: u64 = conn.xlen(log).await.unwrap();
    assert!(after < before, "the stream is trimmed behind the snapshot ({before} → {after})");

    // More edits after the snapshot: a late relay loads snapshot + tail.
    for (i, client) in clients.iter().enumerate() {
        put(client, &format!("after-{i}"), 1);
    }
    for client in &clients {
        eventually(WAIT, "93 keys everywhere", || async { map_len(client) == 93 }).await;
    }
    let late_relay = tests::cluster::relays(&redis, 1, |_| {}).await;
    let late = TestClient::join(&late_relay[0].ws_url(), "snap").await;
    assert_eq!(map_len(&late), 93, "snapshot plus tail");

    // A snapshot that fails its checksum makes the room unavailable, not half-loaded.
    let _: () = conn.hset(snap, "crc", crc.wrapping_add(1)).await.unwrap();
    let fresh = tests::cluster::relays(&redis, 1, |_| {}).await;
    let refused = TestClient::connect(&fresh[0].ws_url(), "snap").await;
    assert_eq!(refused.wait_closed().await.0, close::ROOM_UNAVAILABLE);
}

/// A render uploaded through one relay is served by every other (through Redis), and a
/// relay keeps a copy of what it fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_uploaded_to_one_relay_is_served_by_the_others() {
    let redis = RedisServer::start();
    let relays = relays(&redis, 2, |_| {}).await;
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"a rendered preview"].concat();
    let (status, body) =
        tests::http(relays[0].addr(), "PUT", "/api/rooms/render/blobs", &[("Content-Type", "image/png")], &png).await;
    assert_eq!(status, 201, "{body}");
    let id = relay::blob_id(&png);
    let (status, bytes) = tests::http_bytes(relays[1].addr(), "GET", &format!("/api/rooms/render/blobs/{id}"), &[], &[]).await;
    assert_eq!((status, bytes.as_slice()), (200, png.as_slice()), "the other relay serves it");

    let mut conn = inspect(&redis).await;
    let _: () = conn.del(format!("scene:{{render}}:blob:{id}")).await.expect("del");
    let (status, bytes) = tests::http_bytes(relays[1].addr(), "GET", &format!("/api/rooms/render/blobs/{id}"), &[], &[]).await;
    assert_eq!((status, bytes.as_slice()), (200, png.as_slice()), "it kept a copy");
    let (status, _) = tests::http_bytes(relays[1].addr(), "GET", &format!("/api/rooms/render/blobs/{}", "0".repeat(64)), &[], &[]).await;
    assert_eq!(status, 404);
}

/// An admin delete through any relay deletes the room for all of them: members everywhere
/// are closed with "room deleted", Redis keeps only the deletion entry (no snapshot, blobs or
/// restore points), every relay drops its own copy (blobs), and the room starts
/// afresh, empty, wherever it is joined next. Other rooms are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_delete_removes_the_room_from_every_relay() {
    let redis = RedisServer::start();
    let relays = relays(&redis, 3, |_| {}).await;
    let writer = TestClient::join(&relays[0].ws_url(), "doomed").await;
    let observer = TestClient::join(&relays[1].ws_url(), "doomed").await;
    let bystander = TestClient::join(&relays[1].ws_url(), "kept").await;
    for i in 0..10 {
        put(&writer, &format!("k{i}"), i);
        put(&bystander, &format!("k{i}"), i);
    }
    eventually(WAIT, "the observer on relay 2 has the writes", || async { map_len(&observer) == 10 }).await;

    // A snapshot in Redis, a blob (relay 2 keeps a copy) and a restore point (in Redis).
    let room = relays[0].state().rooms.get_loaded("doomed").expect("room in memory");
    assert!(relays[0].state().rooms.compact_now(&room, true).await, "a snapshot is written");
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"doomed preview"].concat();
    let (status, body) = tests::http(relays[0].addr(), "PUT", "/api/rooms/doomed/blobs", &[("Content-Type", "image/png")], &png).await;
    assert_eq!(status, 201, "{body}");
    let blob = format!("/api/rooms/doomed/blobs/{}", relay::blob_id(&png));
    assert_eq!(tests::http_bytes(relays[1].addr(), "GET", &blob, &[], &[]).await.0, 200);
    let json = [("Content-Type", "application/json")];
    let (status, body) = tests::http(relays[1].addr(), "POST", "/api/rooms/doomed/snapshots", &json, br#"{"name":"v1"}"#).await;
    assert_eq!(status, 201, "{body}");

    // The admin list shows the rooms in Redis, also on a relay that never loaded them.
    let listed = |addr| async move {
        let (status, body) = tests::http_get(addr, "/api/rooms").await;
        assert_eq!(status, 200, "{body}");
        let rooms: Vec<serde_json::Value> = serde_json::from_str(&body).expect("a JSON list");
        rooms.iter().filter_map(|r| r["name"].as_str().map(str::to_owned)).collect::<Vec<_>>()
    };
    assert_eq!(listed(relays[2].addr()).await, ["doomed", "kept"]);

    // Deleted through the third relay, which never had the room in memory.
    let (status, body) = tests::http(relays[2].addr(), "DELETE", "/api/rooms/doomed", &[], &[]).await;
    assert_eq!(status, 204, "{body}");
    for (who, client) in [("writer", &writer), ("observer", &observer)] {
        let (code, reason) = client.wait_closed().await;
        assert_eq!((code, reason.as_str()), (close::ROOM_UNAVAILABLE, "room deleted"), "{who}");
    }
    let mut conn = inspect(&redis).await;
    let snapshot_exists: bool = conn.exists("scene:{doomed}:snap").await.expect("exists");
    let stream_len: u64 = conn.xlen("scene:{doomed}:log").await.expect("xlen");
    let blobs: Vec<String> = conn.keys("scene:{doomed}:blob:*").await.expect("keys");
    let points: Vec<String> = conn.keys("scene:{doomed}:points*").await.expect("keys");
    assert_eq!((snapshot_exists, stream_len, blobs.len(), points.len()), (false, 1, 0, 0), "Redis holds only the deletion entry");
    assert_eq!(listed(relays[0].addr()).await, ["kept"], "a deleted room is not listed");
    eventually(WAIT, "no restore points, and relay 2 dropped its copy of the blob", || async {
        let points = tests::http_get(relays[1].addr(), "/api/rooms/doomed/snapshots").await;
        let blob = tests::http_bytes(relays[1].addr(), "GET", &blob, &[], &[]).await.0;
        points == (200, "[]".to_owned()) && blob == 404
    })
    .await;

    // A copy of the deleted content (the writer coming back, as a stock client would) is
    // refused on every relay: the deletion entry carries the room's history.
    for relay in &relays {
        let returning = TestClient::connect_with_doc(&relay.ws_url(), "doomed", writer.doc.clone()).await;
        assert_eq!(returning.wait_closed().await, (close::ROOM_UNAVAILABLE, close::ROOM_DELETED.to_owned()), "the old copy is refused");
    }

    // The room starts afresh, empty, on every relay, and works.
    let mut fresh = Vec::new();
    for relay in &relays {
        let client = TestClient::join(&relay.ws_url(), "doomed").await;
        assert_eq!(map_len(&client), 0, "a joiner gets an empty room");
        fresh.push(client);
    }
    put(&fresh[2], "after", 1);
    for client in &fresh {
        eventually(WAIT, "a write after the delete reaches every relay", || async { map_len(client) == 1 }).await;
    }
    assert_eq!(map_len(&bystander), 10, "another room is untouched");
    let (status, body) = tests::http_get(relays[0].addr(), "/api/rooms").await;
    assert_eq!(status, 200, "{body}");
    let rooms: Vec<serde_json::Value> = serde_json::from_str(&body).expect("a JSON list");
    let doomed = rooms.iter().find(|r| r["name"] == "doomed").expect("the new room is listed");
    assert!(doomed["stored_bytes"].as_u64().is_some_and(|b| b > 0) && doomed["last_activity_ms"].as_i64().is_some_and(|t| t > 0), "{doomed}");
    assert!(!bystander.is_closed(), "its members stay connected");
}

/// A relay follows every room's stream with one reader: forty rooms on two relays, each
/// room written on one relay and read on the other, take a handful of Redis connections
/// (a reader per room took one each: 80 here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reader_connection_follows_every_room_of_a_relay() {
    const ROOMS: usize = 40;
    let redis = RedisServer::start();
    let relays = relays(&redis, 2, |_| {}).await;
    let mut pairs = Vec::new();
    for i in 0..ROOMS {
        let room = format!("many-{i}");
        let writer = TestClient::join(&relays[0].ws_url(), &room).await;
        let reader = TestClient::join(&relays[1].ws_url(), &room).await;
        pairs.push((writer, reader));
    }
    for (i, (writer, _)) in pairs.iter().enumerate() {
        put(writer, "written", i as i64);
    }
    for (i, (_, reader)) in pairs.iter().enumerate() {
        eventually(WAIT, &format!("room {i}'s write reaches the other relay"), || async { map_len(reader) == 1 }).await;
    }
    // Late joiners of already-followed rooms, and a write the other way round.
    put(&pairs[ROOMS - 1].1, "back", 1);
    eventually(WAIT, "a write crosses back", || async { map_len(&pairs[ROOMS - 1].0) == 2 }).await;

    let mut conn = inspect(&redis).await;
    let clients: String = redis::cmd("CLIENT").arg("LIST").query_async(&mut conn).await.expect("CLIENT LIST");
    let connections = clients.lines().count();
    eprintln!("redis connections: {connections}");
    assert!(connections <= 8, "{connections} Redis connections for {ROOMS} rooms on 2 relays:\n{clients}");
}

/// Restore points live in Redis in cluster mode: a point made through one relay is listed,
/// read, previewed and restored through another, and the restore reaches the clients of
/// every relay (in a relay's own store, the other relays never saw it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_points_are_shared_by_every_relay() {
    use shared::scene::{NodeId, NodeKind, Scene};
    use yrs::Transact;
    let redis = RedisServer::start();
    let relays = relays(&redis, 2, |_| {}).await;
    let editor = TestClient::join(&relays[0].ws_url(), "points").await;
    let watcher = TestClient::join(&relays[1].ws_url(), "points").await;
    let scene = Scene::new(&editor.doc);
    let id = |n| NodeId::new(editor.client_id().get(), n);
    scene.add_node(&mut editor.doc.transact_mut(), id(0), "Cube", NodeKind::Mesh, None);
    eventually(WAIT, "the watcher on relay 2 has the cube", || async { watcher.node_names() == ["Cube"] }).await;

    let json = [("Content-Type", "application/json")];
    let (status, body) = tests::http(relays[0].addr(), "POST", "/api/rooms/points/snapshots", &json, br#"{"name":"one cube"}"#).await;
    assert_eq!(status, 201, "{body}");
    let point: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let point_id = point["id"].as_i64().expect("an id");

    // Listed and readable through the other relay.
    let (status, body) = tests::http_get(relays[1].addr(), "/api/rooms/points/snapshots").await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&body).expect("a JSON list");
    assert_eq!(listed.iter().map(|p| (p["id"].as_i64(), p["name"].as_str())).collect::<Vec<_>>(), [(Some(point_id), Some("one cube"))]);
    let (status, bytes) = tests::http_bytes(relays[1].addr(), "GET", &format!("/api/rooms/points/snapshots/{point_id}"), &[], &[]).await;
    assert_eq!(status, 200);
    let copy = yrs::Doc::new();
    copy.transact_mut().apply_update(shared::protocol::decode_update(&bytes).expect("a Yjs update")).expect("applies");
    assert_eq!(Scene::new(&copy).nodes(&copy.transact()).into_iter().map(|n| n.name).collect::<Vec<_>>(), ["Cube"]);
    let missing = tests::http_get(relays[1].addr(), "/api/rooms/points/snapshots/999").await;
    assert_eq!(missing.0, 404, "{}", missing.1);

    // Previewed and restored through the other relay; both relays' clients follow.
    scene.rename(&mut editor.doc.transact_mut(), &id(0), "Box");
    scene.add_node(&mut editor.doc.transact_mut(), id(1), "Sun", NodeKind::Light, None);
    eventually(WAIT, "the watcher has the later edits", || async { watcher.node_names() == ["Box", "Sun"] }).await;
    let (status, body) = tests::http_get(relays[1].addr(), &format!("/api/rooms/points/snapshots/{point_id}/diff")).await;
    assert_eq!(status, 200, "{body}");
    let diff: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!((diff["removed"].clone(), diff["changed"].clone()), (serde_json::json!([id(1).0]), serde_json::json!([id(0).0])));
    let (status, body) = tests::http(relays[1].addr(), "POST", &format!("/api/rooms/points/snapshots/{point_id}/restore"), &[], &[]).await;
    assert_eq!(status, 200, "{body}");
    for client in [&editor, &watcher] {
        eventually(WAIT, "both relays' clients follow the restore", || async { client.node_names() == ["Cube"] }).await;
    }
    // The undo point the restore made is there for the first relay too.
    let (_, body) = tests::http_get(relays[0].addr(), "/api/rooms/points/snapshots").await;
    let listed: Vec<serde_json::Value> = serde_json::from_str(&body).expect("a JSON list");
    let names: Vec<&str> = listed.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, [format!("Before restoring #{point_id}").as_str(), "one cube"], "newest first");
}

/// A relay whose reader fell behind the stream's trim point would miss the trimmed entries
/// for good. Here an entry is written and trimmed away in one step (what a compaction does
/// to a reader lagging more than the trim slack), its content only in the snapshot: the relay
/// notices that its room stands before the trim point, takes the room out of memory with
/// 4001, and the next join loads the snapshot, missed content included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_behind_the_trim_point_reloads_instead_of_missing_entries() {
    use yrs::{Map, ReadTxn, Transact};
    let redis = RedisServer::start();
    // A short room idle time makes the relay's upkeep (which compares trim points) tick often.
    let relays = relays(&redis, 1, |config| config.room_idle_secs = 1).await;
    let member = TestClient::join(&relays[0].ws_url(), "lag").await;
    let writer = yrs::Doc::new();
    writer.get_or_insert_map("m").insert(&mut writer.transact_mut(), "missed", 1);
    let content = writer.transact().encode_state_as_update_v1(&yrs::StateVector::default());
    let frame = shared::protocol::update(content.clone());

    let mut conn = inspect(&redis).await;
    let write_and_trim = redis::Script::new(
        r#"
        local id = redis.call('XADD', KEYS[1], '*', 'o', 'elsewhere/1', 'k', 'u', 'n', 1, 'd', ARGV[1])
        local ms = string.match(id, '^(%d+)-')
        local trimmed = (tonumber(ms) + 1) .. '-0'
        redis.call('HSET', KEYS[2], 'id', id, 'crc', ARGV[3], 'data', ARGV[2], 'trimmed', trimmed)
        redis.call('XTRIM', KEYS[1], 'MINID', trimmed)
        return trimmed
        "#,
    );
    let trimmed: String = write_and_trim
        .key("scene:{lag}:log")
        .key("scene:{lag}:snap")
        .arg(frame.as_slice())
        .arg(content.as_slice())
        .arg(crc32fast::hash(&content))
        .invoke_async(&mut conn)
        .await
        .expect("script");
    let left: u64 = conn.xlen("scene:{lag}:log").await.expect("xlen");
    assert_eq!(left, 0, "the entry was trimmed before any reader could see it (trim point {trimmed})");

    let (code, _) = member.wait_closed().await;
    assert_eq!(code, close::RESYNC, "the member is sent to reconnect");
    let fresh = TestClient::join(&relays[0].ws_url(), "lag").await;
    eventually(WAIT, "a fresh load has the trimmed entry's content (from the snapshot)", || async { map_len(&fresh) == 1 }).await;
}
