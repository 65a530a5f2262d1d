//! Browser tests of the 3D viewport, in headless Chromium's WebGL2 (ANGLE on SwiftShader):
//! the pixels it draws (an object's colour, hiding, a light's tint), picking by ray and by
//! box, the X arrow of the move gizmo (one axis, the expected distance, one undo step, seen
//! by the other browser), orbiting while another browser follows, a lost and restored WebGL
//! context, and a screenshot of two people's cameras and cursors in the perspective view.

use serde_json::{json, Value};
use tests::browser::*;

use super::editing::{add_box, pair};
use super::harness::*;

fn red_dominant(p: [u8; 4]) -> bool {
    i32::from(p[0]) > i32::from(p[1]) + 60 && i32::from(p[0]) > i32::from(p[2]) + 60
}

fn close(a: [u8; 4], b: [u8; 4], tolerance: i32) -> bool {
    (0..3).all(|i| (i32::from(a[i]) - i32::from(b[i])).abs() <= tolerance)
}

fn point(v: &Value) -> (f64, f64) {
    (v[0].as_f64().unwrap_or(f64::NAN), v[1].as_f64().unwrap_or(f64::NAN))
}

/// Waits until the canvas has drawn at least one frame after `after` frames.
async fn frame_after(page: &Page, after: u64) -> u64 {
    let mut frames = 0;
    wait_js(
        page,
        "a new frame",
        "return Number(document.getElementById('viewport').getAttribute('data-frames') || 0) > arguments[0];",
        vec![json!(after)],
    )
    .await;
    if let Some(n) = js(page, "return Number(document.getElementById('viewport').getAttribute('data-frames') || 0);", vec![]).await.as_u64() {
        frames = n;
    }
    frames
}

async fn frames(page: &Page) -> u64 {
    js(page, "return Number(document.getElementById('viewport').getAttribute('data-frames') || 0);", vec![]).await.as_u64().unwrap_or(0)
}

/// Polls the canvas pixel at `at` until `check` holds.
async fn wait_pixel(page: &Page, what: &str, at: (f64, f64), check: impl Fn([u8; 4]) -> bool) -> [u8; 4] {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let p = pixel(page, at).await;
        if check(p) {
            return p;
        }
        if std::time::Instant::now() > deadline {
            panic!("{}: timed out waiting for {what}; the pixel at {at:?} is {p:?}", page.name);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_pixels_show_colour_hiding_and_light() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("pixels")).await;
        page.wait_synced().await;
        let ready = wait_for(&page, "a WebGL2 view", |s| s.gpu == "ready" && s.view == "perspective").await;
        assert_eq!(ready.gpu, "ready");
        let (w, h) = canvas_size(&page).await;
        // A little off the centre: the camera's target is the grid's origin, where its X and Z
        // axis lines cross, and a canvas that settles by a fraction of a pixel moves the
        // centre pixel off one of them (a CI run read the crossing's purple, then the Z
        // line's blue). Objects at the target cover this point as well.
        let centre = (w / 2.0 + 9.0, h / 2.0 + 7.0);
        frame_after(&page, 0).await;
        let empty = pixel(&page, centre).await;
        assert!(!red_dominant(empty) && empty[3] == 255, "an empty scene is drawn, and not red: {empty:?}");

        // A red box at the camera's target fills the centre with red.
        let id = add_box(&page).await;
        commit_field(&page, "prop-color", "#ff0000").await;
        let red = wait_pixel(&page, "the red box at the centre", centre, red_dominant).await;
        screenshot(&page, "viewport-red-box").await;

        // Hidden (and deselected, so no gizmo or outline shows), it leaves the background and
        // the grid as they were before it was added.
        js(&page, "document.getElementById('prop-visible').click(); return true;", vec![]).await;
        click(&page, "#node-count").await;
        press(&page, &[], '\u{e00c}').await; // Escape
        wait_for(&page, "nothing selected", |s| s.selection.is_empty()).await;
        wait_pixel(&page, &format!("the background again ({empty:?})"), centre, |p| close(p, empty, 3)).await;
        click_row(&page, &id).await;
        js(&page, "document.getElementById('prop-visible').click(); return true;", vec![]).await;
        wait_pixel(&page, "the box back", centre, |p| close(p, red, 3)).await;
        // Mirrored (a negative scale turns its triangles inside out), the symmetric box looks
        // the same: its outside, lit as before (culling the wrong faces of a mirrored batch
        // would show its inside, facing away from the light, darker).
        commit_field(&page, "prop-sx", "-1").await;
        wait_pixel(&page, &format!("the mirrored box, as red as before ({red:?})"), centre, |p| close(p, red, 6)).await;
        commit_field(&page, "prop-sx", "1").await;

        // A white sphere lit by a green light (and nothing else but the ambient) is green.
        press(&page, &[], '\u{e017}').await; // Delete the box
        page.wait_nodes(0).await;
        click(&page, "#add-sphere").await;
        page.wait_nodes(1).await;
        commit_field(&page, "prop-color", "#ffffff").await;
        let white = wait_pixel(&page, "the sphere in the headlight", centre, |p| p[0] > 120 && close([p[0], p[0], p[0], 255], p, 20)).await;
        click(&page, "#add-light").await;
        page.wait_nodes(2).await;
        commit_field(&page, "prop-light-color", "#00ff00").await;
        commit_field(&page, "prop-intensity", "3").await;
        commit_field(&page, "prop-pz", "3").await;
        commit_field(&page, "prop-py", "1").await;
        let green = wait_pixel(&page, "the sphere tinted green", centre, |p| i32::from(p[1]) > i32::from(p[0]) + 50 && i32::from(p[1]) > i32::from(p[2]) + 50).await;
        assert!(green[1] > white[1] / 2, "lit, not dark: {green:?} (white was {white:?})");
        screenshot(&page, "viewport-green-light").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_clicks_and_boxes_select_what_is_under_them() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("picking")).await;
        page.wait_synced().await;
        let (w, h) = canvas_size(&page).await;
        let centre = (w / 2.0, h / 2.0);
        let boxed = add_box(&page).await;
        click(&page, "#add-sphere").await;
        page.wait_nodes(2).await;
        commit_field(&page, "prop-px", "3").await;
        let sphere = wait_for(&page, "the sphere at x = 3, selected", |s| s.px.as_deref() == Some("3") && s.selection != boxed).await.selection;

        // Empty space clears the selection; the box at the centre is picked by a click.
        click_canvas(&page, (20.0, h - 20.0)).await;
        wait_for(&page, "nothing selected", |s| s.selection.is_empty()).await;
        click_canvas(&page, centre).await;
        wait_for(&page, "the box selected", |s| s.selection == boxed).await;

        // Frame the sphere (F): it comes to the centre, where a click now picks it, and a
        // shift-click on the box's place adds nothing but the box.
        click_row(&page, &sphere).await;
        click(&page, "#node-count").await;
        press(&page, &[], 'f').await;
        wait_js(&page, "the camera on the sphere", "return document.getElementById('viewport').getAttribute('data-camera').startsWith('3.0000,0.0000,0.0000');", vec![]).await;
        click_canvas(&page, (20.0, h - 20.0)).await;
        wait_for(&page, "nothing selected", |s| s.selection.is_empty()).await;
        click_canvas(&page, centre).await;
        wait_for(&page, "the sphere selected by a click", |s| s.selection == sphere).await;

        // Home frames everything; Ctrl+drag a box around it all: both selected.
        press(&page, &[], '\u{e011}').await;
        wait_js(&page, "the camera on both", "return !document.getElementById('viewport').getAttribute('data-camera').startsWith('3.0000,');", vec![]).await;
        let corner = (10.0, 10.0);
        let far_corner = (w - 10.0, h - 10.0);
        let boxed_js = "const c = document.getElementById('viewport-canvas'); const r = c.getBoundingClientRect(); \
            const ev = (type, x, y) => c.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, pointerId: 7, pointerType: 'mouse', button: 0, buttons: type === 'pointerup' ? 0 : 1, ctrlKey: true, clientX: r.left + x, clientY: r.top + y })); \
            ev('pointerdown', arguments[0], arguments[1]); ev('pointermove', (arguments[0] + arguments[2]) / 2, (arguments[1] + arguments[3]) / 2); \
            ev('pointermove', arguments[2], arguments[3]); ev('pointerup', arguments[2], arguments[3]); return true;";
        js(&page, boxed_js, vec![json!(corner.0), json!(corner.1), json!(far_corner.0), json!(far_corner.1)]).await;
        wait_for(&page, "both selected by the box", |s| {
            let mut got: Vec<&str> = s.selection.split(' ').collect();
            got.sort();
            let mut want = vec![boxed.as_str(), sphere.as_str()];
            want.sort();
            got == want
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_x_arrow_moves_along_x_only_as_one_undo_step() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "arrow").await;
        let id = add_box(&a).await;
        wait_for(&b, "the box", |s| s.ids == [id.clone()]).await;
        // Snapping off, so the distance is the pointer's, not the grid's.
        click(&a, "#snap").await;
        let before = wait_for(&a, "the box at the origin", |s| s.px.as_deref() == Some("0")).await;
        let g = gizmo(&a).await;
        let (pivot, end_x) = (point(&g["pivot"]), point(&g["ends"][0]));
        let size = g["size"].as_f64().unwrap_or(f64::NAN);
        let grab = point(&g["handles"]["axis-x"]);
        assert!(grab.0.is_finite() && size > 0.0, "the X arrow shows: {g}");

        // Drag 120 px along the arrow's direction on screen. The box should move by as much as
        // the point of the x axis nearest the pointer's ray did (the camera's rays worked
        // out here from #viewport[data-camera], independently of the page's code).
        let along = (end_x.0 - pivot.0, end_x.1 - pivot.1);
        let length = along.0.hypot(along.1);
        let travel = 120.0;
        let to = (grab.0 + along.0 / length * travel, grab.1 + along.1 / length * travel);
        let (w, h) = canvas_size(&a).await;
        let camera = before.camera.clone();
        let on_axis = |p: (f64, f64)| nearest_on_x_axis(&camera, (w, h), (p.0.round(), p.1.round()));
        let want = on_axis(to) - on_axis(grab);
        drag_canvas(&a, grab, to, 10).await;
        let after = wait_for(&a, "the box moved along x", |s| s.px.as_deref().is_some_and(|x| x != "0")).await;
        let x: f64 = after.px.as_deref().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        assert!(want > 0.5 && (x - want).abs() < want * 0.02, "moved {x} along x, want {want} (within 2 %; the arrow is {length:.0} px for {size:.2} units)");
        assert_eq!((after.py.as_deref(), after.pz.as_deref()), (Some("0"), Some("0")), "only along x");
        assert_eq!((after.updates, after.undo_depth), (before.updates + 1, before.undo_depth + 1), "one update, one undo step");

        click_row(&b, &id).await;
        let shown = after.px.clone();
        wait_for(&b, "the other browser sees the move", |s| s.px == shown).await;
        click(&a, "#node-count").await;
        press(&a, &[CONTROL], 'z').await;
        wait_for(&b, "undone in one step, everywhere", |s| s.px.as_deref() == Some("0")).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_orbit_is_followed_and_both_cameras_show() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "orbit").await;
        add_box(&a).await;
        click(&a, "#add-sphere").await;
        a.wait_nodes(2).await;
        commit_field(&a, "prop-px", "2").await;
        let a_client = state(&a).await.client;
        let b_client = state(&b).await.client;

        // B follows A; A orbits by dragging empty space; B ends with A's camera.
        click(&b, &format!("#participants .participant[data-client='{a_client}']")).await;
        wait_for(&b, "following A", |s| s.following == a_client).await;
        let (w, h) = canvas_size(&a).await;
        let start = state(&a).await.camera;
        drag_canvas(&a, (40.0, h - 40.0), (200.0, h - 90.0), 10).await;
        let orbited = wait_for(&a, "A's camera turned", |s| s.camera != start && s.view == "perspective").await;
        let b_view = wait_for(&b, "B's camera is A's", |s| s.camera == orbited.camera).await;
        assert_eq!(b_view.following, a_client, "still following");

        // B orbits itself: following stops, and each sees the other's camera and cursor.
        drag_canvas(&b, (w - 40.0, h - 40.0), (w - 260.0, h - 120.0), 10).await;
        wait_for(&b, "B no longer following", |s| s.following.is_empty()).await;
        // Stepping back (zooming out at the centre) brings A's camera, 12 units from the
        // target, into B's view.
        let near = state(&b).await.zoom;
        wheel(&b, 900.0).await;
        wait_for(&b, "B zoomed out", |s| s.zoom < near / 3.0).await;
        hover_canvas(&a, (0.0, 0.0)).await;
        hover_canvas(&b, (30.0, 10.0)).await;
        wait_js(
            &b,
            "A's camera label and cursor in B's view",
            "const c = document.querySelector(`.remote-camera[data-client='${arguments[0]}']`); \
             const p = document.querySelector(`.remote-cursor[data-client='${arguments[0]}']`); \
             return !!c && c.style.display !== 'none' && !!p && p.style.display !== 'none';",
            vec![json!(a_client)],
        )
        .await;
        wait_js(
            &a,
            "B's camera label in A's view",
            "const c = document.querySelector(`.remote-camera[data-client='${arguments[0]}']`); return !!c;",
            vec![json!(b_client)],
        )
        .await;
        // Saved for a person to look at: target/editor-screenshots/viewport-two-cameras.png.
        screenshot(&b, "viewport-two-cameras").await;
        screenshot(&a, "viewport-two-cameras-other").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_comes_back_after_the_webgl_context_is_lost() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("lost")).await;
        page.wait_synced().await;
        add_box(&page).await;
        commit_field(&page, "prop-color", "#ff0000").await;
        let (w, h) = canvas_size(&page).await;
        let centre = (w / 2.0, h / 2.0);
        wait_pixel(&page, "the red box", centre, red_dominant).await;

        js(&page, "window.__lose = document.getElementById('viewport-canvas').getContext('webgl2').getExtension('WEBGL_lose_context'); window.__lose.loseContext(); return true;", vec![]).await;
        wait_for(&page, "the context lost", |s| s.gpu == "lost").await;
        js(&page, "window.__lose.restoreContext(); return true;", vec![]).await;
        wait_for(&page, "the context back", |s| s.gpu == "ready").await;
        let seen = frames(&page).await;
        // An edit after the restore draws, through the new renderer.
        commit_field(&page, "prop-px", "0.25").await;
        frame_after(&page, seen).await;
        wait_pixel(&page, "the red box drawn again", centre, red_dominant).await;
    })
    .await;
}

/// The x coordinate of the point of the world x axis nearest the ray through screen point
/// `at`, for a camera as `#viewport[data-camera]` gives it ("tx,ty,tz,yaw,pitch,distance,
/// projection"; perspective, 50° vertical field of view).
fn nearest_on_x_axis(camera: &str, (w, h): (f64, f64), at: (f64, f64)) -> f64 {
    use shared::math::{add, cross, scale, sub, Ray};
    let v: Vec<f64> = camera.split(',').take(6).filter_map(|c| c.parse().ok()).collect();
    assert_eq!(v.len(), 6, "a camera: {camera}");
    let (target, yaw, pitch, distance) = ([v[0], v[1], v[2]], v[3], v[4], v[5]);
    let back = [pitch.cos() * yaw.sin(), pitch.sin(), pitch.cos() * yaw.cos()];
    let eye = add(target, scale(back, distance));
    let forward = scale(back, -1.0);
    let right = [yaw.cos(), 0.0, -yaw.sin()];
    let up = cross(right, forward);
    let k = 2.0 * distance * 25f64.to_radians().tan() / h;
    let through = add(target, add(scale(right, (at.0 - w / 2.0) * k), scale(up, (h / 2.0 - at.1) * k)));
    let ray = Ray { origin: eye, dir: sub(through, eye) };
    ray.closest_on_line([0.0; 3], [1.0, 0.0, 0.0]).unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_touch_pinch_zooms_and_the_axes_widget_snaps_the_view() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("touch")).await;
        page.wait_synced().await;
        let before = wait_for(&page, "the perspective view", |s| s.view == "perspective").await;
        let (w, h) = canvas_size(&page).await;
        // Two fingers, 100 px apart, spreading to 300 px apart about the centre: three times
        // closer (zoom × 3).
        let pinch = "const c = document.getElementById('viewport-canvas'); const r = c.getBoundingClientRect(); \
            const [cx, cy] = [arguments[0], arguments[1]]; \
            const ev = (type, id, x) => c.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, pointerId: id, \
                pointerType: 'touch', isPrimary: id === 11, button: 0, buttons: type === 'pointerup' ? 0 : 1, clientX: r.left + x, clientY: r.top + cy })); \
            ev('pointerdown', 11, cx - 50); ev('pointerdown', 12, cx + 50); \
            for (let i = 1; i <= 10; i++) { ev('pointermove', 11, cx - 50 - 10 * i); ev('pointermove', 12, cx + 50 + 10 * i); } \
            ev('pointerup', 11, cx - 150); ev('pointerup', 12, cx + 150); return true;";
        js(&page, pinch, vec![json!(w / 2.0), json!(h / 2.0)]).await;
        let after = wait_for(&page, "zoomed in by the pinch", |s| s.zoom > before.zoom * 2.0).await;
        assert!((after.zoom / before.zoom - 3.0).abs() < 0.3, "{} → {}", before.zoom, after.zoom);
        let target = |s: &str| s.split(',').take(3).filter_map(|v| v.parse::<f64>().ok()).collect::<Vec<_>>();
        let (t0, t1) = (target(&before.camera), target(&after.camera));
        // About the centre: the target stays put (to the pointer's whole-pixel offsets).
        assert!(t0.len() == 3 && t0.iter().zip(&t1).all(|(a, b)| (a - b).abs() < 0.05), "{t0:?} → {t1:?}");

        // The corner axes: +y looks down (the top view), +x from the side, −z from behind.
        for (axis, view) in [("+y", "top"), ("+x", "side"), ("+z", "front"), ("-z", "ortho")] {
            // A click event on the axis end (the ends can overlap on screen, which a WebDriver
            // click would report as intercepted).
            js(&page, "document.querySelector(`#axes [data-axis='${arguments[0]}']`).dispatchEvent(new MouseEvent('click', { bubbles: true })); return true;", vec![json!(axis)]).await;
            wait_for(&page, &format!("the {view} view after {axis}"), |s| s.view == view).await;
        }
        press(&page, &[], '0').await;
        wait_for(&page, "perspective again", |s| s.view == "perspective").await;
    })
    .await;
}
