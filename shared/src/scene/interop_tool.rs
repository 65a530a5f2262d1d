//! `scene_interop`: the Rust side of the JavaScript scene-schema interop test
//! (`tests/interop/scene-schema.test.js`). Not a module of the library: it is built as the
//! `scene_interop` example of `shared` (see `shared/Cargo.toml`), so the test can check that
//! plain Yjs and this crate agree on `docs/scene-schema.md` without a Rust WebSocket client.
//!
//!     scene_interop read  < update.bin   prints the resolved scene as JSON (outliner order)
//!     scene_interop write > update.bin   writes a sample scene as a Yjs v1 update

use std::error::Error;
use std::io::{Read, Write};

use serde_json::{json, Value};
use shared::scene::{Color, IdGen, Light, LightKind, Material, NodeKind, NumberKey, Primitive, Scene, Transform};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

fn main() -> Result<(), Box<dyn Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("read") => read(),
        Some("write") => write(),
        _ => Err("usage: scene_interop read|write".into()),
    }
}

fn read() -> Result<(), Box<dyn Error>> {
    let mut update = Vec::new();
    std::io::stdin().read_to_end(&mut update)?;
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    doc.transact_mut().apply_update(Update::decode_v1(&update)?)?;
    let txn = doc.transact();
    let tree = scene.tree(&txn);
    // A triangle mesh as the JS reader reports it (per docs/scene-schema.md, "Meshes").
    let mesh = |id: &shared::scene::MeshId| match scene.mesh(&txn, id) {
        Ok(m) => json!({
            "id": id.as_str(), "vertices": m.positions.len(), "triangles": m.triangle_count(),
            "normals": !m.normals.is_empty(), "positions": m.positions.iter().flatten().collect::<Vec<_>>(), "indices": m.indices,
        }),
        Err(e) => json!({ "id": id.as_str(), "error": e.to_string() }),
    };
    let nodes: Vec<Value> = tree
        .depth_first()
        .into_iter()
        .map(|(n, depth)| {
            json!({
                "id": n.id.as_str(),
                "depth": depth,
                "parent": tree.parent(&n.id).map(|p| p.as_str()),
                "name": n.name,
                "kind": n.kind.as_str(),
                "order": n.order,
                "position": n.transform.position,
                "rotation": n.transform.rotation,
                "scale": n.transform.scale,
                "visible": n.visible,
                "locked": n.locked,
                "primitive": n.primitive.map(primitive),
                "material": n.material.map(|m| json!({
                    "color": m.color.to_hex(), "roughness": m.roughness, "metalness": m.metalness, "opacity": m.opacity,
                })),
                "light": n.light.map(|l| json!({
                    "type": l.kind.as_str(), "color": l.color.to_hex(), "intensity": l.intensity, "angle": l.angle,
                })),
                "mesh": n.mesh.as_ref().map(mesh),
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&nodes)?);
    Ok(())
}

fn primitive(p: Primitive) -> Value {
    match p {
        Primitive::Box { width, height, depth } => json!({"type": "box", "width": width, "height": height, "depth": depth}),
        Primitive::Sphere { radius } => json!({"type": "sphere", "radius": radius}),
        Primitive::Cylinder { radius, height } => json!({"type": "cylinder", "radius": radius, "height": height}),
        Primitive::Plane { width, height } => json!({"type": "plane", "width": width, "height": height}),
    }
}

/// Room (a group) with a floor (plane), a table (box), a ball (sphere) on the table, then a
/// spot lamp at the root, and a hidden, locked camera placed first.
fn write() -> Result<(), Box<dyn Error>> {
    let doc = Doc::with_client_id(77);
    let scene = Scene::new(&doc);
    let mut ids = IdGen::new(77);
    {
        let mut txn = doc.transact_mut();
        let room = scene.add_node(&mut txn, ids.next(), "Room", NodeKind::Group, None);
        let floor = scene.add_node(&mut txn, ids.next(), "Floor", NodeKind::Mesh, Some(&room));
        scene.set_primitive(&mut txn, &floor, Primitive::Plane { width: 10.0, height: 8.0 })?;
        scene.set_rotation(&mut txn, &floor, [-std::f64::consts::FRAC_PI_2, 0.0, 0.0])?;
        let table = scene.add_node(&mut txn, ids.next(), "Table", NodeKind::Mesh, Some(&room));
        scene.set_primitive(&mut txn, &table, Primitive::Box { width: 2.0, height: 0.1, depth: 1.0 })?;
        let material = Material { color: Color { r: 0x8b, g: 0x5a, b: 0x2b }, roughness: 0.8, metalness: 0.0, opacity: 1.0 };
        scene.set_material(&mut txn, &table, &material)?;
        scene.set_transform(&mut txn, &table, &Transform { position: [0.0, 0.75, 0.0], rotation: [0.0, 0.3, 0.0], scale: [1.0, 1.0, 1.5] })?;
        let ball = scene.add_node(&mut txn, ids.next(), "Ball", NodeKind::Mesh, Some(&table));
        scene.set_primitive(&mut txn, &ball, Primitive::Sphere { radius: 0.2 })?;
        scene.set_number(&mut txn, &ball, NumberKey::Py, 0.25)?;
        let lamp = scene.add_node(&mut txn, ids.next(), "Lamp", NodeKind::Light, None);
        let light = Light { kind: LightKind::Spot, color: Color { r: 255, g: 238, b: 204 }, intensity: 2.5, angle: 0.6 };
        scene.set_light(&mut txn, &lamp, &light)?;
        // A tetrahedron as a triangle mesh (no normals), on the table.
        let tetra = shared::geometry::trimesh::TriMesh {
            positions: vec![[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]],
            indices: vec![0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3],
            ..Default::default()
        };
        let tetra_id = scene.add_mesh(&mut txn, &tetra)?;
        let gem = scene.add_node(&mut txn, ids.next(), "Gem", NodeKind::Mesh, Some(&table));
        scene.set_mesh(&mut txn, &gem, Some(&tetra_id))?;
        let camera = scene.add_node_before(&mut txn, ids.next(), "Camera", NodeKind::Camera, None, Some(&room))?;
        scene.set_visible(&mut txn, &camera, false)?;
        scene.set_locked(&mut txn, &camera, true)?;
    }
    let update = doc.transact().encode_state_as_update_v1(&StateVector::default());
    std::io::stdout().write_all(&update)?;
    Ok(())
}
