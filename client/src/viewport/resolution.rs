//! Adaptive resolution: while the picture is moving and frames come slowly (a weak GPU, or
//! a CPU rasteriser such as headless Chromium's SwiftShader), draw fewer pixels, so orbiting
//! a big scene stays responsive; once it stops, draw once more at full resolution.
//!
//! Frame cost is read from the time between paints during continuous motion (a paint within
//! [`CONTINUOUS_MS`] of the previous one): the browser schedules the next frame only when the
//! GPU took the last, so that interval includes what the GPU spent. Slow frames lower the
//! scale a step at once; a run of fast ones raises it a step. The canvas keeps its size on
//! the page; only its backing store shrinks (the browser scales it up).

/// Paints closer together than this are one motion (a slow renderer's frames included).
pub const CONTINUOUS_MS: f64 = 1_500.0;
/// A frame slower than this lowers the scale.
const SLOW_MS: f64 = 45.0;
/// Frames faster than this, [`FAST_RUN`] in a row, raise it.
const FAST_MS: f64 = 24.0;
const FAST_RUN: u32 = 8;
/// Scale steps and the lowest scale (of the device-pixel resolution).
const STEP: f64 = 0.8;
const LOWEST: f64 = 0.4;
/// How long after the last paint of a motion the full-resolution paint comes, at least (and
/// at least two of the motion's frame intervals, so it does not land inside a slow motion).
const SETTLE_MS: f64 = 250.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// The scale motion is drawn at (1 = every device pixel).
    scale: f64,
    last_paint_ms: Option<f64>,
    /// The last interval between paints of a motion.
    last_interval_ms: f64,
    fast_run: u32,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution { scale: 1.0, last_paint_ms: None, last_interval_ms: 0.0, fast_run: 0 }
    }
}

impl Resolution {
    /// Notes a paint at `now_ms`; answers the scale to draw it at.
    pub fn paint(&mut self, now_ms: f64) -> f64 {
        let interval = self.last_paint_ms.map(|last| now_ms - last).filter(|i| *i < CONTINUOUS_MS);
        self.last_paint_ms = Some(now_ms);
        self.last_interval_ms = interval.unwrap_or(0.0);
        match interval {
            Some(i) if i > SLOW_MS => {
                self.scale = (self.scale * STEP).max(LOWEST);
                self.fast_run = 0;
            }
            Some(i) if i < FAST_MS => {
                self.fast_run += 1;
                if self.fast_run >= FAST_RUN {
                    self.scale = (self.scale / STEP).min(1.0);
                    self.fast_run = 0;
                }
            }
            _ => {}
        }
        // The first paint of a motion (and a still picture) is at the scale motion reached.
        self.scale
    }

    /// The scale motion is drawn at now.
    #[cfg(test)]
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Whether the picture, once still, should be drawn again at full resolution.
    pub fn needs_settling(&self) -> bool {
        self.scale < 1.0
    }

    /// How long to wait, after a paint, before calling the motion over.
    pub fn settle_after(&self) -> std::time::Duration {
        std::time::Duration::from_millis(SETTLE_MS.max(2.0 * self.last_interval_ms).min(CONTINUOUS_MS) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn slow_motion_lowers_the_scale_and_fast_motion_raises_it() {
        let mut r = Resolution::default();
        assert_eq!(r.paint(0.0), 1.0);
        let mut t = 0.0;
        for _ in 0..6 {
            t += 100.0; // 10 frames a second
            r.paint(t);
        }
        assert!((r.scale() - LOWEST).abs() < 1e-9 && r.needs_settling());
        for _ in 0..FAST_RUN * 5 {
            t += 16.0;
            r.paint(t);
        }
        assert_eq!(r.scale(), 1.0);
        // A paint long after the last is not a slow frame.
        r.paint(t + 5_000.0);
        assert_eq!(r.settle_after(), std::time::Duration::from_millis(250));
        assert_eq!(r.scale(), 1.0);
    }
}
