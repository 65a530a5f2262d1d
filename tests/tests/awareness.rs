//! Presence travels both ways and is removed for everyone when its owner leaves, cleanly or not.

use std::time::Duration;

use tests::{eventually, TestClient, TestRelay};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn presence_travels_both_ways_and_late_joiners_get_it() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let a = TestClient::join(&url, "presence").await;
    let b = TestClient::join(&url, "presence").await;
    a.set_presence(r#"{"user":{"name":"Ada"}}"#);
    b.set_presence(r#"{"user":{"name":"Bob"}}"#);
    eventually(WAIT, "b sees Ada", || async { b.presence_of(a.client_id()).await.is_some_and(|s| s.contains("Ada")) }).await;
    eventually(WAIT, "a sees Bob", || async { a.presence_of(b.client_id()).await.is_some_and(|s| s.contains("Bob")) }).await;
    let c = TestClient::join(&url, "presence").await;
    eventually(WAIT, "a late joiner gets both states on join", || async {
        c.presence_of(a.client_id()).await.is_some() && c.presence_of(b.client_id()).await.is_some()
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn presence_is_removed_when_its_owner_closes_or_vanishes() {
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let watcher = TestClient::join(&url, "leaving").await;
    let polite = TestClient::join(&url, "leaving").await;
    let rude = TestClient::join(&url, "leaving").await;
    polite.set_presence(r#"{"n":"polite"}"#);
    rude.set_presence(r#"{"n":"rude"}"#);
    let (polite_id, rude_id) = (polite.client_id(), rude.client_id());
    eventually(WAIT, "watcher sees both", || async {
        watcher.presence_of(polite_id).await.is_some() && watcher.presence_of(rude_id).await.is_some()
    })
    .await;

    polite.close().await;
    eventually(WAIT, "the closed client's presence is removed", || async {
        watcher.presence_of(polite_id).await.is_none()
    })
    .await;

    // No close frame, no awareness goodbye: the relay notices the broken socket.
    rude.vanish();
    eventually(WAIT, "the vanished client's presence is removed", || async {
        watcher.presence_of(rude_id).await.is_none()
    })
    .await;
    relay.stop().await;
}

/// In a crowded room the relay merges awareness changes that arrive close together
/// (relay/src/room/presence.rs; its unit tests count the frames): nobody misses a state.
#[tokio::test]
async fn a_crowded_room_merges_presence_and_nobody_misses_a_state() {
    const MEMBERS: usize = 150;
    const CHANGES_EACH: usize = 3;
    let relay = TestRelay::start().await;
    let url = relay.ws_url();
    let mut members = Vec::with_capacity(MEMBERS);
    for _ in 0..MEMBERS {
        members.push(TestClient::join(&url, "crowd").await);
    }
    let watcher = TestClient::join(&url, "crowd").await;
    for round in 1..=CHANGES_EACH {
        for (index, member) in members.iter().enumerate() {
            member.set_presence(&format!(r#"{{"member":{index},"round":{round}}}"#));
            if index % 10 == 0 {
                // Spread the changes over several batch windows.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }
    for (index, member) in members.iter().enumerate() {
        let last = format!(r#"{{"member":{index},"round":{CHANGES_EACH}}}"#);
        let id = member.client_id();
        eventually(WAIT, "the watcher holds every member's newest state", || async {
            watcher.presence_of(id).await.is_some_and(|s| s.replace(' ', "") == last)
        })
        .await;
        let (first, other) = (&members[0], member.client_id());
        eventually(WAIT, "members hold each other's newest state", || async {
            first.presence_of(other).await.is_some_and(|s| s.replace(' ', "") == last) || index == 0
        })
        .await;
    }
    relay.stop().await;
}
