//! The corner widget that shows which way the camera looks: the world's x, y and z axes as
//! the camera sees them, in their colours. Clicking an axis end looks along it: +x, +y and
//! +z give the side, top and front views; the negative ends the opposite orthographic views.
//! SVG over the canvas: crisp, cheap, and buttons the browser tests can click
//! (`#axes [data-axis]`).

use leptos::prelude::*;
use shared::math::dot;

use crate::camera::{Camera, Projection};
use crate::editor::Editor;

const SIZE: f64 = 84.0;
const REACH: f64 = 30.0;
const COLORS: [&str; 3] = ["#e5484d", "#46a758", "#4c6fe8"];
const NAMES: [&str; 3] = ["x", "y", "z"];

/// The camera with its eye on the `sign` side of world axis `axis`, looking back along it,
/// orthographic.
fn looking_from(camera: &Camera, axis: usize, sign: f64) -> Camera {
    let half_pi = std::f64::consts::FRAC_PI_2;
    let (yaw, pitch) = match (axis, sign > 0.0) {
        (0, true) => (half_pi, 0.0),
        (0, false) => (-half_pi, 0.0),
        (1, true) => (0.0, half_pi),
        (1, false) => (0.0, -half_pi),
        (_, true) => (0.0, 0.0),
        (_, false) => (std::f64::consts::PI, 0.0),
    };
    Camera { projection: Projection::Orthographic, yaw, pitch, ..*camera }
}

#[component]
pub fn AxesWidget(editor: Editor) -> impl IntoView {
    // Each axis end: (axis, sign, x, y, depth) in widget pixels, farthest first.
    let ends = move || {
        let (right, up, forward) = editor.camera.get().basis();
        let mut out: Vec<(usize, f64, f64, f64, f64)> = Vec::new();
        for axis in 0..3 {
            let mut v = [0.0; 3];
            v[axis] = 1.0;
            for sign in [1.0, -1.0] {
                let (x, y) = (dot(v, right) * sign, -dot(v, up) * sign);
                out.push((axis, sign, SIZE / 2.0 + x * REACH, SIZE / 2.0 + y * REACH, dot(v, forward) * sign));
            }
        }
        shared::order::sort_by(&mut out, |a, b| b.4.total_cmp(&a.4));
        out
    };
    view! {
        <svg id="axes" class="axes-widget" width=SIZE height=SIZE viewBox=format!("0 0 {SIZE} {SIZE}") role="group" aria-label="View orientation">
            {move || ends().into_iter().map(|(axis, sign, x, y, _)| {
                let color = COLORS[axis];
                let positive = sign > 0.0;
                let label = if positive { NAMES[axis].to_ascii_uppercase() } else { String::new() };
                let title = format!("Look along {}{}", if positive { "−" } else { "+" }, NAMES[axis]);
                view! {
                    <g class="axis-end" data-axis=format!("{}{}", if positive { "+" } else { "-" }, NAMES[axis])
                        on:pointerdown=move |ev| ev.stop_propagation()
                        on:click=move |_| {
                            editor.follow.set(None);
                            editor.camera.update(|c| *c = looking_from(c, axis, sign));
                        }
                    >
                        <title>{title}</title>
                        {positive.then(|| view! { <line x1=SIZE / 2.0 y1=SIZE / 2.0 x2=x y2=y stroke=color stroke-width="2" /> })}
                        <circle cx=x cy=y r=if positive { 8.5 } else { 6.0 } fill=color fill-opacity=if positive { "1" } else { "0.35" } stroke=color />
                        <text x=x y=y + 3.5 text-anchor="middle" class="axis-label">{label}</text>
                    </g>
                }
            }).collect::<Vec<_>>()}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::ViewKind;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_positive_axis_ends_are_the_named_views() {
        let c = Camera::default();
        assert_eq!(looking_from(&c, 0, 1.0).kind(), ViewKind::Side);
        assert_eq!(looking_from(&c, 1, 1.0).kind(), ViewKind::Top);
        assert_eq!(looking_from(&c, 2, 1.0).kind(), ViewKind::Front);
        assert_eq!(looking_from(&c, 2, -1.0).kind(), ViewKind::Ortho);
        let (_, _, forward) = looking_from(&c, 2, -1.0).basis();
        assert!((forward[2] - 1.0).abs() < 1e-9, "from −z, looking along +z");
    }
}
