//! Frame times for the performance view: while the panel is open, a `requestAnimationFrame`
//! loop records the time between frames; the sampler takes them once a second. The loop stops
//! when the panel closes, so a closed panel costs nothing.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;

/// The frame deltas (ms) since the last [`FrameTimes::take`]; cheap to clone.
#[derive(Clone, Default)]
pub struct FrameTimes {
    deltas: Rc<RefCell<Vec<f64>>>,
    running: Rc<RefCell<bool>>,
}

impl FrameTimes {
    /// This second's deltas, `None` when no frame was recorded.
    pub fn take(&self) -> Option<Vec<f64>> {
        let deltas = std::mem::take(&mut *self.deltas.borrow_mut());
        (!deltas.is_empty()).then_some(deltas)
    }
}

/// Records frame times whenever `open` is true.
pub fn watch(open: RwSignal<bool>) -> FrameTimes {
    let times = FrameTimes::default();
    let watched = times.clone();
    Effect::new(move |_| {
        if open.get() && !*watched.running.borrow() {
            *watched.running.borrow_mut() = true;
            next(open, watched.clone(), None);
        }
    });
    times
}

fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

fn next(open: RwSignal<bool>, times: FrameTimes, last: Option<f64>) {
    request_animation_frame(move || {
        if !open.get_untracked() {
            *times.running.borrow_mut() = false;
            times.deltas.borrow_mut().clear();
            return;
        }
        let now = now();
        if let Some(last) = last {
            let mut deltas = times.deltas.borrow_mut();
            if deltas.len() < 1000 {
                deltas.push(now - last);
            }
        }
        next(open, times, Some(now));
    });
}
