//! Pointer gestures on the viewport, as a small state machine over pointer events:
//!
//! - a press that does not move past [`CLICK_SLOP`] is a click: select what is under it
//!   (Shift: add or remove it), or clear the selection on empty space;
//! - dragging from empty space orbits (Shift: pans); from an object, drags it as the tool
//!   mode says; from a gizmo handle, moves, turns or scales along it;
//! - middle or right drag, or Space+drag, pans; Alt+drag orbits even over objects;
//!   Ctrl+drag draws a selection box (Ctrl+Shift adds to the selection);
//! - two fingers pan and pinch-zoom; the wheel zooms to the pointer.
//!
//! An edit is previewed (and published to peers) while it moves and written at pointerup,
//! as one undo step. Any camera gesture of my own stops following a peer. On a view-only
//! page no edit ever starts: no gizmo shows, and dragging an object orbits.

use leptos::prelude::*;
use shared::math::{mat3, Mat3};
use shared::scene::NodeId;

use super::drawables::Drawables;
use super::gizmo::drag::DragStart;
use super::gizmo::{Gizmo, Handle};
use super::pick::{self, View};
use crate::camera::Camera;
use crate::editor::{Editor, Mode, Space};

/// How far (CSS pixels) a press may wander and still be a click.
pub const CLICK_SLOP: f64 = 4.0;

/// A gesture in progress.
#[derive(Debug, Clone, Default)]
pub enum Gesture {
    #[default]
    None,
    /// Pressed, not moved yet: a click if released here.
    Pending { x: f64, y: f64, hit: Option<NodeId>, shift: bool },
    Orbit { x: f64, y: f64, camera: Camera },
    Pan { x: f64, y: f64, camera: Camera },
    Edit(Box<DragStart>),
    Marquee { x: f64, y: f64, additive: bool },
    /// Two fingers: their centre and spread at the start.
    Pinch { center: (f64, f64), spread: f64, camera: Camera },
}

/// What the gestures act on.
#[derive(Clone, Copy)]
pub struct Context {
    pub editor: Editor,
    pub drawables: StoredValue<Drawables>,
    pub gesture: StoredValue<Gesture>,
    pub marquee: RwSignal<Option<(f64, f64, f64, f64)>>,
}

impl Context {
    fn view_size(&self) -> (f64, f64) {
        self.editor.ui.canvas_size.get_untracked()
    }

    /// Runs `f` with the current view.
    fn with_view<R>(&self, f: impl FnOnce(&View) -> R) -> R {
        let camera = self.editor.camera.get_untracked();
        let (width, height) = self.view_size();
        f(&View { camera: &camera, width, height })
    }

    /// The node under a point (unlocked only).
    pub fn pick(&self, at: (f64, f64)) -> Option<NodeId> {
        self.drawables.with_value(|d| self.with_view(|v| pick::pick(d, v, at, false))).map(|(id, _)| id)
    }

    /// The gizmo the selection shows now, if any: its roots (unlocked), pivot and axes.
    /// None on a view-only page: nothing to drag.
    pub fn gizmo(&self) -> Option<(Gizmo, Vec<NodeId>)> {
        let editor = self.editor;
        if !editor.can_edit() {
            return None;
        }
        let ids: Vec<NodeId> = editor.selection_roots();
        let (ids, origins, first_axes) = self.drawables.with_value(|d| {
            let ids: Vec<NodeId> = ids.into_iter().filter(|id| d.get(id).is_some_and(|n| !n.locked && n.shown)).collect();
            let origins: Vec<[f64; 3]> = ids.iter().filter_map(|id| d.get(id).map(|n| n.world.t)).collect();
            let axes = ids.first().and_then(|id| d.get(id)).and_then(|n| mat3::orthonormalized(&n.world.m));
            (ids, origins, axes)
        });
        if ids.is_empty() {
            return None;
        }
        let n = origins.len().max(1) as f64;
        let pivot = origins.iter().fold([0.0; 3], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2]]).map(|c| c / n);
        let mode = editor.mode.get_untracked();
        let local = mode == Mode::Scale || editor.space.get_untracked() == Space::Local;
        let axes: Mat3 = if local { first_axes.unwrap_or(mat3::IDENTITY) } else { mat3::IDENTITY };
        let (_, height) = self.view_size();
        Some((Gizmo::new(mode, pivot, axes, &editor.camera.get_untracked(), height), ids))
    }

    /// The gizmo handle under a point.
    pub fn pick_handle(&self, at: (f64, f64)) -> Option<Handle> {
        let (gizmo, _) = self.gizmo()?;
        let (w, h) = self.view_size();
        gizmo.pick(&self.editor.camera.get_untracked(), w, h, at.0, at.1)
    }

    /// Starts dragging `handle` (the selection's gizmo, or `Handle::Body` of the selection).
    fn begin_edit(&self, handle: Handle, at: (f64, f64), anchor_of: Option<&NodeId>) -> bool {
        let Some((gizmo, ids)) = self.gizmo() else { return false };
        let anchor = anchor_of
            .and_then(|id| self.drawables.with_value(|d| d.get(id).map(|n| n.world.t)))
            .unwrap_or(gizmo.pivot);
        let world_axes = gizmo.axes == mat3::IDENTITY;
        let start = DragStart {
            handle,
            ids,
            gizmo,
            anchor,
            camera: self.editor.camera.get_untracked(),
            view: self.view_size(),
            from: at,
            world_axes,
        };
        if !self.editor.begin_gesture() {
            return false;
        }
        self.gesture.set_value(Gesture::Edit(Box::new(start)));
        true
    }

    /// A press of the primary button (or one finger) at `at`.
    pub fn press(&self, at: (f64, f64), shift: bool, alt: bool, ctrl: bool) {
        let editor = self.editor;
        let camera = editor.camera.get_untracked();
        if editor.ui.space_held.get_untracked() {
            self.gesture.set_value(Gesture::Pan { x: at.0, y: at.1, camera });
        } else if alt {
            self.gesture.set_value(Gesture::Orbit { x: at.0, y: at.1, camera });
        } else if ctrl {
            if !shift {
                editor.select(Vec::new());
            }
            self.marquee.set(Some((at.0, at.1, at.0, at.1)));
            self.gesture.set_value(Gesture::Marquee { x: at.0, y: at.1, additive: shift });
        } else if let Some(handle) = self.pick_handle(at).filter(|_| !shift) {
            self.begin_edit(handle, at, None);
        } else {
            self.gesture.set_value(Gesture::Pending { x: at.0, y: at.1, hit: self.pick(at), shift });
        }
    }

    /// A press of the middle or right button: pan.
    pub fn press_pan(&self, at: (f64, f64)) {
        self.gesture.set_value(Gesture::Pan { x: at.0, y: at.1, camera: self.editor.camera.get_untracked() });
    }

    pub fn begin_pinch(&self, center: (f64, f64), spread: f64) {
        self.finish(false);
        self.gesture.set_value(Gesture::Pinch { center, spread: spread.max(1.0), camera: self.editor.camera.get_untracked() });
    }

    /// The pointer moved to `to` (for a pinch: the fingers' centre and spread).
    pub fn move_to(&self, to: (f64, f64), spread: Option<f64>) {
        let editor = self.editor;
        let (_, height) = self.view_size();
        match self.gesture.get_value() {
            Gesture::None => {}
            Gesture::Pending { x, y, hit, shift } => {
                if (to.0 - x).hypot(to.1 - y) <= CLICK_SLOP {
                    return;
                }
                let camera = editor.camera.get_untracked();
                match hit {
                    // On a view-only page dragging an object orbits, as empty space does.
                    Some(id) if !shift && editor.can_edit() => {
                        if !editor.selection.with_untracked(|s| s.contains(&id)) {
                            editor.select(vec![id.clone()]);
                        }
                        let mode = editor.mode.get_untracked();
                        if !self.begin_edit(Handle::Body(mode), (x, y), Some(&id)) {
                            self.gesture.set_value(Gesture::None);
                        }
                    }
                    _ if shift => self.gesture.set_value(Gesture::Pan { x, y, camera }),
                    _ => self.gesture.set_value(Gesture::Orbit { x, y, camera }),
                }
                self.move_to(to, spread);
            }
            Gesture::Orbit { x, y, camera } => {
                editor.follow.set(None);
                editor.camera.set(camera.orbited(to.0 - x, to.1 - y));
            }
            Gesture::Pan { x, y, camera } => {
                editor.follow.set(None);
                editor.camera.set(camera.panned(to.0 - x, to.1 - y, height));
            }
            Gesture::Edit(start) => {
                if let Some(preview) = start.preview(to, editor.snap.get_untracked()) {
                    editor.preview.set(Some(preview));
                }
            }
            Gesture::Marquee { x, y, .. } => self.marquee.set(Some((x, y, to.0, to.1))),
            Gesture::Pinch { center, spread: start_spread, camera } => {
                let (w, h) = self.view_size();
                let factor = spread.map_or(1.0, |s| s / start_spread);
                editor.follow.set(None);
                let panned = camera.panned(to.0 - center.0, to.1 - center.1, h);
                editor.camera.set(panned.zoomed_at(factor, to.0, to.1, w, h));
            }
        }
    }

    /// The gesture ends: written (`commit`) or abandoned.
    pub fn finish(&self, commit: bool) {
        let editor = self.editor;
        match self.gesture.get_value() {
            Gesture::Pending { hit, shift, .. } if commit => match hit {
                Some(id) if shift => editor.toggle_selected(&id),
                Some(id) => editor.select(vec![id]),
                None if !shift => editor.select(Vec::new()),
                None => {}
            },
            Gesture::Edit(_) => {
                if let Some(preview) = editor.preview.get_untracked().filter(|_| commit) {
                    editor.commit(&preview);
                }
                editor.preview.set(None);
                editor.end_gesture();
            }
            Gesture::Marquee { additive, .. } => {
                if let Some((x0, y0, x1, y1)) = self.marquee.get_untracked().filter(|_| commit) {
                    let rect = (x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1));
                    if rect.2 - rect.0 > 2.0 || rect.3 - rect.1 > 2.0 {
                        let inside = self.drawables.with_value(|d| self.with_view(|v| pick::inside(d, v, rect)));
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
                self.marquee.set(None);
            }
            _ => {}
        }
        self.gesture.set_value(Gesture::None);
    }

    /// The wheel turned over (x, y): zoom there.
    pub fn wheel(&self, delta_y: f64, at: (f64, f64)) {
        let (w, h) = self.view_size();
        let factor = (-delta_y * 0.0015).exp();
        self.editor.follow.set(None);
        self.editor.camera.update(|c| *c = c.zoomed_at(factor, at.0, at.1, w, h));
    }

    /// Whether a gesture is under way.
    pub fn busy(&self) -> bool {
        !matches!(self.gesture.get_value(), Gesture::None)
    }

    /// The handle being dragged.
    pub fn dragged_handle(&self) -> Option<Handle> {
        match self.gesture.get_value() {
            Gesture::Edit(start) => Some(start.handle),
            _ => None,
        }
    }
}
