//! Painting the viewport on its 2D canvas: grid and axes, objects by footprint and material
//! colour, light and camera icons, my selection, other people's selections and drag ghosts
//! in their colours, and the box-select rectangle. Pure drawing: state comes in a [`Frame`].

use shared::scene::{NodeKind, SceneTree};
use wasm_bindgen::JsValue;
use web_sys::CanvasRenderingContext2d as Ctx;

use super::layout::{self, Item, ICON};
use crate::editor::{Mode, Preview};
use crate::presence::Peer;
use crate::view::View;

const BACKGROUND: &str = "#1b1f27";
const GRID_MINOR: &str = "rgba(255,255,255,0.05)";
const GRID_MAJOR: &str = "rgba(255,255,255,0.11)";
const SELECTED: &str = "#a5b4fc";
const AXIS_COLORS: [&str; 3] = ["#ef4444", "#22c55e", "#3b82f6"];

/// Everything one picture depends on.
pub struct Frame<'a> {
    pub tree: &'a SceneTree,
    pub items: &'a [Item],
    pub view: View,
    pub w: f64,
    pub h: f64,
    pub selection: &'a [shared::scene::NodeId],
    pub mode: Mode,
    pub preview: Option<&'a Preview>,
    pub peers: &'a [Peer],
    pub marquee: Option<(f64, f64, f64, f64)>,
}

pub fn draw(ctx: &Ctx, f: &Frame) {
    ctx.set_fill_style_str(BACKGROUND);
    ctx.fill_rect(0.0, 0.0, f.w, f.h);
    grid(ctx, f);
    for item in f.items {
        object(ctx, item);
    }
    for peer in f.peers {
        peer_marks(ctx, f, peer);
    }
    selection(ctx, f);
    if let Some((x0, y0, x1, y1)) = f.marquee {
        ctx.set_fill_style_str("rgba(129,140,248,0.12)");
        ctx.fill_rect(x0.min(x1), y0.min(y1), (x1 - x0).abs(), (y1 - y0).abs());
        dashed(ctx, &[4.0, 3.0]);
        ctx.set_stroke_style_str(SELECTED);
        ctx.set_line_width(1.0);
        ctx.stroke_rect(x0.min(x1), y0.min(y1), (x1 - x0).abs(), (y1 - y0).abs());
        dashed(ctx, &[]);
    }
    gizmo(ctx, f);
}

fn dashed(ctx: &Ctx, pattern: &[f64]) {
    let array = js_sys::Array::new();
    for p in pattern {
        array.push(&JsValue::from_f64(*p));
    }
    let _ = ctx.set_line_dash(&array);
}

fn path(ctx: &Ctx, points: &[(f64, f64)]) {
    ctx.begin_path();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            ctx.move_to(*x, *y);
        } else {
            ctx.line_to(*x, *y);
        }
    }
    ctx.close_path();
}

fn grid(ctx: &Ctx, f: &Frame) {
    let v = &f.view;
    let step = v.grid_step();
    let (u0, v1) = v.to_plane(0.0, 0.0, f.w, f.h);
    let (u1, v0) = v.to_plane(f.w, f.h, f.w, f.h);
    ctx.set_line_width(1.0);
    let line = |major: bool, x0: f64, y0: f64, x1: f64, y1: f64| {
        ctx.set_stroke_style_str(if major { GRID_MAJOR } else { GRID_MINOR });
        ctx.begin_path();
        ctx.move_to(x0.round() + 0.5, y0.round() + 0.5);
        ctx.line_to(x1.round() + 0.5, y1.round() + 0.5);
        ctx.stroke();
    };
    let major = |i: i64| i.rem_euclid(5) == 0;
    let mut i = (u0 / step).floor() as i64;
    while (i as f64) * step <= u1 && i < (u0 / step).floor() as i64 + 2000 {
        let x = f.w / 2.0 + (i as f64 * step - v.cx) * v.zoom;
        line(major(i), x, 0.0, x, f.h);
        i += 1;
    }
    let mut j = (v0 / step).floor() as i64;
    while (j as f64) * step <= v1 && j < (v0 / step).floor() as i64 + 2000 {
        let y = f.h / 2.0 - (j as f64 * step - v.cy) * v.zoom;
        line(major(j), 0.0, y, f.w, y);
        j += 1;
    }
    // The world axes through the origin that lie in this view's plane.
    let origin = v.to_screen([0.0; 3], f.w, f.h);
    ctx.set_line_width(1.5);
    for (axis, color) in AXIS_COLORS.iter().enumerate() {
        let mut unit = [0.0; 3];
        unit[axis] = 1.0;
        let (dx, dy) = {
            let p = v.to_screen(unit, f.w, f.h);
            (p.0 - origin.0, p.1 - origin.1)
        };
        if dx.abs() + dy.abs() < 1e-6 {
            continue;
        }
        let k = 4.0 * (f.w + f.h) / (dx.abs() + dy.abs());
        ctx.set_stroke_style_str(color);
        ctx.set_global_alpha(0.55);
        ctx.begin_path();
        ctx.move_to(origin.0 - dx * k, origin.1 - dy * k);
        ctx.line_to(origin.0 + dx * k, origin.1 + dy * k);
        ctx.stroke();
        ctx.set_global_alpha(1.0);
    }
}

fn object(ctx: &Ctx, item: &Item) {
    match item.kind {
        NodeKind::Mesh => {
            path(ctx, &item.hull);
            ctx.set_global_alpha(0.85 * item.opacity);
            ctx.set_fill_style_str(&item.color);
            ctx.fill();
            ctx.set_global_alpha(1.0);
            ctx.set_stroke_style_str("rgba(0,0,0,0.45)");
            ctx.set_line_width(1.0);
            ctx.stroke();
        }
        NodeKind::Light => {
            let (x, y) = item.centre;
            ctx.set_stroke_style_str(&item.color);
            ctx.set_line_width(1.5);
            for k in 0..8 {
                let a = k as f64 * std::f64::consts::FRAC_PI_4;
                ctx.begin_path();
                ctx.move_to(x + a.cos() * 6.5, y + a.sin() * 6.5);
                ctx.line_to(x + a.cos() * ICON, y + a.sin() * ICON);
                ctx.stroke();
            }
            ctx.begin_path();
            let _ = ctx.arc(x, y, 4.5, 0.0, std::f64::consts::TAU);
            ctx.set_fill_style_str(&item.color);
            ctx.fill();
            ctx.set_stroke_style_str("rgba(0,0,0,0.5)");
            ctx.set_line_width(1.0);
            ctx.stroke();
        }
        NodeKind::Camera => {
            let (x, y) = item.centre;
            ctx.set_fill_style_str("#cbd5e1");
            ctx.fill_rect(x - ICON, y - 5.0, 12.0, 10.0);
            path(ctx, &[(x + 2.0, y), (x + ICON, y - 5.0), (x + ICON, y + 5.0)]);
            ctx.fill();
            ctx.set_fill_style_str("#475569");
            ctx.begin_path();
            let _ = ctx.arc(x - 4.0, y, 2.5, 0.0, std::f64::consts::TAU);
            ctx.fill();
        }
        NodeKind::Group => {}
    }
    if item.locked {
        ctx.set_fill_style_str("rgba(255,255,255,0.6)");
        ctx.set_font("10px system-ui, sans-serif");
        let _ = ctx.fill_text("🔒", item.centre.0 - 5.0, item.centre.1 + 3.0);
    }
}

fn outline(ctx: &Ctx, f: &Frame, id: &shared::scene::NodeId, color: &str, width: f64, dash: &[f64]) -> Option<(f64, f64, f64, f64)> {
    ctx.set_stroke_style_str(color);
    ctx.set_line_width(width);
    dashed(ctx, dash);
    let mut drew = false;
    for item in f.items.iter().filter(|i| &i.id == id) {
        path(ctx, &item.hull);
        ctx.stroke();
        drew = true;
    }
    let bounds = layout::node_bounds(f.items, f.tree, id);
    if !drew {
        // A group: the box around its contents.
        if let Some((x0, y0, x1, y1)) = bounds {
            ctx.stroke_rect(x0 - 4.0, y0 - 4.0, x1 - x0 + 8.0, y1 - y0 + 8.0);
        }
    }
    dashed(ctx, &[]);
    bounds
}

fn selection(ctx: &Ctx, f: &Frame) {
    for id in f.selection {
        let Some((x0, y0, x1, y1)) = outline(ctx, f, id, SELECTED, 2.0, &[]) else { continue };
        if let Some(node) = f.tree.node(id) {
            ctx.set_fill_style_str(SELECTED);
            ctx.set_font("12px system-ui, sans-serif");
            let _ = ctx.fill_text(&node.name, x0, y1 + 16.0);
        }
        handles(ctx, f, (x0, y0, x1, y1));
    }
    if let Some(Preview::Rotate { pivot, .. } | Preview::Scale { pivot, .. }) = f.preview {
        let (x, y) = f.view.to_screen(*pivot, f.w, f.h);
        ctx.set_stroke_style_str(SELECTED);
        ctx.begin_path();
        let _ = ctx.arc(x, y, 5.0, 0.0, std::f64::consts::TAU);
        ctx.stroke();
    }
}

/// Scale handles on the corners, the rotation handle on a stem above the top edge; the ones
/// of the current mode (R / S) stand out.
fn handles(ctx: &Ctx, f: &Frame, bounds: (f64, f64, f64, f64)) {
    let all = layout::handles(bounds);
    if let Some(knob) = all.iter().find(|h| h.mode == Mode::Rotate) {
        ctx.set_stroke_style_str(SELECTED);
        ctx.set_line_width(1.0);
        ctx.begin_path();
        ctx.move_to(knob.at.0, bounds.1);
        ctx.line_to(knob.at.0, knob.at.1);
        ctx.stroke();
    }
    for handle in all {
        let (x, y) = handle.at;
        ctx.set_fill_style_str(if handle.mode == f.mode { "#c7d2fe" } else { "#ffffff" });
        ctx.set_stroke_style_str("#4f46e5");
        ctx.set_line_width(1.0);
        ctx.begin_path();
        match handle.mode {
            Mode::Rotate => {
                let _ = ctx.arc(x, y, 5.0, 0.0, std::f64::consts::TAU);
            }
            _ => ctx.rect(x - 3.5, y - 3.5, 7.0, 7.0),
        }
        ctx.fill();
        ctx.stroke();
    }
}

/// A peer's selection outlines and drag ghost, in their colour.
fn peer_marks(ctx: &Ctx, f: &Frame, peer: &Peer) {
    for id in &peer.selection {
        // Wider than my own outline, so both show when we select the same thing.
        outline(ctx, f, &shared::scene::NodeId(id.clone()), &peer.color, 5.0, &[6.0, 4.0]);
    }
    let Some(drag) = &peer.drag else { return };
    let ghost = Preview::Move { ids: drag.ids.iter().map(|id| shared::scene::NodeId(id.clone())).collect(), offset: drag.offset };
    let moved = layout::layout(f.tree, &f.view, f.w, f.h, Some(&ghost));
    ctx.set_stroke_style_str(&peer.color);
    ctx.set_fill_style_str(&peer.color);
    ctx.set_line_width(1.5);
    dashed(ctx, &[5.0, 4.0]);
    for item in moved.iter().filter(|i| ghost.affects(f.tree, &i.id)) {
        path(ctx, &item.hull);
        ctx.set_global_alpha(0.22);
        ctx.fill();
        ctx.set_global_alpha(1.0);
        ctx.stroke();
    }
    dashed(ctx, &[]);
}

/// The view's name and its axes in the bottom-left corner.
fn gizmo(ctx: &Ctx, f: &Frame) {
    let (x, y) = (18.0, f.h - 18.0);
    let (right, up) = f.view.kind.axis_names();
    ctx.set_line_width(2.0);
    ctx.set_font("11px system-ui, sans-serif");
    for (dx, dy, name, color) in [(28.0, 0.0, right, "#f87171"), (0.0, -28.0, up, "#4ade80")] {
        ctx.set_stroke_style_str(color);
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x + dx, y + dy);
        ctx.stroke();
        ctx.set_fill_style_str(color);
        let _ = ctx.fill_text(name, x + dx + if dx > 0.0 { 4.0 } else { -4.0 }, y + dy - 4.0);
    }
    ctx.set_fill_style_str("rgba(255,255,255,0.55)");
    ctx.set_font("600 12px system-ui, sans-serif");
    let _ = ctx.fill_text(f.view.kind.label(), 14.0, 22.0);
}
