//! The editor's benchmarks, run by `scripts/bench-editor.sh`, not by CI (`#[ignore]`).
//! `bench_first_render_1000_nodes` (issue 20): navigation → the first render showing a
//! synced 1,000-node scene, in fresh browsers (nothing cached) and on a reload (the
//! files cached), several times. `bench_editor_5000_nodes` (issues 3 and 14): time from navigation to the first
//! render that shows the whole synced scene (every node counted, the outliner's visible rows
//! built) and to the first shaded 3D frame holding it; the 3D view's draw calls, instances
//! and triangles with everything framed; frame times and the viewport's own paint time per
//! frame while orbiting, and while another client edits a node 30 times a second (with the
//! main-thread tasks over 50 ms meanwhile, from the Long Tasks API).
//! Figures are printed as one JSON line (`editor-bench {...}`) for BENCHMARKS.md.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::scene::{IdGen, NodeId, NumberKey, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::{In, Map, MapPrelim, Transact};

const NODES: usize = 5_000;

/// Fresh browsers `bench_first_render_1000_nodes` measures (each also reloads once).
const FIRST_RENDER_RUNS: usize = 5;

/// Installed in every document before its own scripts (`Page::on_every_document`), so it
/// watches from the navigation on: at each animation frame it looks whether the DOM shows a
/// synced connection, `WANT` nodes counted (replaced by the count), and the outliner's rows built from the
/// first node ("Box 0") down past the bottom of the outliner's visible box (the outliner is
/// virtualised: those are the only rows it builds); the first frame that does sets
/// `window.__firstRender` to `performance.now()` (ms since navigation started). A probe that
/// WebDriver injects once the page has loaded cannot see a render that came before it: with
/// the socket and the device copy opened by the page's first script, on a reload it
/// often had (its figure was then when WebDriver got to it, ~80–300 ms).
const FIRST_RENDER_PROBE_JS: &str = r#"
(() => {
    const want = () => WANT;
    const rowsShown = () => {
        const rows = document.querySelectorAll('#node-list li');
        if (rows.length === 0) return false;
        const first = rows[0].querySelector('.name');
        if (!first || first.textContent !== 'Box 0') return false;
        const box = document.getElementById('outliner-scroll') || document.getElementById('node-list');
        const bottom = Math.min(window.innerHeight, box.getBoundingClientRect().bottom);
        return rows.length === want() || rows[rows.length - 1].getBoundingClientRect().bottom >= bottom;
    };
    const check = () => {
        const count = document.getElementById('node-count');
        const state = document.getElementById('connection-state');
        if (count && state && count.textContent.trim() === String(want()) && state.textContent.includes('synced') && rowsShown()) {
            window.__firstRender = performance.now();
        } else {
            requestAnimationFrame(check);
        }
    };
    requestAnimationFrame(check);
    // The first frame after the viewport drew instances with the whole scene counted.
    const shaded = () => {
        const count = document.getElementById('node-count');
        const v = document.getElementById('viewport');
        if (count && count.textContent.trim() === String(want()) && v && Number(v.getAttribute('data-instances') || 0) > 0) {
            window.__firstShaded = performance.now();
        } else {
            requestAnimationFrame(shaded);
        }
    };
    requestAnimationFrame(shaded);
})();
"#;

/// Answers `window[arguments[0]]` (`__firstRender` or `__firstShaded`) once the probe
/// above has set it.
const PROBED_JS: &str = r#"
const [name, done] = arguments;
const wait = () => (window[name] !== undefined ? done(window[name]) : setTimeout(wait, 10));
wait();
"#;

/// Opens a browser on about:blank with the first-render probe installed for a scene of
/// `nodes`, then the room's page: navigation timing starts with that page.
async fn open_probed(browsers: &Browsers, url: &str, nodes: usize) -> Page {
    let page = browsers.open("about:blank").await;
    page.on_every_document(&FIRST_RENDER_PROBE_JS.replace("WANT", &nodes.to_string())).await;
    page.client.goto(url).await.expect("open the room");
    page
}

/// Resolves at the first animation frame after the viewport drew a frame with the whole
/// scene counted; answers `performance.now()`.
pub(super) const FIRST_SHADED_FRAME_JS: &str = r#"
const [want, done] = arguments;
const check = () => {
    const count = document.getElementById('node-count');
    const v = document.getElementById('viewport');
    if (count && count.textContent.trim() === String(want) && v && Number(v.getAttribute('data-instances') || 0) > 0) {
        done(performance.now());
    } else {
        requestAnimationFrame(check);
    }
};
check();
"#;

/// Starts recording animation-frame intervals into `window.__frames` until `__stopFrames`,
/// and the viewport's own paint time of each frame it painted into `window.__paints`.
const START_FRAMES_JS: &str = r#"
window.__frames = [];
window.__paints = [];
window.__longTasks = [];
window.__stopFrames = false;
let painted = -1;
try {
    new PerformanceObserver((list) => {
        if (!window.__stopFrames) { for (const e of list.getEntries()) { window.__longTasks.push(e.duration); } }
    }).observe({ type: 'longtask' });
} catch (e) {}
let last = performance.now();
const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    const v = document.getElementById('viewport');
    const frames = Number(v.getAttribute('data-frames') || 0);
    if (frames !== painted) { painted = frames; window.__paints.push(Number(v.getAttribute('data-frame-ms') || 0)); }
    if (!window.__stopFrames) { requestAnimationFrame(tick); }
};
requestAnimationFrame(tick);
"#;

/// Stops the recording and answers the intervals and the paint times, each sorted.
const STOP_FRAMES_JS: &str = "window.__stopFrames = true; \
    return [window.__frames.slice().sort((a, b) => a - b), window.__paints.slice().sort((a, b) => a - b)];";

/// Orbits for `arguments[0]` animation frames: an Alt+drag across the canvas, one pointer
/// move of 4 px a frame (as a person dragging steadily); resolves when done.
pub(super) const ORBIT_JS: &str = r#"
const [frames, done] = arguments;
const c = document.getElementById('viewport-canvas');
const r = c.getBoundingClientRect();
const ev = (type, x, y) => c.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, pointerId: 9,
    pointerType: 'mouse', button: 0, buttons: type === 'pointerup' ? 0 : 1, altKey: true, clientX: r.left + x, clientY: r.top + y }));
let i = 0;
const x0 = r.width * 0.2, y0 = r.height * 0.5;
ev('pointerdown', x0, y0);
const step = () => {
    i += 1;
    ev('pointermove', x0 + i * 4, y0 + Math.sin(i / 20) * 30);
    if (i < frames) { requestAnimationFrame(step); } else { ev('pointerup', x0 + i * 4, y0); done(true); }
};
requestAnimationFrame(step);
"#;

/// Lets scripts in `page` run for up to two minutes (orbiting a big scene on a CPU
/// rasteriser takes longer than the harness's ten seconds).
pub(super) async fn long_scripts(page: &Page) {
    let timeouts = fantoccini::wd::TimeoutConfiguration::new(Some(Duration::from_secs(120)), Some(Duration::from_secs(60)), Some(Duration::ZERO));
    page.client.update_timeouts(timeouts).await.expect("longer script timeouts");
}

/// The viewport's counters of its last frame: draw calls, instances, triangles, paint ms.
pub(super) async fn viewport_counters(page: &Page) -> [f64; 4] {
    let v = page
        .client
        .execute(
            "const v = document.getElementById('viewport'); \
             return ['draw-calls', 'instances', 'triangles', 'frame-ms'].map((k) => Number(v.getAttribute('data-' + k)));",
            vec![],
        )
        .await
        .expect("the viewport's counters");
    [0, 1, 2, 3].map(|i| v[i].as_f64().unwrap_or(f64::NAN))
}

/// Sorted samples' quantile by nearest rank.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// Records frames while `during` runs; answers (frame intervals, paint times), sorted.
pub(super) async fn record<F: std::future::Future<Output = ()>>(page: &Page, during: F) -> (Vec<f64>, Vec<f64>) {
    page.client.execute(START_FRAMES_JS, vec![]).await.expect("frame recorder starts");
    during.await;
    let recorded = tokio::time::timeout(Duration::from_secs(60), page.client.execute(STOP_FRAMES_JS, vec![]))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(Value::Null);
    (numbers(&recorded[0]), numbers(&recorded[1]))
}

/// Where a page load's time went before the first render (ms since navigation): the page's
/// DOMContentLoaded and when the editor's glue and wasm finished arriving (Navigation and
/// Resource Timing), then the editor's own marks (`client/src/marks.rs`): its module
/// running, the page built, the copy on this device loaded, the socket open, synced.
const LOAD_TIMES_JS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const end = (part) => { const e = performance.getEntriesByType('resource').find((r) => r.name.includes(part)); return e ? e.responseEnd : null; };
const mark = (name) => { const m = performance.getEntriesByName('editor:' + name)[0]; return m ? m.startTime : null; };
return { dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null, glue: end('/client.'), wasm: end('/client_bg.'),
    main: mark('main'), mounted: mark('mounted'), gl_start: mark('gl-start'), gl_ready: mark('gl-ready'), local_copy: mark('local-copy'), socket_open: mark('socket-open'), synced: mark('synced') };
"#;

/// The page's long animation frames so far (over 50 ms, Long Animation Frames API, buffered
/// from navigation): when each started, how long it took, when its rendering started, and
/// its longest scripts (what invoked them, how long). Where the start's frames go.
const LONG_FRAMES_JS: &str = r#"
const done = arguments[arguments.length - 1];
const seen = [];
try {
    new PerformanceObserver((list) => {
        seen.push(...list.getEntries().map((e) => ({ start: Math.round(e.startTime), ms: Math.round(e.duration),
            render_at: Math.round(e.renderStart), layout_at: Math.round(e.styleAndLayoutStart),
            scripts: e.scripts.filter((s) => s.duration >= 5).map((s) => `${s.invoker} ${Math.round(s.duration)}ms`) })));
    }).observe({ type: 'long-animation-frame', buffered: true });
} catch (e) { done([]); }
setTimeout(() => done(seen), 300);
"#;

/// The main-thread tasks over 50 ms seen while recording (Long Tasks API), sorted.
const LONG_TASKS_JS: &str = "return (window.__longTasks || []).slice().sort((a, b) => a - b);";

/// Writes `count` boxes into `room` through a native client, straight in the documented
/// layout (docs/scene-schema.md), in 10 transactions (`Scene::add_node` finds the last
/// sibling's order key by scanning the scene, which is quadratic for a bulk load like this
/// one), and waits until the relay holds them all. Answers the writer, its scene and the
/// first node.
pub(super) async fn seed(relay: &Relay, room: &str, count: usize) -> (TestClient, Scene, NodeId) {
    let seeder = TestClient::join(&relay.ws(), room).await;
    let scene = Scene::new(&seeder.doc);
    let mut ids = IdGen::new(seeder.client_id().get());
    let orders = shared::scene::order::keys_between(None, None, count).expect("order keys");
    let mut first = None;
    let seeding = Instant::now();
    for batch in 0..10 {
        let mut txn = seeder.doc.transact_mut();
        for i in 0..count / 10 {
            let n = batch * (count / 10) + i;
            let id = ids.next();
            let fields = MapPrelim::from([
                ("name", In::from(format!("Box {n}"))),
                ("kind", In::from("mesh")),
                ("order", In::from(orders[n].as_str())),
                ("primitive", In::from("box")),
                ("px", In::from((n % 100) as f64 * 1.5)),
                ("pz", In::from((n / 100) as f64 * 1.5)),
            ]);
            scene.root().insert(&mut txn, id.0.as_str(), fields);
            first.get_or_insert(id);
        }
    }
    eprintln!("seeded {count} nodes in {:?}", seeding.elapsed());
    let check = TestClient::join(&relay.ws(), room).await;
    let check_scene = Scene::new(&check.doc);
    eventually(WAIT, "the relay holds every node", || {
        let held = check_scene.node_count(&check.doc.transact());
        async move { held == count }
    })
    .await;
    (seeder, scene, first.expect("nodes were added"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-editor.sh runs it"]
async fn bench_first_render_1000_nodes() {
    const COUNT: usize = 1_000;
    with_browsers(|browsers| async move {
        // With WebGL turned off (`CHROMIUM_EXTRA_ARGS=--disable-webgl`, to tell what the CPU
        // rasteriser costs) there is no shaded frame to wait for.
        let webgl = !std::env::var("CHROMIUM_EXTRA_ARGS").unwrap_or_default().contains("--disable-webgl");
        let relay = Relay::start("").await;
        let _seeded = seed(&relay, "first-render", COUNT).await;
        // `FIRST_RENDER_DELAY_MS=N`: the page and its socket through a proxy that delays
        // every chunk N ms each way (a round trip of 2N ms, as to a distant relay).
        let delay = std::env::var("FIRST_RENDER_DELAY_MS").ok().and_then(|ms| ms.parse().ok()).filter(|ms| *ms > 0);
        let proxy = match delay {
            Some(ms) => Some(tests::slow_proxy::SlowProxy::start(relay.relay.addr, Duration::from_millis(ms)).await),
            None => None,
        };
        let url = match &proxy {
            Some(proxy) => format!("http://{}/?room=first-render", proxy.addr),
            None => relay.page("first-render"),
        };
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for _ in 0..FIRST_RENDER_RUNS {
            // A fresh Chromium and profile: the page, the wasm and everything else come from
            // the relay; then a reload, with the files in the HTTP cache.
            let page = open_probed(&browsers, &url, COUNT).await;
            let measure = || async {
                let shown = page.client.execute_async(PROBED_JS, vec![json!("__firstRender")]).await.expect("the page shows the scene");
                let shaded = match webgl {
                    true => Some(page.client.execute_async(PROBED_JS, vec![json!("__firstShaded")]).await.expect("a shaded frame")),
                    false => None,
                };
                let loaded = page.client.execute(LOAD_TIMES_JS, vec![]).await.unwrap_or(Value::Null);
                let long_frames = page.client.execute_async(LONG_FRAMES_JS, vec![]).await.unwrap_or(Value::Null);
                json!({ "shown": shown, "shaded": shaded, "loaded": loaded, "long_frames": long_frames })
            };
            cold.push(measure().await);
            page.client.refresh().await.expect("reload");
            warm.push(measure().await);
            page.close().await;
        }
        let report = json!({ "nodes": COUNT, "delay_ms": delay, "fresh_browser": cold, "reload": warm });
        println!("first-render-bench {report}");
        assert!(cold.iter().chain(&warm).all(|run| run["shown"].as_f64().is_some() && (run["shaded"].as_f64().is_some() || !webgl)), "{report}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-editor.sh runs it"]
async fn bench_editor_5000_nodes() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (seeder, scene, moving) = seed(&relay, "bench", NODES).await;
        eprintln!("the relay holds them");
        let page = open_probed(&browsers, &relay.page("bench"), NODES).await;
        let started = Instant::now();
        let first_render = page
            .client
            .execute_async(PROBED_JS, vec![json!("__firstRender")])
            .await
            .expect("the page shows the whole scene within the script timeout");
        let first_render_ms = first_render.as_f64().unwrap_or(f64::NAN);
        eprintln!("first full render after {first_render_ms:.0} ms (waited {:?})", started.elapsed());
        let first_shaded = page.client.execute_async(PROBED_JS, vec![json!("__firstShaded")]).await.expect("a shaded frame");
        let first_shaded_ms = first_shaded.as_f64().unwrap_or(f64::NAN);

        // Everything in view (Home), then what one frame of it costs.
        page.client.execute("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', bubbles: true })); return true;", vec![])
            .await
            .expect("Home");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let framed = viewport_counters(&page).await;

        // Orbiting for 180 frames with the whole scene in view.
        long_scripts(&page).await;
        let (orbit_frames, orbit_paints) = record(&page, async {
            page.client.execute_async(ORBIT_JS, vec![json!(180)]).await.expect("orbiting");
        })
        .await;

        // A remote peer edits one node 30 times a second for 5 s while the page records
        // frames; then the page gets up to 60 s to answer (a page busy re-rendering cannot).
        let mut edits = 0u32;
        let mut answered = Instant::now();
        let (deltas, edit_paints) = record(&page, async {
            let mut tick = tokio::time::interval(Duration::from_millis(33));
            let editing = Instant::now();
            while editing.elapsed() < Duration::from_secs(5) {
                tick.tick().await;
                edits += 1;
                let mut txn = seeder.doc.transact_mut();
                let _ = scene.set_number(&mut txn, &moving, NumberKey::Px, f64::from(edits % 200) * 0.1);
            }
            answered = Instant::now();
        })
        .await;
        let catch_up_ms = answered.elapsed().as_secs_f64() * 1000.0;
        let long_tasks = page.client.execute(LONG_TASKS_JS, vec![]).await.unwrap_or(Value::Null);
        let long = numbers(&long_tasks);
        let report = json!({
            "nodes": NODES,
            "first_full_render_ms": first_render_ms,
            "first_shaded_frame_ms": first_shaded_ms,
            "framed_draw_calls": framed[0],
            "framed_instances": framed[1],
            "framed_triangles": framed[2],
            "framed_paint_ms": framed[3],
            "orbit_frames": orbit_frames.len(),
            "orbit_frame_ms_p50": quantile(&orbit_frames, 0.5),
            "orbit_frame_ms_p95": quantile(&orbit_frames, 0.95),
            "orbit_paint_ms_p50": quantile(&orbit_paints, 0.5),
            "orbit_paint_ms_p95": quantile(&orbit_paints, 0.95),
            "remote_edits": edits,
            "page_answered_after_edits_ms": catch_up_ms,
            "frames": deltas.len(),
            "frame_ms_p50": quantile(&deltas, 0.5),
            "frame_ms_p95": quantile(&deltas, 0.95),
            "frame_ms_max": deltas.last().copied().unwrap_or(f64::NAN),
            "edit_paint_ms_p50": quantile(&edit_paints, 0.5),
            "edit_paint_ms_p95": quantile(&edit_paints, 0.95),
            "long_tasks": long.len(),
            "long_task_ms_total": long.iter().sum::<f64>(),
            "long_task_ms_max": long.last().copied().unwrap_or(0.0),
        });
        println!("editor-bench {report}");
        assert!(!deltas.is_empty() && !orbit_frames.is_empty(), "the page answered with its frame times: {report}");
    })
    .await;
}
