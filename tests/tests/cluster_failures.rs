//! Scale-out when things break, with a real redis-server: a relay process killed with SIGKILL
//! loses nothing that reached Redis (its clients reconnect to another relay and everything
//! converges), and a Redis outage makes relays refuse writes with 4503 (store unavailable)
//! instead of diverging; clients keep their edits and resync once Redis is back.
//!
//! Needs the `cluster` feature and redis-server (scripts/cluster-test.sh).

use std::time::Duration;

use shared::close;
use tests::cluster::{join_until_synced, map_len, put, relays};
use tests::process::start_relays;
use tests::redis_server::RedisServer;
use tests::{eventually, http_get, TestClient};
use yrs::{Doc, Map, Transact};

const WAIT: Duration = Duration::from_secs(20);
const WRITERS: usize = 3;

/// Three real relay processes on one Redis; the writers' relay is SIGKILLed mid-stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relay_loses_nothing_and_its_clients_carry_on_elsewhere() {
    let redis = RedisServer::start();
    let (mut relays, _dirs) = start_relays(3, &["--redis", &redis.url()]).await;
    let (a, b, c) = (relays[0].ws_url(), relays[1].ws_url(), relays[2].ws_url());
    let observer = TestClient::join(&a, "failover").await;

    let docs: Vec<Doc> = (0..WRITERS).map(|_| Doc::new()).collect();
    let mut writers = Vec::new();
    for doc in &docs {
        let writer = TestClient::connect_with_acks(&b, "failover", doc.clone()).await;
        writer.wait_synced().await;
        writers.push(writer);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    let mut written = 0u64;
    while tokio::time::Instant::now() < deadline && written < 3000 {
        for (w, writer) in writers.iter().enumerate() {
            put(writer, &format!("w{w}-{written}"), written as i64);
        }
        written += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let acked: Vec<u64> = writers.iter().map(|w| w.acked()).collect();
    eprintln!("killed relay 2 after {written} updates per writer; acknowledged: {acked:?}");
    relays.remove(1).kill();
    assert!(acked.iter().all(|n| *n > 0), "acks arrived before the kill: {acked:?}");
    for writer in &writers {
        assert_eq!(writer.wait_closed().await.0, 1006, "the writers lost their relay");
    }

    // Everything acknowledged reached Redis, so relay 1 has it without any writer's help.
    eventually(WAIT, "every acknowledged update reaches the observer on relay 1", || async {
        let map = observer.doc.get_or_insert_map("m");
        let txn = observer.doc.transact();
        acked.iter().enumerate().all(|(w, n)| (0..*n).all(|i| map.get(&txn, &format!("w{w}-{i}")).is_some()))
    })
    .await;

    // The writers reconnect to relay 3 with their documents: whatever was not acknowledged
    // is uploaded again, and every update of every writer ends up everywhere.
    let mut back = Vec::new();
    for doc in &docs {
        back.push(join_until_synced(&c, "failover", doc, 5).await.expect("reconnects to relay 3"));
    }
    let expected = (WRITERS as u64 * written) as u32;
    eventually(WAIT, "the observer on relay 1 has every update", || async { map_len(&observer) == expected }).await;
    for client in &back {
        eventually(WAIT, "each writer has every update", || async { map_len(client) == expected }).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_refuses_writes_with_4503_and_clients_resync_after() {
    let mut redis = RedisServer::start();
    let relays = relays(&redis, 2, |_| {}).await;
    let (one, two) = (relays[0].ws_url(), relays[1].ws_url());
    let a = TestClient::join(&one, "outage").await;
    let b = TestClient::join(&two, "outage").await;
    put(&a, "before", 1);
    eventually(WAIT, "b sees a's edit", || async { map_len(&b) == 1 }).await;

    redis.stop();
    put(&a, "during-a", 2);
    assert_eq!(a.wait_closed().await.0, close::STORE_UNAVAILABLE, "a's relay refuses writes");
    assert_eq!(b.wait_closed().await.0, close::STORE_UNAVAILABLE, "b's relay too");
    assert!(close::should_reconnect(close::STORE_UNAVAILABLE));
    put(&b, "during-b", 3);

    // While Redis is down nobody gets in: the room cannot be loaded.
    let refused = TestClient::connect(&one, "outage").await;
    assert_eq!(refused.wait_closed().await.0, close::STORE_UNAVAILABLE, "joining is refused during the outage");

    // Redis comes back with everything it had acknowledged; the clients' offline edits are
    // uploaded by their reconnect handshakes.
    redis.restart();
    let (a_doc, b_doc) = (a.doc.clone(), b.doc.clone());
    drop((a, b, refused));
    let a = join_until_synced(&one, "outage", &a_doc, 20).await.expect("a resyncs after the outage");
    let b = join_until_synced(&two, "outage", &b_doc, 20).await.expect("b resyncs after the outage");
    for client in [&a, &b] {
        eventually(WAIT, "both see before, during-a and during-b", || async { map_len(client) == 3 }).await;
    }
    let late = TestClient::join(&one, "outage").await;
    assert_eq!(map_len(&late), 3);
}

/// `/readyz` follows Redis: 503 while the relay cannot reach it (a proxy sends new clients
/// elsewhere), 200 again once it is back; `/healthz` stays 200 throughout; the failed PINGs
/// are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_redis_is_unreachable() {
    let mut redis = RedisServer::start();
    let relay = relays(&redis, 1, |_| {}).await.remove(0);
    assert_eq!(http_get(relay.addr(), "/readyz").await, (200, "ready\n".to_owned()));
    redis.stop();
    eventually(WAIT, "/readyz says Redis is out of reach", || async {
        let (status, body) = http_get(relay.addr(), "/readyz").await;
        status == 503 && body.starts_with("not ready:")
    })
    .await;
    assert_eq!(http_get(relay.addr(), "/healthz").await.0, 200);
    let (_, metrics) = http_get(relay.addr(), "/metrics").await;
    assert!(!metrics.contains("relay_redis_errors_total{op=\"ping\"} 0\n"), "{metrics}");
    redis.restart();
    eventually(WAIT, "/readyz is 200 again", || async { http_get(relay.addr(), "/readyz").await.0 == 200 }).await;
    relay.stop().await;
}

/// A relay that dies cannot send its users' presence removals: the other relays drop the
/// states nobody renews (here after 2 s; stock clients renew every 15 s, the default is 30 s),
/// tell their members, and no longer hand them to joiners. States still renewed stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_of_a_killed_relays_users_expires_elsewhere() {
    let redis = RedisServer::start();
    // A short room idle time makes the relay's upkeep (which expires presence) tick each second.
    let args = ["--redis", &redis.url(), "--redis-presence-timeout-secs", "2", "--room-idle-secs", "4"];
    let (mut relays, _dirs) = start_relays(2, &args).await;
    let (doomed, survivor) = (relays[0].ws_url(), relays[1].ws_url());
    let ada = TestClient::join(&doomed, "ghosts").await;
    let bob = TestClient::join(&survivor, "ghosts").await;
    ada.set_presence(r#"{"user":{"name":"Ada"}}"#);
    bob.set_presence(r#"{"user":{"name":"Bob"}}"#);
    let (ada_id, bob_id) = (ada.client_id(), bob.client_id());
    eventually(WAIT, "Bob sees Ada across relays", || async { bob.presence_of(ada_id).await.is_some() }).await;

    // Renewed each second, Ada's state outlives the timeout several times over.
    for round in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ada.set_presence(&format!(r#"{{"user":{{"name":"Ada"}},"round":{round}}}"#));
    }
    assert!(bob.presence_of(ada_id).await.is_some_and(|s| s.contains("Ada")), "a renewed state is kept");

    relays.remove(0).kill();
    eventually(WAIT, "Ada's state leaves Bob once her relay is gone", || async { bob.presence_of(ada_id).await.is_none() }).await;
    let late = TestClient::join(&survivor, "ghosts").await;
    eventually(WAIT, "a late joiner gets Bob's state", || async { late.presence_of(bob_id).await.is_some() }).await;
    assert!(late.presence_of(ada_id).await.is_none(), "a late joiner is not handed Ada's stale state");
    // Bob's own state is held by his connection: never expired, however long he is quiet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(late.presence_of(bob_id).await.is_some(), "a state held by a connection of this relay stays");
    drop(ada);
}
