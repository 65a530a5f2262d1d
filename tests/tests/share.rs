//! Share links (`{base}/api/rooms/{room}/share`): what a caller may share, links minted
//! with the caller's own token (never a role above it, never past `--share-max-ttl`), the
//! links working as room tokens for exactly that room, and the relays that cannot mint
//! (open, or without a shared key).

use std::time::Duration;

use relay::auth::{unix_now, Claims, Role, Signer};
use serde_json::{json, Value};
use shared::close;
use tests::secured::SecuredRelay;
use tests::{TestClient, TestRelay};

const KEY: &[u8] = b"a-shared-key-of-at-least-32-bytes-for-tests";

async fn secured(tune: impl FnOnce(&mut relay::cli::Config)) -> SecuredRelay {
    SecuredRelay::start(KEY, tune).await
}

async fn share(relay: &TestRelay, room: &str, bearer: Option<&str>, wanted: Value) -> (u16, Value) {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    let body = wanted.to_string();
    let (status, text) = tests::http(relay.addr(), "POST", &format!("/api/rooms/{room}/share"), &headers, body.as_bytes()).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn options(relay: &TestRelay, room: &str, token: &str) -> (u16, Value) {
    let (status, text) = tests::http_get(relay.addr(), &format!("/api/rooms/{room}/share?token={token}")).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn editors_mint_edit_and_view_links_that_open_exactly_their_room() {
    // Room names hold slashes (escaped in URLs), as the issue's `project-42/*` has them.
    let s = secured(|_| {}).await;
    let editor = s.token("project-42/*", Role::Editor);

    let (status, offered) = options(&s.relay, "project-42%2Fscene", &editor).await;
    assert_eq!(status, 200);
    assert_eq!(offered, json!({ "open": false, "canMint": true, "role": "editor", "roles": ["editor", "viewer"], "expiries": ["1h", "1d", "7d"], "maxTtlSecs": 604800 }));

    let (status, link) = share(&s.relay, "project-42%2Fscene", Some(&editor), json!({ "role": "viewer", "expires": "1d" })).await;
    assert_eq!(status, 201, "{link}");
    let expires = link["expiresAt"].as_u64().expect("an expiry");
    assert!(expires.abs_diff(unix_now() + 86_400) < 10, "a day from now: {expires}");
    let token = link["token"].as_str().expect("a token");
    let viewer = TestClient::join(&s.relay.ws_url(), &format!("project-42%2Fscene?token={token}")).await;
    viewer.append_text("t", "no");
    viewer.append_text("t", "no");
    assert_eq!(viewer.wait_closed().await.0, close::FORBIDDEN, "a view link cannot edit");
    let (code, _) = TestClient::connect(&s.relay.ws_url(), &format!("project-42%2Fother?token={token}")).await.wait_closed().await;
    assert_eq!(code, close::FORBIDDEN, "the link opens its own room, not the caller's prefix");

    let (status, link) = share(&s.relay, "project-42%2Fscene", Some(&editor), json!({ "role": "editor", "expires": "1h" })).await;
    assert_eq!(status, 201, "{link}");
    let editing = TestClient::join(&s.relay.ws_url(), &format!("project-42%2Fscene?token={}", link["token"].as_str().unwrap())).await;
    editing.append_text("t", "yes");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!editing.is_closed());
}

#[tokio::test]
async fn nobody_mints_above_their_role_past_the_limit_or_without_access() {
    let s = secured(|c| c.share_max_ttl = relay::cli::Lifetime::For(Duration::from_secs(86_400))).await;
    let viewer = s.token("room", Role::Viewer);
    let editor = s.token("room", Role::Editor);

    let (_, offered) = options(&s.relay, "room", &viewer).await;
    assert_eq!((offered["roles"].clone(), offered["expiries"].clone()), (json!(["viewer"]), json!(["1h", "1d"])));
    let (status, body) = share(&s.relay, "room", Some(&viewer), json!({ "role": "editor", "expires": "1h" })).await;
    assert_eq!(status, 403, "a viewer hands out no edit links: {body}");
    assert_eq!(share(&s.relay, "room", Some(&viewer), json!({ "role": "viewer", "expires": "1h" })).await.0, 201);

    let (status, body) = share(&s.relay, "room", Some(&editor), json!({ "role": "viewer", "expires": "7d" })).await;
    assert_eq!(status, 403, "past the relay's limit: {body}");
    assert!(body["error"].as_str().unwrap_or("").contains("1day"), "{body}");
    assert_eq!(share(&s.relay, "room", Some(&editor), json!({ "role": "viewer", "expires": "never" })).await.0, 403);
    assert_eq!(share(&s.relay, "room", Some(&editor), json!({ "role": "viewer", "expires": "soon" })).await.0, 400);
    assert_eq!(share(&s.relay, "room", Some(&editor), json!({ "role": "owner", "expires": "1h" })).await.0, 400);

    assert_eq!(share(&s.relay, "room", None, json!({ "role": "viewer", "expires": "1h" })).await.0, 401, "no token");
    assert_eq!(share(&s.relay, "room", Some("forged.token.here"), json!({ "role": "viewer", "expires": "1h" })).await.0, 401);
    assert_eq!(share(&s.relay, "elsewhere", Some(&editor), json!({ "role": "viewer", "expires": "1h" })).await.0, 403, "another room's token");
}

#[tokio::test]
async fn never_expiring_links_only_where_the_relay_allows_them() {
    let s = secured(|c| c.share_max_ttl = relay::cli::Lifetime::Never).await;
    let editor = s.token("room", Role::Editor);
    let (_, offered) = options(&s.relay, "room", &editor).await;
    assert_eq!(offered["expiries"], json!(["1h", "1d", "7d", "never"]));
    assert_eq!(offered["maxTtlSecs"], Value::Null);
    let (status, link) = share(&s.relay, "room", Some(&editor), json!({ "role": "editor", "expires": "never" })).await;
    assert_eq!((status, link["expiresAt"].clone()), (201, Value::Null), "{link}");
    let _member = TestClient::join(&s.relay.ws_url(), &format!("room?token={}", link["token"].as_str().unwrap())).await;
}

#[tokio::test]
async fn open_relays_and_relays_without_a_shared_key_mint_nothing() {
    let open = TestRelay::start().await;
    let (status, offered) = options(&open, "room", "").await;
    assert_eq!((status, offered["open"].clone(), offered["canMint"].clone()), (200, json!(true), json!(false)));
    assert_eq!(share(&open, "room", None, json!({ "role": "editor", "expires": "1h" })).await.0, 409);

    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::copy(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/jwks-ed-1.json"), &jwks).unwrap();
    let public_only = TestRelay::start_with(|c| c.auth_jwks_file = Some(jwks)).await;
    let signer = Signer::from_pem_file(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/ed25519-1.pem"), relay::auth::Algorithm::EdDSA, Some("ed-1".into())).unwrap();
    let token = signer.mint(&Claims::new("room", Role::Editor, unix_now() + 600)).unwrap();
    let (_, offered) = options(&public_only, "room", &token).await;
    assert_eq!(offered["canMint"], json!(false));
    assert_eq!(share(&public_only, "room", Some(&token), json!({ "role": "viewer", "expires": "1h" })).await.0, 501);
}
