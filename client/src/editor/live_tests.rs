//! Browser tests of [`super::live`] (wasm-bindgen-test, headless Chromium: they need real
//! animation frames): changes reach the UI once per frame, one node's edit touches that
//! node's signal only, and the hierarchy follows the shared resolution rules.

use leptos::prelude::*;
use shared::scene::{NodeId, NodeKind, NumberKey, Scene};
use wasm_bindgen_test::wasm_bindgen_test;
use yrs::{Doc, Map, Out, Transact};

use super::live::LiveScene;

/// Resolves after the browser's next animation frame (its callbacks, flushes among them,
/// have run by then).
async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().expect("a window").request_animation_frame(&resolve).expect("a frame");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("the frame came");
}

/// A live scene over a fresh document; its signals live as long as the returned owner.
fn live_scene() -> (Owner, Doc, Scene, LiveScene) {
    let owner = Owner::new();
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let live = owner.with(|| LiveScene::new(StoredValue::new(doc.clone()), StoredValue::new(scene.clone())));
    (owner, doc, scene, live)
}

fn add(doc: &Doc, scene: &Scene, id: &str, parent: Option<&str>) -> NodeId {
    let mut txn = doc.transact_mut();
    scene.add_node(&mut txn, NodeId::from(id), id, NodeKind::Group, parent.map(NodeId::from).as_ref())
}

fn px(live: &LiveScene, id: &NodeId) -> Option<f64> {
    live.tree().with_untracked(|t| t.node(id).map(|n| n.transform.position[0]))
}

#[wasm_bindgen_test]
async fn remote_changes_wait_for_the_next_frame_and_arrive_together() {
    let (_owner, doc, scene, live) = live_scene();
    let a = add(&doc, &scene, "a", None);
    assert_eq!(live.outline().with_untracked(Vec::len), 0, "nothing shown before the frame");
    next_frame().await;
    assert_eq!(live.outline().get_untracked(), vec![(a.clone(), 0)]);

    // Three transactions (three remote updates) in one frame: one refresh, the last value.
    for x in [1.0, 2.0, 3.0] {
        let mut txn = doc.transact_mut();
        scene.set_number(&mut txn, &a, NumberKey::Px, x).expect("a exists");
    }
    assert_eq!(px(&live, &a), Some(0.0), "still the old value until the frame");
    next_frame().await;
    assert_eq!(px(&live, &a), Some(3.0));

    // flush() (what the editor calls after its own edits) applies at once.
    {
        let mut txn = doc.transact_mut();
        scene.set_number(&mut txn, &a, NumberKey::Px, 4.0).expect("a exists");
    }
    live.flush();
    assert_eq!(px(&live, &a), Some(4.0));
}

#[wasm_bindgen_test]
async fn one_nodes_edit_sets_that_nodes_signal_only_and_keeps_the_outline() {
    let (_owner, doc, scene, live) = live_scene();
    let (a, b) = (add(&doc, &scene, "a", None), add(&doc, &scene, "b", None));
    next_frame().await;
    let (sig_a, sig_b) = (live.node(&a), live.node(&b));
    let outline = live.outline();
    let before_b = sig_b.get_untracked();
    let outline_before = outline.get_untracked();
    {
        let mut txn = doc.transact_mut();
        scene.rename(&mut txn, &a, "renamed");
    }
    next_frame().await;
    assert_eq!(sig_a.with_untracked(|n| n.as_ref().map(|n| n.name.clone())), Some("renamed".to_owned()));
    assert_eq!(sig_b.get_untracked(), before_b, "b untouched");
    assert_eq!(outline.get_untracked(), outline_before, "no change to the hierarchy");

    // Deleting a node empties its signal and drops it from the outline.
    {
        let mut txn = doc.transact_mut();
        assert!(scene.remove_node(&mut txn, &a));
    }
    next_frame().await;
    assert_eq!(sig_a.get_untracked(), None);
    assert_eq!(outline.get_untracked(), vec![(b.clone(), 0)]);
    // ...and the live scene no longer keeps it: one signal left, b's.
    assert_eq!(live.kept_signals(), 1, "a deleted node's signal is forgotten");
    // A node of that id coming back gets a fresh signal with its new value.
    add(&doc, &scene, "a", None);
    next_frame().await;
    assert_eq!(live.node(&a).with_untracked(|n| n.as_ref().map(|n| n.name.clone())), Some("a".to_owned()));
    assert_eq!(live.kept_signals(), 2);
}

#[wasm_bindgen_test]
async fn hierarchy_changes_resolve_with_the_shared_rules() {
    let (_owner, doc, scene, live) = live_scene();
    let (x, y) = (add(&doc, &scene, "x", None), add(&doc, &scene, "y", None));
    next_frame().await;
    // A stored cycle (as two concurrent reparentings leave): x under y, y under x. The shared
    // rule breaks it at the smallest id, so x is the root with y below it.
    {
        let mut txn = doc.transact_mut();
        for (child, parent) in [("x", "y"), ("y", "x")] {
            let Some(Out::YMap(map)) = scene.root().get(&txn, child) else { panic!("{child} is a map") };
            map.insert(&mut txn, "parent", parent);
        }
    }
    next_frame().await;
    assert_eq!(live.outline().get_untracked(), vec![(x.clone(), 0), (y.clone(), 1)]);
    let expected = scene.tree(&doc.transact());
    assert_eq!(live.tree().with_untracked(Clone::clone), expected, "the same tree as resolving from scratch");
}
