//! The benchmark of a big triangle mesh in the editor (issue 15), run by
//! `scripts/bench-meshes.sh`, not by CI (`#[ignore]`): a model of about 100,000 triangles
//! (made by Python's trimesh) imported through the page's file input, a second browser
//! joining the room that holds it (navigation → the first frame drawing it) and a native
//! client syncing it, then 100 nodes using the one mesh drawn while orbiting in the default
//! view, where culling leaves the copies in view (draw calls, instances and triangles per
//! frame, frame and paint times). Figures are printed as one JSON line
//! (`mesh-bench {...}`) for BENCHMARKS.md.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::json;
use shared::scene::{IdGen, NodeKind, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::Transact;

use super::bench::{long_scripts, quantile, record, viewport_counters, FIRST_SHADED_FRAME_JS, ORBIT_JS};
use super::harness::open_menu_of;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-meshes.sh runs it"]
async fn bench_meshes_100k_triangles() {
    with_browsers(|browsers| async move {
        let model = std::env::var("MESH_BENCH_MODEL").unwrap_or_else(|_| repo_root().join("target/bench/big_model.glb").display().to_string());
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("big-mesh")).await;
        page.wait_synced().await;

        // Import: from choosing the file to the node listed (the page read, checked, hashed and
        // stored the mesh, and drew it).
        open_menu_of(&page, "#import-gltf").await;
        let input = page.client.find(Locator::Css("#import-gltf")).await.expect("the import input");
        let started = Instant::now();
        input.send_keys(&model).await.expect("choosing the model");
        page.wait_nodes(1).await;
        let import_ms = started.elapsed().as_secs_f64() * 1000.0;

        // A native client syncs the room; a second browser joins it.
        let started = Instant::now();
        let native = TestClient::join(&relay.ws(), "big-mesh").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the mesh in the native copy", || {
            let n = scene.mesh_ids(&native.doc.transact()).len();
            async move { n == 1 }
        })
        .await;
        let native_join_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (mesh_id, document_bytes, mesh_bytes, triangles) = {
            let txn = native.doc.transact();
            let id = scene.mesh_ids(&txn).into_iter().next().expect("a mesh");
            let triangles = scene.mesh_counts(&txn, &id).map_or(0, |c| c.1);
            let whole = yrs::ReadTxn::encode_state_as_update_v1(&txn, &yrs::StateVector::default()).len();
            (id, whole, scene.mesh_storage_bytes(&txn), triangles)
        };
        let joiner = browsers.open(&relay.page("big-mesh")).await;
        long_scripts(&joiner).await;
        let first_frame = joiner.client.execute_async(FIRST_SHADED_FRAME_JS, vec![json!(1)]).await.expect("a frame drawing the mesh");
        let browser_join_ms = first_frame.as_f64().unwrap_or(f64::NAN);

        // 100 nodes using the one mesh, in a 10 × 10 grid, written natively.
        {
            let mut txn = native.doc.transact_mut();
            let mut ids = IdGen::new(native.client_id().get());
            for i in 0..100 {
                let id = scene.add_node(&mut txn, ids.next(), &format!("Copy {i}"), NodeKind::Mesh, None);
                let _ = scene.set_mesh(&mut txn, &id, Some(&mesh_id));
                let _ = scene.set_position(&mut txn, &id, [(i % 10) as f64 * 2.5, 0.0, (i / 10) as f64 * 2.5]);
            }
        }
        let viewer = browsers.open(&relay.page("big-mesh")).await;
        long_scripts(&viewer).await;
        viewer.client.execute_async(FIRST_SHADED_FRAME_JS, vec![json!(101)]).await.expect("the copies drawn");
        // The default view (the first rows of copies; the rest culled): drawing all 100 copies,
        // 10 million triangles a frame, blocks a CPU rasteriser's page for over a minute.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let framed = viewport_counters(&viewer).await;
        let (frames, paints) = record(&viewer, async {
            viewer.client.execute_async(ORBIT_JS, vec![json!(12)]).await.expect("orbiting");
        })
        .await;
        let report = json!({
            "triangles": triangles,
            "import_in_page_ms": import_ms,
            "mesh_bytes_in_document": mesh_bytes,
            "document_bytes": document_bytes,
            "native_join_ms": native_join_ms,
            "browser_join_first_frame_ms": browser_join_ms,
            "copies": 100,
            "view": "default camera (target at the origin, 12 units away), copies outside the view culled",
            "framed_draw_calls": framed[0],
            "framed_instances": framed[1],
            "framed_triangles": framed[2],
            "framed_paint_ms": framed[3],
            "orbit_frames": frames.len(),
            "orbit_frame_ms_p50": quantile(&frames, 0.5),
            "orbit_frame_ms_p95": quantile(&frames, 0.95),
            "orbit_paint_ms_p50": quantile(&paints, 0.5),
            "orbit_paint_ms_p95": quantile(&paints, 0.95),
        });
        println!("mesh-bench {report}");
        assert!(!frames.is_empty() && triangles > 50_000, "{report}");
        native.close().await;
    })
    .await;
}
