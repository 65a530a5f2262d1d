//! Access control and limits, one test per rule: tokens (forged, expired, other room,
//! missing, via query or subprotocol), viewers, Origin allowlist, connection limits,
//! message floods, idle connections, and a slow consumer that must not slow the room.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use relay::auth::{Claims, Role, Signer};
use shared::close;
use shared::protocol::{self, Message};
use tests::secured::SecuredRelay;
use tests::{eventually, TestClient, TestRelay};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::{Map, StateVector, Transact};

const WAIT: Duration = Duration::from_secs(10);
const KEY: &[u8] = b"a-test-key-that-is-at-least-32-bytes-long";

async fn secured(tune: impl FnOnce(&mut relay::cli::Config)) -> SecuredRelay {
    SecuredRelay::start(KEY, tune).await
}

/// An HS256 room token valid for `ttl_secs` (negative: expired that long ago, beyond the
/// relay's 60 s leeway when it is more than that).
fn token(key: &Signer, room: &str, role: Role, ttl_secs: i64) -> String {
    let exp = (relay::auth::unix_now() as i64 + ttl_secs).max(0) as u64;
    key.mint(&Claims::new(room, role, exp)).unwrap()
}

/// Connects to `{base}/{room_and_query}` and returns how the relay closed the connection.
async fn closed_with(base: &str, room_and_query: &str) -> (u16, String) {
    let client = TestClient::connect(base, room_and_query).await;
    client.wait_closed().await
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let s = secured(|_| {}).await;
    let base = s.relay.ws_url();
    let good = token(&s.signer, "room", Role::Editor, 3600);

    let missing = TestClient::connect(&base, "room").await;
    assert_eq!(missing.wait_closed().await.0, close::UNAUTHORIZED);

    let forger = Signer::shared(&[b'x'; 40]).unwrap();
    let forged = token(&forger, "room", Role::Editor, 3600);
    let (code, reason) = closed_with(&base, &format!("room?token={forged}")).await;
    assert_eq!(code, close::UNAUTHORIZED, "{reason}");
    assert!(reason.contains("signature"), "{reason}");

    let expired = token(&s.signer, "room", Role::Editor, -600);
    let (code, reason) = closed_with(&base, &format!("room?token={expired}")).await;
    assert_eq!((code, reason.contains("expired")), (close::UNAUTHORIZED, true), "{reason}");

    let (code, reason) = closed_with(&base, &format!("other-room?token={good}")).await;
    assert_eq!(code, close::FORBIDDEN, "{reason}");

    let a = TestClient::join(&base, &format!("room?token={good}")).await;
    a.append_text("t", "signed in");
    assert!(!a.is_closed());
}

#[tokio::test]
async fn a_token_can_travel_as_a_websocket_subprotocol_and_is_echoed() {
    let s = secured(|_| {}).await;
    let protocol = format!("token.{}", token(&s.signer, "sub", Role::Editor, 60));
    let mut request = format!("{}/sub", s.relay.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()), Some(protocol.as_str()));
    socket.send(WsMessage::binary(protocol::sync_step1(&StateVector::default()))).await.unwrap();
    let mut got_step2 = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, socket.next()).await {
        if let WsMessage::Binary(bytes) = frame {
            if bytes.starts_with(&[0, 1]) {
                got_step2 = true;
                break;
            }
        }
    }
    assert!(got_step2, "the handshake completed over a token subprotocol");
}

#[tokio::test]
async fn viewers_see_everything_but_cannot_edit() {
    let s = secured(|_| {}).await;
    let base = s.relay.ws_url();
    let editor = TestClient::join(&base, &format!("r?token={}", token(&s.signer, "r", Role::Editor, 60))).await;
    editor.append_text("t", "from the editor");
    let viewer = TestClient::join(&base, &format!("r?token={}", token(&s.signer, "r", Role::Viewer, 60))).await;
    eventually(WAIT, "viewers receive the document", || async { viewer.text("t") == "from the editor" }).await;

    viewer.set_presence(r#"{"user":{"name":"watcher"}}"#);
    eventually(WAIT, "the editor sees the viewer's presence", || async {
        editor.presence_of(viewer.client_id()).await.is_some()
    })
    .await;

    viewer.append_text("t", " + viewer edit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(editor.text("t"), "from the editor", "a viewer's write is never applied");
    assert!(!viewer.is_closed(), "the first refused write gets a permission-denied message, not a close");

    viewer.append_text("t", " + again");
    let (code, reason) = viewer.wait_closed().await;
    assert_eq!(code, close::FORBIDDEN, "{reason}");
    let (_, stats) = tests::http_get(s.relay.addr(), "/api/stats").await;
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["viewer_writes_refused"], 2, "the relay counts both refused writes");
    editor.append_text("t", "!");
    assert_eq!(editor.text("t"), "from the editor!");
}

#[tokio::test]
async fn viewers_get_the_permission_denied_message_on_their_first_write() {
    let s = secured(|_| {}).await;
    let url = format!("{}/p?token={}", s.relay.ws_url(), token(&s.signer, "p", Role::Viewer, 60));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let doc = yrs::Doc::new();
    let update = {
        use yrs::{Text, Transact};
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "nope");
        txn.encode_update_v1()
    };
    socket.send(WsMessage::binary(protocol::update(update))).await.unwrap();
    let mut denied = None;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, socket.next()).await {
        if let WsMessage::Binary(bytes) = frame {
            if let Ok(messages) = protocol::decode_frame(&bytes) {
                if let Some(Message::Auth(Some(reason))) = messages.into_iter().next() {
                    denied = Some(reason);
                    break;
                }
            }
        }
    }
    assert!(denied.is_some_and(|r| r.contains("read-only")));
}

#[tokio::test]
async fn foreign_origins_are_refused_before_the_upgrade() {
    let relay = TestRelay::start_with(|c| c.allowed_origins = vec!["https://scenes.example".into()]).await;
    let url = format!("{}/o", relay.ws_url());
    let mut foreign = url.clone().into_client_request().unwrap();
    foreign.headers_mut().insert("Origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(foreign).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403, got {:?}", other.map(|(_, r)| r.status())),
    }
    let mut allowed = url.clone().into_client_request().unwrap();
    allowed.headers_mut().insert("Origin", "https://scenes.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(allowed).await.is_ok());
    // Non-browser clients send no Origin and are not affected.
    let _plain = TestClient::join(&relay.ws_url(), "o").await;
}

#[tokio::test]
async fn connection_limits_per_room_and_per_address() {
    let relay = TestRelay::start_with(|c| {
        c.max_conns_per_room = 2;
        c.max_conns_per_ip = 3;
    })
    .await;
    let url = relay.ws_url();
    let _a = TestClient::join(&url, "full").await;
    let _b = TestClient::join(&url, "full").await;
    let third = TestClient::connect(&url, "full").await;
    let (code, reason) = third.wait_closed().await;
    assert_eq!(code, close::TRY_AGAIN_LATER, "{reason}");
    assert!(reason.contains("full"));

    let _c = TestClient::join(&url, "elsewhere").await;
    let fourth = TestClient::connect(&url, "another").await;
    let (code, reason) = fourth.wait_closed().await;
    assert_eq!(code, close::TRY_AGAIN_LATER, "{reason}");
    assert!(reason.contains("address"), "{reason}");
}

#[tokio::test]
async fn a_message_flood_is_cut_off() {
    let relay = TestRelay::start_with(|c| {
        c.message_rate = 50;
        c.message_burst = 100;
    })
    .await;
    let calm = TestClient::join(&relay.ws_url(), "flood").await;
    let flooder = TestClient::join(&relay.ws_url(), "flood").await;
    for i in 0..1000 {
        flooder.set_presence(&format!("{{\"i\":{i}}}"));
    }
    let (code, reason) = flooder.wait_closed().await;
    assert_eq!(code, close::RATE_LIMITED, "{reason}");
    assert!(!calm.is_closed());
}

/// The opt-in idle limit (off by default) closes a connection that answers pings but sends
/// no message, and the reason names the flag and how to stay.
#[tokio::test]
async fn the_opt_in_idle_limit_closes_silent_connections_and_says_how_to_stay() {
    let relay = TestRelay::start_with(|c| {
        c.ping_interval_secs = 1;
        c.idle_timeout_secs = 2;
    })
    .await;
    let idle = TestClient::join(&relay.ws_url(), "idle").await;
    let chatty = TestClient::join(&relay.ws_url(), "idle").await;
    for i in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        chatty.set_presence(&format!("{{\"i\":{i}}}"));
    }
    let (code, reason) = idle.wait_closed().await;
    assert_eq!(code, close::IDLE_TIMEOUT);
    assert!(reason.contains("--idle-timeout-secs") && reason.contains("presence"), "{reason}");
    assert!(!chatty.is_closed(), "a connection that sends presence stays");
}

#[tokio::test]
async fn a_room_cannot_grow_past_its_limit() {
    let relay = TestRelay::start_with(|c| c.max_room_bytes = 64 * 1024).await;
    let a = TestClient::join(&relay.ws_url(), "capped").await;
    a.append_text("t", &"x".repeat(10 * 1024));
    a.append_text("t", &"y".repeat(60 * 1024));
    let (code, reason) = a.wait_closed().await;
    assert_eq!(code, close::ROOM_TOO_LARGE, "{reason}");
    let b = TestClient::join(&relay.ws_url(), "capped").await;
    assert_eq!(b.text("t").len(), 10 * 1024, "the refused update was not applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_resynced_while_a_fast_peer_keeps_its_latency() {
    let relay = TestRelay::start_with(|c| c.outbound_queue = 256).await;
    let url = relay.ws_url();
    let writer = TestClient::join(&url, "slow").await;
    let fast = TestClient::join(&url, "slow").await;

    // The slow consumer syncs, then never reads again.
    let (mut slow, _) = tokio_tungstenite::connect_async(format!("{url}/slow")).await.unwrap();
    slow.send(WsMessage::binary(protocol::sync_step1(&StateVector::default()))).await.unwrap();

    // 1500 updates of 8 KiB (12 MB): more than the slow socket's buffers and queue can hold.
    // (Map writes: appending to one Y.Text gets slower as it grows, in yrs itself.)
    let chunk = "s".repeat(8 * 1024);
    let (written, seen) = (writer.doc.get_or_insert_map("m"), fast.doc.get_or_insert_map("m"));
    let mut worst = Duration::ZERO;
    for batch in 0..30u32 {
        let sent_at = Instant::now();
        for i in 0..50 {
            written.insert(&mut writer.doc.transact_mut(), format!("{batch}-{i}"), chunk.as_str());
        }
        let expected = (batch + 1) * 50;
        eventually(WAIT, "the fast peer keeps up", || async { seen.len(&fast.doc.transact()) == expected }).await;
        worst = worst.max(sent_at.elapsed());
    }
    assert!(worst < Duration::from_secs(2), "a batch took {worst:?} to reach the fast peer");
    assert!(!fast.is_closed(), "the fast peer was never pushed out");

    // The slow consumer was closed with the resync code, not left silently behind.
    let mut code = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, slow.next()).await {
        match frame {
            Ok(WsMessage::Close(Some(frame))) => {
                code = Some(u16::from(frame.code));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert_eq!(code, Some(close::RESYNC));

    // After reconnecting it converges.
    let back = TestClient::join(&url, "slow").await;
    assert_eq!(back.doc.get_or_insert_map("m").len(&back.doc.transact()), 1500);
    assert_eq!(back.state().len(), writer.state().len());
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects with an X-Forwarded-For header; the open socket, or the close code it got.
async fn connect_from(url: &str, forwarded_for: &str) -> Result<Socket, u16> {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("X-Forwarded-For", forwarded_for.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|_| 0u16)?;
    // Refusals arrive as a close frame right after the upgrade; admitted sockets get SyncStep1.
    match tokio::time::timeout(WAIT, socket.next()).await {
        Ok(Some(Ok(WsMessage::Close(Some(frame))))) => Err(u16::from(frame.code)),
        Ok(Some(Ok(WsMessage::Binary(_)))) => Ok(socket),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn client_addresses_come_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let trusting = TestRelay::start_with(|c| {
        c.trust_proxy = true;
        c.max_conns_per_ip = 1;
    })
    .await;
    let url = format!("{}/xff", trusting.ws_url());
    let _first = connect_from(&url, "203.0.113.7").await.expect("admitted");
    let _second = connect_from(&url, "203.0.113.8").await.expect("another client behind the proxy is admitted");
    let third = connect_from(&url, "10.0.0.1, 203.0.113.7").await;
    assert_eq!(third.err(), Some(close::TRY_AGAIN_LATER), "the rightmost entry counts");

    let direct = TestRelay::start_with(|c| c.max_conns_per_ip = 1).await;
    let url = format!("{}/xff", direct.ws_url());
    let _only = connect_from(&url, "203.0.113.7").await.expect("admitted");
    let forged = connect_from(&url, "203.0.113.8").await;
    assert_eq!(forged.err(), Some(close::TRY_AGAIN_LATER), "a forged header is ignored");
}

#[tokio::test]
async fn relay_token_mints_tokens_the_relay_accepts() {
    let s = secured(|_| {}).await;
    let key_file = s.key_file();
    let output = std::process::Command::new(tests::process::relay_binary())
        .args(["token", "--room", "minted", "--role", "viewer", "--ttl", "1h", "--sub", "ada", "--auth-key-file"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let viewer = TestClient::join(&s.relay.ws_url(), &format!("minted?token={token}")).await;
    viewer.append_text("t", "nope");
    viewer.append_text("t", "nope");
    let (code, reason) = viewer.wait_closed().await;
    assert_eq!(code, close::FORBIDDEN, "a viewer's token: {reason}");
    let (code, _) = closed_with(&s.relay.ws_url(), &format!("elsewhere?token={token}")).await;
    assert_eq!(code, close::FORBIDDEN, "for its room only");
}

/// Restore points follow the room's token rules: reading them takes a room token, creating
/// or restoring one an editor's (a restore rewrites the room for everyone).
#[tokio::test]
async fn restore_points_need_a_room_token_and_changes_an_editors() {
    let s = secured(|_| {}).await;
    let addr = s.relay.addr();
    let editor = token(&s.signer, "points", Role::Editor, 3600);
    let viewer = token(&s.signer, "points", Role::Viewer, 3600);
    let elsewhere = token(&s.signer, "other", Role::Editor, 3600);
    let json = [("Content-Type", "application/json")];
    let create = |query: String| async move { tests::http(addr, "POST", &format!("/api/rooms/points/snapshots{query}"), &json, br#"{"name":"v1"}"#).await };

    assert_eq!(create(String::new()).await.0, 401, "no token");
    assert_eq!(create(format!("?token={viewer}")).await.0, 403, "viewers cannot create");
    assert_eq!(create(format!("?token={elsewhere}")).await.0, 403, "another room's token");
    let (status, body) = create(format!("?token={editor}")).await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_i64().expect("an id");

    assert_eq!(tests::http_get(addr, "/api/rooms/points/snapshots").await.0, 401);
    let bearer = format!("Bearer {viewer}");
    let as_viewer = [("Authorization", bearer.as_str())];
    for path in ["/api/rooms/points/snapshots".to_owned(), format!("/api/rooms/points/snapshots/{id}"), format!("/api/rooms/points/snapshots/{id}/diff")] {
        assert_eq!(tests::http(addr, "GET", &path, &[], &[]).await.0, 401, "{path} without a token");
        assert_eq!(tests::http(addr, "GET", &path, &as_viewer, &[]).await.0, 200, "{path} as a viewer");
    }
    let restore = format!("/api/rooms/points/snapshots/{id}/restore");
    assert_eq!(tests::http(addr, "POST", &restore, &[], &[]).await.0, 401);
    assert_eq!(tests::http(addr, "POST", &restore, &as_viewer, &[]).await.0, 403, "viewers cannot restore");
    let (status, body) = tests::http(addr, "POST", &format!("{restore}?token={editor}"), &[], &[]).await;
    assert_eq!(status, 200, "{body}");
}
