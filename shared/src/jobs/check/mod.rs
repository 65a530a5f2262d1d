//! The scene check ("render prep"): what in the raw document would surprise a renderer or an
//! exporter, phase by phase, each finding naming the offending node ids.
//!
//! Phases ([`PHASES`], in order): stored parents that name no node (orphans), stored parent
//! chains that loop (cycles, including a node that is its own parent), a zero scale
//! component, meshes without material keys, meshes whose world bounding boxes overlap, and
//! triangle meshes that are missing or damaged, have degenerate triangles, or were stored
//! without normals.
//!
//! The check reads the *stored* values ([`input::CheckInput`]), not the resolved tree: the
//! tree repairs orphans and cycles for display, and the check reports that repair was needed.
//! World transforms for the overlap phase do use the resolved tree (that is where the
//! objects are drawn).

pub mod input;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use super::model::{Finding, FindingKind};
use super::space::world_transforms;
use crate::geometry::bounds::Aabb;
use input::CheckInput;

/// The phases, in the order they run.
pub const PHASES: [&str; 6] = ["orphans", "cycles", "zero scale", "materials", "overlaps", "meshes"];

/// Runs phase `index` of [`PHASES`] (an index past the end finds nothing).
pub fn run_phase(input: &CheckInput, index: usize) -> Vec<Finding> {
    match index {
        0 => orphans(input),
        1 => cycles(input),
        2 => zero_scale(input),
        3 => missing_materials(input),
        4 => overlaps(input),
        5 => meshes(input),
        _ => Vec::new(),
    }
}

/// Every phase at once.
pub fn run_all(input: &CheckInput) -> Vec<Finding> {
    (0..PHASES.len()).flat_map(|i| run_phase(input, i)).collect()
}

fn finding(kind: FindingKind, nodes: Vec<String>, message: String) -> Finding {
    Finding { kind, nodes, message }
}

fn orphans(input: &CheckInput) -> Vec<Finding> {
    input
        .nodes
        .iter()
        .filter_map(|node| {
            let parent = node.parent.as_deref().filter(|p| !p.is_empty() && *p != node.id)?;
            (!input.ids.contains(parent)).then(|| {
                finding(
                    FindingKind::Orphan,
                    vec![node.id.clone()],
                    format!("{} has parent {parent:?}, which does not exist; it shows at the root", node.label()),
                )
            })
        })
        .collect()
}

/// Each node has at most one stored parent, so the parent links form a functional graph:
/// walk from every node, and a walk that meets its own trail has found a cycle.
fn cycles(input: &CheckInput) -> Vec<Finding> {
    let parent: HashMap<&str, &str> = input
        .nodes
        .iter()
        .filter_map(|n| n.parent.as_deref().filter(|p| input.ids.contains(*p)).map(|p| (n.id.as_str(), p)))
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut found = Vec::new();
    for node in &input.nodes {
        let mut trail: Vec<&str> = Vec::new();
        let mut on_trail: HashMap<&str, usize> = HashMap::new();
        let mut current = Some(node.id.as_str());
        while let Some(id) = current {
            if done.contains(id) {
                break;
            }
            if let Some(&start) = on_trail.get(id) {
                let mut members: Vec<String> = trail[start..].iter().map(|s| s.to_string()).collect();
                members.sort();
                let names: Vec<String> = members.iter().map(|id| input.label(id)).collect();
                found.push(finding(FindingKind::Cycle, members, format!("parents loop: {}", names.join(" → "))));
                break;
            }
            on_trail.insert(id, trail.len());
            trail.push(id);
            current = parent.get(id).copied();
        }
        done.extend(trail);
    }
    found
}

fn zero_scale(input: &CheckInput) -> Vec<Finding> {
    input
        .nodes
        .iter()
        .filter(|n| n.scale.iter().any(|s| s.abs() < 1e-12))
        .map(|n| {
            let [x, y, z] = n.scale;
            finding(FindingKind::ZeroScale, vec![n.id.clone()], format!("{} has a zero scale ({x}, {y}, {z})", n.label()))
        })
        .collect()
}

fn missing_materials(input: &CheckInput) -> Vec<Finding> {
    input
        .nodes
        .iter()
        .filter(|n| n.is_mesh && !n.missing_material.is_empty())
        .map(|n| {
            let keys = n.missing_material.join(", ");
            finding(FindingKind::MissingMaterial, vec![n.id.clone()], format!("{} has no valid {keys}; it renders with the default", n.label()))
        })
        .collect()
}

/// Overlap along one axis: the intervals share more than a sliver, or one is flat (a plane)
/// and lies strictly inside the other.
fn axis_overlaps(a: (f64, f64), b: (f64, f64)) -> bool {
    const EPS: f64 = 1e-6;
    let shared = a.1.min(b.1) - a.0.max(b.0);
    let flat_inside = |flat: (f64, f64), other: (f64, f64)| flat.1 - flat.0 < EPS && flat.0 > other.0 + EPS && flat.1 < other.1 - EPS;
    shared > EPS || flat_inside(a, b) || flat_inside(b, a)
}

fn boxes_overlap(a: &Aabb, b: &Aabb) -> bool {
    (0..3).all(|i| axis_overlaps((a.min[i], a.max[i]), (b.min[i], b.max[i])))
}

/// Sort and sweep along x, then test the other axes.
fn overlaps(input: &CheckInput) -> Vec<Finding> {
    let world = world_transforms(&input.tree);
    let mut boxes: Vec<(Aabb, &str)> = input
        .tree
        .depth_first()
        .into_iter()
        .filter_map(|(node, _)| {
            let primitive = node.primitive.as_ref()?;
            let m = world.get(&node.id)?;
            let mesh_bounds = node.mesh.as_ref().and_then(|id| input.meshes.iter().find(|c| c.id == *id)).and_then(|c| c.state.as_ref().ok()).map(|s| s.2);
            let local = mesh_bounds.filter(|b| !b.is_empty()).unwrap_or_else(|| Aabb::of_primitive(primitive));
            Some((local.transformed(m), node.id.as_str()))
        })
        .filter(|(b, _)| b.min.iter().chain(&b.max).all(|v| v.is_finite()))
        .collect();
    boxes.sort_by(|a, b| a.0.min[0].total_cmp(&b.0.min[0]).then_with(|| a.1.cmp(b.1)));
    let mut found = Vec::new();
    for (i, (a, a_id)) in boxes.iter().enumerate() {
        for (b, b_id) in &boxes[i + 1..] {
            if b.min[0] > a.max[0] {
                break;
            }
            if boxes_overlap(a, b) {
                let mut pair = [a_id.to_string(), b_id.to_string()];
                pair.sort();
                let message = format!("{} and {} overlap", input.label(&pair[0]), input.label(&pair[1]));
                found.push(finding(FindingKind::Overlap, pair.to_vec(), message));
            }
        }
    }
    found.sort_by(|a, b| a.nodes.cmp(&b.nodes));
    found
}

fn meshes(input: &CheckInput) -> Vec<Finding> {
    let mut found = Vec::new();
    for mesh in &input.meshes {
        let who = mesh.nodes.iter().map(|n| input.label(n)).collect::<Vec<_>>().join(", ");
        match &mesh.state {
            Err(why) => found.push(finding(FindingKind::BadMesh, mesh.nodes.clone(), format!("{who}: {why}; it draws as its stand-in box"))),
            Ok((degenerate, has_normals, _)) => {
                if *degenerate > 0 {
                    let message = format!("{who}: {degenerate} degenerate triangle{} (no area)", if *degenerate == 1 { "" } else { "s" });
                    found.push(finding(FindingKind::DegenerateTriangles, mesh.nodes.clone(), message));
                }
                if !has_normals {
                    found.push(finding(FindingKind::MissingNormals, mesh.nodes.clone(), format!("{who}: the mesh has no normals (they are computed)")));
                }
            }
        }
    }
    found
}
