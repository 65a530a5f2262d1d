//! The auth webhook (`--auth-webhook`) against a real HTTP server on loopback
//! (`tests::hook_server`): what it is asked, its grants (role, and a name stamped into
//! presence), its refusals (4401, 4403), its answers cached and failures not, a token the
//! keys accept never asking it, and a hook that is slow, dead, broken or talks nonsense
//! refusing the connection with 4502 (fail closed) and counting it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::close;
use tests::hook_server::{dead_url, Answer, HookServer};
use tests::{eventually, TestClient, TestRelay};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const WAIT: Duration = Duration::from_secs(10);

/// The hook of these tests: it knows three sessions by token or cookie.
fn answer(question: &Value) -> Answer {
    let token = question["token"].as_str().unwrap_or("");
    let cookie = question["cookie"].as_str().unwrap_or("");
    match (token, cookie) {
        ("editor-session", _) | (_, "session=ada") => (200, json!({ "role": "editor", "name": "Ada Lovelace", "id": "ada" }).to_string()),
        ("viewer-session", _) => (200, json!({ "role": "viewer" }).to_string()),
        ("outsider", _) => (403, json!({ "reason": "not in this project" }).to_string()),
        ("broken", _) => (500, "{}".into()),
        ("chatty", _) => (200, "<html>welcome</html>".into()),
        ("promoted", _) => (200, json!({ "role": "owner" }).to_string()),
        _ => (401, json!({ "reason": "unknown session" }).to_string()),
    }
}

async fn relay_with_hook(url: String, tune: impl FnOnce(&mut relay::cli::Config)) -> TestRelay {
    TestRelay::start_with(|c| {
        c.auth_webhook = Some(url);
        c.auth_webhook_timeout_ms = 300;
        tune(c);
    })
    .await
}

async fn closed_with(relay: &TestRelay, room_and_query: &str) -> (u16, String) {
    TestClient::connect(&relay.ws_url(), room_and_query).await.wait_closed().await
}

/// `relay_auth_webhook_answers_total{outcome=…}` from `/metrics`.
async fn answers(relay: &TestRelay, outcome: &str) -> u64 {
    let (_, text) = tests::http_get(relay.addr(), "/metrics").await;
    let prefix = format!("relay_auth_webhook_answers_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn the_hook_is_asked_and_its_answers_are_obeyed_and_kept() {
    let hook = HookServer::start(Duration::ZERO, answer).await;
    let relay = relay_with_hook(hook.url(), |_| {}).await;
    let ws = relay.ws_url();

    // The question: room, token, cookie and origin.
    let mut request = format!("{ws}/plans?token=editor-session").into_client_request().unwrap();
    request.headers_mut().insert("Origin", "https://scenes.example".parse().unwrap());
    request.headers_mut().insert("Cookie", "theme=dark".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    eventually(WAIT, "the hook asked", || async { hook.asked() == 1 }).await;
    let question = hook.questions.lock().unwrap()[0].clone();
    assert_eq!(question, json!({ "room": "plans", "token": "editor-session", "cookie": "theme=dark", "origin": "https://scenes.example" }));
    let _ = socket.close(None).await;

    // Grants: an editor named by the hook (the name reaches the others' presence), a viewer.
    let ada = TestClient::join(&ws, "plans?token=editor-session").await;
    let viewer = TestClient::join(&ws, "plans?token=viewer-session").await;
    ada.set_presence(r#"{"user":{"name":"Swift Otter"}}"#);
    eventually(WAIT, "the hook's name in presence", || async {
        viewer.presence_of(ada.client_id()).await.is_some_and(|s| s.contains("\"name\":\"Ada Lovelace\"") && s.contains("\"id\":\"ada\""))
    })
    .await;
    viewer.append_text("t", "no");
    viewer.append_text("t", "no");
    assert_eq!(viewer.wait_closed().await.0, close::FORBIDDEN, "the hook's viewer cannot edit");

    // Refusals, with the hook's reason.
    let (code, reason) = closed_with(&relay, "plans?token=stranger").await;
    assert_eq!((code, reason.contains("unknown session")), (close::UNAUTHORIZED, true), "{reason}");
    let (code, reason) = closed_with(&relay, "plans?token=outsider").await;
    assert_eq!((code, reason.contains("not in this project")), (close::FORBIDDEN, true), "{reason}");
    assert_eq!(closed_with(&relay, "plans").await.0, close::UNAUTHORIZED, "nothing to show the hook");

    // Kept: asking again within the cache time does not reach the hook, for grants and
    // refusals alike; another room is another question.
    let before = hook.asked();
    let _again = TestClient::join(&ws, "plans?token=editor-session").await;
    assert_eq!(closed_with(&relay, "plans?token=stranger").await.0, close::UNAUTHORIZED);
    assert_eq!(hook.asked(), before, "answered from the cache");
    assert!(answers(&relay, "cached").await >= 2);
    let _elsewhere = TestClient::join(&ws, "other?token=editor-session").await;
    assert_eq!(hook.asked(), before + 1);
}

#[tokio::test]
async fn the_cache_time_is_configurable_and_zero_asks_every_time() {
    let hook = HookServer::start(Duration::ZERO, answer).await;
    let relay = relay_with_hook(hook.url(), |c| c.auth_webhook_cache_secs = 1).await;
    let _a = TestClient::join(&relay.ws_url(), "r?token=editor-session").await;
    let _b = TestClient::join(&relay.ws_url(), "r?token=editor-session").await;
    assert_eq!(hook.asked(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let _c = TestClient::join(&relay.ws_url(), "r?token=editor-session").await;
    assert_eq!(hook.asked(), 2, "asked again once the answer expired");

    let uncached = HookServer::start(Duration::ZERO, answer).await;
    let relay = relay_with_hook(uncached.url(), |c| c.auth_webhook_cache_secs = 0).await;
    for _ in 0..3 {
        let _ = TestClient::join(&relay.ws_url(), "r?token=editor-session").await;
    }
    assert_eq!(uncached.asked(), 3);
}

#[tokio::test]
async fn a_slow_dead_or_broken_hook_refuses_with_4502_and_is_counted() {
    // Slow: answers after 3 s, the relay waits 300 ms.
    let slow = HookServer::start(Duration::from_secs(3), answer).await;
    let relay = relay_with_hook(slow.url(), |_| {}).await;
    let started = Instant::now();
    let (code, reason) = closed_with(&relay, "r?token=editor-session").await;
    assert_eq!(code, close::AUTH_UNAVAILABLE, "{reason}");
    assert!(started.elapsed() < Duration::from_secs(2), "refused at the timeout, not when the hook answered: {:?}", started.elapsed());
    assert!(reason.contains("300 ms"), "{reason}");
    // Failures are not kept: the next attempt asks again.
    assert_eq!(closed_with(&relay, "r?token=editor-session").await.0, close::AUTH_UNAVAILABLE);
    eventually(WAIT, "both attempts reached the hook", || async { slow.asked() == 2 }).await;
    assert_eq!(answers(&relay, "failed").await, 2);
    // HTTP requests fail closed too (503).
    assert_eq!(tests::http_get(relay.addr(), "/api/rooms/r/snapshots?token=editor-session").await.0, 503);

    // Dead: nothing listens.
    let relay = relay_with_hook(dead_url(), |_| {}).await;
    let (code, reason) = closed_with(&relay, "r?token=editor-session").await;
    assert_eq!(code, close::AUTH_UNAVAILABLE, "{reason}");
    assert_eq!(answers(&relay, "failed").await, 1);

    // Broken: a 500, a page instead of JSON, a role that does not exist.
    let broken = HookServer::start(Duration::ZERO, answer).await;
    let relay = relay_with_hook(broken.url(), |_| {}).await;
    for token in ["broken", "chatty", "promoted"] {
        let (code, reason) = closed_with(&relay, &format!("r?token={token}")).await;
        assert_eq!(code, close::AUTH_UNAVAILABLE, "{token}: {reason}");
    }
    assert_eq!(answers(&relay, "failed").await, 3);
    assert_eq!(answers(&relay, "allowed").await, 0);
}

#[tokio::test]
async fn tokens_the_keys_accept_never_ask_the_hook_and_cookies_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"a-shared-key-of-at-least-32-bytes-for-tests";
    let key_file = dir.path().join("auth.key");
    std::fs::write(&key_file, key).unwrap();
    let hook = HookServer::start(Duration::ZERO, answer).await;
    let relay = relay_with_hook(hook.url(), |c| c.auth_key_file = Some(key_file)).await;
    let signer = relay::auth::Signer::shared(key).unwrap();
    let token = signer.mint(&relay::auth::Claims::new("r", relay::auth::Role::Editor, relay::auth::unix_now() + 600)).unwrap();
    let _signed = TestClient::join(&relay.ws_url(), &format!("r?token={token}")).await;
    assert_eq!(hook.asked(), 0, "the keys decided");

    // No token: the browser's cookie goes to the hook (HTTP as well as WebSocket).
    let mut request = format!("{}/r", relay.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("Cookie", "session=ada".parse().unwrap());
    let (_socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    eventually(WAIT, "the cookie reached the hook", || async { hook.asked() == 1 }).await;
    let (status, body) = tests::http(relay.addr(), "GET", "/api/rooms/r/snapshots", &[("Cookie", "session=ada")], &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(tests::http_get(relay.addr(), "/api/rooms/r/snapshots").await.0, 401);
}
