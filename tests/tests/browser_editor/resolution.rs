//! Browser test of the viewport's adaptive resolution (`client/src/viewport/resolution.rs`):
//! a peer's edits a few times a second, each frame cheap, keep the picture at full
//! resolution. The viewport used to read the time between two paints as the cost of a
//! frame, so every paint of such edits was drawn at 40 % of the pixels on any GPU.
//! Also the paint log `bench_resolution` records with.

use std::time::Duration;

use serde_json::Value;
use shared::scene::{NodeId, NumberKey, Scene};
use tests::browser::*;
use tests::TestClient;

use super::harness::js;
use yrs::Transact;

use super::bench::seed;

/// Starts recording each paint of the viewport (a change of `data-frames`): when, at what
/// scale, and, at the next animation frame, what the frame cost as the viewport measured it
/// (`data-frame-cost-ms`); `window.__stopPaintLog()` stops and answers the log.
pub(super) const START_PAINT_LOG_JS: &str = r#"
window.__paintLog = [];
const v = document.getElementById('viewport');
let seen = v.getAttribute('data-frames');
const watch = new MutationObserver(() => {
    const frames = v.getAttribute('data-frames');
    if (frames === seen) return;
    seen = frames;
    const entry = { at: performance.now(), scale: Number(v.getAttribute('data-render-scale')), cost: null };
    window.__paintLog.push(entry);
    requestAnimationFrame(() => {
        const cost = v.getAttribute('data-frame-cost-ms');
        entry.cost = cost === null ? null : Number(cost);
    });
});
watch.observe(v, { attributes: true, attributeFilter: ['data-frames'] });
window.__stopPaintLog = () => { watch.disconnect(); return window.__paintLog; };
"#;

/// Moves `node` `per_second` times a second for `seconds`, from a native client.
pub(super) async fn edit_steadily(peer: &TestClient, scene: &Scene, node: &NodeId, per_second: u64, seconds: u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_second));
    for n in 0..per_second * seconds {
        tick.tick().await;
        let mut txn = peer.doc.transact_mut();
        let _ = scene.set_number(&mut txn, node, NumberKey::Px, (n % 50) as f64 * 0.1);
    }
}

/// The log's entries.
pub(super) async fn stop_paint_log(page: &Page) -> Vec<Value> {
    let log = page.client.execute("return window.__stopPaintLog();", vec![]).await.expect("the paint log");
    log.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewport_a_peers_occasional_edits_keep_full_resolution() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (peer, scene, moving) = seed(&relay, "occasional", 20).await;
        let page = browsers.open(&relay.page("occasional")).await;
        page.wait_synced().await;
        // A smaller window: frames stay cheap on the CPU rasteriser while other tests run.
        page.client.set_window_size(800, 600).await.expect("the window resized");

        // The page's first frames (compiling, uploading) are slow on SwiftShader and lower the
        // scale; cheap frames raise it again, a step per eight. Edits ten times a second (no
        // full-resolution paint after a motion comes between them) until one is drawn at full
        // resolution. Read from the time between paints, every one of them was slow.
        page.client.execute(START_PAINT_LOG_JS, vec![]).await.expect("the paint log starts");
        let mut recovered = false;
        for _ in 0..15 {
            edit_steadily(&peer, &scene, &moving, 10, 1).await;
            if js(&page, "return window.__paintLog.some((p) => p.scale === 1);", vec![]).await == Value::Bool(true) {
                recovered = true;
                break;
            }
        }
        let log = stop_paint_log(&page).await;
        assert!(recovered, "a paint at full resolution within 15 s of cheap frames: {:?}", summary(&log));

        // Then five edits a second: the scale drops only after a frame that was slow.
        page.client.execute(START_PAINT_LOG_JS, vec![]).await.expect("the paint log starts");
        edit_steadily(&peer, &scene, &moving, 5, 4).await;
        let log = stop_paint_log(&page).await;
        assert!(log.len() >= 10, "the page painted the peer's edits: {:?}", summary(&log));
        for pair in log.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            let dropped = after["scale"].as_f64() < before["scale"].as_f64();
            let slow = before["cost"].as_f64().is_some_and(|ms| ms > 45.0);
            assert!(!dropped || slow, "the scale dropped after a frame that took {} ms: {:?}", before["cost"], summary(&log));
        }
    })
    .await;
}

/// Each paint as "scale@cost".
fn summary(log: &[Value]) -> Vec<String> {
    log.iter().map(|p| format!("{}@{}ms", p["scale"], p["cost"])).collect()
}
