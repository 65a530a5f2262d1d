//! Browser tests of access (issue 17): a viewer's page knows it is a viewer before it
//! writes (its token says so; the relay confirms with message 104): every tool, field,
//! shortcut and drag is refused, a "View only" badge says why, and no write reaches the
//! relay (it counts them) while the editor in the same room edits; viewing still works
//! (selection, orbit, follow, the perf view, downloads). The Share dialog mints view and
//! edit links, a viewer's dialog offers view links only, and on an open relay it says
//! anyone with the link can edit.

use serde_json::{json, Value};
use shared::scene::{NodeId, NumberKey, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::Transact;

use super::editing::add_box;
use super::harness::*;

const KEY: &[u8] = b"a-shared-key-of-at-least-32-bytes-for-tests";

/// A relay with a shared key, the key's signer, and the key file's directory.
async fn secured() -> (Relay, relay::auth::Signer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("auth.key");
    std::fs::write(&key_file, KEY).expect("key file");
    let relay = Relay::start_with("", vec!["--auth-key-file".into(), key_file.display().to_string()]).await;
    (relay, relay::auth::Signer::shared(KEY).expect("a key"), dir)
}

fn token(signer: &relay::auth::Signer, room: &str, role: relay::auth::Role) -> String {
    let mut claims = relay::auth::Claims::new(room, role, relay::auth::unix_now() + 3600);
    claims.sub = (role == relay::auth::Role::Viewer).then(|| "guest@example.com".to_owned());
    signer.mint(&claims).expect("a token")
}

/// The relay's count of frames with changes that viewers sent.
async fn viewer_writes(relay: &Relay) -> u64 {
    let (status, body) = tests::http_get(relay.relay.addr, "/api/stats").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).ok().and_then(|v| v["viewer_writes_refused"].as_u64()).expect("viewer_writes_refused in /api/stats")
}

/// Whether each element (CSS selector) is disabled, as the page says.
async fn disabled(page: &Page, selectors: &[&str]) -> Vec<(String, bool)> {
    let value = js(
        page,
        "return arguments[0].map((s) => { const e = document.querySelector(s); return [s, !!e && e.matches(':disabled')]; });",
        vec![json!(selectors)],
    )
    .await;
    serde_json::from_value(value).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_a_viewer_cannot_change_anything_and_no_write_reaches_the_relay() {
    with_browsers(|browsers| async move {
        let (relay, signer, _keys) = secured().await;
        let room = "gallery";
        let page = |role| format!("{}#token={}", relay.page(room), token(&signer, room, role));
        let (as_editor, as_viewer) = (page(relay::auth::Role::Editor), page(relay::auth::Role::Viewer));
        let (editor, viewer) = tokio::join!(browsers.open(&as_editor), browsers.open(&as_viewer));
        editor.wait_synced().await;
        viewer.wait_synced().await;
        let id = add_box(&editor).await;
        viewer.wait_nodes(1).await;

        // It knows, and says so.
        wait_js(&viewer, "the View only badge", "return !!document.getElementById('view-only');", vec![]).await;
        let role = js(&viewer, "return document.getElementById('editor').getAttribute('data-role');", vec![]).await;
        assert_eq!(role, json!("viewer"));
        let role = js(&editor, "return document.getElementById('editor').getAttribute('data-role') + (document.getElementById('view-only') ? ' badge' : '');", vec![]).await;
        assert_eq!(role, json!("editor"), "the editor's page has no badge");
        // The viewer's token names them: its own page and the editor's People list say so.
        wait_js(&viewer, "my id", "const e = document.getElementById('my-id'); return !!e && e.textContent === 'guest@example.com';", vec![]).await;
        wait_js(&editor, "the viewer's id in People",
            "return Array.from(document.querySelectorAll('#participants .participant-id')).some((e) => e.textContent === 'guest@example.com');", vec![]).await;

        // Selecting still works; every tool and field is disabled.
        click_row(&viewer, &id).await;
        wait_for(&viewer, "the box selected and its fields shown", |s| s.selection == id && s.px.as_deref() == Some("0")).await;
        let tools = ["#add-node", "#add-sphere", "#add-light", "#duplicate", "#delete", "#group", "#ungroup", "#undo", "#redo",
            "#mode-move", "#mode-rotate", "#snap", "#open-json", "#import-gltf", "#prop-name", "#prop-px", "#prop-primitive",
            "#prop-color", "#prop-visible", "#job-render", "#job-check", "#job-export", ".toggle-visible", ".toggle-lock"];
        let states = disabled(&viewer, &tools).await;
        assert!(states.iter().all(|(_, d)| *d), "every writing control disabled: {states:?}");
        let viewing = ["#view-top", "#frame", "#perf-button", "#help-button", "#save-json", "#export-glb", "#save-png", "#share-button"];
        let states = disabled(&viewer, &viewing).await;
        assert!(states.iter().all(|(_, d)| !d), "viewing controls enabled: {states:?}");

        // Trying anyway: a field committed by script, the editing keys, a drag on the box,
        // a double-click to rename, a script click on Add.
        commit_field(&viewer, "prop-px", "5").await;
        js(&viewer, "document.getElementById('add-node').click(); return true;", vec![]).await;
        click(&viewer, "#viewport-canvas").await;
        for (modifiers, key) in [(vec![], '\u{e017}'), (vec![CONTROL], 'd'), (vec![CONTROL], 'g'), (vec![CONTROL], 'z'), (vec![], 'r')] {
            press(&viewer, &modifiers, key).await;
        }
        let before = state(&viewer).await;
        assert_eq!(gizmo(&viewer).await, Value::Null, "no gizmo on a view-only page");
        let (w, h) = canvas_size(&viewer).await;
        drag_canvas(&viewer, (w / 2.0, h / 2.0), (w / 2.0 + 120.0, h / 2.0 + 40.0), 8).await;
        let after = wait_for(&viewer, "the drag to orbit the view", |s| s.camera != before.camera).await;
        assert_eq!((after.px.as_deref(), after.mode.as_str()), (Some("0"), "move"), "the box stayed, the mode too");
        double_click(&viewer, &format!("#node-list li[data-node-id='{id}'] .name")).await;
        let renaming = js(&viewer, "return !!document.querySelector('#node-list input.rename');", vec![]).await;
        assert_eq!(renaming, json!(false), "no rename field");

        // Nothing was written, here or at the relay; the room is as the editor left it.
        let now = state(&viewer).await;
        assert_eq!((now.updates, now.undo_depth, now.ids.len()), (0, 0, 1), "the viewer's page wrote nothing");
        assert_eq!(viewer_writes(&relay).await, 0, "no write from the viewer reached the relay");
        let native = TestClient::join(&relay.ws(), &format!("{room}?token={}", token(&signer, room, relay::auth::Role::Editor))).await;
        let scene = Scene::new(&native.doc);
        let node = NodeId(id.clone());
        eventually(WAIT, "the native copy of the box", || {
            let found = scene.node(&native.doc.transact(), &node).map(|n| n.transform.position);
            async move { found == Some([0.0, 0.0, 0.0]) }
        })
        .await;
        assert_eq!(scene.node_count(&native.doc.transact()), 1);

        // The editor in the same room edits, and the viewer sees it.
        click_row(&editor, &id).await;
        commit_field(&editor, &format!("prop-{}", NumberKey::Px.as_str()), "2.5").await;
        wait_for(&viewer, "the editor's move", |s| s.px.as_deref() == Some("2.5")).await;
        // Viewing features: the perf view opens, a download is made.
        click(&viewer, "#perf-button").await;
        wait_js(&viewer, "the perf panel", "return !!document.getElementById('perf-panel');", vec![]).await;
        click(&viewer, "#save-json").await;
        wait_js(&viewer, "a JSON download", "return document.getElementById('files').getAttribute('data-last-kind') === 'json';", vec![]).await;
        assert_eq!(viewer_writes(&relay).await, 0);
        screenshot(&viewer, "view-only").await;
    })
    .await;
}

/// Opens the Share dialog and waits until it knows what it may offer.
async fn open_share(page: &Page, state: &str) {
    click(page, "#share-button").await;
    wait_js(page, &format!("the Share dialog ({state})"),
        "const d = document.getElementById('share-dialog'); return !!d && d.getAttribute('data-state') === arguments[0];", vec![json!(state)]).await;
}

/// Makes a link with the dialog and returns it.
async fn make_link(page: &Page, role: &str, expiry: &str) -> String {
    click(page, &format!("#share-role-{role}")).await;
    js(page, "const s = document.getElementById('share-expiry'); s.value = arguments[0]; s.dispatchEvent(new Event('change', { bubbles: true })); return true;", vec![json!(expiry)]).await;
    click(page, "#share-create").await;
    wait_js(page, "the link", "const r = document.getElementById('share-result'); return !!r && r.value.includes('#token=');", vec![]).await;
    let link = js(page, "return document.getElementById('share-result').value;", vec![]).await;
    link.as_str().expect("a link").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_the_share_dialog_makes_view_and_edit_links() {
    with_browsers(|browsers| async move {
        let (relay, signer, _keys) = secured().await;
        let room = "studio";
        let owner = browsers.open(&format!("{}#token={}", relay.page(room), token(&signer, room, relay::auth::Role::Editor))).await;
        owner.wait_synced().await;
        open_share(&owner, "ready").await;
        let expiries = js(&owner, "return Array.from(document.querySelectorAll('#share-expiry option')).map((o) => o.value);", vec![]).await;
        assert_eq!(expiries, json!(["1h", "1d", "7d"]), "no 'never' past the relay's 7-day limit");
        let view_link = make_link(&owner, "viewer", "1h").await;
        assert!(view_link.starts_with(&relay.page(room)), "{view_link}");
        let edit_link = make_link(&owner, "editor", "1d").await;

        // The view link opens a view-only page, whose own dialog offers view links only.
        let guest = browsers.open(&view_link).await;
        guest.wait_synced().await;
        wait_js(&guest, "the View only badge", "return !!document.getElementById('view-only');", vec![]).await;
        open_share(&guest, "ready").await;
        let offered = disabled(&guest, &["#share-role-editor", "#share-role-viewer"]).await;
        assert_eq!(offered, [("#share-role-editor".to_owned(), true), ("#share-role-viewer".to_owned(), false)]);
        make_link(&guest, "viewer", "1h").await;

        // The edit link edits.
        let colleague = browsers.open(&edit_link).await;
        colleague.wait_synced().await;
        add_box(&colleague).await;
        owner.wait_nodes(1).await;
        let badge = js(&colleague, "return !!document.getElementById('view-only');", vec![]).await;
        assert_eq!(badge, json!(false));

        // An open relay has nothing to sign: anyone with the link can edit.
        let open = Relay::start("").await;
        let page = browsers.open(&open.page("lobby")).await;
        page.wait_synced().await;
        open_share(&page, "open").await;
        let note = js(&page, "return document.getElementById('share-note').textContent;", vec![]).await;
        assert!(note.as_str().unwrap_or("").contains("anyone with the link can edit"), "{note}");
        let link = js(&page, "return document.getElementById('share-result').value;", vec![]).await;
        assert_eq!(link, json!(open.page("lobby")));
        screenshot(&owner, "share-dialog").await;
    })
    .await;
}
