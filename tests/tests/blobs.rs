//! The room blob endpoint scene jobs upload their results to (the relay's `http/blobs.rs`): upload and
//! fetch (content-addressed, with content type and caching headers), the size limit, the
//! accepted types, unknown ids, token rules, that the SQLite store keeps blobs across a
//! restart, and the per-room blob quota (`--max-room-blob-bytes`).

use std::net::SocketAddr;
use std::time::Duration;

use relay::auth::{Claims, Role, Signer};
use relay::{blob_id, MAX_BLOB_BYTES};
use tests::TestRelay;

const KEY: &[u8] = b"a-test-key-that-is-at-least-32-bytes-long";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fn png(extra: &[u8]) -> Vec<u8> {
    [PNG_MAGIC, b"IHDR-not-really", extra].concat()
}

/// One HTTP/1.1 request; returns the status, the response head (lower-cased) and the body.
async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // The relay may answer (413) before reading a large body; a failed write is fine then.
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await.expect("response in time");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, response[split..].to_vec())
}

async fn upload(relay: &TestRelay, room: &str, content_type: &str, body: &[u8], query: &str) -> (u16, serde_json::Value) {
    let path = format!("/api/rooms/{room}/blobs{query}");
    let (status, _, body) = request(relay.addr(), "PUT", &path, &[("Content-Type", content_type)], body).await;
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

async fn fetch(relay: &TestRelay, room: &str, id: &str, query: &str) -> (u16, String, Vec<u8>) {
    request(relay.addr(), "GET", &format!("/api/rooms/{room}/blobs/{id}{query}"), &[], &[]).await
}

#[tokio::test]
async fn an_uploaded_png_is_fetched_back_by_its_sha256() {
    let relay = TestRelay::start().await;
    let image = png(b"pixels");
    let (status, answer) = upload(&relay, "room", "image/png", &image, "").await;
    assert_eq!(status, 201, "{answer}");
    let id = blob_id(&image);
    assert_eq!(answer["id"], id.as_str());
    assert_eq!(answer["bytes"], image.len());
    assert_eq!(answer["contentType"], "image/png");

    let (status, head, body) = fetch(&relay, "room", &id, "").await;
    assert_eq!(status, 200);
    assert_eq!(body, image);
    assert!(head.contains("content-type: image/png"), "{head}");
    assert!(head.contains("cache-control: private, max-age=31536000, immutable"), "{head}");
    assert!(head.contains(&format!("etag: \"{id}\"")), "{head}");
    let (status, _, _) = request(relay.addr(), "GET", &format!("/api/rooms/room/blobs/{id}"), &[("If-None-Match", &format!("\"{id}\""))], &[]).await;
    assert_eq!(status, 304);

    // The same bytes again: the same id. Another room does not see it.
    let (status, again) = upload(&relay, "room", "image/png", &image, "").await;
    assert_eq!((status, again["id"].as_str()), (201, Some(id.as_str())));
    assert_eq!(fetch(&relay, "other", &id, "").await.0, 404);

    // A .glb too, with POST.
    let glb = [b"glTF".as_slice(), &[2, 0, 0, 0, 12, 0, 0, 0]].concat();
    let (status, _, body) = request(relay.addr(), "POST", "/api/rooms/room/blobs", &[("Content-Type", "model/gltf-binary")], &glb).await;
    assert_eq!(status, 201);
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (status, head, body) = fetch(&relay, "room", answer["id"].as_str().unwrap(), "").await;
    assert_eq!((status, body), (200, glb));
    assert!(head.contains("content-type: model/gltf-binary"), "{head}");
}

#[tokio::test]
async fn bad_uploads_get_clear_errors() {
    let relay = TestRelay::start().await;
    let (status, answer) = upload(&relay, "room", "text/plain", b"hello", "").await;
    assert_eq!(status, 415);
    assert!(answer["error"].as_str().unwrap().contains("not accepted"), "{answer}");
    let (status, answer) = upload(&relay, "room", "image/png", b"GIF89a not a png", "").await;
    assert_eq!(status, 415);
    assert!(answer["error"].as_str().unwrap().contains("not a image/png"), "{answer}");
    let (status, answer) = upload(&relay, "room", "image/png", b"", "").await;
    assert_eq!(status, 400, "{answer}");

    let huge = png(&vec![0u8; MAX_BLOB_BYTES]);
    let (status, answer) = upload(&relay, "room", "image/png", &huge, "").await;
    assert_eq!(status, 413);
    assert!(answer["error"].as_str().unwrap().contains("at most"), "{answer}");
    // Just under the limit is fine.
    let (status, _) = upload(&relay, "room", "image/png", &png(&vec![1u8; MAX_BLOB_BYTES - 100]), "").await;
    assert_eq!(status, 201);

    let unknown = blob_id(b"never uploaded");
    assert_eq!(fetch(&relay, "room", &unknown, "").await.0, 404);
    assert_eq!(fetch(&relay, "room", "not-an-id", "").await.0, 400);
    assert_eq!(fetch(&relay, "room", &unknown.to_uppercase(), "").await.0, 400);
}

#[tokio::test]
async fn uploads_need_an_editor_token_and_fetches_any_token_of_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("auth.key");
    std::fs::write(&key_file, KEY).unwrap();
    let relay = TestRelay::start_with(|c| c.auth_key_file = Some(key_file)).await;
    let key = Signer::shared(KEY).unwrap();
    let token = |room: &str, role| key.mint(&Claims::new(room, role, relay::auth::unix_now() + 3600)).unwrap();
    let (editor, viewer, elsewhere) = (token("room", Role::Editor), token("room", Role::Viewer), token("other", Role::Editor));
    let image = png(b"secured");
    let id = blob_id(&image);

    assert_eq!(upload(&relay, "room", "image/png", &image, "").await.0, 401, "no token");
    assert_eq!(upload(&relay, "room", "image/png", &image, "?token=forged").await.0, 401);
    assert_eq!(upload(&relay, "room", "image/png", &image, &format!("?token={viewer}")).await.0, 403, "viewers cannot upload");
    assert_eq!(upload(&relay, "room", "image/png", &image, &format!("?token={elsewhere}")).await.0, 403, "another room's token");
    assert_eq!(upload(&relay, "room", "image/png", &image, &format!("?token={editor}")).await.0, 201);

    // A bearer header works as well as the query.
    let path = "/api/rooms/room/blobs";
    let bearer = format!("Bearer {editor}");
    let (status, _, _) = request(relay.addr(), "PUT", path, &[("Content-Type", "image/png"), ("Authorization", &bearer)], &image).await;
    assert_eq!(status, 201);

    assert_eq!(fetch(&relay, "room", &id, "").await.0, 401);
    assert_eq!(fetch(&relay, "room", &id, &format!("?token={elsewhere}")).await.0, 403);
    let (status, _, body) = fetch(&relay, "room", &id, &format!("?token={viewer}")).await;
    assert_eq!((status, body), (200, image));
}

#[tokio::test]
async fn the_sqlite_store_keeps_blobs_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let image = png(b"durable");
    let id = blob_id(&image);
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    assert_eq!(upload(&relay, "kept", "image/png", &image, "").await.0, 201);
    assert_eq!(fetch(&relay, "kept", &blob_id(b"other"), "").await.0, 404);
    relay.stop().await;

    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let (status, head, body) = fetch(&relay, "kept", &id, "").await;
    assert_eq!((status, body), (200, image));
    assert!(head.contains("content-type: image/png"), "{head}");
    assert_eq!(fetch(&relay, "never-stored", &id, "").await.0, 404);
    relay.stop().await;
}

/// A PNG-looking blob of exactly `len` bytes, different for each `seed`.
fn png_of(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = png(&[seed]);
    bytes.resize(len, seed);
    bytes
}

#[tokio::test]
async fn a_room_over_its_blob_quota_is_refused_with_507_even_after_a_restart() {
    const QUOTA: u64 = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |c| c.max_room_blob_bytes = QUOTA).await;
    let (first, second, third) = (png_of(4_000, 1), png_of(5_000, 2), png_of(2_000, 3));

    // Under the quota: stored.
    assert_eq!(upload(&relay, "full", "image/png", &first, "").await.0, 201);
    assert_eq!(upload(&relay, "full", "image/png", &second, "").await.0, 201);
    // 9,000 of 10,000 bytes used: 2,000 more do not fit.
    let (status, answer) = upload(&relay, "full", "image/png", &third, "").await;
    assert_eq!(status, 507, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert_eq!(error, "8.8 KiB of the room's 9.8 KiB blob quota in use; this file needs 2.0 KiB more");
    assert_eq!((answer["quotaBytes"].as_u64(), answer["usedBytes"].as_u64(), answer["bytes"].as_u64()), (Some(QUOTA), Some(9_000), Some(2_000)));
    assert_eq!(fetch(&relay, "full", &blob_id(&third), "").await.0, 404, "nothing was stored");
    // The same blob again is free.
    let (status, again) = upload(&relay, "full", "image/png", &second, "").await;
    assert_eq!((status, again["id"].as_str()), (201, Some(blob_id(&second).as_str())));
    // Exactly up to the quota fits.
    assert_eq!(upload(&relay, "full", "image/png", &png_of(1_000, 4), "").await.0, 201);
    assert_eq!(upload(&relay, "full", "image/png", &png_of(20, 5), "").await.0, 507);
    // Another room has its own quota.
    assert_eq!(upload(&relay, "elsewhere", "image/png", &third, "").await.0, 201);
    // The refusals are counted.
    let (_, metrics) = tests::http_get(relay.addr(), "/metrics").await;
    assert!(metrics.contains("relay_blob_uploads_over_quota_total 2"), "{metrics}");
    relay.stop().await;

    // After a restart on the same data the room's usage still counts.
    let relay = TestRelay::start_sqlite(dir.path(), |c| c.max_room_blob_bytes = QUOTA).await;
    let (status, answer) = upload(&relay, "full", "image/png", &third, "").await;
    assert_eq!((status, answer["usedBytes"].as_u64()), (507, Some(10_000)), "{answer}");
    assert_eq!(upload(&relay, "full", "image/png", &first, "").await.0, 201, "a blob it holds is still free");
    assert_eq!(upload(&relay, "elsewhere", "image/png", &png_of(3_000, 6), "").await.0, 201);
    let (status, _, body) = fetch(&relay, "full", &blob_id(&second), "").await;
    assert_eq!((status, body), (200, second));
    relay.stop().await;
}

#[tokio::test]
async fn racing_uploads_cannot_overshoot_the_quota_together() {
    let relay = TestRelay::start_with(|c| c.max_room_blob_bytes = 10_000).await;
    let blobs: Vec<Vec<u8>> = (0..6).map(|i| png_of(3_000, 10 + i)).collect();
    let answers = futures_util::future::join_all(blobs.iter().map(|b| upload(&relay, "race", "image/png", b, ""))).await;
    let stored = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers.iter().filter(|(status, _)| *status == 507).count();
    assert_eq!((stored, refused), (3, 3), "3 × 3,000 bytes fit in 10,000: {answers:?}");
}
