//! Browser test of the virtualised outliner with a scene too large to list whole (2,000
//! nodes written by a native client): only the rows in view are in the DOM, yet the
//! scrollbar stands for every node; scrolling to the end shows the last node; a node
//! selected from outside the list (a click in the viewport) is scrolled into view; a row
//! reached by scrolling still renames inline; and a drag resting near the list's bottom edge
//! scrolls it, so a drop can reach a row that was not built when the drag began.

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use serde_json::{json, Value};
use shared::scene::{IdGen, NodeId, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::{In, Map, MapPrelim, Transact};

use super::harness::*;

const NODES: usize = 2_000;
/// The node placed at the world origin (the canvas centre); every other one is far off it.
const FAR: usize = 1_500;
/// `ROW_HEIGHT` in client/src/outliner/window.rs (and `.tree li` in public/style.css).
const ROW_HEIGHT: f64 = 26.0;

/// The rows built, their heights, and the scroll container's geometry.
const ROWS_JS: &str = r#"
    const s = document.getElementById('outliner-scroll');
    const rows = Array.from(document.querySelectorAll('#node-list li'));
    return {
        rows: rows.length,
        heights: Array.from(new Set(rows.map((li) => li.getBoundingClientRect().height))),
        names: rows.map((li) => (li.querySelector('.name') || {}).textContent || ''),
        scroll_top: s ? s.scrollTop : -1,
        scroll_height: s ? s.scrollHeight : -1,
        client_height: s ? s.clientHeight : -1,
    };
"#;

/// The row of node `arguments[0]` is in the DOM and wholly inside the scroll container's
/// visible box.
const ROW_SHOWN_JS: &str = r#"
    const s = document.getElementById('outliner-scroll');
    const row = document.querySelector(`#node-list li[data-node-id='${arguments[0]}']`);
    if (!s || !row) return false;
    const a = s.getBoundingClientRect(), b = row.getBoundingClientRect();
    return b.height > 0 && b.top >= a.top - 1 && b.bottom <= a.bottom + 1;
"#;

const SCROLL_TO_JS: &str = "const s = document.getElementById('outliner-scroll'); s.scrollTop = arguments[0]; return s.scrollTop;";

async fn rows(page: &Page) -> Value {
    js(page, ROWS_JS, vec![]).await
}

fn row_count(v: &Value) -> u64 {
    v["rows"].as_u64().unwrap_or(u64::MAX)
}

/// Writes `NODES` boxes named `Node {n}` in outline order, in the documented layout (as the
/// editor benchmark does: `Scene::add_node` is quadratic for a bulk load); all but `FAR`
/// sit well off the canvas.
fn seed(client: &TestClient) -> Vec<NodeId> {
    let scene = Scene::new(&client.doc);
    let mut ids = IdGen::new(client.client_id().get());
    let orders = shared::scene::order::keys_between(None, None, NODES).expect("order keys");
    let mut written = Vec::with_capacity(NODES);
    for (b, chunk) in orders.chunks(500).enumerate() {
        let mut txn = client.doc.transact_mut();
        for (i, order) in chunk.iter().enumerate() {
            let n = b * 500 + i;
            let id = ids.next();
            let x = if n == FAR { 0.0 } else { 1_000.0 + (n % 50) as f64 * 1.5 };
            let fields = MapPrelim::from([
                ("name", In::from(format!("Node {n}"))),
                ("kind", In::from("mesh")),
                ("order", In::from(order.as_str())),
                ("primitive", In::from("box")),
                ("px", In::from(x)),
            ]);
            scene.root().insert(&mut txn, id.0.as_str(), fields);
            written.push(id);
        }
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_outliner_builds_only_the_rows_in_view_of_a_large_scene() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let seeder = TestClient::join(&relay.ws(), "big").await;
        let ids = seed(&seeder);
        let check = TestClient::join(&relay.ws(), "big").await;
        let check_scene = Scene::new(&check.doc);
        eventually(WAIT, "the relay holds every node", || {
            let count = check_scene.node_count(&check.doc.transact());
            async move { count == NODES }
        })
        .await;

        let page = browsers.open(&relay.page("big")).await;
        let want = NODES.to_string();
        page.wait_until("every node counted, synced", |s| {
            s.nodes.as_deref() == Some(want.as_str()) && s.state.as_deref() == Some("synced")
        })
        .await;
        wait_js(&page, "the first node's row", ROW_SHOWN_JS, vec![json!(ids[0].0)]).await;

        // A window of rows, not the scene: enough to hold the small scenes the other tests
        // read whole (their `ids` and `list` are the rows built), far fewer than the nodes.
        let top = rows(&page).await;
        assert!((20..=100).contains(&row_count(&top)), "rows built at the top: {top}");
        let heights: Vec<f64> = top["heights"].as_array().map(|h| h.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
        assert_eq!(heights, [ROW_HEIGHT], "every row is ROW_HEIGHT tall: {top}");
        assert_eq!(top["names"][0], json!("Node 0"), "{top}");
        let scroll_height = top["scroll_height"].as_f64().unwrap_or(0.0);
        assert!(scroll_height >= NODES as f64 * ROW_HEIGHT, "the scrollbar stands for every node: {top}");
        assert!(top["client_height"].as_f64().unwrap_or(0.0) < scroll_height / 10.0, "the list scrolls: {top}");

        // To the end: the last node's row shows, the first one is gone.
        js(&page, SCROLL_TO_JS, vec![json!(scroll_height)]).await;
        wait_js(&page, "the last node's row", ROW_SHOWN_JS, vec![json!(ids[NODES - 1].0)]).await;
        let bottom = rows(&page).await;
        assert!(row_count(&bottom) <= 100, "rows built at the bottom: {bottom}");
        assert!(!bottom["names"].as_array().is_some_and(|n| n.contains(&json!("Node 0"))), "{bottom}");

        // Back to the top, then select FAR (at the world origin) with a real click on the
        // canvas centre: its row, 1,500 rows down, is scrolled into view and shown selected.
        js(&page, SCROLL_TO_JS, vec![json!(0)]).await;
        wait_js(&page, "the first row again", ROW_SHOWN_JS, vec![json!(ids[0].0)]).await;
        let far = ids[FAR].0.clone();
        let canvas = page.client.find(Locator::Css("#viewport-canvas")).await.expect("the canvas");
        let click = MouseActions::new("mouse".to_owned())
            .then(PointerAction::MoveToElement { element: canvas, duration: None, x: 0.0, y: 0.0 })
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        page.client.perform_actions(click).await.expect("a click on the canvas");
        wait_for(&page, "the far node selected in the viewport", |s| s.selection == far).await;
        wait_js(&page, "the far node's row scrolled into view", ROW_SHOWN_JS, vec![json!(far)]).await;
        wait_js(
            &page,
            "the far row shown selected",
            "return !!document.querySelector(`#node-list li.selected[data-node-id='${arguments[0]}']`);",
            vec![json!(far)],
        )
        .await;
        screenshot(&page, "outliner-far-node-revealed").await;
        let there = rows(&page).await;
        assert!(row_count(&there) <= 100, "{there}");
        assert!(there["scroll_top"].as_f64().unwrap_or(0.0) > 1_000.0 * ROW_HEIGHT, "{there}");

        // Scroll to a row by hand and rename it with a double click.
        let renamed = ids[700].0.clone();
        js(&page, SCROLL_TO_JS, vec![json!(690.0 * ROW_HEIGHT)]).await;
        wait_js(&page, "row 700 after scrolling", ROW_SHOWN_JS, vec![json!(renamed)]).await;
        double_click(&page, &format!("#node-list li[data-node-id='{renamed}'] .name")).await;
        let input = page
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&format!("#node-list li[data-node-id='{renamed}'] input.rename")))
            .await
            .expect("the rename field opens");
        input.send_keys(&format!("Far and renamed{ENTER}")).await.expect("typing");
        let id = NodeId(renamed.clone());
        eventually(WAIT, "the native client sees the new name", || {
            let name = check_scene.node(&check.doc.transact(), &id).map(|n| n.name);
            async move { name.as_deref() == Some("Far and renamed") }
        })
        .await;
        wait_js(
            &page,
            "the row shows the new name",
            "const r = document.querySelector(`#node-list li[data-node-id='${arguments[0]}'] .name`); \
             return !!r && r.textContent === 'Far and renamed';",
            vec![json!(renamed)],
        )
        .await;

        // Drag that row and rest near the list's bottom edge: the list scrolls (the browser
        // repeats dragover while the pointer rests; here, 40 of them), then drop onto a row
        // built meanwhile: the dragged node goes under it.
        let start_top = rows(&page).await["scroll_top"].as_f64().unwrap_or(0.0);
        let scrolled = js(
            &page,
            "const s = document.getElementById('outliner-scroll'); \
             const row = document.querySelector(`#node-list li[data-node-id='${arguments[0]}']`); \
             const dt = new DataTransfer(); window.__drag = { dt, row }; \
             row.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt })); \
             const r = s.getBoundingClientRect(); \
             for (let i = 0; i < 40; i++) { \
                 s.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt, \
                     clientX: r.left + r.width / 2, clientY: r.bottom - 3 })); \
             } \
             return s.scrollTop;",
            vec![json!(renamed)],
        )
        .await;
        let scrolled = scrolled.as_f64().unwrap_or(0.0);
        assert!(scrolled >= start_top + 20.0 * ROW_HEIGHT, "resting near the bottom edge scrolled from {start_top} to {scrolled}");
        let onto_index = (scrolled / ROW_HEIGHT) as usize + 3;
        let onto = ids[onto_index].0.clone();
        wait_js(&page, "a row built by the drag's scrolling", ROW_SHOWN_JS, vec![json!(onto)]).await;
        js(
            &page,
            "const { dt, row } = window.__drag; \
             const target = document.querySelector(`#node-list li[data-node-id='${arguments[0]}']`); \
             target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt })); \
             target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt })); \
             row.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: dt })); return true;",
            vec![json!(onto)],
        )
        .await;
        let (dragged, parent) = (NodeId(renamed.clone()), NodeId(onto.clone()));
        eventually(WAIT, "the dragged node under the row it was dropped on", || {
            let now = check_scene.node(&check.doc.transact(), &dragged).and_then(|n| n.parent);
            let want = Some(parent.clone());
            async move { now == want }
        })
        .await;
        let after = rows(&page).await;
        assert!(row_count(&after) <= 100, "{after}");
    })
    .await;
}
