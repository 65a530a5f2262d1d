//! What the viewport shows, in screen space: every visible node on the canvas as an outline
//! (meshes) or an icon (lights, cameras), back to front, and the handles on the selection. The same lists
//! are drawn and hit-tested, so what you click is what you see.

use shared::scene::{NodeId, NodeKind, SceneTree};

use crate::editor::{Mode, Preview};
use crate::geom;
use crate::view::View;

/// Half the size of light and camera icons, in pixels.
pub const ICON: f64 = 10.0;
/// How far a handle can be missed and still be grabbed, in pixels.
pub const HANDLE_REACH: f64 = 7.0;
/// How far above a selected outline its rotation handle sits, in pixels.
pub const ROTATE_OFFSET: f64 = 24.0;

/// A handle on a selected object: dragging it rotates or scales the selection, whatever the
/// current mode. Scale handles sit on the corners of the outline's bounds, the rotation
/// handle above its top edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Handle {
    pub mode: Mode,
    pub at: (f64, f64),
}

/// The handles around screen bounds (min x, min y, max x, max y): four corners, one knob.
pub fn handles((x0, y0, x1, y1): (f64, f64, f64, f64)) -> [Handle; 5] {
    let scale = |at| Handle { mode: Mode::Scale, at };
    [
        scale((x0, y0)),
        scale((x1, y0)),
        scale((x1, y1)),
        scale((x0, y1)),
        Handle { mode: Mode::Rotate, at: ((x0 + x1) / 2.0, y0 - ROTATE_OFFSET) },
    ]
}

/// Every handle of the selected nodes that are shown, with the bounds they sit on.
pub fn selection_handles(items: &[Item], tree: &SceneTree, selection: &[NodeId]) -> Vec<Handle> {
    selection.iter().filter_map(|id| node_bounds(items, tree, id)).flat_map(handles).collect()
}

/// The handle under a screen point, if any (the nearest one).
pub fn pick_handle(handles: &[Handle], x: f64, y: f64) -> Option<Handle> {
    let distance = |h: &Handle| ((h.at.0 - x).powi(2) + (h.at.1 - y).powi(2)).sqrt();
    handles.iter().filter(|h| distance(h) <= HANDLE_REACH).min_by(|a, b| distance(a).total_cmp(&distance(b))).copied()
}

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

/// Every drawable node that is visible (its ancestors too) and on the canvas, back to front.
/// Nodes moved by `preview` are placed where the gesture puts them.
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
        if moving.is_none() {
            // Far off the canvas: skip the outline (a sphere around the shape is enough to tell).
            let reach = node.primitive.map_or(ICON, |p| geom::radius(&p) * world.scale.iter().fold(0.0, |a: f64, s| a.max(s.abs())) * view.zoom);
            if !on_screen(&[(centre.0 - reach, centre.1 - reach), (centre.0 + reach, centre.1 + reach)], w, h) {
                continue;
            }
        }
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
                let hull = geom::convex_hull(points);
                if !on_screen(&hull, w, h) {
                    continue;
                }
                items.push(Item {
                    hull,
                    color: material.color.to_hex(),
                    opacity: material.opacity.clamp(0.05, 1.0),
                    ..base
                });
            }
            NodeKind::Light | NodeKind::Camera => {
                let color = node.light.map_or_else(|| "#e5e7eb".to_owned(), |l| l.color.to_hex());
                let (x, y) = centre;
                let hull = vec![(x - ICON, y - ICON), (x + ICON, y - ICON), (x + ICON, y + ICON), (x - ICON, y + ICON)];
                if !on_screen(&hull, w, h) {
                    continue;
                }
                items.push(Item { hull, color, depth: depth + 1e6, ..base });
            }
            NodeKind::Group => {}
        }
    }
    items.sort_by(|a, b| a.depth.total_cmp(&b.depth));
    items
}

/// Whether any of an outline can show on a `w` × `h` canvas (a 5,000-node scene zoomed in
/// draws only the few hundred nodes in view).
fn on_screen(hull: &[(f64, f64)], w: f64, h: f64) -> bool {
    const MARGIN: f64 = 8.0;
    geom::bounds(hull.iter().copied()).is_some_and(|(x0, y0, x1, y1)| x1 >= -MARGIN && y1 >= -MARGIN && x0 <= w + MARGIN && y0 <= h + MARGIN)
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

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn only_what_can_show_on_the_canvas_is_laid_out() {
        assert!(on_screen(&[(-5.0, -5.0), (2.0, 2.0)], 100.0, 100.0), "overlapping a corner");
        assert!(on_screen(&[(-50.0, 40.0), (150.0, 60.0)], 100.0, 100.0), "spanning the canvas");
        assert!(!on_screen(&[(120.0, 10.0), (130.0, 20.0)], 100.0, 100.0), "right of it");
        assert!(!on_screen(&[], 100.0, 100.0));
    }

    #[wasm_bindgen_test]
    fn handles_sit_on_the_corners_and_above_the_top_edge_and_pick_the_nearest() {
        let all = handles((10.0, 20.0, 50.0, 60.0));
        let at = |mode| all.iter().filter(|h| h.mode == mode).map(|h| h.at).collect::<Vec<_>>();
        assert_eq!(at(Mode::Scale), [(10.0, 20.0), (50.0, 20.0), (50.0, 60.0), (10.0, 60.0)]);
        assert_eq!(at(Mode::Rotate), [(30.0, 20.0 - ROTATE_OFFSET)]);
        assert_eq!(pick_handle(&all, 52.0, 58.0).map(|h| h.at), Some((50.0, 60.0)));
        assert_eq!(pick_handle(&all, 31.0, 0.0).map(|h| h.mode), Some(Mode::Rotate));
        assert_eq!(pick_handle(&all, 30.0, 40.0), None, "the middle is the object, not a handle");
    }
}
