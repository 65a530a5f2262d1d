//! The HTTP API: restore points that connected clients follow (and can undo), and room
//! administration behind the admin token.

use std::time::Duration;

use serde_json::Value;
use shared::close;
use shared::scene::{NodeId, NodeKind, Scene};
use tests::{eventually, http, http_bytes, TestClient, TestRelay};
use yrs::Transact;

const WAIT: Duration = Duration::from_secs(10);

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn restore_points_restore_as_a_new_change_that_clients_follow_and_can_undo() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let addr = relay.addr();
    let editor = TestClient::join(&relay.ws_url(), "scene").await;
    let watcher = TestClient::join(&relay.ws_url(), "scene").await;
    let scene = Scene::new(&editor.doc);
    let id = |n| NodeId::new(editor.client_id().get(), n);
    scene.add_node(&mut editor.doc.transact_mut(), id(0), "Cube", NodeKind::Mesh, None);
    scene.add_node(&mut editor.doc.transact_mut(), id(1), "Sun", NodeKind::Light, None);
    eventually(WAIT, "watcher has two nodes", || async { watcher.node_names().len() == 2 }).await;

    let (status, body) = http(addr, "POST", "/api/rooms/scene/snapshots", &[("Content-Type", "application/json")], br#"{"name":"two nodes"}"#).await;
    assert_eq!(status, 201, "{body}");
    let point = json(&body)["id"].as_i64().unwrap();
    // Its content, as clients fetch it to restore it themselves.
    let (status, bytes) = tests::http_bytes(addr, "GET", &format!("/api/rooms/scene/snapshots/{point}"), &[], b"").await;
    assert_eq!(status, 200);
    let copy = yrs::Doc::new();
    copy.transact_mut().apply_update(shared::protocol::decode_update(&bytes).expect("a Yjs update")).unwrap();
    let mut copied = Scene::new(&copy).nodes(&copy.transact()).into_iter().map(|n| n.name).collect::<Vec<_>>();
    copied.sort();
    assert_eq!(copied, ["Cube", "Sun"]);

    scene.remove_node(&mut editor.doc.transact_mut(), &id(0));
    scene.add_node(&mut editor.doc.transact_mut(), id(2), "Camera", NodeKind::Camera, None);
    scene.rename(&mut editor.doc.transact_mut(), &id(1), "Moon");
    eventually(WAIT, "watcher sees the later edits", || async {
        watcher.node_names() == ["Camera", "Moon"]
    })
    .await;

    let (status, body) = http(addr, "GET", &format!("/api/rooms/scene/snapshots/{point}/diff"), &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let diff = json(&body);
    assert_eq!(diff["added"], serde_json::json!([id(0).0]));
    assert_eq!(diff["removed"], serde_json::json!([id(2).0]));
    assert_eq!(diff["changed"], serde_json::json!([id(1).0]));

    let (status, body) = http(addr, "POST", &format!("/api/rooms/scene/snapshots/{point}/restore"), &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let undo_point = json(&body)["undo_point"]["id"].as_i64().unwrap();
    for client in [&editor, &watcher] {
        eventually(WAIT, "connected clients follow the restore", || async {
            client.node_names() == ["Cube", "Sun"]
        })
        .await;
    }
    assert!(!editor.is_closed() && !watcher.is_closed(), "nobody had to reconnect");

    // Undo the restore by restoring the point it made.
    let (status, _) = http(addr, "POST", &format!("/api/rooms/scene/snapshots/{undo_point}/restore"), &[], b"").await;
    assert_eq!(status, 200);
    eventually(WAIT, "the restore is undone", || async {
        watcher.node_names() == ["Camera", "Moon"]
    })
    .await;

    let (status, body) = http(addr, "GET", "/api/rooms/scene/snapshots", &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body).as_array().map(Vec::len), Some(3), "{body}");
    let (status, _) = http(addr, "GET", "/api/rooms/scene/snapshots/999/diff", &[], b"").await;
    assert_eq!(status, 404);
    relay.stop().await;
}

#[tokio::test]
async fn admin_api_lists_exports_imports_and_deletes_rooms_behind_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |c| c.admin_token = Some("s3cret".into())).await;
    let addr = relay.addr();
    let auth = [("Authorization", "Bearer s3cret")];
    let a = TestClient::connect_with_acks(&relay.ws_url(), "alpha", yrs::Doc::new()).await;
    a.wait_synced().await;
    a.append_text("t", "alpha text");
    eventually(WAIT, "durable", || async { a.acked() == 1 }).await;

    assert_eq!(http(addr, "GET", "/api/rooms", &[], b"").await.0, 401);
    assert_eq!(http(addr, "GET", "/api/rooms", &[("Authorization", "Bearer wrong")], b"").await.0, 401);
    let (status, body) = http(addr, "GET", "/api/rooms", &auth, b"").await;
    assert_eq!(status, 200, "{body}");
    let rooms = json(&body);
    assert_eq!(rooms[0]["name"], "alpha");
    assert!(rooms[0]["stored_bytes"].as_u64().unwrap() > 0);
    assert!(rooms[0]["last_activity_ms"].as_i64().unwrap() > 0);

    let (status, exported) = http_bytes(addr, "GET", "/api/rooms/alpha/export", &auth, b"").await;
    assert_eq!(status, 200);
    let (status, body) = http(addr, "POST", "/api/rooms/beta/import", &auth, &exported).await;
    assert_eq!(status, 204, "{body}");
    let b = TestClient::join(&relay.ws_url(), "beta").await;
    assert_eq!(b.text("t"), "alpha text");
    let (status, body) = http(addr, "POST", "/api/rooms/beta/import", &auth, b"\xff\xff not an update").await;
    assert_eq!(status, 400, "{body}");

    let (status, _) = http(addr, "DELETE", "/api/rooms/alpha", &auth, b"").await;
    assert_eq!(status, 204);
    assert_eq!(a.wait_closed().await.0, close::ROOM_UNAVAILABLE, "members of a deleted room are closed");
    let again = TestClient::join(&relay.ws_url(), "alpha").await;
    assert_eq!(again.text("t"), "", "a deleted room starts empty");
    relay.stop().await;
}
