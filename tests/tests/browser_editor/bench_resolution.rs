//! The viewport's adaptive resolution while another client edits now and then
//! (`bench_render_scale_while_a_peer_edits`, run by `scripts/bench-editor.sh`, not by CI).
//!
//! The viewport draws fewer pixels while its frames are slow (`client/src/viewport/resolution.rs`).
//! A peer's edits arriving a few times a second make paints that far apart. For every paint
//! while a native client moves one node of a small scene 4 and then 10 times a second, in
//! the default 1280×900 window, this records the scale it was drawn at and what its frame
//! cost, and prints a summary as one JSON line (`render-scale-bench {...}`).

use std::time::Duration;

use serde_json::{json, Value};
use tests::browser::*;

use super::bench::{quantile, seed};
use super::resolution::{edit_steadily, stop_paint_log, START_PAINT_LOG_JS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-editor.sh runs it"]
async fn bench_render_scale_while_a_peer_edits() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (peer, scene, moving) = seed(&relay, "sparse", 20).await;
        let page = browsers.open(&relay.page("sparse")).await;
        page.wait_synced().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut report = serde_json::Map::new();
        for per_second in [4u64, 10] {
            page.client.execute(START_PAINT_LOG_JS, vec![]).await.expect("the paint log starts");
            edit_steadily(&peer, &scene, &moving, per_second, 4).await;
            // The full-resolution paint after the last edit, if any, comes within 1.5 s.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let log = stop_paint_log(&page).await;
            let scales: Vec<f64> = log.iter().filter_map(|p| p["scale"].as_f64()).collect();
            let mut costs: Vec<f64> = log.iter().filter_map(|p| p["cost"].as_f64()).collect();
            costs.sort_by(f64::total_cmp);
            report.insert(
                format!("{per_second}_per_second"),
                json!({
                    "paints": scales.len(),
                    "paints_reduced": scales.iter().filter(|s| **s < 1.0).count(),
                    "lowest_scale": scales.iter().copied().fold(f64::INFINITY, f64::min),
                    "frame_cost_ms_p50": quantile(&costs, 0.5),
                    "frame_cost_ms_max": costs.last(),
                }),
            );
        }
        let report = Value::Object(report);
        println!("render-scale-bench {report}");
        assert!(report.as_object().is_some_and(|r| r.values().all(|v| v["paints"].as_u64().unwrap_or(0) > 0)), "the page painted the edits: {report}");
    })
    .await;
}
