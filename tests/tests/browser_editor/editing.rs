//! Browser tests of editing: adding, concurrent field edits, inline rename, per-user undo,
//! a viewport drag (one document update, one undo step, peers see only a ghost until it
//! ends), the rotate and scale handles, a field being typed in keeping its text while a
//! peer edits it, outliner reparenting and the keyboard shortcuts.

use serde_json::json;
use shared::scene::{NodeId, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::Transact;

use super::harness::*;

/// Two browsers in `room`, both synced and seeing each other.
pub async fn pair(browsers: &Browsers, relay: &Relay, room: &str) -> (Page, Page) {
    let url = relay.page(room);
    let (a, b) = tokio::join!(browsers.open(&url), browsers.open(&url));
    a.wait_synced().await;
    b.wait_synced().await;
    a.wait_peers(1).await;
    b.wait_peers(1).await;
    (a, b)
}

/// Adds a box in `page` and returns its id (it is selected there).
pub async fn add_box(page: &Page) -> String {
    let before = state(page).await.ids.len();
    click(page, "#add-node").await;
    let now = wait_for(page, "a new selected node", |s| s.ids.len() == before + 1 && !s.selection.is_empty()).await;
    now.selection
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_nodes_added_in_one_browser_show_in_the_others_outliner() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "adding").await;
        add_box(&a).await;
        click(&a, "#add-sphere").await;
        click(&a, "#add-light").await;
        let seen = b.wait_nodes(3).await;
        let want = [("Box 1", "mesh"), ("Sphere 1", "mesh"), ("Light 1", "light")];
        assert_eq!(seen.list, want.map(|(n, k)| (n.to_owned(), k.to_owned())));
        // A's selection (the light it just added) is marked in A's colour in B's outliner.
        let light = wait_for(&a, "the light selected", |s| s.ids.len() == 3 && s.selection == s.ids[2]).await.selection;
        wait_js(
            &b,
            "A's selection dot on the light's row",
            "return document.querySelectorAll(`#node-list li[data-node-id='${arguments[0]}'] .peer-dot`).length === 1;",
            vec![json!(light)],
        )
        .await;
        screenshot(&b, "added").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_concurrent_edits_of_x_and_y_both_survive() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "xy").await;
        let id = add_box(&a).await;
        wait_for(&b, "the box", |s| s.ids == [id.clone()]).await;
        click_row(&b, &id).await;
        wait_for(&b, "the box's panel", |s| s.px.as_deref() == Some("0")).await;

        // Both commit at once, each a different component of the same position.
        tokio::join!(commit_field(&a, "prop-px", "3"), commit_field(&b, "prop-py", "4"));
        for page in [&a, &b] {
            wait_for(page, "x = 3 and y = 4", |s| s.px.as_deref() == Some("3") && s.py.as_deref() == Some("4")).await;
        }
        let native = TestClient::join(&relay.ws(), "xy").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the document holds x = 3 and y = 4", || {
            let position = scene.node(&native.doc.transact(), &NodeId(id.clone())).map(|n| n.transform.position);
            async move { position == Some([3.0, 4.0, 0.0]) }
        })
        .await;
        native.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_rename_inline_in_the_outliner() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "rename").await;
        let id = add_box(&a).await;
        double_click(&a, &format!("#node-list li[data-node-id='{id}'] .name")).await;
        let input = a
            .client
            .wait()
            .at_most(WAIT)
            .for_element(fantoccini::Locator::Css(&format!("#node-list li[data-node-id='{id}'] input.rename")))
            .await
            .expect("the rename field opens");
        // Letters that are shortcuts (r, s, g) and Backspace must not act while typing.
        input.send_keys(&format!("Rover{}{}s box{ENTER}", '\u{e003}', 'r')).await.expect("typing");
        let seen = b.wait_until("the new name", |s| s.list.first().is_some_and(|(n, _)| n == "Rovers box")).await;
        assert_eq!(seen.list.len(), 1, "nothing deleted while typing");
        let after = state(&a).await;
        assert_eq!(after.mode, "move", "typing did not switch tool modes");
        assert_eq!(after.name.as_deref(), Some("Rovers box"), "the panel shows the new name");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_undo_reverts_only_my_own_edit() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "undo").await;
        let id = add_box(&a).await;
        wait_for(&b, "the box", |s| s.ids == [id.clone()]).await;
        click_row(&b, &id).await;

        commit_field(&a, "prop-px", "1").await;
        wait_for(&b, "A's x", |s| s.px.as_deref() == Some("1")).await;
        commit_field(&b, "prop-py", "2").await;
        wait_for(&a, "B's y", |s| s.py.as_deref() == Some("2")).await;

        click(&a, "#node-count").await; // focus out of any field
        press(&a, &[CONTROL], 'z').await;
        for page in [&a, &b] {
            wait_for(page, "A's x undone, B's y kept", |s| s.px.as_deref() == Some("0") && s.py.as_deref() == Some("2")).await;
        }
        assert_eq!(state(&b).await.ids, [id.clone()], "the box A added is still there");

        press(&a, &[CONTROL, SHIFT], 'z').await;
        for page in [&a, &b] {
            wait_for(page, "A's x redone", |s| s.px.as_deref() == Some("1") && s.py.as_deref() == Some("2")).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_a_drag_writes_one_update_and_peers_see_a_ghost_meanwhile() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "drag").await;
        let id = add_box(&a).await;
        wait_for(&b, "the box", |s| s.ids == [id.clone()]).await;
        click(&a, "#view-top").await;
        let before = wait_for(&a, "the box at the origin, seen from the top", |s| s.px.as_deref() == Some("0") && s.view == "top").await;

        // Grab the box (at the canvas centre, the camera's target) and move it 2 units right.
        press_and_drag(&a, (0.0, 0.0), (2.0 * before.zoom, 0.0)).await;
        let a_client = before.client.clone();
        wait_for(&b, "A's drag ghost", |s| s.cursors.iter().any(|c| c.0 == a_client)).await;
        wait_js(
            &b,
            "A's drag of the box over awareness",
            "const c = document.querySelector(`.remote-cursor[data-client='${arguments[0]}']`); \
             return !!c && c.getAttribute('data-drag') === arguments[1];",
            vec![json!(a_client), json!(id)],
        )
        .await;
        let during = state(&a).await;
        assert_eq!(during.updates, before.updates, "nothing written to the document mid-drag");
        assert_eq!(during.px.as_deref(), Some("0"));
        release(&a).await;

        let after = wait_for(&a, "x = 2 after the drag", |s| s.px.as_deref() == Some("2")).await;
        assert_eq!(after.updates, before.updates + 1, "the whole drag is one document update");
        assert_eq!(after.undo_depth, before.undo_depth + 1, "and one undo step");
        assert_eq!(after.pz.as_deref(), Some("0"));
        click_row(&b, &id).await;
        wait_for(&b, "the dragged position", |s| s.px.as_deref() == Some("2")).await;
        wait_js(&b, "the ghost gone", "return !document.querySelector('.remote-cursor[data-drag]:not([data-drag=\"\"])');", vec![]).await;
        screenshot(&b, "after-drag").await;

        click(&a, "#node-count").await;
        press(&a, &[CONTROL], 'z').await;
        wait_for(&a, "the drag undone in one step", |s| s.px.as_deref() == Some("0")).await;
    })
    .await;
}

/// The value a property field shows (`prop-{key}`).
async fn field(page: &Page, key: &str) -> Option<String> {
    js(page, "const e = document.getElementById('prop-' + arguments[0]); return e ? e.value : null;", vec![json!(key)])
        .await
        .as_str()
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_rotate_and_scale_gizmos_each_write_one_step() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("handles")).await;
        page.wait_synced().await;
        add_box(&page).await;
        click(&page, "#view-top").await;
        let before = wait_for(&page, "the box at the origin, from the top", |s| s.px.as_deref() == Some("0") && s.view == "top").await;
        assert_eq!(before.mode, "move");
        let (w, h) = canvas_size(&page).await;
        let centre = (w / 2.0, h / 2.0);

        // Rotate mode: from the top, the ring about y is a circle around the box. Dragging it a
        // quarter turn clockwise (from its right to its bottom) turns the box −90° about y.
        press(&page, &[], 'r').await;
        wait_for(&page, "rotate mode", |s| s.mode == "rotate").await;
        let ring = gizmo(&page).await;
        let grab = &ring["handles"]["ring-y"];
        let (gx, gy) = (grab[0].as_f64().unwrap_or(0.0), grab[1].as_f64().unwrap_or(0.0));
        let radius = (gx - centre.0).hypot(gy - centre.1);
        assert!(radius > 40.0, "the ring is around the box: {ring}");
        let start_angle = (gy - centre.1).atan2(gx - centre.0);
        // Sweep a quarter turn clockwise on screen along the ring.
        let canvas = page.client.find(fantoccini::Locator::Css("#viewport-canvas")).await.expect("canvas");
        let at = |a: f64| (centre.0 + radius * a.cos() - w / 2.0, centre.1 + radius * a.sin() - h / 2.0);
        let mut mouse = fantoccini::actions::MouseActions::new("mouse".to_owned())
            .then(fantoccini::actions::PointerAction::MoveToElement { element: canvas.clone(), duration: None, x: at(start_angle).0, y: at(start_angle).1 })
            .then(fantoccini::actions::PointerAction::Down { button: fantoccini::actions::MOUSE_BUTTON_LEFT });
        for i in 1..=8 {
            let a = start_angle + std::f64::consts::FRAC_PI_2 * i as f64 / 8.0;
            mouse = mouse.then(fantoccini::actions::PointerAction::MoveToElement {
                element: canvas.clone(),
                duration: Some(std::time::Duration::from_millis(30)),
                x: at(a).0,
                y: at(a).1,
            });
        }
        use fantoccini::actions::InputSource;
        page.client.perform_actions(mouse).await.expect("turning the ring");
        let during = state(&page).await;
        assert_eq!(during.updates, before.updates, "nothing written mid-drag");
        release(&page).await;
        wait_js(&page, "ry = -90", "return document.getElementById('prop-ry').value === '-90';", vec![]).await;
        let rotated = state(&page).await;
        assert_eq!((rotated.updates, rotated.undo_depth), (before.updates + 1, before.undo_depth + 1), "one update, one undo step");
        assert_eq!(rotated.px.as_deref(), Some("0"), "turned about its own centre");
        assert_eq!((field(&page, "rx").await, field(&page, "rz").await), (Some("0".to_owned()), Some("0".to_owned())));

        // Scale mode: the centre cube scales evenly; dragging it right and up by the gizmo's
        // radius doubles the box.
        press(&page, &[], 's').await;
        wait_for(&page, "scale mode", |s| s.mode == "scale").await;
        let cube = gizmo(&page).await;
        let radius_px = 80.0;
        assert!(cube["handles"]["uniform"].is_array(), "the centre cube shows: {cube}");
        drag_canvas(&page, centre, (centre.0 + radius_px, centre.1 - radius_px), 8).await;
        wait_js(&page, "sx = 2", "return document.getElementById('prop-sx').value === '2';", vec![]).await;
        assert_eq!((field(&page, "sy").await, field(&page, "sz").await), (Some("2".to_owned()), Some("2".to_owned())));
        let scaled = state(&page).await;
        assert_eq!((scaled.updates, scaled.undo_depth), (rotated.updates + 1, rotated.undo_depth + 1));

        // A stretch handle scales along the box's own axis only: its x axis, turned −90°
        // about y, now points along world +z (down the screen from the top).
        let stretch = gizmo(&page).await;
        let handle = &stretch["handles"]["stretch-x"];
        let (sx, sy) = (handle[0].as_f64().unwrap_or(0.0), handle[1].as_f64().unwrap_or(0.0));
        assert!((sx - centre.0).abs() < 3.0 && sy > centre.1 + 40.0, "local x points down the screen: {stretch}");
        drag_canvas(&page, (sx, sy), (sx, centre.1 + (sy - centre.1) * 1.5), 8).await;
        wait_js(&page, "sx = 3", "return document.getElementById('prop-sx').value === '3';", vec![]).await;
        assert_eq!((field(&page, "sy").await, field(&page, "sz").await), (Some("2".to_owned()), Some("2".to_owned())));
        screenshot(&page, "gizmos").await;

        click(&page, "#node-count").await;
        press(&page, &[CONTROL], 'z').await;
        wait_js(&page, "the stretch undone in one step", "return document.getElementById('prop-sx').value === '2';", vec![]).await;
        press(&page, &[CONTROL], 'z').await;
        wait_js(&page, "the scale undone in one step", "return document.getElementById('prop-sx').value === '1';", vec![]).await;
        assert_eq!(field(&page, "ry").await.as_deref(), Some("-90"), "the rotation stays");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_a_peers_edit_does_not_overwrite_the_field_i_am_typing_in() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "typing").await;
        let id = add_box(&a).await;
        wait_for(&b, "the box", |s| s.ids == [id.clone()]).await;
        click_row(&b, &id).await;
        wait_for(&b, "the box's panel", |s| s.px.as_deref() == Some("0")).await;

        // B starts typing in x (select all, type 7) and has not committed yet.
        let input = b.client.find(fantoccini::Locator::Css("#prop-px")).await.expect("the x field");
        input.send_keys(&format!("{CONTROL}a\u{e000}7")).await.expect("typing");
        // A commits x = 3, then renames the node; once B shows the name, it has x = 3 too.
        commit_field(&a, "prop-px", "3").await;
        commit_field(&a, "prop-name", "Moved").await;
        b.wait_until("A's rename", |s| s.list.first().is_some_and(|(n, _)| n == "Moved")).await;
        assert_eq!(state(&b).await.px.as_deref(), Some("7"), "B's text stays while B types");
        assert_eq!(state(&b).await.name.as_deref(), Some("Moved"), "the fields B is not typing in follow A");

        // B commits: its value is written, and both show it.
        input.send_keys(&ENTER.to_string()).await.expect("enter");
        for page in [&a, &b] {
            wait_for(page, "x = 7", |s| s.px.as_deref() == Some("7")).await;
        }
    })
    .await;
}
