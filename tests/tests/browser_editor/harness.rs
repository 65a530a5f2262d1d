//! Editor helpers for the browser tests: reading the editor's state out of the page (the
//! data attributes on `#editor` and `#viewport`, the property fields, the participants and
//! remote cursors) in one script call, committing a property field the way a user does
//! (value then `change`), and real WebDriver pointer and keyboard input.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use serde_json::{json, Value};
use tests::browser::{Page, WAIT};

/// Control, Shift and Enter as WebDriver key codes.
pub const CONTROL: char = '\u{e009}';
pub const SHIFT: char = '\u{e008}';
pub const ENTER: char = '\u{e007}';

const STATE_JS: &str = r#"
    const editor = document.getElementById('editor');
    const viewport = document.getElementById('viewport');
    const data = (el, key) => el ? el.getAttribute('data-' + key) : null;
    const field = (key) => { const e = document.getElementById('prop-' + key); return e ? e.value : null; };
    return {
        client: data(editor, 'client'),
        updates: Number(data(editor, 'local-updates')),
        undo_depth: Number(data(editor, 'undo-depth')),
        selection: data(editor, 'selection') || '',
        following: data(editor, 'following') || '',
        mode: data(editor, 'mode'),
        view: data(viewport, 'view'),
        zoom: Number(data(viewport, 'zoom')),
        camera: data(viewport, 'camera'),
        gpu: data(viewport, 'gpu'),
        name: field('name'),
        px: field('px'), py: field('py'), pz: field('pz'),
        ids: Array.from(document.querySelectorAll('#node-list li')).map((li) => li.getAttribute('data-node-id')),
        people: Array.from(document.querySelectorAll('#participants .participant:not(.me) .participant-name')).map((e) => e.textContent.trim()),
        cursors: Array.from(document.querySelectorAll('.remote-cursor')).map((c) => ({
            client: c.getAttribute('data-client'),
            world: c.getAttribute('data-world'),
            shown: c.style.display !== 'none',
            name: (c.querySelector('.remote-cursor-name') || {}).textContent || '',
        })),
    };
"#;

/// What the editor shows, read in one round trip.
#[derive(Debug, Clone, Default)]
pub struct EditorState {
    pub client: String,
    pub updates: u64,
    pub undo_depth: u64,
    pub selection: String,
    pub following: String,
    pub mode: String,
    pub view: String,
    /// Pixels per world unit at the camera's target.
    pub zoom: f64,
    /// "target x,y,z,yaw,pitch,distance,projection", as `#viewport[data-camera]`.
    pub camera: String,
    /// "ready", "lost" or "failed: …".
    pub gpu: String,
    pub name: Option<String>,
    pub px: Option<String>,
    pub py: Option<String>,
    pub pz: Option<String>,
    /// The node ids of the outliner rows built, in order. The outliner builds only the rows
    /// in view (~25 or more at the test window's size, `outliner.rs` checks), so this is every
    /// node of the small scenes the tests use, not of a large one.
    pub ids: Vec<String>,
    pub people: Vec<String>,
    /// (client, world "x,y,z", shown, name) of each remote cursor.
    pub cursors: Vec<(String, String, bool, String)>,
}

fn parse(v: &Value) -> EditorState {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let strings = |k: &str| {
        v.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    EditorState {
        client: s("client").unwrap_or_default(),
        updates: n("updates") as u64,
        undo_depth: n("undo_depth") as u64,
        selection: s("selection").unwrap_or_default(),
        following: s("following").unwrap_or_default(),
        mode: s("mode").unwrap_or_default(),
        view: s("view").unwrap_or_default(),
        zoom: n("zoom"),
        camera: s("camera").unwrap_or_default(),
        gpu: s("gpu").unwrap_or_default(),
        name: s("name"),
        px: s("px"),
        py: s("py"),
        pz: s("pz"),
        ids: strings("ids"),
        people: strings("people"),
        cursors: v
            .get("cursors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                        (f("client"), f("world"), c.get("shown").and_then(Value::as_bool).unwrap_or(false), f("name"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub async fn state(page: &Page) -> EditorState {
    let value = tokio::time::timeout(Duration::from_secs(5), page.client.execute(STATE_JS, Vec::new()))
        .await
        .unwrap_or_else(|_| panic!("{}: reading the editor timed out", page.name))
        .unwrap_or_else(|e| panic!("{}: reading the editor failed: {e}", page.name));
    parse(&value)
}

/// Polls the editor until `check` holds; fails with the last state after `WAIT`.
pub async fn wait_for(page: &Page, what: &str, check: impl Fn(&EditorState) -> bool) -> EditorState {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = state(page).await;
        if check(&now) {
            return now;
        }
        if Instant::now() > deadline {
            panic!("{}: timed out after {WAIT:?} waiting for {what}; the editor showed {now:#?}", page.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs a script in the page (bounded).
pub async fn js(page: &Page, script: &str, args: Vec<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(5), page.client.execute(script, args))
        .await
        .unwrap_or_else(|_| panic!("{}: script timed out", page.name))
        .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", page.name))
}

/// Types `value` into a field and commits it, as leaving the field does (`change`).
pub async fn commit_field(page: &Page, id: &str, value: &str) {
    let done = js(
        page,
        "const e = document.getElementById(arguments[0]); if (!e) return false; \
         e.value = arguments[1]; e.dispatchEvent(new Event('change', { bubbles: true })); return true;",
        vec![json!(id), json!(value)],
    )
    .await;
    assert_eq!(done, json!(true), "{}: no #{id}", page.name);
}

/// A real click on the outliner row of `id`.
pub async fn click_row(page: &Page, id: &str) {
    let row = page
        .client
        .find(Locator::Css(&format!("#node-list li[data-node-id='{id}'] .kind")))
        .await
        .unwrap_or_else(|e| panic!("{}: no outliner row {id}: {e}", page.name));
    row.click().await.unwrap_or_else(|e| panic!("{}: clicking row {id} failed: {e}", page.name));
}

pub async fn click(page: &Page, css: &str) {
    open_menu_of(page, css).await;
    let element = page.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{}: no {css}: {e}", page.name));
    element.click().await.unwrap_or_else(|e| panic!("{}: clicking {css} failed: {e}", page.name));
}

/// Opens the toolbar menu holding `css`, if it is in one (as a person does before choosing
/// an item: a closed menu's items are not shown, so WebDriver cannot click them).
pub async fn open_menu_of(page: &Page, css: &str) {
    let script = "const e = document.querySelector(arguments[0]); const menu = e && e.closest('.menu-list') && e.closest('details.menu'); \
                  if (menu && !menu.open) menu.querySelector('summary').click(); return !!menu;";
    page.client.execute(script, vec![serde_json::json!(css)]).await.unwrap_or_else(|e| panic!("{}: opening the menu of {css}: {e}", page.name));
}

/// Presses `key` with the given modifiers held (real key events to the focused element).
pub async fn press(page: &Page, modifiers: &[char], key: char) {
    let mut keys = KeyActions::new("keyboard".to_owned());
    for m in modifiers {
        keys = keys.then(KeyAction::Down { value: *m });
    }
    keys = keys.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    for m in modifiers.iter().rev() {
        keys = keys.then(KeyAction::Up { value: *m });
    }
    page.client.perform_actions(keys).await.unwrap_or_else(|e| panic!("{}: key press failed: {e}", page.name));
}

/// Moves the real mouse over the canvas, `at` pixels from its centre.
pub async fn hover_canvas(page: &Page, at: (f64, f64)) {
    let canvas = page.client.find(Locator::Css("#viewport-canvas")).await.unwrap_or_else(|e| panic!("{}: no canvas: {e}", page.name));
    let mouse = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveToElement {
        element: canvas,
        duration: Some(Duration::from_millis(50)),
        x: at.0,
        y: at.1,
    });
    page.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("{}: hover failed: {e}", page.name));
}

/// Saves a screenshot under target/ when EDITOR_SCREENSHOTS is set (for looking at the UI).
pub async fn screenshot(page: &Page, name: &str) {
    if std::env::var_os("EDITOR_SCREENSHOTS").is_none() {
        return;
    }
    if let Ok(png) = page.client.screenshot().await {
        let dir = tests::browser::repo_root().join("target/editor-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// Polls a script until it returns `true`; fails with its last answer after `WAIT`.
pub async fn wait_js(page: &Page, what: &str, script: &str, args: Vec<Value>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = js(page, script, args.clone()).await;
        if answer == json!(true) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{}: timed out after {WAIT:?} waiting for {what}; last answer {answer}", page.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses the left button on the canvas at `at` (from its centre) and drags to `to`,
/// without releasing (the button stays down until [`release`]).
pub async fn press_and_drag(page: &Page, at: (f64, f64), to: (f64, f64)) {
    let canvas = page.client.find(Locator::Css("#viewport-canvas")).await.unwrap_or_else(|e| panic!("{}: no canvas: {e}", page.name));
    let mut mouse = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement { element: canvas.clone(), duration: None, x: at.0, y: at.1 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for i in 1..=8 {
        let t = i as f64 / 8.0;
        mouse = mouse.then(PointerAction::MoveToElement {
            element: canvas.clone(),
            duration: Some(Duration::from_millis(30)),
            x: at.0 + (to.0 - at.0) * t,
            y: at.1 + (to.1 - at.1) * t,
        });
    }
    page.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("{}: drag failed: {e}", page.name));
}

/// Releases the left button where the pointer is.
pub async fn release(page: &Page) {
    let mouse = MouseActions::new("mouse".to_owned()).then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("{}: release failed: {e}", page.name));
}

/// A real double click on an element.
pub async fn double_click(page: &Page, css: &str) {
    let element = page.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{}: no {css}: {e}", page.name));
    let mouse = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement { element, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("{}: double click failed: {e}", page.name));
}

/// A wheel turn over the canvas centre (negative `delta_y` zooms in).
pub async fn wheel(page: &Page, delta_y: f64) {
    js(
        page,
        "const c = document.getElementById('viewport-canvas'); const r = c.getBoundingClientRect(); \
         c.dispatchEvent(new WheelEvent('wheel', { deltaY: arguments[0], clientX: r.left + r.width / 2, \
         clientY: r.top + r.height / 2, bubbles: true, cancelable: true })); return true;",
        vec![json!(delta_y)],
    )
    .await;
}

/// The viewport canvas's size in CSS pixels.
pub async fn canvas_size(page: &Page) -> (f64, f64) {
    let v = js(page, "const r = document.getElementById('viewport-canvas').getBoundingClientRect(); return [r.width, r.height];", vec![]).await;
    (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0))
}

/// The gizmo as `#viewport[data-gizmo]` describes it (`null` when none shows).
pub async fn gizmo(page: &Page) -> Value {
    js(page, "const g = document.getElementById('viewport').getAttribute('data-gizmo'); return g ? JSON.parse(g) : null;", vec![]).await
}

/// The canvas pixel at (x, y) CSS pixels from its top left, as RGBA bytes, read back from
/// the WebGL drawing buffer (kept after each frame: `preserveDrawingBuffer`).
pub async fn pixel(page: &Page, at: (f64, f64)) -> [u8; 4] {
    let v = js(
        page,
        "const c = document.getElementById('viewport-canvas'); const gl = c.getContext('webgl2'); \
         const k = c.width / c.getBoundingClientRect().width; const px = new Uint8Array(4); \
         gl.readPixels(Math.round(arguments[0] * k), Math.round(c.height - 1 - arguments[1] * k), 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px); \
         return Array.from(px);",
        vec![json!(at.0), json!(at.1)],
    )
    .await;
    let byte = |i: usize| v[i].as_u64().unwrap_or(0).min(255) as u8;
    [byte(0), byte(1), byte(2), byte(3)]
}

/// A real left-button drag on the canvas between two points given in CSS pixels from its
/// top left, through `steps` moves, released at the end.
pub async fn drag_canvas(page: &Page, from: (f64, f64), to: (f64, f64), steps: usize) {
    let canvas = page.client.find(Locator::Css("#viewport-canvas")).await.unwrap_or_else(|e| panic!("{}: no canvas: {e}", page.name));
    let (w, h) = canvas_size(page).await;
    // WebDriver offsets are from the element's centre.
    let at = |p: (f64, f64)| (p.0 - w / 2.0, p.1 - h / 2.0);
    let start = at(from);
    let mut mouse = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement { element: canvas.clone(), duration: None, x: start.0, y: start.1 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
    for i in 1..=steps.max(1) {
        let t = i as f64 / steps.max(1) as f64;
        let p = at((from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t));
        mouse = mouse.then(PointerAction::MoveToElement { element: canvas.clone(), duration: Some(Duration::from_millis(25)), x: p.0, y: p.1 });
    }
    mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    page.client.perform_actions(mouse).await.unwrap_or_else(|e| panic!("{}: drag failed: {e}", page.name));
}

/// A real click on the canvas at (x, y) CSS pixels from its top left.
pub async fn click_canvas(page: &Page, at: (f64, f64)) {
    drag_canvas(page, at, at, 1).await;
}
