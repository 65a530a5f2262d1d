//! Browser tests of working together and finding one's way: presence (names, colours, live
//! cursors in world coordinates), follow mode, the remembered identity, outliner drag and
//! drop, and the editing shortcuts.

use serde_json::json;
use tests::browser::*;

use super::editing::{add_box, pair};
use super::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_presence_names_cursors_and_follow_mode() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "people").await;
        commit_field(&a, "my-name", "Ada Lovelace").await;
        wait_for(&b, "A's name in the participants list", |s| s.people == ["Ada Lovelace"]).await;
        let a_client = state(&a).await.client;

        // A's pointer 50 px right of and 40 px above the canvas centre, from the top: on the
        // ground at x = 50 / zoom, z = −40 / zoom (to a pixel). B draws it there, with A's name.
        click(&a, "#view-top").await;
        let zoom = wait_for(&a, "A's top view", |s| s.view == "top").await.zoom;
        hover_canvas(&a, (50.0, -40.0)).await;
        let seen = wait_for(&b, "A's cursor", |s| s.cursors.iter().any(|c| c.0 == a_client && c.2)).await;
        let cursor = seen.cursors.iter().find(|c| c.0 == a_client).cloned().unwrap_or_default();
        let world: Vec<f64> = cursor.1.split(',').filter_map(|c| c.parse().ok()).collect();
        let want = [50.0 / zoom, 0.0, -40.0 / zoom];
        assert!(
            world.len() == 3 && world.iter().zip(want).all(|(got, want)| (got - want).abs() < 0.05),
            "A's cursor in world coordinates (within a pixel): {world:?}, want {want:?}"
        );
        assert_eq!(cursor.3, "Ada Lovelace");
        // Saved under target/editor-screenshots/: B's editor with A's live cursor and name.
        screenshot(&b, "presence-cursors").await;

        // B follows A: A's camera becomes B's.
        click(&b, &format!("#participants .participant[data-client='{a_client}']")).await;
        wait_for(&b, "following A", |s| s.following == a_client).await;
        click(&a, "#view-front").await;
        let front = wait_for(&a, "A's front view", |s| s.view == "front").await;
        wheel(&a, -300.0).await;
        let a_view = wait_for(&a, "A zoomed in on the front view", |s| s.view == "front" && s.zoom > front.zoom * 1.2).await;
        wait_for(&b, "B tracking A's camera", |s| s.view == "front" && s.camera == a_view.camera).await;
        // Zooming myself stops following.
        wheel(&b, 300.0).await;
        let own = wait_for(&b, "follow mode off after B's own zoom", |s| s.following.is_empty()).await;
        assert!(own.zoom < a_view.zoom);
        screenshot(&b, "presence").await;

        // The name is remembered in this browser.
        a.client.refresh().await.expect("reload");
        wait_js(&a, "the remembered name", "const e = document.getElementById('my-name'); return !!e && e.value === 'Ada Lovelace';", vec![]).await;
        wait_for(&b, "A back under the same name", |s| s.people == ["Ada Lovelace"]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_outliner_drag_and_drop_reparents() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("tree")).await;
        page.wait_synced().await;
        let parent = add_box(&page).await;
        let child = add_box(&page).await;
        let drop = "const [from, to] = [arguments[0], arguments[1]]; \
            const row = (id) => document.querySelector(`#node-list li[data-node-id='${id}']`); \
            const target = to ? row(to) : document.getElementById('node-list'); \
            const dt = new DataTransfer(); \
            row(from).dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt })); \
            target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt })); \
            target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt })); \
            row(from).dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: dt })); return true;";
        let depth = "return document.querySelector(`#node-list li[data-node-id='${arguments[0]}']`)?.getAttribute('data-depth') === arguments[1];";

        js(&page, drop, vec![json!(child), json!(parent)]).await;
        wait_js(&page, "the child under the parent", depth, vec![json!(child), json!("1")]).await;
        // A node cannot go under its own child.
        js(&page, drop, vec![json!(parent), json!(child)]).await;
        wait_js(&page, "the parent still a root", depth, vec![json!(parent), json!("0")]).await;
        // Onto the list's empty space: back to the root.
        js(&page, drop, vec![json!(child), serde_json::Value::Null]).await;
        wait_js(&page, "the child back at the root", depth, vec![json!(child), json!("0")]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_shortcuts_duplicate_group_delete_and_help() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("keys")).await;
        page.wait_synced().await;
        add_box(&page).await;
        click(&page, "#node-count").await;

        press(&page, &[CONTROL], 'd').await;
        page.wait_nodes(2).await;
        wait_for(&page, "the copy selected", |s| s.selection == s.ids[1]).await;
        // Select both (shift-click the first row) and group them.
        let ids = state(&page).await.ids;
        js(
            &page,
            "document.querySelector(`#node-list li[data-node-id='${arguments[0]}']`).dispatchEvent(new MouseEvent('click', { bubbles: true, shiftKey: true })); return true;",
            vec![json!(ids[0])],
        )
        .await;
        wait_for(&page, "both selected", |s| s.selection.split(' ').count() == 2).await;
        press(&page, &[CONTROL], 'g').await;
        let grouped = page.wait_nodes(3).await;
        assert_eq!(grouped.list[0].1, "group", "the group comes first: {:?}", grouped.list);
        press(&page, &[CONTROL, SHIFT], 'g').await;
        page.wait_nodes(2).await;

        press(&page, &[], 'r').await;
        wait_for(&page, "rotate mode", |s| s.mode == "rotate").await;
        press(&page, &[], '?').await;
        wait_js(&page, "the shortcut overlay", "return !!document.getElementById('shortcuts');", vec![]).await;
        press(&page, &[], '?').await;
        wait_js(&page, "the overlay closed", "return !document.getElementById('shortcuts');", vec![]).await;

        press(&page, &[], '\u{e017}').await; // Delete: the two selected boxes
        page.wait_nodes(0).await;
        press(&page, &[CONTROL], 'z').await;
        page.wait_nodes(2).await;
    })
    .await;
}
