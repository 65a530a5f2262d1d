//! Adaptive resolution: while frames come slowly (a weak GPU, or a CPU rasteriser such as
//! headless Chromium's SwiftShader), draw fewer pixels, so orbiting a big scene stays
//! responsive; once the picture stops changing, draw once more at full resolution.
//!
//! A frame's cost is the time from the start of its paint to the next animation frame: the
//! browser runs that only once it has taken the frame (on a software compositor, once it has
//! read the canvas back; on a GPU, once the GPU keeps up). It is not the time between
//! paints: paints follow what changes, and a peer's edits or a followed camera arriving ten
//! times a second would read as 100 ms frames on any GPU. Slow frames lower the scale a step
//! at once; a run of fast ones raises it a step. The canvas keeps its size on the page; only
//! its backing store shrinks (the browser scales it up).

/// A frame slower than this lowers the scale.
const SLOW_MS: f64 = 45.0;
/// Frames faster than this, [`FAST_RUN`] in a row, raise it.
const FAST_MS: f64 = 24.0;
const FAST_RUN: u32 = 8;
/// Scale steps and the lowest scale (of the device-pixel resolution).
const STEP: f64 = 0.8;
const LOWEST: f64 = 0.4;
/// How long after a reduced paint the full-resolution paint comes, at least (and at least
/// two of the last frame's cost, so it does not land inside a slow motion), and at most.
const SETTLE_MS: f64 = 250.0;
const SETTLE_MAX_MS: f64 = 1_500.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// The scale the next paint is drawn at (1 = every device pixel).
    scale: f64,
    /// What the last frame cost.
    last_cost_ms: f64,
    fast_run: u32,
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution { scale: 1.0, last_cost_ms: 0.0, fast_run: 0 }
    }
}

impl Resolution {
    /// The scale to draw the next paint at.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Notes what a frame cost: from the start of its paint to the next animation frame.
    pub fn frame_took(&mut self, cost_ms: f64) {
        self.last_cost_ms = cost_ms;
        if cost_ms > SLOW_MS {
            self.scale = (self.scale * STEP).max(LOWEST);
            self.fast_run = 0;
        } else if cost_ms < FAST_MS {
            self.fast_run += 1;
            if self.fast_run >= FAST_RUN {
                self.scale = (self.scale / STEP).min(1.0);
                self.fast_run = 0;
            }
        }
    }

    /// Whether the picture, once still, should be drawn again at full resolution.
    pub fn needs_settling(&self) -> bool {
        self.scale < 1.0
    }

    /// How long to wait, after a paint, before calling the motion over.
    pub fn settle_after(&self) -> std::time::Duration {
        std::time::Duration::from_millis(SETTLE_MS.max(2.0 * self.last_cost_ms).min(SETTLE_MAX_MS) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn slow_frames_lower_the_scale_and_fast_frames_raise_it() {
        let mut r = Resolution::default();
        assert_eq!(r.scale(), 1.0);
        for _ in 0..6 {
            r.frame_took(100.0); // 10 frames a second
        }
        assert!((r.scale() - LOWEST).abs() < 1e-9 && r.needs_settling());
        assert_eq!(r.settle_after(), std::time::Duration::from_millis(250));
        for _ in 0..FAST_RUN * 5 {
            r.frame_took(16.0);
        }
        assert_eq!(r.scale(), 1.0);
        assert!(!r.needs_settling());
        // A very slow frame waits longer before the full-resolution paint, within limits.
        r.frame_took(400.0);
        assert_eq!(r.settle_after(), std::time::Duration::from_millis(800));
        r.frame_took(5_000.0);
        assert_eq!(r.settle_after(), std::time::Duration::from_millis(1_500));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn cheap_frames_far_apart_keep_full_resolution() {
        // A peer's edits ten times a second on a fast GPU: paints 100 ms apart, each frame
        // taken within one display refresh. The gap between paints says nothing of the GPU.
        let mut r = Resolution::default();
        for _ in 0..50 {
            r.frame_took(12.0);
        }
        assert_eq!(r.scale(), 1.0);
        assert!(!r.needs_settling());
    }
}
