//! The viewport: a `<canvas>` showing the scene from the top, front or side, with the
//! pointer gestures of an editor — click / shift-click / box select, drag to move (snapped),
//! rotate and scale in R / S mode, pan (middle or right drag, space + drag), zoom (wheel).
//!
//! The selection carries handles ([`layout::Handle`]): its corners scale it and the knob
//! above it rotates it, whatever the mode.
//!
//! A gesture on the selection is previewed locally ([`Editor::preview`]) and, for moves,
//! published to peers over awareness; the document is written once, at pointerup, inside
//! one undo gesture. Other people's cursors are HTML labels over the canvas ([`cursors`]).

mod cursors;
mod draw;
mod layout;
mod pacing;

use leptos::prelude::*;
use shared::scene::{NodeId, Vec3};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, PointerEvent, WheelEvent};

use crate::editor::{Editor, Mode, Preview};
use crate::presence::Peer;
use crate::view::{snap, View, SNAP_STEP};
use layout::Item;

/// A pointer gesture in progress.
#[derive(Debug, Clone)]
enum Gesture {
    None,
    Pan { x: f64, y: f64, view: View },
    /// Move, rotate or scale the selection.
    Edit { mode: Mode, x: f64, y: f64, ids: Vec<NodeId>, anchor: Vec3, pivot: Vec3 },
    Marquee { x: f64, y: f64, additive: bool },
}

#[component]
pub fn Viewport(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let gesture = StoredValue::new(Gesture::None);
    let marquee = RwSignal::new(None::<(f64, f64, f64, f64)>);
    // What was drawn last, for picking.
    let items = StoredValue::new(Vec::<Item>::new());
    let resized = RwSignal::new(0u32);

    let on_resize = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || on_resize.remove());

    // Paints from the live scene (per-node state already in the resolved tree: no document
    // reads), at most once per animation frame whatever changed how often.
    let paint = move || {
        let Some(canvas) = canvas_ref.get_untracked() else { return };
        let (w, h) = (canvas.client_width().max(1) as f64, canvas.client_height().max(1) as f64);
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
        let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
        if canvas.width() != pw || canvas.height() != ph {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        if editor.canvas_size.get_untracked() != (w, h) {
            editor.canvas_size.set((w, h));
        }
        let Some(ctx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
        let view = editor.view.get_untracked();
        let preview = editor.preview.get_untracked();
        let mode = editor.mode.get_untracked();
        let drawn = editor.tree.with_untracked(|tree| {
            let list = layout::layout(tree, &view, w, h, preview.as_ref());
            editor.selection.with_untracked(|selection| {
                peers.with_untracked(|peers| {
                    let frame = draw::Frame {
                        tree,
                        items: &list,
                        view,
                        w,
                        h,
                        selection,
                        mode,
                        preview: preview.as_ref(),
                        peers,
                        marquee: marquee.get_untracked(),
                    };
                    draw::draw(&ctx, &frame);
                })
            });
            list
        });
        items.set_value(drawn);
    };
    let pacing = pacing::Pacing::new();
    Effect::new(move |_| {
        (resized.track(), editor.tree.track(), editor.view.track(), editor.preview.track(), editor.mode.track());
        (editor.selection.track(), peers.track(), marquee.track(), canvas_ref.track());
        pacing.request(paint);
    });

    let on_down = move |ev: PointerEvent| {
        let (x, y) = (ev.offset_x() as f64, ev.offset_y() as f64);
        if let Some(canvas) = canvas_ref.get_untracked() {
            let _ = canvas.set_pointer_capture(ev.pointer_id());
            let _ = canvas.focus();
        }
        let button = ev.button();
        if button == 1 || button == 2 || (button == 0 && editor.space_held.get_untracked()) {
            ev.prevent_default();
            editor.follow.set(None);
            gesture.set_value(Gesture::Pan { x, y, view: editor.view.get_untracked() });
            return;
        }
        if button != 0 {
            return;
        }
        if !ev.shift_key() {
            let handle = items.with_value(|list| {
                editor.tree.with_untracked(|tree| {
                    editor.selection.with_untracked(|selection| layout::pick_handle(&layout::selection_handles(list, tree, selection), x, y))
                })
            });
            if let Some(handle) = handle {
                let (ids, pivot) = gesture_targets(editor);
                if !ids.is_empty() {
                    editor.begin_gesture();
                    gesture.set_value(Gesture::Edit { mode: handle.mode, x, y, ids, anchor: pivot, pivot });
                }
                return;
            }
        }
        let hit = items.with_value(|list| layout::pick(list, x, y).map(|i| i.id.clone()));
        match hit {
            Some(id) if ev.shift_key() => editor.toggle_selected(&id),
            Some(id) => {
                if !editor.selection.with_untracked(|s| s.contains(&id)) {
                    editor.select(vec![id.clone()]);
                }
                let anchor = editor.tree.with_untracked(|tree| tree.world_transform(&id).position);
                let (ids, pivot) = gesture_targets(editor);
                if ids.is_empty() {
                    return;
                }
                editor.begin_gesture();
                gesture.set_value(Gesture::Edit { mode: editor.mode.get_untracked(), x, y, ids, anchor, pivot });
            }
            None => {
                if !ev.shift_key() {
                    editor.select(Vec::new());
                }
                marquee.set(Some((x, y, x, y)));
                gesture.set_value(Gesture::Marquee { x, y, additive: ev.shift_key() });
            }
        }
    };

    let on_move = move |ev: PointerEvent| {
        let (x, y) = (ev.offset_x() as f64, ev.offset_y() as f64);
        let view = editor.view.get_untracked();
        let (w, h) = editor.canvas_size.get_untracked();
        editor.cursor.set(Some(view.to_world(x, y, w, h)));
        match gesture.get_value() {
            Gesture::None => {}
            Gesture::Pan { x: x0, y: y0, view: start } => {
                let moved = View { cx: start.cx - (x - x0) / start.zoom, cy: start.cy + (y - y0) / start.zoom, ..start };
                editor.view.set(moved);
            }
            Gesture::Edit { mode, x: x0, y: y0, ids, anchor, pivot } => {
                let preview = edit_preview(editor, mode, (x0, y0), (x, y), ids, anchor, pivot);
                editor.preview.set(Some(preview));
            }
            Gesture::Marquee { x: x0, y: y0, .. } => marquee.set(Some((x0, y0, x, y))),
        }
    };

    let finish = move |commit: bool| {
        match gesture.get_value() {
            Gesture::Edit { .. } => {
                if let Some(preview) = editor.preview.get_untracked().filter(|_| commit) {
                    editor.commit(&preview);
                }
                editor.preview.set(None);
                editor.end_gesture();
            }
            Gesture::Marquee { additive, .. } => {
                if let Some((x0, y0, x1, y1)) = marquee.get_untracked().filter(|_| commit) {
                    let (l, r, t, b) = (x0.min(x1), x0.max(x1), y0.min(y1), y0.max(y1));
                    if r - l > 2.0 || b - t > 2.0 {
                        let inside: Vec<NodeId> = items.with_value(|list| {
                            list.iter()
                                .filter(|i| !i.locked)
                                .filter(|i| crate::geom::bounds(i.hull.iter().copied()).is_some_and(|(a, c, bb, d)| a <= r && bb >= l && c <= b && d >= t))
                                .map(|i| i.id.clone())
                                .collect()
                        });
                        editor.selection.update(|s| {
                            if !additive {
                                s.clear();
                            }
                            for id in inside {
                                if !s.contains(&id) {
                                    s.push(id);
                                }
                            }
                        });
                    }
                }
                marquee.set(None);
            }
            Gesture::Pan { .. } | Gesture::None => {}
        }
        gesture.set_value(Gesture::None);
    };

    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        let (w, h) = editor.canvas_size.get_untracked();
        let factor = (-ev.delta_y() * 0.0015).exp();
        editor.follow.set(None);
        editor.view.update(|v| *v = v.zoomed_at(factor, ev.offset_x() as f64, ev.offset_y() as f64, w, h));
    };

    let cursor_class = move || {
        if editor.space_held.get() {
            "viewport-canvas panning"
        } else {
            "viewport-canvas"
        }
    };

    view! {
        <div class="viewport" id="viewport"
            data-view=move || editor.view.get().kind.as_str()
            data-zoom=move || format!("{:.3}", editor.view.get().zoom)
            data-cx=move || format!("{:.3}", editor.view.get().cx)
            data-cy=move || format!("{:.3}", editor.view.get().cy)
        >
            <canvas
                node_ref=canvas_ref
                id="viewport-canvas"
                class=cursor_class
                tabindex="0"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=move |_| finish(true)
                on:pointercancel=move |_| finish(false)
                on:pointerleave=move |_| editor.cursor.set(None)
                on:wheel=on_wheel
                on:contextmenu=move |ev| ev.prevent_default()
            ></canvas>
            <cursors::Cursors editor=editor peers=peers />
        </div>
    }
}

/// What a gesture on the selection acts on: the unlocked selection roots, and the centre of
/// their origins (the pivot of rotating and scaling).
fn gesture_targets(editor: Editor) -> (Vec<NodeId>, Vec3) {
    editor.tree.with_untracked(|tree| {
        let ids: Vec<NodeId> = editor.selection_roots().into_iter().filter(|i| tree.node(i).is_some_and(|n| !n.locked)).collect();
        let n = ids.len().max(1) as f64;
        let sum = ids.iter().map(|i| tree.world_transform(i).position).fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]]);
        (ids, sum.map(|c| c / n))
    })
}

/// The preview of a move / rotate / scale gesture from screen point `from` to `to`.
fn edit_preview(editor: Editor, mode: Mode, from: (f64, f64), to: (f64, f64), ids: Vec<NodeId>, anchor: Vec3, pivot: Vec3) -> Preview {
    let view = editor.view.get_untracked();
    let (w, h) = editor.canvas_size.get_untracked();
    let snapping = editor.snap.get_untracked();
    match mode {
        Mode::Move => {
            let (a, b) = (view.to_world(from.0, from.1, w, h), view.to_world(to.0, to.1, w, h));
            let mut offset = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            if snapping {
                for i in crate::editor::plane_axes(view.kind) {
                    offset[i] = snap(anchor[i] + offset[i], SNAP_STEP) - anchor[i];
                }
            }
            Preview::Move { ids, offset }
        }
        Mode::Rotate => {
            let (px, py) = view.to_screen(pivot, w, h);
            let angle_of = |(x, y): (f64, f64)| (-(y - py)).atan2(x - px);
            let mut angle = angle_of(to) - angle_of(from);
            if snapping {
                angle = snap(angle, std::f64::consts::PI / 12.0);
            }
            Preview::Rotate { ids, angle, pivot, view: view.kind }
        }
        Mode::Scale => {
            let (px, py) = view.to_screen(pivot, w, h);
            let dist = |(x, y): (f64, f64)| ((x - px).powi(2) + (y - py).powi(2)).sqrt();
            let start = dist(from).max(4.0);
            let mut factor = (dist(to) / start).clamp(0.01, 100.0);
            if snapping {
                factor = snap(factor, 0.1).max(0.1);
            }
            Preview::Scale { ids, factor, pivot }
        }
    }
}
