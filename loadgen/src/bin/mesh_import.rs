//! `mesh_import FILE.glb`: what importing a model costs, natively, with the code the editor
//! runs in the browser (`shared::interchange::import_gltf`): the import's time and the
//! process's peak memory, what the model weighs in the document (the stored mesh bytes, the
//! whole encoded document a joiner downloads), and what drawing and picking it needs
//! (decoding the stored mesh, building its hierarchy, one ray). Prints one JSON line
//! (`mesh-import {...}`) for BENCHMARKS.md; `scripts/bench-meshes.sh` runs it.

use std::time::Instant;

use serde_json::json;
use shared::geometry::shape::{LoadedMesh, Shape};
use shared::interchange::import_gltf;
use shared::scene::{IdGen, Scene};
use yrs::{Doc, ReadTxn, StateVector, Transact};

/// The process's peak resident memory so far (VmHWM, KiB), from /proc.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: mesh_import FILE.glb")?;
    let bytes = std::fs::read(&path)?;
    let before = peak_rss_kib();
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    let started = Instant::now();
    let summary = import_gltf(&scene, &mut doc.transact_mut(), &mut IdGen::new(1), None, &bytes, |_| {})?;
    let import_ms = started.elapsed().as_secs_f64() * 1000.0;
    let after_import = peak_rss_kib();
    let txn = doc.transact();
    let document_bytes = txn.encode_state_as_update_v1(&StateVector::default()).len();
    let mesh_bytes = scene.mesh_storage_bytes(&txn);
    let id = scene.mesh_ids(&txn).into_iter().next().ok_or("the model has no triangle mesh")?;
    let started = Instant::now();
    let mesh = scene.mesh(&txn, &id)?;
    let decode_ms = started.elapsed().as_secs_f64() * 1000.0;
    let triangles = mesh.triangle_count();
    let started = Instant::now();
    let loaded = LoadedMesh::new(id, mesh);
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let shape = Shape::Mesh(std::sync::Arc::new(loaded));
    let started = Instant::now();
    let rays = 10_000;
    let mut hits = 0;
    for i in 0..rays {
        let a = i as f64 / rays as f64 * std::f64::consts::TAU;
        let origin = [3.0 * a.cos(), 0.3, 3.0 * a.sin()];
        if shape.intersect(origin, [-origin[0], -origin[1], -origin[2]]).is_some() {
            hits += 1;
        }
    }
    let ray_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(rays);
    let report = json!({
        "file": path,
        "file_bytes": bytes.len(),
        "nodes": summary.nodes_created,
        "triangles": triangles,
        "import_ms": import_ms,
        "peak_rss_before_kib": before,
        "peak_rss_after_import_kib": after_import,
        "mesh_bytes_in_document": mesh_bytes,
        "document_bytes": document_bytes,
        "decode_ms": decode_ms,
        "normals_and_bvh_ms": load_ms,
        "ray_us": ray_us,
        "rays_hit": hits,
        "peak_rss_end_kib": peak_rss_kib(),
    });
    println!("mesh-import {report}");
    Ok(())
}
