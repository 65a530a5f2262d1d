//! Browser tests of files: open a scene JSON and import glTF files (.glb and .gltf) the test
//! builds itself, through the real `<input type=file>` elements; export .glb, save JSON and
//! save a PNG of the viewport, reading the produced Blob back from the page.

use std::collections::BTreeSet;

use fantoccini::Locator;
use serde_json::{json, Value};
use shared::interchange;
use shared::scene::{IdGen, NodeId, NodeKind, Scene};
use tests::browser::*;
use yrs::{Doc, Transact};

use super::harness::*;

/// A small scene: a group holding a mesh, and a light.
fn sample_scene() -> Doc {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let client = doc.client_id().get();
    let mut txn = doc.transact_mut();
    scene.add_node(&mut txn, NodeId::new(client, 0), "Rig", NodeKind::Group, None);
    scene.add_node(&mut txn, NodeId::new(client, 1), "Wheel", NodeKind::Mesh, Some(&NodeId::new(client, 0)));
    scene.add_node(&mut txn, NodeId::new(client, 2), "Lamp", NodeKind::Light, None);
    drop(txn);
    doc
}

fn names_of(doc: &Doc) -> BTreeSet<String> {
    Scene::new(doc).nodes(&doc.transact()).into_iter().map(|n| n.name).collect()
}

/// Chooses `path` in the file input `css` (chromedriver sets the file).
async fn choose(page: &Page, css: &str, path: &std::path::Path) {
    open_menu_of(page, css).await;
    let input = page.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{}: no {css}: {e}", page.name));
    input.send_keys(path.to_str().expect("utf-8 path")).await.unwrap_or_else(|e| panic!("{}: choosing a file failed: {e}", page.name));
}

/// Waits for the page to produce a file of `kind`, then fetches its Blob URL in the page.
async fn produced(page: &Page, kind: &str) -> Vec<u8> {
    wait_js(page, &format!("a produced {kind} file"), "return document.getElementById('files')?.dataset.lastKind === arguments[0];", vec![json!(kind)]).await;
    let url = js(page, "return document.getElementById('files').dataset.lastUrl;", vec![]).await;
    let bytes = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        page.client.execute_async(
            "const [url, done] = arguments; fetch(url).then((r) => r.arrayBuffer()) \
             .then((b) => done(Array.from(new Uint8Array(b)))).catch((e) => done(String(e)));",
            vec![url],
        ),
    )
    .await
    .expect("fetching the blob in time")
    .expect("the script runs");
    let Value::Array(bytes) = bytes else { panic!("{}: fetching the {kind} blob failed: {bytes}", page.name) };
    bytes.iter().map(|b| b.as_u64().unwrap_or(0) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_open_json_import_gltf_and_export() {
    with_browsers(|browsers| async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let sample = sample_scene();
        let scene = Scene::new(&sample);
        let json_path = dir.path().join("scene.json");
        std::fs::write(&json_path, interchange::save_scene_json(&scene, &sample.transact())).unwrap();
        let glb_path = dir.path().join("scene.glb");
        std::fs::write(&glb_path, interchange::export_glb(&scene, &sample.transact(), |_| {}).unwrap()).unwrap();
        let gltf_path = dir.path().join("pair.gltf");
        std::fs::write(
            &gltf_path,
            r#"{"asset":{"version":"2.0"},"scene":0,"scenes":[{"nodes":[0]}],
                "nodes":[{"name":"Parent","children":[1]},{"name":"Child","translation":[1,2,3]}]}"#,
        )
        .unwrap();

        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("files")).await;
        page.wait_synced().await;

        // Open the JSON: exactly the sample's three nodes.
        choose(&page, "#open-json", &json_path).await;
        let shown = page.wait_nodes(3).await;
        let names: BTreeSet<String> = shown.list.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, names_of(&sample));

        // Import the .glb the library exported, then a hand-written .gltf.
        choose(&page, "#import-gltf", &glb_path).await;
        page.wait_nodes(6).await;
        choose(&page, "#import-gltf", &gltf_path).await;
        let shown = page.wait_nodes(8).await;
        assert!(shown.list.iter().any(|(n, _)| n == "Child"), "{:?}", shown.list);
        wait_js(&page, "the last import's count", "return document.getElementById('files').dataset.imported === '2';", vec![]).await;

        // Export .glb: the file holds the page's eight nodes.
        click(&page, "#export-glb").await;
        let glb = produced(&page, "glb").await;
        let back = Doc::new();
        {
            let back_scene = Scene::new(&back); // before the transaction: it may create the root map
            let mut txn = back.transact_mut();
            let mut ids = IdGen::new(back.client_id().get());
            let summary = interchange::import_gltf(&back_scene, &mut txn, &mut ids, None, &glb, |_| {}).expect("the exported .glb imports");
            assert_eq!(summary.nodes_created, 8);
        }

        // Save JSON: it opens natively with the same eight names.
        click(&page, "#save-json").await;
        let saved = produced(&page, "json").await;
        let copy = Doc::new();
        {
            let copy_scene = Scene::new(&copy);
            let mut txn = copy.transact_mut();
            let mut ids = IdGen::new(copy.client_id().get());
            let text = String::from_utf8(saved).expect("utf-8 JSON");
            interchange::open_scene_json(&copy_scene, &mut txn, &mut ids, &text, interchange::OpenMode::IntoEmpty).expect("the saved JSON opens");
        }
        assert_eq!(Scene::new(&copy).node_count(&copy.transact()), 8);

        // PNG of the viewport.
        click(&page, "#save-png").await;
        let png = produced(&page, "png").await;
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 100, "a PNG ({} bytes)", png.len());

        // Importing was one edit: undo takes the .gltf's two nodes away again.
        click(&page, "#undo").await;
        page.wait_nodes(6).await;
    })
    .await;
}

/// The toolbar's File menu: its items are in the page but not shown until it opens; it
/// closes on Escape, on a press elsewhere, and once an item is chosen (which then runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_the_file_menu_opens_and_closes_as_a_menu_does() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let page = browsers.open(&relay.page("file-menu")).await;
        page.wait_synced().await;
        let state = "const m = document.getElementById('file-menu'); const item = document.getElementById('save-json'); \
                     return [m.open, item.checkVisibility()];";
        let shown = || async { js(&page, state, vec![]).await };
        assert_eq!(shown().await, json!([false, false]), "closed, its items not shown");

        click(&page, "#file-menu > summary").await;
        assert_eq!(shown().await, json!([true, true]), "open on its button");
        screenshot(&page, "file-menu").await;
        press(&page, &[], '\u{e00c}').await; // Escape
        assert_eq!(shown().await, json!([false, false]), "closed by Escape");

        click(&page, "#file-menu > summary").await;
        assert_eq!(shown().await, json!([true, true]));
        click(&page, "#node-count").await;
        assert_eq!(shown().await, json!([false, false]), "closed by a press elsewhere");

        click(&page, "#save-json").await; // opens the menu first, as a person would
        produced(&page, "json").await;
        assert_eq!(shown().await, json!([false, false]), "closed once an item was chosen");
    })
    .await;
}
