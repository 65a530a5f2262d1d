//! The steps the transform tools snap to while Snap is on: positions to a 0.5-unit grid,
//! turns to 15°, scale factors to tenths. In one place so the gizmos, the drag on an object
//! and the Add buttons agree.

/// Grid step in world units (independent of the zoom, so snapped values are round).
pub const GRID_STEP: f64 = 0.5;
/// Turning step in radians (15°).
pub const ANGLE_STEP: f64 = std::f64::consts::PI / 12.0;
/// Scale factor step.
pub const SCALE_STEP: f64 = 0.1;

/// `value` rounded to the nearest multiple of `step`.
pub fn snap(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn snapping_rounds_to_the_step() {
        assert_eq!(snap(1.26, GRID_STEP), 1.5);
        assert_eq!(snap(-0.2, GRID_STEP), -0.0);
        assert!((snap(0.3, ANGLE_STEP) - ANGLE_STEP).abs() < 1e-12);
    }
}
