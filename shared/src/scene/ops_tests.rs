//! Single-document tests of the typed writes and the tolerant reads.

use yrs::{Any, Doc, In, Map, MapPrelim, Transact, WriteTxn};

use super::*;

fn id(s: &str) -> NodeId {
    NodeId::from(s)
}

fn names(scene: &Scene, doc: &Doc, parent: Option<&str>) -> Vec<String> {
    let tree = scene.tree(&doc.transact());
    let parent = parent.map(id);
    tree.children(parent.as_ref()).iter().map(|c| tree.node(c).unwrap().name.clone()).collect()
}

fn close(a: Vec3, b: Vec3) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
}

#[test]
fn typed_setters_round_trip_and_validate() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    let m = scene.add_node(&mut txn, id("m"), "Mesh", NodeKind::Mesh, None);
    let l = scene.add_node(&mut txn, id("l"), "Lamp", NodeKind::Light, None);
    let t = Transform { position: [1.0, 2.0, 3.0], rotation: [0.1, 0.2, 0.3], scale: [2.0, 2.0, 2.0] };
    scene.set_transform(&mut txn, &m, &t).unwrap();
    scene.set_primitive(&mut txn, &m, Primitive::Cylinder { radius: 0.25, height: 3.0 }).unwrap();
    let material = Material { color: Color { r: 255, g: 0, b: 16 }, roughness: 0.1, metalness: 1.0, opacity: 0.5 };
    scene.set_material(&mut txn, &m, &material).unwrap();
    scene.set_visible(&mut txn, &m, false).unwrap();
    scene.set_locked(&mut txn, &m, true).unwrap();
    let light = Light { kind: LightKind::Spot, color: Color::GREY, intensity: 3.0, angle: 0.4 };
    scene.set_light(&mut txn, &l, &light).unwrap();
    assert_eq!(scene.set_number(&mut txn, &m, NumberKey::Px, f64::NAN), Err(SceneError::NotFinite { key: "px" }));
    assert_eq!(scene.set_name(&mut txn, &id("nope"), "x"), Err(SceneError::NotFound(id("nope"))));

    let node = scene.node(&txn, &m).unwrap();
    assert_eq!((node.transform, node.visible, node.locked), (t, false, true));
    assert_eq!(node.primitive, Some(Primitive::Cylinder { radius: 0.25, height: 3.0 }));
    assert_eq!(node.material, Some(material));
    assert_eq!(node.light, None);
    assert_eq!(scene.node(&txn, &l).unwrap().light, Some(light));
    let stored = match scene.root().get(&txn, "m") {
        Some(yrs::Out::YMap(map)) => map.get(&txn, "color"),
        _ => None,
    };
    assert_eq!(stored, Some(yrs::Out::Any(Any::from("#ff0010"))));
}

#[test]
fn changing_the_shape_keeps_every_dimension() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    let m = scene.add_node(&mut txn, id("m"), "Mesh", NodeKind::Mesh, None);
    scene.set_primitive(&mut txn, &m, Primitive::Box { width: 2.0, height: 3.0, depth: 4.0 }).unwrap();
    scene.set_primitive_kind(&mut txn, &m, PrimitiveKind::Sphere).unwrap();
    assert_eq!(scene.node(&txn, &m).unwrap().primitive, Some(Primitive::Sphere { radius: 0.5 }));
    scene.set_primitive_kind(&mut txn, &m, PrimitiveKind::Box).unwrap();
    assert_eq!(scene.node(&txn, &m).unwrap().primitive, Some(Primitive::Box { width: 2.0, height: 3.0, depth: 4.0 }));
    assert!(scene.set_primitive_kind(&mut txn, &id("nope"), PrimitiveKind::Box).is_err());
}

#[test]
fn setters_that_change_nothing_write_nothing() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    scene.add_node(&mut doc.transact_mut(), id("m"), "Mesh", NodeKind::Mesh, None);
    let mut txn = doc.transact_mut();
    scene.set_position(&mut txn, &id("m"), [0.0, 0.0, 0.0]).unwrap();
    scene.set_name(&mut txn, &id("m"), "Mesh").unwrap();
    assert!(txn.encode_update_v1().len() <= 2, "an empty update");
}

#[test]
fn malformed_and_missing_values_read_as_defaults() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let nodes = txn.get_or_insert_map(NODES);
        let odd: MapPrelim = MapPrelim::from([
            ("kind", In::from("teapot")),
            ("name", In::from(42.0)),
            ("px", In::from("three")),
            ("py", In::from(f64::INFINITY)),
            ("pz", In::Any(Any::from(7i64))),
            ("sx", In::Any(Any::Null)),
            ("visible", In::from("yes")),
            ("parent", In::from("")),
            ("color", In::from("red")),
        ]);
        nodes.insert(&mut txn, "odd", odd);
        nodes.insert(&mut txn, "scalar", 5.0);
        let mesh: MapPrelim = MapPrelim::from([("kind", In::from("mesh")), ("primitive", In::from("torus")), ("color", In::from("#ABC"))]);
        nodes.insert(&mut txn, "mesh", mesh);
    }
    let txn = doc.transact();
    let odd = scene.node(&txn, &id("odd")).unwrap();
    assert_eq!(odd.kind, NodeKind::Group);
    assert_eq!(odd.name, "");
    assert_eq!(odd.transform, Transform { position: [0.0, 0.0, 7.0], ..Transform::default() });
    assert!(odd.visible && !odd.locked);
    assert_eq!(odd.parent, None);
    assert_eq!(scene.node(&txn, &id("scalar")), None);
    let mesh = scene.node(&txn, &id("mesh")).unwrap();
    assert_eq!(mesh.primitive, Some(Primitive::default()));
    assert_eq!(mesh.material.unwrap().color, Color { r: 0xaa, g: 0xbb, b: 0xcc });
    assert_eq!(scene.tree(&txn).len(), 2, "non-map values are not nodes");
}

#[test]
fn move_node_reorders_and_reparents_keeping_the_world_transform() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    for n in ["a", "b", "c"] {
        scene.add_node(&mut txn, id(n), n, NodeKind::Mesh, None);
    }
    scene.add_node(&mut txn, id("g"), "g", NodeKind::Group, None);
    scene.set_position(&mut txn, &id("g"), [10.0, 0.0, 0.0]).unwrap();
    scene.set_position(&mut txn, &id("c"), [1.0, 1.0, 1.0]).unwrap();
    scene.move_node(&mut txn, &id("c"), None, Some(&id("a")), false).unwrap();
    drop(txn);
    assert_eq!(names(&scene, &doc, None), ["c", "a", "b", "g"]);
    scene.reparent(&mut doc.transact_mut(), &id("c"), Some(&id("g"))).unwrap();
    let tree = scene.tree(&doc.transact());
    assert_eq!(tree.parent(&id("c")), Some(&id("g")));
    assert!(close(tree.node(&id("c")).unwrap().transform.position, [-9.0, 1.0, 1.0]));
    assert!(close(tree.world_transform(&id("c")).position, [1.0, 1.0, 1.0]));
    assert!(close(tree.world_affine(&id("c")).t, [1.0, 1.0, 1.0]));
    assert_eq!(tree.world_affine(&id("missing")), crate::math::Affine::IDENTITY);
    let err = scene.move_node(&mut doc.transact_mut(), &id("a"), None, Some(&id("c")), false);
    assert_eq!(err, Err(SceneError::NotFound(id("c"))), "`before` must be a sibling under the new parent");
}

#[test]
fn group_and_ungroup_keep_order_and_place() {
    let doc = Doc::with_client_id(1);
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    for n in ["a", "b", "c", "d"] {
        scene.add_node(&mut txn, id(n), n, NodeKind::Mesh, None);
    }
    scene.set_position(&mut txn, &id("b"), [0.0, 2.0, 0.0]).unwrap();
    scene.group(&mut txn, &[id("c"), id("b")], id("grp"), "Group").unwrap();
    drop(txn);
    assert_eq!(names(&scene, &doc, None), ["a", "Group", "d"]);
    assert_eq!(names(&scene, &doc, Some("grp")), ["b", "c"]);
    assert_eq!(scene.node(&doc.transact(), &id("b")).unwrap().transform.position, [0.0, 2.0, 0.0]);

    // Move the group, then ungroup: the children stay where they were on screen.
    let turn = [0.0, std::f64::consts::FRAC_PI_2, 0.0];
    let mut txn = doc.transact_mut();
    scene.set_transform(&mut txn, &id("grp"), &Transform { position: [5.0, 0.0, 0.0], rotation: turn, scale: [1.0; 3] }).unwrap();
    drop(txn);
    let before = scene.tree(&doc.transact()).world_transform(&id("b"));
    let freed = scene.ungroup(&mut doc.transact_mut(), &id("grp")).unwrap();
    assert_eq!(freed, [id("b"), id("c")]);
    assert_eq!(names(&scene, &doc, None), ["a", "b", "c", "d"]);
    let after = scene.node(&doc.transact(), &id("b")).unwrap().transform;
    assert!(close(after.position, before.position) && close(after.rotation, before.rotation), "{after:?} vs {before:?}");
    assert!(scene.group(&mut doc.transact_mut(), &[], id("g2"), "G").is_err());
}

#[test]
fn duplicate_copies_the_subtree_right_after_the_original() {
    let doc = Doc::with_client_id(7);
    let scene = Scene::new(&doc);
    let mut ids = IdGen::new(7);
    let mut txn = doc.transact_mut();
    let g = scene.add_node(&mut txn, ids.next(), "G", NodeKind::Group, None);
    let child = scene.add_node(&mut txn, ids.next(), "Child", NodeKind::Mesh, Some(&g));
    scene.set_primitive(&mut txn, &child, Primitive::Sphere { radius: 4.0 }).unwrap();
    scene.add_node(&mut txn, ids.next(), "After", NodeKind::Camera, None);
    let copy = scene.duplicate(&mut txn, &g, &mut ids).unwrap();
    drop(txn);
    assert_eq!(copy, NodeId::new(7, 3));
    assert_eq!(names(&scene, &doc, None), ["G", "G", "After"]);
    let tree = scene.tree(&doc.transact());
    let copied_child = &tree.children(Some(&copy))[0];
    assert_ne!(copied_child, &child);
    assert_eq!(tree.node(copied_child).unwrap().name, "Child");
    assert_eq!(tree.node(copied_child).unwrap().primitive, Some(Primitive::Sphere { radius: 4.0 }));

    assert!(scene.remove_node(&mut doc.transact_mut(), &g));
    assert_eq!(scene.node_count(&doc.transact()), 3, "the original subtree is gone, the copy stays");
}
