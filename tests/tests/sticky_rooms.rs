//! Sticky routing as the optimisation it is: the shipped `deploy/nginx-cluster.conf` (a real
//! nginx) in front of three relay processes sharing rooms through a real redis-server sends
//! every member of a room to one relay (consistent hashing on the room's name), spreads the
//! rooms over the relays, and sends a room's HTTP API to the same relay as its sockets. The
//! relays stay correct when a room's members are spread anyway (one joins a relay directly),
//! and when the room's relay dies its members' reconnects land on another relay through
//! nginx and find the room's content there (loaded from Redis).
//!
//! Needs the `cluster` feature, redis-server and nginx (scripts/cluster-test.sh).

use std::net::SocketAddr;
use std::time::Duration;

use tests::nginx::Nginx;
use tests::cluster::inspect;
use tests::process::{start_relays, ChildRelay};
use tests::redis_server::RedisServer;
use tests::{eventually, http_get, TestClient};

const WAIT: Duration = Duration::from_secs(15);
const ROOMS: usize = 12;
const MEMBERS: usize = 3;

/// Open WebSocket connections on each relay (asked directly, not through nginx).
async fn connections(relays: &[Option<ChildRelay>]) -> Vec<u64> {
    let mut counts = Vec::new();
    for relay in relays {
        let Some(relay) = relay else {
            counts.push(0);
            continue;
        };
        let (status, body) = http_get(relay.addr, "/collab/api/stats").await;
        assert_eq!(status, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        counts.push(stats["connections"].as_u64().unwrap_or(0));
    }
    counts
}

/// Which relay the connections opened between `before` and `after` went to, if all went to one.
fn the_one_relay(before: &[u64], after: &[u64]) -> Option<usize> {
    let grew: Vec<usize> = (0..before.len()).filter(|&i| after[i] != before[i]).collect();
    (grew.len() == 1).then(|| grew[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_sends_each_room_to_one_relay_and_moves_it_when_that_relay_dies() {
    let redis = RedisServer::start();
    let (relays, _dirs) = start_relays(3, &["--redis", &redis.url(), "--base-path", "/collab", "--trust-proxy"]).await;
    let upstreams: Vec<SocketAddr> = relays.iter().map(|r| r.addr).collect();
    let mut relays: Vec<Option<ChildRelay>> = relays.into_iter().map(Some).collect();
    let nginx = Nginx::start_shipped("deploy/nginx-cluster.conf", &upstreams);
    let ws = format!("ws://{}/collab/ws", nginx.addr);

    // Each room's members, joined one room at a time: all of them reach one relay.
    let mut rooms = Vec::new();
    for r in 0..ROOMS {
        let room = format!("sticky-{r}");
        let before = connections(&relays).await;
        let mut members = Vec::new();
        for _ in 0..MEMBERS {
            members.push(TestClient::join(&ws, &room).await);
        }
        let after = connections(&relays).await;
        let relay = the_one_relay(&before, &after).unwrap_or_else(|| panic!("{room}'s members were spread: {before:?} → {after:?}"));
        assert_eq!(after[relay] - before[relay], MEMBERS as u64, "{room}");
        rooms.push((room, relay, members));
    }
    let mut used: Vec<usize> = rooms.iter().map(|(_, relay, _)| *relay).collect();
    used.sort();
    used.dedup();
    eprintln!("{ROOMS} rooms over {} relays: {:?}", used.len(), rooms.iter().map(|(_, relay, _)| relay).collect::<Vec<_>>());
    assert!(used.len() >= 2, "consistent hashing spreads rooms over the relays: {used:?}");

    // A room's HTTP API reaches the room's relay: a render uploaded through nginx is kept in
    // that relay's store; with Redis's copy gone, only that relay still serves it.
    let (room, relay, members) = &rooms[0];
    members[0].append_text("t", "<saved>");
    eventually(WAIT, "the edit reached every member", || async { members.iter().all(|m| m.text("t").contains("<saved>")) }).await;
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"a sticky render"].concat();
    let (status, body) = tests::http(nginx.addr, "PUT", &format!("/collab/api/rooms/{room}/blobs"), &[("Content-Type", "image/png")], &png).await;
    assert_eq!(status, 201, "{body}");
    let id = relay::blob_id(&png);
    let _: () = redis::AsyncCommands::del(&mut inspect(&redis).await, format!("scene:{{{room}}}:blob:{id}")).await.expect("del");
    let mut holders = Vec::new();
    for (i, addr) in upstreams.iter().enumerate() {
        if tests::http_bytes(*addr, "GET", &format!("/collab/api/rooms/{room}/blobs/{id}"), &[], &[]).await.0 == 200 {
            holders.push(i);
        }
    }
    assert_eq!(holders, [*relay], "the upload went to the room's relay");

    // Spread anyway: a member that joins another relay directly edits the same room.
    let other = (relay + 1) % relays.len();
    let direct = format!("ws://{}/collab/ws", upstreams[other]);
    let stray = TestClient::join(&direct, room).await;
    stray.append_text("t", "<stray>");
    members[1].append_text("t", "<member>");
    for client in members.iter().chain([&stray]) {
        eventually(WAIT, "the stray member and the room converge", || async {
            let text = client.text("t");
            ["<saved>", "<stray>", "<member>"].iter().all(|part| text.contains(part))
        })
        .await;
    }
    drop(stray);

    // The room's relay dies: a member's reconnect through nginx lands on another relay,
    // which loads the room from Redis.
    if let Some(dead) = relays[*relay].take() {
        dead.kill();
    }
    for member in members {
        member.wait_closed().await;
    }
    let back = TestClient::join(&ws, room).await;
    eventually(WAIT, "the room's content on the relay it moved to", || async {
        let text = back.text("t");
        ["<saved>", "<stray>", "<member>"].iter().all(|part| text.contains(part))
    })
    .await;
    let now = connections(&relays).await;
    assert!(now.iter().sum::<u64>() >= 1 && now[*relay] == 0, "{now:?}");

    // The other relays' rooms did not move.
    for (room, relay_of_room, members) in rooms.iter().skip(1).filter(|(_, r, _)| r != relay) {
        assert!(members.iter().all(|m| !m.is_closed()), "{room} on relay {relay_of_room} kept its members");
    }
}
