//! One test per finding of the scene check, on raw documents.

use yrs::{Doc, In, Map, Out, Transact, TransactionMut};

use super::input::CheckInput;
use super::{run_all, run_phase, PHASES};
use crate::jobs::model::FindingKind;
use crate::scene::{NodeId, NodeKind, Primitive, Scene};

fn add(scene: &Scene, txn: &mut TransactionMut, id: &str, kind: NodeKind) {
    scene.add_node(txn, NodeId::from(id), id, kind, None);
}

/// Writes a raw value under `key` of node `id` (what a buggy or concurrent writer could leave).
fn raw(scene: &Scene, txn: &mut TransactionMut, id: &str, key: &str, value: In) {
    let Some(Out::YMap(map)) = scene.root().get(txn, id) else { panic!("no node {id}") };
    map.insert(txn, key, value);
}

fn remove(scene: &Scene, txn: &mut TransactionMut, id: &str, key: &str) {
    let Some(Out::YMap(map)) = scene.root().get(txn, id) else { panic!("no node {id}") };
    map.remove(txn, key);
}

fn check(doc: &Doc, scene: &Scene) -> Vec<(FindingKind, Vec<String>)> {
    let input = CheckInput::read(scene, &doc.transact());
    run_all(&input).into_iter().map(|f| (f.kind, f.nodes)).collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_clean_scene_has_no_findings_and_every_phase_runs() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        add(&scene, &mut txn, "g", NodeKind::Group);
        add(&scene, &mut txn, "a", NodeKind::Mesh);
        add(&scene, &mut txn, "b", NodeKind::Mesh);
        scene.set_position(&mut txn, &NodeId::from("b"), [3.0, 0.0, 0.0]).unwrap();
        scene.reparent(&mut txn, &NodeId::from("a"), Some(&NodeId::from("g"))).unwrap();
    }
    assert_eq!(check(&doc, &scene), vec![]);
    let input = CheckInput::read(&scene, &doc.transact());
    assert!((0..PHASES.len() + 1).all(|i| run_phase(&input, i).is_empty()));
}

#[test]
fn a_parent_that_does_not_exist_is_an_orphan() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        add(&scene, &mut txn, "a", NodeKind::Group);
        raw(&scene, &mut txn, "a", "parent", In::from("gone"));
    }
    assert_eq!(check(&doc, &scene), vec![(FindingKind::Orphan, ids(&["a"]))]);
}

#[test]
fn stored_parent_loops_are_cycles() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        for id in ["x", "y", "z", "child", "self"] {
            add(&scene, &mut txn, id, NodeKind::Group);
        }
        raw(&scene, &mut txn, "x", "parent", In::from("y"));
        raw(&scene, &mut txn, "y", "parent", In::from("z"));
        raw(&scene, &mut txn, "z", "parent", In::from("x"));
        raw(&scene, &mut txn, "child", "parent", In::from("x"));
        raw(&scene, &mut txn, "self", "parent", In::from("self"));
    }
    let mut found = check(&doc, &scene);
    found.sort();
    assert_eq!(found, vec![(FindingKind::Cycle, ids(&["self"])), (FindingKind::Cycle, ids(&["x", "y", "z"]))]);
}

#[test]
fn a_zero_scale_component_is_reported() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        add(&scene, &mut txn, "flat", NodeKind::Group);
        scene.set_scale(&mut txn, &NodeId::from("flat"), [1.0, 0.0, 1.0]).unwrap();
    }
    assert_eq!(check(&doc, &scene), vec![(FindingKind::ZeroScale, ids(&["flat"]))]);
}

#[test]
fn a_mesh_without_material_keys_is_reported() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        add(&scene, &mut txn, "m", NodeKind::Mesh);
        remove(&scene, &mut txn, "m", "color");
        raw(&scene, &mut txn, "m", "roughness", In::from("rough"));
        // A light has no material to miss.
        add(&scene, &mut txn, "l", NodeKind::Light);
    }
    let input = CheckInput::read(&scene, &doc.transact());
    let found = run_phase(&input, 3);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].kind, found[0].nodes.clone()), (FindingKind::MissingMaterial, ids(&["m"])));
    assert!(found[0].message.contains("color, roughness"), "{}", found[0].message);
}

#[test]
fn meshes_whose_world_boxes_overlap_are_reported_in_pairs() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        add(&scene, &mut txn, "a", NodeKind::Mesh);
        add(&scene, &mut txn, "b", NodeKind::Mesh);
        scene.set_position(&mut txn, &NodeId::from("b"), [0.5, 0.0, 0.0]).unwrap();
        // Touching faces is not an overlap.
        add(&scene, &mut txn, "c", NodeKind::Mesh);
        scene.set_position(&mut txn, &NodeId::from("c"), [-1.0, 0.0, 0.0]).unwrap();
        // Moved away through its parent: world space counts.
        add(&scene, &mut txn, "g", NodeKind::Group);
        scene.set_position(&mut txn, &NodeId::from("g"), [10.0, 0.0, 0.0]).unwrap();
        add(&scene, &mut txn, "far", NodeKind::Mesh);
        scene.reparent(&mut txn, &NodeId::from("far"), Some(&NodeId::from("g"))).unwrap();
        scene.set_position(&mut txn, &NodeId::from("far"), [0.0, 0.0, 0.0]).unwrap();
        // A floor plane through a sphere's middle overlaps it.
        add(&scene, &mut txn, "ball", NodeKind::Mesh);
        scene.set_primitive(&mut txn, &NodeId::from("ball"), Primitive::Sphere { radius: 0.5 }).unwrap();
        scene.set_position(&mut txn, &NodeId::from("ball"), [0.0, 0.0, 20.0]).unwrap();
        add(&scene, &mut txn, "floor", NodeKind::Mesh);
        scene.set_primitive(&mut txn, &NodeId::from("floor"), Primitive::Plane { width: 4.0, height: 4.0 }).unwrap();
        scene.set_position(&mut txn, &NodeId::from("floor"), [0.0, 0.0, 20.0]).unwrap();
    }
    let input = CheckInput::read(&scene, &doc.transact());
    let found: Vec<_> = run_phase(&input, 4).into_iter().map(|f| (f.kind, f.nodes)).collect();
    assert_eq!(found, vec![(FindingKind::Overlap, ids(&["a", "b"])), (FindingKind::Overlap, ids(&["ball", "floor"]))]);
}

#[test]
fn triangle_meshes_report_degenerate_triangles_missing_normals_and_damage() {
    use crate::geometry::trimesh::{MeshId, TriMesh};
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let flat = TriMesh {
            positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            normals: Vec::new(),
            uvs: Vec::new(),
            indices: vec![0, 1, 2, 0, 1, 3],
        };
        let id = scene.add_mesh(&mut txn, &flat).unwrap();
        add(&scene, &mut txn, "m", NodeKind::Mesh);
        scene.set_mesh(&mut txn, &NodeId::from("m"), Some(&id)).unwrap();
        add(&scene, &mut txn, "gone", NodeKind::Mesh);
        scene.set_position(&mut txn, &NodeId::from("gone"), [9.0, 0.0, 0.0]).unwrap();
        let missing = MeshId(format!("sha256-{}", "a".repeat(64)));
        scene.set_mesh(&mut txn, &NodeId::from("gone"), Some(&missing)).unwrap();
    }
    let found = check(&doc, &scene);
    assert!(found.contains(&(FindingKind::DegenerateTriangles, ids(&["m"]))), "{found:?}");
    assert!(found.contains(&(FindingKind::MissingNormals, ids(&["m"]))), "{found:?}");
    assert!(found.contains(&(FindingKind::BadMesh, ids(&["gone"]))), "{found:?}");
}
