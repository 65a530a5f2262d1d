//! glTF round trips and imports of files the tests write themselves.

use base64::Engine;
use yrs::{Doc, Transact};

use super::test_support::{add, assert_same_tree, flat, sample};
use super::{export_glb, import_gltf, ImportWarning};
use crate::scene::{IdGen, NodeKind, Primitive, Scene};

fn import_into(doc: &Doc, bytes: &[u8]) -> Result<super::ImportSummary, super::ImportError> {
    let scene = Scene::new(doc);
    let mut txn = doc.transact_mut();
    import_gltf(&scene, &mut txn, &mut IdGen::new(2), None, bytes, |_| {})
}

fn export(doc: &Doc) -> Vec<u8> {
    let scene = Scene::new(doc);
    let txn = doc.transact();
    let glb = export_glb(&scene, &txn, |_| {});
    assert!(glb.is_ok(), "{glb:?}");
    glb.unwrap_or_default()
}

#[test]
fn export_then_import_round_trips_the_resolved_tree() {
    let original = Doc::new();
    sample(&original);
    let glb = export(&original);
    let parsed = gltf::Gltf::from_slice(&glb);
    assert!(parsed.is_ok(), "the gltf crate rejects our export: {:?}", parsed.err());
    let copy = Doc::new();
    let summary = import_into(&copy, &glb);
    assert!(summary.as_ref().is_ok_and(|s| s.warnings.is_empty() && s.nodes_created == 10 && s.roots.len() == 5), "{summary:?}");
    assert_same_tree(&flat(&copy), &flat(&original), 1e-4);
}

#[test]
fn import_under_a_parent_goes_after_its_children() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let mut ids = IdGen::new(3);
    let (parent, existing) = {
        let mut txn = doc.transact_mut();
        let p = add(&scene, &mut txn, &mut ids, "Imports", NodeKind::Group, None);
        let e = add(&scene, &mut txn, &mut ids, "Already here", NodeKind::Group, Some(&p));
        (p, e)
    };
    let source = Doc::new();
    sample(&source);
    let glb = export(&source);
    let summary = {
        let mut txn = doc.transact_mut();
        import_gltf(&scene, &mut txn, &mut ids, Some(&parent), &glb, |_| {})
    };
    let roots = summary.map(|s| s.roots).unwrap_or_default();
    let txn = doc.transact();
    let tree = scene.tree(&txn);
    let children = tree.children(Some(&parent));
    assert_eq!(children.first(), Some(&existing));
    assert_eq!(&children[1..], roots.as_slice());
    assert_eq!(tree.len(), 12);
}

/// A cube of 2 × 3 × 4 centred at (5, 0, 0) in its mesh, as 8 corners and 12 triangles.
fn cube_gltf() -> String {
    let mut bin = Vec::new();
    let corners: Vec<[f32; 3]> = (0..8).map(|i| [if i & 1 == 0 { 4.0 } else { 6.0 }, if i & 2 == 0 { -1.5 } else { 1.5 }, if i & 4 == 0 { -2.0 } else { 2.0 }]).collect();
    for c in &corners {
        for v in c {
            bin.extend(v.to_le_bytes());
        }
    }
    let indices: [u16; 36] = [0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4, 2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5];
    for i in indices {
        bin.extend(i.to_le_bytes());
    }
    let data = base64::engine::general_purpose::STANDARD.encode(&bin);
    format!(
        r#"{{
  "asset": {{ "version": "2.0" }},
  "scene": 0,
  "scenes": [{{ "nodes": [0] }}],
  "nodes": [{{ "name": "Crate", "mesh": 0, "translation": [0, 1, 0] }}],
  "meshes": [{{ "primitives": [{{ "attributes": {{ "POSITION": 0 }}, "indices": 1, "material": 0 }}] }}],
  "materials": [{{ "pbrMetallicRoughness": {{ "baseColorFactor": [1, 0, 0, 0.5], "metallicFactor": 0.1, "roughnessFactor": 0.9 }}, "alphaMode": "BLEND" }}],
  "accessors": [
    {{ "bufferView": 0, "componentType": 5126, "count": 8, "type": "VEC3", "min": [4, -1.5, -2], "max": [6, 1.5, 2] }},
    {{ "bufferView": 1, "componentType": 5123, "count": 36, "type": "SCALAR" }}
  ],
  "bufferViews": [{{ "buffer": 0, "byteOffset": 0, "byteLength": 96 }}, {{ "buffer": 0, "byteOffset": 96, "byteLength": 72 }}],
  "buffers": [{{ "byteLength": {len}, "uri": "data:application/octet-stream;base64,{data}" }}]
}}"#,
        len = bin.len()
    )
}

pub(super) fn cube_json() -> String {
    cube_gltf()
}

#[test]
fn hand_written_gltf_cube_keeps_its_triangles() {
    let doc = Doc::new();
    let summary = import_into(&doc, cube_gltf().as_bytes());
    assert!(summary.as_ref().is_ok_and(|s| s.nodes_created == 1 && s.warnings.is_empty()), "{summary:?}");
    let nodes = flat(&doc);
    let crate_node = &nodes[0].1;
    assert_eq!((crate_node.name.as_str(), crate_node.kind), ("Crate", NodeKind::Mesh));
    // The node keeps the file's transform; the mesh keeps its (off-centre) vertices.
    assert_eq!(crate_node.transform.position, [0.0, 1.0, 0.0]);
    let id = crate_node.mesh.clone().expect("a triangle mesh");
    let mesh = Scene::new(&doc).mesh(&doc.transact(), &id).expect("stored and readable");
    assert_eq!((mesh.positions.len(), mesh.triangle_count()), (8, 12));
    assert_eq!(mesh.bounds().min, [4.0, -1.5, -2.0]);
    assert!(mesh.normals.is_empty(), "the file has no normals, none are stored");
    // The stand-in for readers without meshes: the bounding box's size.
    assert_eq!(crate_node.primitive, Some(Primitive::Box { width: 2.0, height: 3.0, depth: 4.0 }));
    let m = crate_node.material.unwrap_or_default();
    assert_eq!((m.color.to_hex().as_str(), m.opacity), ("#ff0000", 0.5));
    assert!((m.roughness - 0.9).abs() < 1e-6 && (m.metalness - 0.1).abs() < 1e-6);
}

#[test]
fn unsupported_features_and_approximations_are_reported() {
    let json = cube_gltf()
        .replace(r#""scene": 0,"#, r#""scene": 0, "animations": [], "skins": [{ "joints": [1] }],"#)
        .replace(r#""nodes": [{ "name": "Crate", "mesh": 0, "translation": [0, 1, 0] }]"#, r#""nodes": [{ "name": "Crate", "mesh": 0, "camera": 0, "children": [1] }, { "name": "Joint" }]"#)
        .replace(r#""meshes""#, r#""cameras": [{ "type": "perspective", "perspective": { "yfov": 1, "znear": 0.1 } }], "meshes""#);
    let doc = Doc::new();
    let summary = import_into(&doc, json.as_bytes());
    let warnings = summary.map(|s| s.warnings).unwrap_or_default();
    assert!(warnings.contains(&ImportWarning::Unsupported { feature: "skins", count: 1 }), "{warnings:?}");
    assert!(warnings.contains(&ImportWarning::Dropped { node: "Crate".into(), what: "camera" }), "{warnings:?}");
    // A triangle mesh does not move the node's frame: the node itself is the mesh.
    let nodes = flat(&doc);
    let shape: Vec<(usize, &str, NodeKind)> = nodes.iter().map(|(d, n)| (*d, n.name.as_str(), n.kind)).collect();
    assert_eq!(shape, [(0, "Crate", NodeKind::Mesh), (1, "Joint", NodeKind::Group)]);
    assert!(nodes[0].1.mesh.is_some());
}

#[test]
fn points_are_fitted_and_off_centre_fits_under_children_get_their_own_node() {
    // The same cube's corners as points: fitted to a box, off-centre; with a child, the box
    // becomes the node's first child placed at the offset.
    let json = cube_gltf()
        .replace(r#""indices": 1, "material": 0 }"#, r#""mode": 0, "material": 0 }"#)
        .replace(r#""nodes": [{ "name": "Crate", "mesh": 0, "translation": [0, 1, 0] }]"#, r#""nodes": [{ "name": "Crate", "mesh": 0, "children": [1] }, { "name": "Joint" }]"#);
    let doc = Doc::new();
    let summary = import_into(&doc, json.as_bytes());
    assert!(summary.is_ok(), "{summary:?}");
    let nodes = flat(&doc);
    let shape: Vec<(usize, &str, NodeKind)> = nodes.iter().map(|(d, n)| (*d, n.name.as_str(), n.kind)).collect();
    assert_eq!(shape, [(0, "Crate", NodeKind::Group), (1, "Crate (mesh)", NodeKind::Mesh), (1, "Joint", NodeKind::Group)]);
    assert_eq!(nodes[1].1.transform.position, [5.0, 0.0, 0.0]);
    assert_eq!(nodes[1].1.primitive, Some(Primitive::Box { width: 2.0, height: 3.0, depth: 4.0 }));
    assert!(nodes[1].1.mesh.is_none());
}

#[test]
fn triangle_meshes_export_and_import_losslessly_and_are_stored_once() {
    let doc = Doc::new();
    import_into(&doc, cube_gltf().as_bytes()).expect("imports");
    let first = flat(&doc)[0].1.mesh.clone().expect("a mesh");
    // Importing it again adds nodes, not another copy of the geometry.
    let scene = Scene::new(&doc);
    import_gltf(&scene, &mut doc.transact_mut(), &mut IdGen::new(3), None, cube_gltf().as_bytes(), |_| {}).expect("imports again");
    assert_eq!(flat(&doc).len(), 2);
    assert_eq!(scene.mesh_ids(&doc.transact()), std::slice::from_ref(&first));
    let glb = export(&doc);
    let parsed = gltf::Gltf::from_slice(&glb).expect("a valid glb");
    assert_eq!(parsed.meshes().count(), 1, "both nodes share one glTF mesh");
    let copy = Doc::new();
    import_into(&copy, &glb).expect("re-imports");
    let copied = flat(&copy);
    assert_eq!(copied.len(), 2);
    let again = copied[0].1.mesh.clone().expect("still a triangle mesh");
    let (a, b) = (scene.mesh(&doc.transact(), &first).expect("a"), Scene::new(&copy).mesh(&copy.transact(), &again).expect("b"));
    assert_eq!((a.positions.clone(), a.indices.clone()), (b.positions.clone(), b.indices.clone()), "positions and triangles unchanged");
    assert_eq!(b.normals.len(), b.positions.len(), "the export wrote normals");
}

#[test]
fn five_thousand_nodes_export_and_import_with_monotonic_progress() {
    // Built through Open JSON: `Scene::add_node` scans every node per call (quadratic).
    let mut nodes: Vec<String> = (0..50).map(|g| format!(r#"{{"id": "g{g}", "name": "Group {g}"}}"#)).collect();
    nodes.extend((0..4950).map(|i| {
        format!(r#"{{"id": "m{i}", "name": "Mesh {i}", "kind": "mesh", "parent": "g{}", "position": [{i}, 0, 0], "primitive": {{"type": "sphere", "radius": {}}}}}"#, i % 50, 1 + i % 7)
    }));
    let json = format!(r#"{{"format": "collab-scene", "version": 1, "nodes": [{}]}}"#, nodes.join(","));
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let opened = super::open_scene_json(&scene, &mut txn, &mut IdGen::new(4), &json, super::OpenMode::IntoEmpty);
        assert_eq!(opened.map(|ids| ids.len()).ok(), Some(5000));
    }
    let mut seen = Vec::new();
    let glb = {
        let txn = doc.transact();
        export_glb(&scene, &txn, |p| seen.push(p)).unwrap_or_default()
    };
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&1.0), "{seen:?}");
    let copy = Doc::new();
    let copy_scene = Scene::new(&copy);
    let mut seen = Vec::new();
    let summary = {
        let mut txn = copy.transact_mut();
        import_gltf(&copy_scene, &mut txn, &mut IdGen::new(5), None, &glb, |p| seen.push(p))
    };
    assert_eq!(summary.map(|s| s.nodes_created).ok(), Some(5000));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&1.0) && seen.len() > 10, "{seen:?}");
    assert_same_tree(&flat(&copy), &flat(&doc), 1e-5);
}

/// Models written by Python's trimesh (tests/fixtures/meshes/make_fixtures.py says how).
const TORUS: &[u8] = include_bytes!("../../../tests/fixtures/meshes/torus.glb");
const TWO_PARTS: &[u8] = include_bytes!("../../../tests/fixtures/meshes/two_parts.glb");

/// Every mesh node's (name, triangle count, vertex positions), in outliner order.
fn meshes_of(doc: &Doc) -> Vec<(String, usize, Vec<[f32; 3]>)> {
    let nodes = flat(doc);
    let scene = Scene::new(doc);
    let txn = doc.transact();
    nodes
        .into_iter()
        .filter_map(|(_, n)| {
            let mesh = scene.mesh(&txn, n.mesh.as_ref()?).ok()?;
            Some((n.name.clone(), mesh.triangle_count(), mesh.positions))
        })
        .collect()
}

#[test]
fn models_made_by_trimesh_keep_their_triangles_through_export_and_import() {
    for (file, want) in [(TORUS, vec![("Torus", 2304)]), (TWO_PARTS, vec![("Ball", 320), ("Crate", 12)])] {
        let doc = Doc::new();
        let summary = import_into(&doc, file).expect("imports");
        assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
        let got = meshes_of(&doc);
        let shape: Vec<(&str, usize)> = got.iter().map(|(n, t, _)| (n.as_str(), *t)).collect();
        assert_eq!(shape, want);
        let copy = Doc::new();
        import_into(&copy, &export(&doc)).expect("re-imports");
        let again = meshes_of(&copy);
        assert_eq!(again.len(), got.len());
        for ((name, count, positions), (_, count2, positions2)) in got.iter().zip(&again) {
            assert_eq!(count, count2, "{name}: triangle count");
            assert!(positions.iter().zip(positions2).all(|(a, b)| (0..3).all(|i| (a[i] - b[i]).abs() < 1e-6)), "{name}: positions");
        }
    }
    // The torus is red and lifted by its node, as trimesh wrote it.
    let doc = Doc::new();
    import_into(&doc, TORUS).expect("imports");
    let torus = &flat(&doc)[0].1;
    assert!((torus.transform.position[1] - 0.8).abs() < 1e-6 && torus.transform.position[0] == 0.0, "{:?}", torus.transform);
    let c = torus.material.unwrap_or_default().color;
    // trimesh writes the factor as given (0.86, 0.16, 0.16), which glTF reads as linear.
    assert!(c.r > 200 && c.r > c.g + 100 && c.g == c.b, "{c:?}");
}
