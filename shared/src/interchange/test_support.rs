//! Test helpers: a varied scene built through the scene model, and a comparison of two
//! scenes' resolved trees with tolerances (ids aside).

use yrs::{Doc, Transact};

use crate::math::Quat;
use crate::scene::{Color, IdGen, Light, LightKind, Material, Node, NodeId, NodeKind, Primitive, Scene, Transform};

pub(super) fn add(scene: &Scene, txn: &mut yrs::TransactionMut, ids: &mut IdGen, name: &str, kind: NodeKind, parent: Option<&NodeId>) -> NodeId {
    scene.add_node(txn, ids.next(), name, kind, parent)
}

/// A scene with every kind, shape, light type, nesting, transforms and flags.
pub(super) fn sample(doc: &Doc) -> Scene {
    let scene = Scene::new(doc);
    let mut ids = IdGen::new(1);
    let mut txn = doc.transact_mut();
    let t = &mut txn;
    let group = add(&scene, t, &mut ids, "Group", NodeKind::Group, None);
    let tf = Transform { position: [1.0, 2.0, -3.0], rotation: [0.3, -0.2, 1.0], scale: [2.0, 2.0, 2.0] };
    scene.set_transform(t, &group, &tf).ok();
    let shapes = [
        ("Box", Primitive::Box { width: 1.0, height: 2.0, depth: 3.0 }),
        ("Ball", Primitive::Sphere { radius: 0.75 }),
        ("Can", Primitive::Cylinder { radius: 0.4, height: 1.5 }),
        ("Floor", Primitive::Plane { width: 10.0, height: 6.0 }),
    ];
    for (i, (name, p)) in shapes.into_iter().enumerate() {
        let id = add(&scene, t, &mut ids, name, NodeKind::Mesh, Some(&group));
        scene.set_primitive(t, &id, p).ok();
        let m = Material { color: Color { r: 10 * i as u8, g: 200, b: 33 }, roughness: 0.25, metalness: 0.5, opacity: if i == 1 { 0.4 } else { 1.0 } };
        scene.set_material(t, &id, &m).ok();
        let tf = Transform { position: [i as f64, 0.5, -1.0], rotation: [0.1 * i as f64, 0.7, -0.4], scale: [1.0, 0.5 + i as f64, 2.0] };
        scene.set_transform(t, &id, &tf).ok();
    }
    let child = add(&scene, t, &mut ids, "Child of box", NodeKind::Mesh, scene.tree(t).children(Some(&group)).first());
    scene.set_visible(t, &child, false).ok();
    scene.set_locked(t, &child, true).ok();
    for (name, kind) in [("Sun", LightKind::Directional), ("Bulb", LightKind::Point), ("Spot", LightKind::Spot)] {
        let id = add(&scene, t, &mut ids, name, NodeKind::Light, None);
        let light = Light { kind, color: Color { r: 255, g: 240, b: 200 }, intensity: 2.5, angle: 0.4 };
        scene.set_light(t, &id, &light).ok();
        scene.set_rotation(t, &id, [-0.5, 0.25, 0.0]).ok();
    }
    let camera = add(&scene, t, &mut ids, "Camera", NodeKind::Camera, None);
    scene.set_position(t, &camera, [0.0, 1.6, 8.0]).ok();
    drop(txn);
    scene
}

/// Depth-first (depth, node) pairs of a document's resolved tree.
pub(super) fn flat(doc: &Doc) -> Vec<(usize, Node)> {
    let scene = Scene::new(doc);
    let txn = doc.transact();
    scene.tree(&txn).depth_first().into_iter().map(|(n, d)| (d, n.clone())).collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

/// Same rotation (Euler angles can differ for one rotation: compare quaternions up to sign).
fn same_rotation(a: [f64; 3], b: [f64; 3]) -> bool {
    let (p, q) = (Quat::from_euler(a).to_array(), Quat::from_euler(b).to_array());
    let dot: f64 = p.iter().zip(q).map(|(x, y)| x * y).sum();
    dot.abs() > 1.0 - 1e-6
}

fn dims(p: &Primitive) -> (u8, Vec<f64>) {
    match *p {
        Primitive::Box { width, height, depth } => (0, vec![width, height, depth]),
        Primitive::Sphere { radius } => (1, vec![radius]),
        Primitive::Cylinder { radius, height } => (2, vec![radius, height]),
        Primitive::Plane { width, height } => (3, vec![width, height]),
    }
}

/// Panics (in tests) with the first difference between two resolved trees, ids aside.
pub(super) fn assert_same_tree(got: &[(usize, Node)], want: &[(usize, Node)], tol: f64) {
    assert_eq!(got.len(), want.len(), "node count");
    for ((gd, g), (wd, w)) in got.iter().zip(want) {
        let what = &w.name;
        assert_eq!((gd, &g.name, g.kind), (wd, &w.name, w.kind), "{what}");
        assert_eq!((g.visible, g.locked), (w.visible, w.locked), "{what} flags");
        let (gt, wt) = (&g.transform, &w.transform);
        assert!(close(&gt.position, &wt.position, tol) && close(&gt.scale, &wt.scale, tol), "{what}: {gt:?} vs {wt:?}");
        assert!(same_rotation(gt.rotation, wt.rotation), "{what}: {gt:?} vs {wt:?}");
        match (g.primitive.as_ref().map(dims), w.primitive.as_ref().map(dims)) {
            (Some((gk, gv)), Some((wk, wv))) => assert!(gk == wk && close(&gv, &wv, tol), "{what}: {:?} vs {:?}", g.primitive, w.primitive),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{what} primitive"),
        }
        if let (Some(gm), Some(wm)) = (g.material, w.material) {
            assert_eq!(gm.color, wm.color, "{what} colour");
            assert!(close(&[gm.roughness, gm.metalness, gm.opacity], &[wm.roughness, wm.metalness, wm.opacity], tol), "{what}: {gm:?} vs {wm:?}");
        }
        if let (Some(gl), Some(wl)) = (g.light, w.light) {
            assert_eq!((gl.kind, gl.color), (wl.kind, wl.color), "{what} light");
            assert!(close(&[gl.intensity], &[wl.intensity], tol), "{what} intensity");
            if wl.kind == LightKind::Spot {
                assert!(close(&[gl.angle], &[wl.angle], tol), "{what} angle");
            }
        }
    }
}
