//! sRGB ↔ linear colour. The scene stores sRGB bytes (what a colour picker shows); light and
//! glTF are linear, so the ray tracer and glTF import/export convert through here.

use super::Vec3;
use crate::scene::Color;

/// One sRGB channel (0..=255) as a linear value in 0..=1.
pub fn srgb_to_linear(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// A linear value (clamped to 0..=1; NaN reads as 0) as an sRGB channel.
pub fn linear_to_srgb(v: f64) -> u8 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let c = if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
    (c * 255.0).round().clamp(0.0, 255.0) as u8
}

pub fn color_to_linear(c: Color) -> Vec3 {
    [c.r, c.g, c.b].map(srgb_to_linear)
}

/// Linear RGB (each channel clamped as [`linear_to_srgb`] does) as an sRGB colour.
pub fn color_from_linear(rgb: Vec3) -> Color {
    let [r, g, b] = rgb.map(linear_to_srgb);
    Color { r, g, b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trips_every_byte() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_srgb(f64::from(srgb_to_linear(c) as f32)), c);
        }
    }
}
