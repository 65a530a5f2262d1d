//! Hostile glTF input: every refusal is an error value, never a panic, and a refused import
//! leaves the document untouched.

use yrs::{Doc, Transact};

use super::test_support::sample;
use super::gltf_tests::cube_json;
use super::{export_glb, import_gltf, ImportError, MAX_NODES};
use crate::scene::{IdGen, NodeId, Scene};

/// Imports into a fresh document; on error checks that nothing was written.
fn import(bytes: &[u8]) -> Result<usize, ImportError> {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let result = {
        let mut txn = doc.transact_mut();
        import_gltf(&scene, &mut txn, &mut IdGen::new(9), None, bytes, |_| {})
    };
    if result.is_err() {
        assert_eq!(crate::scene::node_count(&doc), 0, "a refused import wrote nodes");
        assert!(scene.mesh_ids(&doc.transact()).is_empty(), "a refused import stored a mesh");
    }
    result.map(|s| s.nodes_created)
}

fn glb() -> Vec<u8> {
    let doc = Doc::new();
    let scene = sample(&doc);
    let txn = doc.transact();
    export_glb(&scene, &txn, |_| {}).unwrap_or_default()
}

#[test]
fn every_truncation_of_a_glb_is_refused_without_panicking() {
    let bytes = glb();
    assert_eq!(import(&bytes).ok(), Some(10));
    for len in 0..bytes.len() {
        assert!(import(&bytes[..len]).is_err(), "prefix of {len} bytes imported");
    }
    // A header claiming a length below its own size, and one past the end.
    let mut short = bytes.clone();
    short[8..12].copy_from_slice(&4u32.to_le_bytes());
    assert!(matches!(import(&short), Err(ImportError::NotGltf(_))));
    let mut long = bytes.clone();
    long[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(import(&long), Err(ImportError::NotGltf(_))));
    // A JSON chunk length past the end.
    let mut chunk = bytes;
    chunk[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(import(&chunk), Err(ImportError::NotGltf(_))));
}

#[test]
fn not_gltf_and_other_versions_are_refused() {
    assert!(matches!(import(b""), Err(ImportError::NotGltf(_))));
    assert!(matches!(import(b"\x89PNG\r\n"), Err(ImportError::NotGltf(_))));
    assert!(matches!(import(b"{ not json"), Err(ImportError::NotGltf(_))));
    assert!(matches!(import(br#"{"hello": 1}"#), Err(ImportError::NotGltf(_))));
    assert_eq!(import(br#"{"asset": {"version": "1.0"}, "meshes": {}}"#), Err(ImportError::UnsupportedVersion("1.0".into())));
    let mut v1 = glb();
    v1[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert_eq!(import(&v1), Err(ImportError::UnsupportedVersion("1".into())));
    assert!(matches!(import(br#"{"asset": {"version": "2.0"}, "extensionsRequired": ["KHR_draco_mesh_compression"]}"#), Err(ImportError::Invalid(_))));
}

#[test]
fn bad_indices_and_ranges_are_refused() {
    let cube = cube_json();
    type Case = (&'static str, &'static str, fn(&ImportError) -> bool);
    let cases: [Case; 7] = [
        (r#""POSITION": 0"#, r#""POSITION": 99"#, |e| matches!(e, ImportError::Invalid(_))),
        (r#""count": 8"#, r#""count": 800000"#, |e| matches!(e, ImportError::AccessorOutOfBounds { accessor: 0, .. })),
        // A 2 GB accessor (178,956,971 float triples) in a 168-byte file: refused by the
        // vertex budget before anything is read or allocated.
        (r#""count": 8"#, r#""count": 178956971"#, |e| matches!(e, ImportError::TooMany { what: "vertices", .. })),
        (r#""byteOffset": 96, "byteLength": 72"#, r#""byteOffset": 96, "byteLength": 7200"#, |e| matches!(e, ImportError::BufferOutOfRange { view: 1, .. })),
        (r#""count": 36"#, r#""count": 36, "byteOffset": 2"#, |e| matches!(e, ImportError::AccessorOutOfBounds { accessor: 1, .. })),
        (r#""mesh": 0"#, r#""mesh": 3"#, |e| matches!(e, ImportError::Invalid(_))),
        ("data:application/octet-stream;base64,", "textures/crate.bin?", |e| matches!(e, ImportError::Buffer { buffer: 0, .. })),
    ];
    for (from, to, expected) in cases {
        assert!(cube.contains(from), "{from}");
        let result = import(cube.replace(from, to).as_bytes());
        assert!(result.as_ref().is_err_and(expected), "{to}: {result:?}");
    }
    // An index past the 8 vertices: point the index accessor at the position bytes.
    let bad = cube.replace(r#""bufferView": 1, "componentType": 5123, "count": 36"#, r#""bufferView": 0, "componentType": 5125, "count": 24"#);
    assert!(matches!(import(bad.as_bytes()), Err(ImportError::IndexOutOfRange { accessor: 1, .. })));
}

#[test]
fn node_cycles_and_shared_nodes_are_refused() {
    let nodes = |list: &str, scene: &str| format!(r#"{{"asset": {{"version": "2.0"}}, "scenes": [{{"nodes": {scene}}}], "nodes": {list}}}"#);
    let cases = [
        (nodes(r#"[{"children": [1]}, {"children": [0]}]"#, "[]"), ImportError::Cycle(0)),
        (nodes(r#"[{}, {"children": [1]}]"#, "[0]"), ImportError::Cycle(1)),
        (nodes(r#"[{"children": [2]}, {"children": [2]}, {}]"#, "[0, 1]"), ImportError::SharedNode(2)),
        (nodes(r#"[{"children": [1]}, {}]"#, "[0, 1]"), ImportError::SharedNode(1)),
        (nodes(r#"[{}]"#, "[0, 0]"), ImportError::SharedNode(0)),
    ];
    for (json, expected) in cases {
        assert_eq!(import(json.as_bytes()), Err(expected), "{json}");
    }
}

#[test]
fn non_finite_transforms_and_data_are_refused() {
    let cube = cube_json();
    let node = r#""translation": [0, 1, 0]"#;
    for bad in [r#""translation": [1e300, 0, 0]"#, r#""scale": [1, -1e39, 1]"#, r#""rotation": [0, 0, 0, 0]"#, r#""matrix": [1e39, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]"#] {
        let result = import(cube.replace(node, bad).as_bytes());
        assert!(matches!(result, Err(ImportError::BadTransform { node: 0, .. })), "{bad}: {result:?}");
    }
    // A NaN vertex: "AADAfw==" is the f32 NaN 0x7fc00000.
    let nan = base64_with_nan(&cube);
    assert_eq!(import(nan.as_bytes()), Err(ImportError::NonFiniteData { accessor: 0 }));
}

fn base64_with_nan(cube: &str) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let prefix = "base64,";
    let start = cube.find(prefix).map_or(0, |i| i + prefix.len());
    let end = start + cube[start..].find('"').unwrap_or(0);
    let mut bin = engine.decode(&cube[start..end]).unwrap_or_default();
    bin[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
    format!("{}{}{}", &cube[..start], engine.encode(&bin), &cube[end..])
}

#[test]
fn absurd_counts_and_missing_parents_are_refused() {
    let many = format!(r#"{{"asset": {{"version": "2.0"}}, "nodes": [{}]}}"#, vec!["{}"; MAX_NODES + 1].join(","));
    assert!(matches!(import(many.as_bytes()), Err(ImportError::TooMany { what: "nodes", .. })));
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let mut txn = doc.transact_mut();
    let missing = NodeId::from("nope");
    let result = import_gltf(&scene, &mut txn, &mut IdGen::new(1), Some(&missing), cube_json().as_bytes(), |_| {});
    assert_eq!(result, Err(ImportError::ParentNotFound(missing)));
}

#[test]
fn every_number_in_a_gltf_replaced_by_an_extreme_is_handled() {
    let cube = cube_json();
    let bytes = cube.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = (i..bytes.len()).find(|&j| !bytes[j].is_ascii_digit() && bytes[j] != b'.' && bytes[j] != b'e').unwrap_or(bytes.len());
            starts.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    assert!(starts.len() > 30);
    for (start, end) in starts {
        for extreme in ["0", "3", "99", "4294967295", "18446744073709551615", "1e39"] {
            let mutated = format!("{}{}{}", &cube[..start], extreme, &cube[end..]);
            // Any outcome but a panic will do; refusals are checked to write nothing.
            let _ = import(mutated.as_bytes());
        }
    }
}
