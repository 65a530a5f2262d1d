//! Concurrency tests of the scene model: two or three documents edit at once, their updates
//! are merged in both orders, and every replica must resolve the same scene.

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::*;

fn update_since(doc: &Doc, sv: &StateVector) -> Vec<u8> {
    doc.transact().encode_state_as_update_v1(sv)
}

fn apply(doc: &Doc, update: &[u8]) {
    doc.transact_mut().apply_update(Update::decode_v1(update).unwrap()).unwrap();
}

fn state(doc: &Doc) -> Vec<u8> {
    update_since(doc, &StateVector::default())
}

/// A fresh replica of `doc` with its own client id.
fn fork(doc: &Doc, client_id: u64) -> Doc {
    let out = Doc::with_client_id(client_id);
    apply(&out, &state(doc));
    out
}

/// Runs `edit_a` on one replica of `base` and `edit_b` on another, then merges their updates
/// into two more replicas in opposite orders (and into each other). Returns the four replicas.
fn concurrently(base: &Doc, edit_a: impl FnOnce(&Doc, &Scene), edit_b: impl FnOnce(&Doc, &Scene)) -> [Doc; 4] {
    let (a, b) = (fork(base, 11), fork(base, 12));
    let sv = base.transact().state_vector();
    edit_a(&a, &Scene::new(&a));
    edit_b(&b, &Scene::new(&b));
    let (ua, ub) = (update_since(&a, &sv), update_since(&b, &sv));
    let (ab, ba) = (fork(base, 13), fork(base, 14));
    apply(&ab, &ua);
    apply(&ab, &ub);
    apply(&ba, &ub);
    apply(&ba, &ua);
    apply(&a, &ub);
    apply(&b, &ua);
    [a, b, ab, ba]
}

fn tree(doc: &Doc) -> SceneTree {
    Scene::new(doc).tree(&doc.transact())
}

fn outline(doc: &Doc) -> Vec<(String, usize)> {
    tree(doc).depth_first().into_iter().map(|(n, d)| (n.name.clone(), d)).collect()
}

fn assert_converged(replicas: &[Doc; 4]) -> SceneTree {
    let first = tree(&replicas[0]);
    for r in &replicas[1..] {
        assert_eq!(tree(r), first, "replicas resolved different scenes");
    }
    first
}

fn id(s: &str) -> NodeId {
    NodeId::from(s)
}

/// root: `g` (group) holding `c1`, `c2`; and `x`, `y` at the root.
fn base_scene() -> Doc {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    scene.add_node(&mut txn, id("g"), "G", NodeKind::Group, None);
    scene.add_node(&mut txn, id("c1"), "C1", NodeKind::Mesh, Some(&id("g")));
    scene.add_node(&mut txn, id("c2"), "C2", NodeKind::Light, Some(&id("g")));
    scene.add_node(&mut txn, id("x"), "X", NodeKind::Group, None);
    scene.add_node(&mut txn, id("y"), "Y", NodeKind::Group, None);
    drop(txn);
    doc
}

#[test]
fn nodes_added_on_two_docs_merge() {
    let a = Doc::with_client_id(1);
    let b = Doc::with_client_id(2);
    let (sa, sb) = (Scene::new(&a), Scene::new(&b));
    let root = sa.add_node(&mut a.transact_mut(), NodeId::new(1, 0), "Root", NodeKind::Group, None);
    sb.add_node(&mut b.transact_mut(), NodeId::new(2, 0), "Lamp", NodeKind::Light, None);
    sa.add_node(&mut a.transact_mut(), NodeId::new(1, 1), "Box", NodeKind::Mesh, Some(&root));
    let (ua, ub) = (state(&a), state(&b));
    apply(&a, &ub);
    apply(&b, &ua);
    let na = sa.nodes(&a.transact());
    assert_eq!(na, sb.nodes(&b.transact()));
    assert_eq!(na.len(), 3);
    let boxed = na.iter().find(|n| n.name == "Box").unwrap();
    assert_eq!(boxed.parent.as_ref(), Some(&root));
    assert_eq!(boxed.kind, NodeKind::Mesh);
    assert_eq!(boxed.primitive, Some(Primitive::default()));
    assert_eq!(node_count(&b), 3);
}

#[test]
fn editing_x_and_y_of_one_object_at_once_keeps_both() {
    let base = base_scene();
    let replicas = concurrently(
        &base,
        |d, s| s.set_number(&mut d.transact_mut(), &id("c1"), NumberKey::Px, 2.5).unwrap(),
        |d, s| s.set_number(&mut d.transact_mut(), &id("c1"), NumberKey::Py, -4.0).unwrap(),
    );
    let tree = assert_converged(&replicas);
    assert_eq!(tree.node(&id("c1")).unwrap().transform.position, [2.5, -4.0, 0.0]);
}

#[test]
fn conflicting_reparents_resolve_alike_in_both_merge_orders() {
    let base = base_scene();
    // A puts x under y while B puts y under x: the stored parents form a cycle.
    let replicas = concurrently(
        &base,
        |d, s| s.reparent(&mut d.transact_mut(), &id("x"), Some(&id("y"))).unwrap(),
        |d, s| s.reparent(&mut d.transact_mut(), &id("y"), Some(&id("x"))).unwrap(),
    );
    let tree = assert_converged(&replicas);
    // Broken at the smallest id: x is a root, y stays under it.
    assert_eq!(tree.parent(&id("x")), None);
    assert_eq!(tree.parent(&id("y")), Some(&id("x")));
    assert_eq!(outline(&replicas[2]), [("G", 0), ("C1", 1), ("C2", 1), ("X", 0), ("Y", 1)].map(|(n, d)| (n.to_owned(), d)));
    // Locally, the model refuses to make a cycle.
    let doc = &replicas[0];
    let err = Scene::new(doc).reparent(&mut doc.transact_mut(), &id("x"), Some(&id("y")));
    assert_eq!(err, Err(SceneError::Cycle { node: id("x"), parent: id("y") }));
}

#[test]
fn three_way_reparent_cycle_resolves_alike() {
    let base = base_scene();
    let a = fork(&base, 21);
    let b = fork(&base, 22);
    let c = fork(&base, 23);
    let sv = base.transact().state_vector();
    Scene::new(&a).reparent(&mut a.transact_mut(), &id("g"), Some(&id("x"))).unwrap();
    Scene::new(&b).reparent(&mut b.transact_mut(), &id("x"), Some(&id("y"))).unwrap();
    Scene::new(&c).reparent(&mut c.transact_mut(), &id("y"), Some(&id("g"))).unwrap();
    let updates = [update_since(&a, &sv), update_since(&b, &sv), update_since(&c, &sv)];
    let mut trees = Vec::new();
    for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]] {
        let r = fork(&base, 30);
        for i in order {
            apply(&r, &updates[i]);
        }
        trees.push(tree(&r));
    }
    assert!(trees.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(trees[0].parent(&id("g")), None, "g is the smallest id of the cycle g→x→y→g");
    assert_eq!(trees[0].len(), 5);
}

#[test]
fn deleting_a_group_while_someone_edits_a_child_loses_the_edit_with_the_child() {
    let base = base_scene();
    let replicas = concurrently(
        &base,
        |d, s| assert!(s.remove_node(&mut d.transact_mut(), &id("g"))),
        |d, s| {
            let mut txn = d.transact_mut();
            s.set_name(&mut txn, &id("c1"), "renamed").unwrap();
            s.set_number(&mut txn, &id("c1"), NumberKey::Px, 9.0).unwrap();
        },
    );
    let tree = assert_converged(&replicas);
    for gone in ["g", "c1", "c2"] {
        assert!(tree.get(&id(gone)).is_none(), "{gone} should be deleted");
    }
    assert_eq!(tree.len(), 2);
}

#[test]
fn a_child_added_under_a_concurrently_deleted_group_shows_at_the_root() {
    let base = base_scene();
    let replicas = concurrently(
        &base,
        |d, s| assert!(s.remove_node(&mut d.transact_mut(), &id("g"))),
        |d, s| {
            s.add_node(&mut d.transact_mut(), id("new"), "New", NodeKind::Mesh, Some(&id("g")));
        },
    );
    let tree = assert_converged(&replicas);
    assert!(tree.get(&id("g")).is_none());
    assert_eq!(tree.node(&id("new")).unwrap().parent, Some(id("g")), "stored parent is kept");
    assert_eq!(tree.parent(&id("new")), None, "but it resolves to the root");
    assert!(tree.roots().contains(&id("new")));
}

#[test]
fn concurrent_inserts_at_one_spot_both_survive_in_a_stable_order() {
    let base = base_scene();
    let replicas = concurrently(
        &base,
        |d, s| {
            s.add_node_before(&mut d.transact_mut(), id("a-new"), "A", NodeKind::Mesh, Some(&id("g")), Some(&id("c2"))).unwrap();
        },
        |d, s| {
            s.add_node_before(&mut d.transact_mut(), id("b-new"), "B", NodeKind::Mesh, Some(&id("g")), Some(&id("c2"))).unwrap();
        },
    );
    let tree = assert_converged(&replicas);
    let names: Vec<_> = tree.children(Some(&id("g"))).iter().map(|c| tree.node(c).unwrap().name.clone()).collect();
    assert_eq!(names, ["C1", "A", "B", "C2"]);
    // Inserting between the two equal keys still lands between C1 and C2.
    let doc = &replicas[0];
    let scene = Scene::new(doc);
    scene.add_node_before(&mut doc.transact_mut(), id("c-new"), "C", NodeKind::Mesh, Some(&id("g")), Some(&id("b-new"))).unwrap();
    let tree = scene.tree(&doc.transact());
    let names: Vec<_> = tree.children(Some(&id("g"))).iter().map(|c| tree.node(c).unwrap().name.clone()).collect();
    assert_eq!(names, ["C1", "C", "A", "B", "C2"]);
}
