//! Room tokens as JWTs against a real relay: keys from a JWKS file picked by `kid`, the
//! classic algorithm confusion refused, keys rotated by changing the file or by SIGHUP
//! (the real binary), the token's `sub` stamped into presence, and the role told to
//! clients that ask (`?access=1`) before anything else.
//!
//! The keys are test fixtures (`tests/fixtures/keys/`). Tokens from libraries nobody here
//! wrote (npm `jose`, Python `PyJWT`) are in `tests/interop/tokens.test.js`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use keys::*;
use relay::auth::{unix_now, Algorithm, Claims, Role, Signer};
use shared::close;
use shared::protocol::{self, Message};
use tests::process::ChildRelay;
use tests::{eventually, TestClient, TestRelay};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WAIT: Duration = Duration::from_secs(10);

/// The fixture keys, and tokens signed with them by the relay's own `Signer` (a forged
/// token is put together by hand).
mod keys {
    use super::*;

    pub fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys").join(name)
    }

    /// A JWKS file in `dir` holding the keys of the given fixture files.
    pub fn jwks(dir: &Path, name: &str, fixtures: &[&str]) -> PathBuf {
        let keys: Vec<serde_json::Value> = fixtures
            .iter()
            .flat_map(|f| {
                let set: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture(f)).unwrap()).unwrap();
                set["keys"].as_array().unwrap().clone()
            })
            .collect();
        let path = dir.join(name);
        std::fs::write(&path, serde_json::json!({ "keys": keys }).to_string()).unwrap();
        path
    }

    pub fn ed_signer(n: u8, kid: &str) -> Signer {
        Signer::from_pem_file(&fixture(&format!("ed25519-{n}.pem")), Algorithm::EdDSA, Some(kid.to_owned())).unwrap()
    }

    pub fn claims(room: &str, role: Role) -> Claims {
        let mut claims = Claims::new(room, role, unix_now() + 3600);
        claims.iat = Some(unix_now());
        claims
    }

    pub fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// How the relay closes a connection made with `token` to `room`.
async fn closed_with(relay_ws: &str, room: &str, token: &str) -> (u16, String) {
    TestClient::connect(relay_ws, &format!("{room}?token={token}")).await.wait_closed().await
}

/// Whether a connection with `token` to `room` is let in (it gets the relay's SyncStep1).
async fn admitted(relay_ws: &str, room: &str, token: &str) -> bool {
    let url = format!("{relay_ws}/{room}?token={token}");
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else { return false };
    matches!(tokio::time::timeout(WAIT, socket.next()).await, Ok(Some(Ok(WsMessage::Binary(_)))))
}

#[tokio::test]
async fn public_keys_are_picked_by_kid_and_an_hs256_token_made_with_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = jwks(dir.path(), "jwks.json", &["jwks-ed-1.json", "jwks-rsa.json"]);
    let relay = TestRelay::start_with(|c| c.auth_jwks_file = Some(jwks)).await;
    let ws = relay.ws_url();

    let good = ed_signer(1, "ed-1").mint(&claims("r", Role::Editor)).unwrap();
    assert!(admitted(&ws, "r", &good).await, "an EdDSA token of a JWKS key");
    let no_kid = Signer::from_pem_file(&fixture("ed25519-1.pem"), Algorithm::EdDSA, None).unwrap();
    assert!(admitted(&ws, "r", &no_kid.mint(&claims("r", Role::Editor)).unwrap()).await, "without kid: every key of its algorithm");

    let (code, reason) = closed_with(&ws, "r", &ed_signer(2, "ed-1").mint(&claims("r", Role::Editor)).unwrap()).await;
    assert_eq!((code, reason.contains("signature")), (close::UNAUTHORIZED, true), "another key under ed-1's kid: {reason}");
    let (code, reason) = closed_with(&ws, "r", &ed_signer(2, "ed-2").mint(&claims("r", Role::Editor)).unwrap()).await;
    assert_eq!((code, reason.contains("no key")), (close::UNAUTHORIZED, true), "a kid the relay does not know: {reason}");

    // Algorithm confusion: HS256 "signed" with the RSA key's public PEM as the secret.
    let public_pem = std::fs::read(fixture("rsa-1.pub.pem")).unwrap();
    let hmac = Signer::shared(&public_pem).unwrap();
    let (code, reason) = closed_with(&ws, "r", &hmac.with_kid(Some("rsa-1".into())).mint(&claims("r", Role::Editor)).unwrap()).await;
    assert_eq!((code, reason.contains("does not match")), (close::UNAUTHORIZED, true), "HS256 naming the RS256 key: {reason}");
    let (code, reason) = closed_with(&ws, "r", &Signer::shared(&public_pem).unwrap().mint(&claims("r", Role::Editor)).unwrap()).await;
    assert_eq!((code, reason.contains("no key")), (close::UNAUTHORIZED, true), "HS256 without kid, no shared key: {reason}");

    // alg: none, with a valid key's kid.
    let header = b64(br#"{"alg":"none","typ":"JWT","kid":"ed-1"}"#);
    let body = b64(serde_json::to_string(&claims("r", Role::Editor)).unwrap().as_bytes());
    let (code, reason) = closed_with(&ws, "r", &format!("{header}.{body}.")).await;
    assert_eq!((code, reason.contains("none")), (close::UNAUTHORIZED, true), "{reason}");
}

#[tokio::test]
async fn keys_rotate_when_the_jwks_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = jwks(dir.path(), "jwks.json", &["jwks-ed-1.json"]);
    let relay = TestRelay::start_with(|c| c.auth_jwks_file = Some(path.clone())).await;
    let ws = relay.ws_url();
    let (old, new) = (ed_signer(1, "ed-1").mint(&claims("r", Role::Editor)).unwrap(), ed_signer(2, "ed-2").mint(&claims("r", Role::Editor)).unwrap());
    assert!(admitted(&ws, "r", &old).await);
    assert!(!admitted(&ws, "r", &new).await, "ed-2 is not published yet");

    // Rotation: both keys, then the old one retired.
    jwks(dir.path(), "jwks.json", &["jwks-ed-1.json", "jwks-ed-2.json"]);
    eventually(WAIT, "ed-2 accepted once published", || admitted(&ws, "r", &new)).await;
    assert!(admitted(&ws, "r", &old).await, "ed-1 still accepted while both are published");
    // A broken file keeps the keys in use.
    std::fs::write(&path, "{\"keys\": [").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(admitted(&ws, "r", &old).await && admitted(&ws, "r", &new).await, "a broken file changes nothing");
    jwks(dir.path(), "jwks.json", &["jwks-ed-2.json"]);
    eventually(WAIT, "ed-1 refused once retired", || async { !admitted(&ws, "r", &old).await }).await;
    assert!(admitted(&ws, "r", &new).await);
}

#[tokio::test]
async fn sighup_reloads_the_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = jwks(dir.path(), "jwks.json", &["jwks-ed-1.json"]);
    let (path_text, data) = (path.to_str().unwrap().to_owned(), dir.path().join("data"));
    let relay = tokio::task::spawn_blocking(move || {
        ChildRelay::start(&data, &["--store", "memory", "--auth-jwks-file", &path_text, "--auth-keys-poll-secs", "0"])
    })
    .await
    .unwrap();
    let ws = relay.ws_url();
    let new = ed_signer(2, "ed-2").mint(&claims("r", Role::Editor)).unwrap();
    assert!(!admitted(&ws, "r", &new).await);
    std::fs::write(&path, std::fs::read(fixture("jwks-ed-2.json")).unwrap()).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!admitted(&ws, "r", &new).await, "without polling, a change waits for SIGHUP");
    relay.signal("-HUP");
    eventually(WAIT, "ed-2 accepted after SIGHUP", || admitted(&ws, "r", &new)).await;
    let old = ed_signer(1, "ed-1").mint(&claims("r", Role::Editor)).unwrap();
    assert!(!admitted(&ws, "r", &old).await, "ed-1 left with the old file");
    assert!(relay.terminate().is_some_and(|status| status.success()), "SIGHUP did not stop the relay");
}

/// The first frame a connection with `?access=1` gets: `104` and the grant as JSON.
async fn access_message(relay_ws: &str, room_and_query: &str) -> serde_json::Value {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{relay_ws}/{room_and_query}")).await.unwrap();
    let Ok(Some(Ok(WsMessage::Binary(frame)))) = tokio::time::timeout(WAIT, socket.next()).await else { panic!("no frame") };
    match protocol::decode_frame(&frame).unwrap().into_iter().next() {
        Some(Message::Custom(protocol::MSG_ACCESS, json)) => serde_json::from_slice(&json).unwrap(),
        other => panic!("the first frame is not the access message: {other:?}"),
    }
}

#[tokio::test]
async fn the_role_is_told_first_and_the_subject_stamped_into_presence() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"a-shared-key-of-at-least-32-bytes-for-tests";
    let key_file = dir.path().join("auth.key");
    std::fs::write(&key_file, key).unwrap();
    let relay = TestRelay::start_with(|c| c.auth_key_file = Some(key_file)).await;
    let signer = Signer::shared(key).unwrap();
    let mut viewer = claims("team-*", Role::Viewer);
    viewer.sub = Some("ada@example.com".into());
    let viewer = signer.mint(&viewer).unwrap();
    let editor = signer.mint(&claims("team-scene", Role::Editor)).unwrap();
    let ws = relay.ws_url();

    let told = access_message(&ws, &format!("team-scene?access=1&token={viewer}")).await;
    assert_eq!(told, serde_json::json!({ "role": "viewer", "id": "ada@example.com" }));
    assert_eq!(access_message(&ws, &format!("team-scene?access=1&token={editor}")).await, serde_json::json!({ "role": "editor" }));
    let open = TestRelay::start().await;
    assert_eq!(access_message(&open.ws_url(), "any?access=1").await, serde_json::json!({ "role": "editor" }));

    // What the viewer claims about itself is overwritten with its token's subject.
    let watcher = TestClient::join(&ws, &format!("team-scene?token={editor}")).await;
    let ada = TestClient::join(&ws, &format!("team-scene?token={viewer}")).await;
    ada.set_presence(r#"{"user":{"name":"Ada","id":"someone-else"}}"#);
    eventually(WAIT, "the stamped presence", || async {
        watcher.presence_of(ada.client_id()).await.is_some_and(|state| {
            let state: serde_json::Value = serde_json::from_str(&state).unwrap_or_default();
            state["user"]["id"] == "ada@example.com" && state["user"]["name"] == "Ada"
        })
    })
    .await;
}
