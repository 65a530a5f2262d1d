//! Browser tests of triangle meshes, with models made by Python's trimesh
//! (tests/fixtures/meshes): an imported model is drawn as its triangles (the torus's hole
//! shows, where its stand-in box would be solid), its triangle count shows in the property
//! panel, the other browser and a native client get the same mesh, the page's export
//! re-imports with the same triangles and positions; two people importing one model at once
//! store it once; a hostile file is refused with a message and adds nothing; the mesh is
//! still drawn after a reload without the relay; restoring a point from before an import
//! removes it and undo brings it back.

use std::path::PathBuf;

use fantoccini::Locator;
use shared::interchange;
use shared::scene::{IdGen, Scene};
use tests::browser::*;
use tests::{eventually, TestClient};
use yrs::{Doc, ReadTxn, Transact};

use super::editing::pair;
use super::harness::*;

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/meshes").join(name)
}

/// Chooses a file in the page's glTF import input.
async fn import(page: &Page, path: &std::path::Path) {
    let input = page.client.find(Locator::Css("#import-gltf")).await.unwrap_or_else(|e| panic!("{}: no import input: {e}", page.name));
    input.send_keys(path.to_str().expect("utf-8 path")).await.unwrap_or_else(|e| panic!("{}: choosing a file failed: {e}", page.name));
}

fn red(p: [u8; 4]) -> bool {
    i32::from(p[0]) > i32::from(p[1]) + 50 && i32::from(p[0]) > i32::from(p[2]) + 50
}

/// Frames the selected torus in the front view and checks its silhouette: the ring is red,
/// the hole in its middle is not (the stand-in box would fill it).
async fn torus_silhouette(page: &Page) {
    click(page, "#node-count").await;
    press(page, &[], 'f').await;
    press(page, &[], '2').await;
    let front = wait_for(page, "the front view", |s| s.view == "front").await;
    let (w, h) = canvas_size(page).await;
    let centre = (w / 2.0, h / 2.0);
    // Deselect, so the gizmo at the centre does not hide the hole.
    press(page, &[], '\u{e00c}').await;
    wait_for(page, "nothing selected", |s| s.selection.is_empty()).await;
    let ring = (centre.0 + front.zoom, centre.1);
    // The hole (radius 0.65 around the centre) at five points: a peer's presence (its
    // camera's frustum, its cursor, in its colour) may cross one or two of them, the stand-in
    // box would cover all five.
    let r = 0.3 * front.zoom;
    let hole_points = [centre, (centre.0 + r, centre.1), (centre.0 - r, centre.1), (centre.0, centre.1 + r), (centre.0, centre.1 - r)];
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let side = pixel(page, ring).await;
        let mut hole = Vec::new();
        for point in hole_points {
            hole.push(pixel(page, point).await);
        }
        if red(side) && hole.iter().filter(|p| !red(**p)).count() >= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}: the torus's ring {side:?} should be red and its hole {hole:?} not", page.name);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_keep_their_triangles_in_both_browsers_a_native_client_and_the_export() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "torus").await;
        import(&a, &fixture("torus.glb")).await;
        let shown = a.wait_nodes(1).await;
        assert_eq!(shown.list, vec![("Torus".to_owned(), "mesh".to_owned())]);
        let id = wait_for(&a, "the torus selected", |s| !s.selection.is_empty()).await.selection;
        wait_js(&a, "2,304 triangles in the panel", "const e = document.getElementById('prop-mesh'); return !!e && e.dataset.triangles === '2304';", vec![]).await;
        torus_silhouette(&a).await;
        screenshot(&a, "mesh-torus").await;

        // The other browser: the same node, the same mesh.
        b.wait_nodes(1).await;
        click_row(&b, &id).await;
        wait_js(&b, "the torus's triangles in B's panel", "const e = document.getElementById('prop-mesh'); return !!e && e.dataset.triangles === '2304';", vec![]).await;
        torus_silhouette(&b).await;

        // A native client reads it with the scene model.
        let native = TestClient::join(&relay.ws(), "torus").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "the mesh in the native copy", || {
            let ok = scene.nodes(&native.doc.transact()).iter().any(|n| n.mesh.as_ref().is_some_and(|m| scene.mesh(&native.doc.transact(), m).is_ok_and(|t| t.triangle_count() == 2304)));
            async move { ok }
        })
        .await;
        let stored = {
            let txn = native.doc.transact();
            let node = scene.nodes(&txn).into_iter().find(|n| n.mesh.is_some()).expect("the mesh node");
            scene.mesh(&txn, node.mesh.as_ref().expect("a mesh")).expect("readable")
        };

        // The page's export re-imports with the same triangles and vertex positions.
        click(&a, "#export-glb").await;
        wait_js(&a, "the export", "return document.getElementById('files')?.dataset.lastKind === 'glb';", vec![]).await;
        let url = js(&a, "return document.getElementById('files').dataset.lastUrl;", vec![]).await;
        let bytes = a
            .client
            .execute_async(
                "const [url, done] = arguments; fetch(url).then((r) => r.arrayBuffer()).then((b) => done(Array.from(new Uint8Array(b))));",
                vec![url],
            )
            .await
            .expect("the exported file");
        let glb: Vec<u8> = bytes.as_array().map(|a| a.iter().map(|b| b.as_u64().unwrap_or(0) as u8).collect()).unwrap_or_default();
        let back = Doc::new();
        let back_scene = Scene::new(&back);
        interchange::import_gltf(&back_scene, &mut back.transact_mut(), &mut IdGen::new(7), None, &glb, |_| {}).expect("the export imports");
        let txn = back.transact();
        let node = back_scene.nodes(&txn).into_iter().find(|n| n.mesh.is_some()).expect("still a mesh");
        let again = back_scene.mesh(&txn, node.mesh.as_ref().expect("a mesh")).expect("readable");
        assert_eq!(again.triangle_count(), 2304);
        assert_eq!(again.indices, stored.indices);
        assert!(again.positions.iter().zip(&stored.positions).all(|(p, q)| (0..3).all(|i| (p[i] - q[i]).abs() < 1e-6)));
        native.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_imported_by_two_people_at_once_are_stored_once() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = pair(&browsers, &relay, "twice").await;
        let path = fixture("two_parts.glb");
        tokio::join!(import(&a, &path), import(&b, &path));
        for page in [&a, &b] {
            page.wait_nodes(4).await;
        }
        let native = TestClient::join(&relay.ws(), "twice").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "four nodes and both meshes in the native copy", || {
            let txn = native.doc.transact();
            let ok = scene.node_count(&txn) == 4 && scene.mesh_ids(&txn).len() == 2;
            async move { ok }
        })
        .await;
        let txn = native.doc.transact();
        let one_copy = scene.mesh_storage_bytes(&txn);
        let whole = txn.encode_state_as_update_v1(&yrs::StateVector::default()).len();
        // The document holds each mesh once: the losing copy of each concurrent write was
        // dropped (yrs keeps no content of deleted map values).
        assert!(whole < one_copy + one_copy / 2, "the document is {whole} bytes for {one_copy} bytes of meshes");
        drop(txn);
        native.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_a_hostile_model_is_refused_with_a_message_and_adds_nothing() {
    with_browsers(|browsers| async move {
        let dir = tempfile::tempdir().expect("temp dir");
        // The torus with its last triangle index past its vertices.
        let mut bytes = std::fs::read(fixture("torus.glb")).expect("the fixture");
        let json_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let gltf: serde_json::Value = serde_json::from_slice(&bytes[20..20 + json_len]).expect("the fixture's JSON");
        let accessor = &gltf["accessors"][gltf["meshes"][0]["primitives"][0]["indices"].as_u64().expect("indexed") as usize];
        let view = &gltf["bufferViews"][accessor["bufferView"].as_u64().expect("in a view") as usize];
        let size = match accessor["componentType"].as_u64() {
            Some(5121) => 1,
            Some(5123) => 2,
            _ => 4,
        };
        let count = accessor["count"].as_u64().expect("a count") as usize;
        let at = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as usize;
        let bin_start = 20 + json_len + 8;
        let last = bin_start + at(&view["byteOffset"]) + at(&accessor["byteOffset"]) + (count - 1) * size;
        let bad = [0xff_u8; 4];
        bytes[last..last + size].copy_from_slice(&bad[..size]);
        let path = dir.path().join("hostile.glb");
        std::fs::write(&path, &bytes).expect("written");

        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("hostile")).await;
        page.wait_synced().await;
        import(&page, &path).await;
        wait_js(&page, "the refusal", "const m = document.getElementById('file-message'); return !!m && m.textContent.includes('out of range');", vec![]).await;
        assert_eq!(page.snapshot().await.expect("a snapshot").nodes.as_deref(), Some("0"), "nothing added");
        // The page keeps working: a box can be added and the model itself still imports.
        page.add_node().await;
        page.wait_nodes(1).await;
        import(&page, &fixture("torus.glb")).await;
        page.wait_nodes(2).await;
        let native = TestClient::join(&relay.ws(), "hostile").await;
        let scene = Scene::new(&native.doc);
        eventually(WAIT, "exactly the good mesh stored", || {
            let n = scene.mesh_ids(&native.doc.transact()).len();
            async move { n == 1 }
        })
        .await;
        native.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_are_drawn_after_a_reload_without_the_relay() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("away")).await;
        page.wait_synced().await;
        import(&page, &fixture("torus.glb")).await;
        page.wait_nodes(1).await;
        super::offline::wait_kept(&page).await;
        let _stopped = relay.stop().await;
        page.client.refresh().await.expect("reload while the relay is down");
        page.wait_nodes(1).await;
        let first = state(&page).await.ids[0].clone();
        click_row(&page, &first).await;
        wait_js(&page, "the mesh from this device's copy", "const e = document.getElementById('prop-mesh'); return !!e && e.dataset.triangles === '2304';", vec![]).await;
        torus_silhouette(&page).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meshes_a_restore_from_before_an_import_removes_them_and_undo_brings_them_back() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("undo-import")).await;
        page.wait_synced().await;
        js(
            &page,
            "const e = document.getElementById('restore-name'); e.value = 'empty'; e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
            vec![],
        )
        .await;
        click(&page, "#restore-create").await;
        wait_js(&page, "the point listed", "return document.querySelectorAll('#restore-list li').length === 1;", vec![]).await;
        import(&page, &fixture("torus.glb")).await;
        page.wait_nodes(1).await;
        click(&page, "#restore-list li .restore-apply").await;
        page.wait_nodes(0).await;
        click(&page, "#undo").await;
        page.wait_nodes(1).await;
        let first = state(&page).await.ids[0].clone();
        click_row(&page, &first).await;
        wait_js(&page, "the mesh back, drawn", "const e = document.getElementById('prop-mesh'); return !!e && e.dataset.triangles === '2304';", vec![]).await;
        torus_silhouette(&page).await;
    })
    .await;
}
