//! The viewport: the scene in 3D on a WebGL2 canvas (perspective, or the orthographic top,
//! front and side views of the same camera), with the editor's gestures on it.
//!
//! - [`camera`](crate::camera) is the view; [`drawables`] what is drawn and picked, kept in
//!   step with the live scene node by node; [`render`] draws it; [`pick`] finds what is under
//!   the pointer; [`gizmo`] the transform handles; [`gesture`] the pointer state machine.
//! - Other people show as their cursor and camera labels ([`cursors`], HTML over the canvas)
//!   and, in the picture, as their camera's frustum, their selection's outline and their
//!   drag's ghost. [`axes`] is the corner widget that shows and snaps the view's orientation.
//!
//! The picture is painted at most once per animation frame ([`pacing`]), only when
//! something it shows changed, at a lower resolution while slow motion lasts
//! ([`resolution`]). A lost WebGL context drops the renderer; when the browser
//! restores it, a new one is built and every node is uploaded again.
//!
//! `#viewport` carries the view (`data-view`, `data-zoom`: pixels per unit at the target,
//! `data-camera`) and what the last frame cost (`data-draw-calls`, `data-instances`,
//! `data-triangles`, `data-frame-ms`, `data-frames`; `data-render-scale` and
//! `data-frame-cost-ms`, what adaptive resolution saw) for the tests and benchmarks, and the
//! gizmo's handles on screen (`data-gizmo`, see [`gizmo::Gizmo::describe`]).

mod axes;
mod cursors;
mod drawables;
mod gesture;
mod gizmo;
mod gl;
mod meshes;
mod pacing;
mod pick;
mod render;
mod resolution;

use std::collections::HashMap;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{PointerEvent, WheelEvent};

use crate::editor::Editor;
use crate::presence::Peer;
use drawables::Drawables;
use gesture::{Context, Gesture};
use gizmo::Handle;
use render::icons::{self, ICON_PX};
use render::strokes::Strokes;
use render::{Frame, Renderer};

/// Why the canvas shows nothing, when it does not.
#[derive(Debug, Clone, PartialEq)]
enum GpuState {
    Ready,
    /// The context was lost; waiting for the browser to restore it.
    Lost,
    Failed(String),
}

#[component]
pub fn Viewport(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let viewport_ref = NodeRef::<leptos::html::Div>::new();
    let drawables = StoredValue::new(Drawables::default());
    let library = StoredValue::new(meshes::MeshLibrary::default());
    let renderer = StoredValue::new_local(None::<Renderer>);
    let context = Context { editor, drawables, gesture: StoredValue::new(Gesture::None), marquee: RwSignal::new(None) };
    let hover = RwSignal::new(None::<shared::scene::NodeId>);
    let hot = RwSignal::new(None::<Handle>);
    let gpu = RwSignal::new(GpuState::Ready);
    let resized = RwSignal::new(0u32);
    let frames = StoredValue::new(0u64);
    let resolution = StoredValue::new(resolution::Resolution::default());
    // Set by the timer that follows a reduced-resolution motion: the next paint is full size.
    let settling = StoredValue::new(false);
    let settle_request = RwSignal::new(0u32);
    // Touch points by pointer id (two of them pan and pinch).
    let touches = StoredValue::new(HashMap::<i32, (f64, f64)>::new());

    // The canvas follows its box: the window resizing, and the panels around it changing
    // width (a ResizeObserver; the window's resize event alone misses those).
    let on_resize = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || on_resize.remove());
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else { return };
        let callback = Closure::<dyn FnMut()>::new(move || resized.update(|n| *n += 1));
        if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
            observer.observe(&canvas);
            // Observer and callback live as long as the canvas, which lives as long as the page.
            std::mem::forget(observer);
        }
        callback.forget();
    });

    let paint = move || {
        let Some(canvas) = canvas_ref.get_untracked() else { return };
        let started = now_ms();
        let (w, h) = (canvas.client_width().max(1) as f64, canvas.client_height().max(1) as f64);
        let full = std::mem::replace(&mut *settling.write_value(), false);
        let scale = if full { 1.0 } else { resolution.with_value(|r| r.scale()) };
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).clamp(1.0, 3.0) * scale;
        let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
        let resizing = canvas.width() != pw || canvas.height() != ph;
        if resizing {
            canvas.set_width(pw);
            canvas.set_height(ph);
        }
        if editor.ui.canvas_size.get_untracked() != (w, h) {
            editor.ui.canvas_size.set((w, h));
        }
        let preview = editor.preview.get_untracked();
        let changes = editor.take_changes();
        if changes.structural {
            let used: std::collections::HashSet<shared::scene::MeshId> =
                editor.tree.with_untracked(|tree| tree.depth_first().into_iter().filter_map(|(n, _)| n.mesh.clone()).collect());
            library.update_value(|l| l.refresh(|id| used.contains(id)));
        }
        editor.tree.with_untracked(|tree| {
            library.update_value(|l| drawables.update_value(|d| d.sync(tree, changes, preview.as_ref(), &mut |id| l.get(editor, id))))
        });

        let mut fresh = false;
        if renderer.with_value(Option::is_none) && gpu.get_untracked() == GpuState::Ready {
            crate::marks::mark(crate::marks::GL_START);
            match gl::context(&canvas).and_then(Renderer::new) {
                Ok(r) => {
                    crate::marks::mark(crate::marks::GL_READY);
                    renderer.set_value(Some(r));
                    fresh = true;
                }
                Err(error) => {
                    gpu.set(GpuState::Failed(error.to_string()));
                    return;
                }
            }
        }
        let mut dirty = drawables.try_update_value(|d| d.take_dirty()).unwrap_or_default();
        dirty.all |= fresh;
        let hovered = hover.get_untracked();
        let camera = editor.camera.get_untracked();
        let mut icons_out = Strokes::default();
        let mut overlay = Strokes::default();
        let selection = editor.selection.get_untracked();
        let following = editor.follow.get_untracked();
        drawables.with_value(|d| {
            for (id, item) in d.iter().filter(|(_, i)| i.shown) {
                let size = camera.units_per_pixel_at(item.world.t, h) * ICON_PX * 2.0;
                icons::node_icon(&mut icons_out, item, size, selection.contains(id));
            }
        });
        peers.with_untracked(|ps| {
            for peer in ps.iter().filter(|p| Some(p.client) != following) {
                if let Some(theirs) = &peer.camera {
                    let size = camera.units_per_pixel_at(theirs.eye(), h) * 26.0;
                    icons::peer_camera(&mut icons_out, peer, theirs, size);
                }
            }
        });
        let gizmo = context.gizmo().map(|(g, _)| g);
        if let Some(gizmo) = &gizmo {
            gizmo.draw(&mut overlay, &camera, context.dragged_handle().or(hot.get_untracked()));
        }
        let stats = renderer.try_update_value(|r| {
            let r = r.as_mut()?;
            drawables.with_value(|d| {
                r.sync(d, dirty, hovered.as_ref());
                editor.tree.with_untracked(|tree| {
                    peers.with_untracked(|peers| {
                        let frame = Frame { camera: &camera, width: w, height: h, dpr, tree, drawables: d, selection: &selection, peers, icons: &icons_out, overlay: &overlay };
                        Some(r.draw(&frame))
                    })
                })
            })
        });
        frames.update_value(|n| *n += 1);
        // What this frame cost, for the next paint's scale: until the next animation frame,
        // which the browser runs once it has taken this one. Not a frame that also did
        // something once: a new renderer's first (it compiled its programs), one that
        // resized the canvas (the browser reallocated its buffers), or the full-resolution
        // paint after a motion (it says nothing of what the motion's frames cost).
        if !fresh && !full && !resizing {
            request_animation_frame(move || {
                let cost = now_ms() - started;
                resolution.update_value(|r| r.frame_took(cost));
                if let Some(el) = viewport_ref.get_untracked() {
                    let _ = el.set_attribute("data-frame-cost-ms", &format!("{cost:.1}"));
                }
            });
        }
        // Drawn reduced: once the motion stops, draw it again at full resolution.
        if !full && resolution.with_value(|r| r.needs_settling()) {
            let painted = frames.get_value();
            let wait = resolution.with_value(|r| r.settle_after());
            set_timeout(
                move || {
                    if frames.try_get_value() == Some(painted) {
                        settling.set_value(true);
                        settle_request.update(|n| *n += 1);
                    }
                },
                wait,
            );
        }
        if let (Some(Some(stats)), Some(el)) = (stats, viewport_ref.get_untracked()) {
            let set = |k: &str, v: String| {
                let _ = el.set_attribute(k, &v);
            };
            set("data-draw-calls", stats.draw_calls.to_string());
            set("data-instances", stats.instances.to_string());
            set("data-triangles", stats.triangles.to_string());
            set("data-uploaded", stats.uploaded.to_string());
            set("data-frame-ms", format!("{:.2}", now_ms() - started));
            set("data-frames", frames.get_value().to_string());
            set("data-render-scale", format!("{scale:.2}"));
            set("data-gizmo", gizmo.map(|g| g.describe(&camera, w, h).to_string()).unwrap_or_default());
        }
    };
    let pacing = pacing::Pacing::new();
    Effect::new(move |_| {
        resized.track();
        editor.tree.track();
        editor.camera.track();
        editor.preview.track();
        editor.mode.track();
        editor.space.track();
        editor.selection.track();
        peers.track();
        hover.track();
        hot.track();
        canvas_ref.track();
        gpu.track();
        settle_request.track();
        pacing.request(paint);
    });

    // The context can be lost (the GPU reset, too many contexts) and restored.
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else { return };
        let lost = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            ev.prevent_default(); // "we will handle the restore"
            renderer.set_value(None);
            gpu.set(GpuState::Lost);
        });
        let restored = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| gpu.set(GpuState::Ready));
        let _ = canvas.add_event_listener_with_callback("webglcontextlost", lost.as_ref().unchecked_ref());
        let _ = canvas.add_event_listener_with_callback("webglcontextrestored", restored.as_ref().unchecked_ref());
        // The listeners live as long as the canvas, which lives as long as the page.
        lost.forget();
        restored.forget();
    });

    let offset = |ev: &PointerEvent| (ev.offset_x() as f64, ev.offset_y() as f64);
    let on_down = move |ev: PointerEvent| {
        let at = offset(&ev);
        if let Some(canvas) = canvas_ref.get_untracked() {
            let _ = canvas.set_pointer_capture(ev.pointer_id());
            let _ = canvas.focus();
        }
        if ev.pointer_type() == "touch" {
            let count = touches.try_update_value(|t| {
                t.insert(ev.pointer_id(), at);
                t.len()
            });
            if count == Some(2) {
                let (center, spread) = touch_shape(touches);
                context.begin_pinch(center, spread);
                return;
            }
        }
        match ev.button() {
            0 => context.press(at, ev.shift_key(), ev.alt_key(), ev.ctrl_key() || ev.meta_key()),
            1 | 2 => {
                ev.prevent_default();
                context.press_pan(at);
            }
            _ => {}
        }
    };
    let on_move = move |ev: PointerEvent| {
        let at = offset(&ev);
        if ev.pointer_type() == "touch" && touches.with_value(|t| t.contains_key(&ev.pointer_id())) {
            touches.update_value(|t| {
                t.insert(ev.pointer_id(), at);
            });
            if touches.with_value(|t| t.len()) >= 2 {
                let (center, spread) = touch_shape(touches);
                context.move_to(center, Some(spread));
                return;
            }
        }
        let touched = drawables.with_value(|d| {
            let camera = editor.camera.get_untracked();
            let (width, height) = editor.ui.canvas_size.get_untracked();
            pick::touch_point(d, &pick::View { camera: &camera, width, height }, at)
        });
        editor.cursor.set(touched);
        if context.busy() {
            context.move_to(at, None);
        } else {
            let handle = context.pick_handle(at);
            if hot.get_untracked() != handle {
                hot.set(handle);
            }
            let under = if handle.is_some() { None } else { context.pick(at) };
            if hover.get_untracked() != under {
                hover.set(under);
            }
        }
    };
    let on_up = move |ev: PointerEvent, commit: bool| {
        let was_pinch = touches.try_update_value(|t| {
            let pinching = t.len() >= 2;
            t.remove(&ev.pointer_id());
            pinching
        });
        if was_pinch == Some(true) {
            context.finish(false);
            return;
        }
        context.finish(commit);
    };
    let on_wheel = move |ev: WheelEvent| {
        ev.prevent_default();
        context.wheel(ev.delta_y(), (ev.offset_x() as f64, ev.offset_y() as f64));
    };
    let on_leave = move |_| {
        editor.cursor.set(None);
        hover.set(None);
        hot.set(None);
    };

    let camera_attr = move || {
        let c = editor.camera.get();
        format!("{:.4},{:.4},{:.4},{:.5},{:.5},{:.4},{}", c.target[0], c.target[1], c.target[2], c.yaw, c.pitch, c.distance, c.projection.as_str())
    };
    view! {
        <div class="viewport" id="viewport" node_ref=viewport_ref
            data-view=move || editor.camera.get().kind().as_str()
            data-zoom=move || format!("{:.3}", 1.0 / editor.camera.get().units_per_pixel(editor.ui.canvas_size.get().1))
            data-camera=camera_attr
            data-hover=move || hover.get().map(|id| id.0).unwrap_or_default()
            data-handle=move || hot.get().map(|h| h.as_str()).unwrap_or_default()
            data-gpu=move || match gpu.get() { GpuState::Ready => "ready".to_owned(), GpuState::Lost => "lost".to_owned(), GpuState::Failed(e) => format!("failed: {e}") }
        >
            <canvas
                node_ref=canvas_ref
                id="viewport-canvas"
                class=move || if editor.ui.space_held.get() { "viewport-canvas panning" } else { "viewport-canvas" }
                tabindex="0"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=move |ev| on_up(ev, true)
                on:pointercancel=move |ev| on_up(ev, false)
                on:pointerleave=on_leave
                on:wheel=on_wheel
                on:contextmenu=move |ev| ev.prevent_default()
            ></canvas>
            <Show when=move || context.marquee.get().is_some()>
                <div class="marquee" style=move || {
                    let (x0, y0, x1, y1) = context.marquee.get().unwrap_or_default();
                    format!("left:{}px;top:{}px;width:{}px;height:{}px", x0.min(x1), y0.min(y1), (x1 - x0).abs(), (y1 - y0).abs())
                }></div>
            </Show>
            <Show when=move || !matches!(gpu.get(), GpuState::Ready)>
                <div class="viewport-message" role="status">{move || match gpu.get() {
                    GpuState::Lost => "The graphics context was lost; waiting for the browser to restore it…".to_owned(),
                    GpuState::Failed(e) => format!("The 3D view cannot start: {e}."),
                    GpuState::Ready => String::new(),
                }}</div>
            </Show>
            <cursors::Cursors editor=editor peers=peers />
            <axes::AxesWidget editor=editor />
        </div>
    }
}

/// The centre of the touch points and how far apart the first two are.
fn touch_shape(touches: StoredValue<HashMap<i32, (f64, f64)>>) -> ((f64, f64), f64) {
    touches.with_value(|t| {
        let points: Vec<(f64, f64)> = t.values().copied().take(2).collect();
        let n = points.len().max(1) as f64;
        let center = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
        let spread = match points.as_slice() {
            [a, b] => (a.0 - b.0).hypot(a.1 - b.1),
            _ => 1.0,
        };
        (center, spread)
    })
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}
