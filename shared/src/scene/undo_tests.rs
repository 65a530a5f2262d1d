//! Undo tracks only this client's edits, and one gesture is one step.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

use super::*;

fn sync(from: &Doc, to: &Doc) {
    let update = from.transact().encode_state_as_update_v1(&to.transact().state_vector());
    to.transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
}

fn position(doc: &Doc, id: &NodeId) -> Vec3 {
    Scene::new(doc).node(&doc.transact(), id).unwrap().transform.position
}

#[test]
fn undo_reverts_only_this_clients_edit() {
    let (a, b) = (Doc::with_client_id(1), Doc::with_client_id(2));
    let (sa, sb) = (Scene::new(&a), Scene::new(&b));
    let cube = sa.add_node(&mut a.transact_mut(), NodeId::new(1, 0), "Cube", NodeKind::Mesh, None);
    sync(&a, &b);
    let mut undo = SceneUndo::with_system_clock(&a, "local");

    sa.set_number(&mut a.transact_mut_with(undo.origin().clone()), &cube, NumberKey::Px, 3.0).unwrap();
    sync(&a, &b);
    sb.set_number(&mut b.transact_mut(), &cube, NumberKey::Py, 5.0).unwrap();
    sb.set_name(&mut b.transact_mut(), &cube, "B's cube").unwrap();
    sync(&b, &a);
    assert_eq!(position(&a, &cube), [3.0, 5.0, 0.0]);

    assert!(undo.can_undo());
    assert!(undo.undo());
    assert_eq!(position(&a, &cube), [0.0, 5.0, 0.0], "A's x is reverted, B's y stays");
    assert_eq!(sa.node(&a.transact(), &cube).unwrap().name, "B's cube");
    assert!(!undo.can_undo(), "B's edits are not on A's stack");
    sync(&a, &b);
    assert_eq!(position(&b, &cube), [0.0, 5.0, 0.0]);

    assert!(undo.redo());
    assert_eq!(position(&a, &cube), [3.0, 5.0, 0.0]);
}

#[test]
fn one_drag_is_one_undo_step_however_long_it_takes() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let cube = scene.add_node(&mut doc.transact_mut(), NodeId::new(1, 0), "Cube", NodeKind::Mesh, None);
    let now = Arc::new(AtomicU64::new(1_000));
    let clock = now.clone();
    let mut undo = SceneUndo::new(&doc, "local", move || clock.load(Ordering::SeqCst));
    let edit = |undo: &SceneUndo, x: f64| {
        scene.set_number(&mut doc.transact_mut_with(undo.origin().clone()), &cube, NumberKey::Px, x).unwrap();
    };

    edit(&undo, 1.0);
    now.fetch_add(10_000, Ordering::SeqCst);
    undo.begin_gesture();
    for step in 2..=20 {
        edit(&undo, step as f64);
        now.fetch_add(2_000, Ordering::SeqCst); // far beyond the capture window
    }
    undo.end_gesture();
    edit(&undo, 99.0);

    assert!(undo.undo());
    assert_eq!(position(&doc, &cube)[0], 20.0, "the edit after the drag is its own step");
    assert!(undo.undo());
    assert_eq!(position(&doc, &cube)[0], 1.0, "the whole drag is one step");
    assert!(undo.undo());
    assert_eq!(position(&doc, &cube)[0], 0.0);
    assert!(!undo.undo());
}

#[test]
fn undoing_a_delete_brings_the_subtree_back() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut undo = SceneUndo::with_system_clock(&doc, "local");
    {
        let mut txn = doc.transact_mut_with(undo.origin().clone());
        let g = scene.add_node(&mut txn, NodeId::from("g"), "G", NodeKind::Group, None);
        scene.add_node(&mut txn, NodeId::from("c"), "C", NodeKind::Mesh, Some(&g));
    }
    undo.reset();
    scene.remove_node(&mut doc.transact_mut_with(undo.origin().clone()), &NodeId::from("g"));
    assert_eq!(scene.node_count(&doc.transact()), 0);
    assert!(undo.undo());
    let tree = scene.tree(&doc.transact());
    assert_eq!(tree.parent(&NodeId::from("c")), Some(&NodeId::from("g")));
}
