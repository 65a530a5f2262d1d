//! What the viewport shows, in screen space: every visible node as an outline (meshes) or an
//! icon (lights, cameras), back to front. The same list is drawn and hit-tested, so what
//! you click is what you see.

use shared::scene::{NodeId, NodeKind, SceneTree};

use crate::editor::Preview;
use crate::geom;
use crate::view::View;

/// Half the size of light and camera icons, in pixels.
pub const ICON: f64 = 10.0;

#[derive(Debug, Clone)]
pub struct Item {
    pub id: NodeId,
    pub kind: NodeKind,
    /// Screen outline, or the icon's box.
    pub hull: Vec<(f64, f64)>,
    /// Icon centre (for lights and cameras).
    pub centre: (f64, f64),
    /// Towards the viewer: larger is nearer (drawn later, picked first).
    pub depth: f64,
    pub color: String,
    pub opacity: f64,
    pub locked: bool,
}

/// Every drawable node that is visible (its ancestors too), back to front. Nodes moved by
/// `preview` are placed where the gesture puts them.
pub fn layout(tree: &SceneTree, view: &View, w: f64, h: f64, preview: Option<&Preview>) -> Vec<Item> {
    let mut items = Vec::new();
    // Visibility of the ancestors along the current depth-first path.
    let mut visible_at: Vec<bool> = Vec::new();
    for (node, depth) in tree.depth_first() {
        visible_at.truncate(depth);
        let visible = node.visible && visible_at.last().copied().unwrap_or(true);
        visible_at.push(visible);
        if !visible {
            continue;
        }
        let moving = preview.filter(|p| p.affects(tree, &node.id));
        let map = |p| moving.map_or(p, |m| m.apply(p));
        let world = tree.world_transform(&node.id);
        let centre = view.to_screen(map(world.position), w, h);
        let (_, _, depth) = view.kind.project(world.position);
        let base = Item {
            id: node.id.clone(),
            kind: node.kind,
            hull: Vec::new(),
            centre,
            depth,
            color: String::new(),
            opacity: 1.0,
            locked: node.locked,
        };
        match node.kind {
            NodeKind::Mesh => {
                let (Some(primitive), Some(material)) = (node.primitive, node.material) else { continue };
                let m = geom::rotation(world.rotation);
                let points = geom::sample_points(&primitive)
                    .into_iter()
                    .map(|q| view.to_screen(map(geom::to_world(&world, &m, q)), w, h))
                    .collect();
                items.push(Item {
                    hull: geom::convex_hull(points),
                    color: material.color.to_hex(),
                    opacity: material.opacity.clamp(0.05, 1.0),
                    ..base
                });
            }
            NodeKind::Light | NodeKind::Camera => {
                let color = node.light.map_or_else(|| "#e5e7eb".to_owned(), |l| l.color.to_hex());
                let (x, y) = centre;
                let hull = vec![(x - ICON, y - ICON), (x + ICON, y - ICON), (x + ICON, y + ICON), (x - ICON, y + ICON)];
                items.push(Item { hull, color, depth: depth + 1e6, ..base });
            }
            NodeKind::Group => {}
        }
    }
    items.sort_by(|a, b| a.depth.total_cmp(&b.depth));
    items
}

/// The topmost unlocked item under a screen point.
pub fn pick<'a>(items: &'a [Item], x: f64, y: f64) -> Option<&'a Item> {
    items.iter().rev().filter(|i| !i.locked).find(|i| geom::hit(&i.hull, (x, y), 3.0))
}

/// Screen bounds of a node: its own outline, or the union of its subtree's (groups).
pub fn node_bounds(items: &[Item], tree: &SceneTree, id: &NodeId) -> Option<(f64, f64, f64, f64)> {
    let points = items
        .iter()
        .filter(|i| tree.is_ancestor_or_self(id, &i.id))
        .flat_map(|i| i.hull.iter().copied())
        .collect::<Vec<_>>();
    geom::bounds(points)
}
