//! The 2D cameras of the viewport: orthographic top, front and side views, each a pair of
//! world axes on screen plus a centre and a zoom. Kept apart from the canvas code so that
//! presence (a peer's view, for follow mode) and the viewport share one definition, and so
//! the mapping between screen pixels and world units is testable without a browser.

use shared::scene::{NumberKey, Vec3};

/// Which orthographic view the viewport shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewKind {
    /// Looking down −Y: x to the right, −z up the screen.
    #[default]
    Top,
    /// Looking along −Z: x to the right, y up.
    Front,
    /// Looking along −X (from the right): −z to the right, y up.
    Side,
}

impl ViewKind {
    pub const ALL: [ViewKind; 3] = [ViewKind::Top, ViewKind::Front, ViewKind::Side];

    pub fn as_str(self) -> &'static str {
        match self {
            ViewKind::Top => "top",
            ViewKind::Front => "front",
            ViewKind::Side => "side",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ViewKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ViewKind::Top => "Top",
            ViewKind::Front => "Front",
            ViewKind::Side => "Side",
        }
    }

    /// A world point as (right, up, towards the viewer).
    pub fn project(self, [x, y, z]: Vec3) -> (f64, f64, f64) {
        match self {
            ViewKind::Top => (x, -z, y),
            ViewKind::Front => (x, y, z),
            ViewKind::Side => (-z, y, x),
        }
    }

    /// The world vector that moves (du, dv) in the view plane and nothing in depth.
    pub fn unproject(self, du: f64, dv: f64) -> Vec3 {
        match self {
            ViewKind::Top => [du, 0.0, -dv],
            ViewKind::Front => [du, dv, 0.0],
            ViewKind::Side => [0.0, dv, -du],
        }
    }

    /// The Euler component that turns objects counter-clockwise on screen in this view.
    pub fn rotation_key(self) -> NumberKey {
        match self {
            ViewKind::Top => NumberKey::Ry,
            ViewKind::Front => NumberKey::Rz,
            ViewKind::Side => NumberKey::Rx,
        }
    }

    /// Names of the screen axes, for the corner gizmo.
    pub fn axis_names(self) -> (&'static str, &'static str) {
        match self {
            ViewKind::Top => ("X", "−Z"),
            ViewKind::Front => ("X", "Y"),
            ViewKind::Side => ("−Z", "Y"),
        }
    }
}

/// One view: its kind, the view-plane point at the canvas centre, pixels per world unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub kind: ViewKind,
    pub cx: f64,
    pub cy: f64,
    pub zoom: f64,
}

pub const MIN_ZOOM: f64 = 4.0;
pub const MAX_ZOOM: f64 = 2000.0;
pub const DEFAULT_ZOOM: f64 = 50.0;

impl Default for View {
    fn default() -> Self {
        View { kind: ViewKind::Top, cx: 0.0, cy: 0.0, zoom: DEFAULT_ZOOM }
    }
}

impl View {
    /// Screen position (CSS pixels from the canvas's top left) of a world point.
    pub fn to_screen(&self, p: Vec3, width: f64, height: f64) -> (f64, f64) {
        let (u, v, _) = self.kind.project(p);
        (width / 2.0 + (u - self.cx) * self.zoom, height / 2.0 - (v - self.cy) * self.zoom)
    }

    /// The view-plane point under a screen position.
    pub fn to_plane(&self, sx: f64, sy: f64, width: f64, height: f64) -> (f64, f64) {
        (self.cx + (sx - width / 2.0) / self.zoom, self.cy - (sy - height / 2.0) / self.zoom)
    }

    /// The world point under a screen position, at depth 0.
    pub fn to_world(&self, sx: f64, sy: f64, width: f64, height: f64) -> Vec3 {
        let (u, v) = self.to_plane(sx, sy, width, height);
        self.kind.unproject(u, v)
    }

    /// Zooms by `factor` keeping the point under (sx, sy) in place.
    pub fn zoomed_at(&self, factor: f64, sx: f64, sy: f64, width: f64, height: f64) -> View {
        let (u, v) = self.to_plane(sx, sy, width, height);
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let cx = u - (sx - width / 2.0) / zoom;
        let cy = v + (sy - height / 2.0) / zoom;
        View { zoom, cx, cy, ..*self }
    }

    /// The same view centred on world point `p` (depth ignored).
    pub fn centred_on(&self, p: Vec3) -> View {
        let (u, v, _) = self.kind.project(p);
        View { cx: u, cy: v, ..*self }
    }

    /// A view of `kind` looking at the same world point as this one.
    pub fn switched_to(&self, kind: ViewKind) -> View {
        let centre = self.kind.unproject(self.cx, self.cy);
        View { kind, ..*self }.centred_on(centre)
    }

    /// Grid spacing in world units: a 1-2-5 step at least 12 pixels apart.
    pub fn grid_step(&self) -> f64 {
        let mut step = 0.1;
        for _ in 0..12 {
            for m in [1.0, 2.0, 5.0] {
                if step * m * self.zoom >= 12.0 {
                    return step * m;
                }
            }
            step *= 10.0;
        }
        step
    }
}

/// Snapping step in world units (independent of the zoom, so snapped values are round).
pub const SNAP_STEP: f64 = 0.5;

pub fn snap(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn screen_and_world_round_trip_in_every_view() {
        for kind in ViewKind::ALL {
            let view = View { kind, cx: 1.0, cy: -2.0, zoom: 40.0 };
            let p = kind.unproject(3.0, 4.0);
            let (sx, sy) = view.to_screen(p, 800.0, 600.0);
            let back = view.to_world(sx, sy, 800.0, 600.0);
            for i in 0..3 {
                assert!((back[i] - p[i]).abs() < 1e-9, "{kind:?}: {back:?} vs {p:?}");
            }
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn up_on_screen_is_up_in_the_world_for_front_and_side() {
        let view = View { kind: ViewKind::Front, ..View::default() };
        let (_, low) = view.to_screen([0.0, 0.0, 0.0], 100.0, 100.0);
        let (_, high) = view.to_screen([0.0, 1.0, 0.0], 100.0, 100.0);
        assert!(high < low);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn zooming_keeps_the_point_under_the_cursor() {
        let view = View::default();
        let before = view.to_plane(700.0, 100.0, 800.0, 600.0);
        let after = view.zoomed_at(1.7, 700.0, 100.0, 800.0, 600.0).to_plane(700.0, 100.0, 800.0, 600.0);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn snapping_and_grid_steps() {
        assert_eq!(snap(1.26, 0.5), 1.5);
        assert_eq!(snap(-0.2, 0.5), -0.0);
        assert_eq!(View::default().grid_step(), 0.5);
        assert_eq!(View { zoom: 4.0, ..View::default() }.grid_step(), 5.0);
    }
}
