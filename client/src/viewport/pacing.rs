//! Painting the canvas at most once per animation frame. Whatever the picture depends on can
//! change many times in one frame (a burst of peers' updates, pointer moves, awareness); the
//! first request paints at once, later ones in the same frame are folded into one more paint
//! at the start of the next frame.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing painted since the last frame began: the next request paints at once.
    Idle,
    /// Painted in this frame.
    Painted,
    /// Painted in this frame and asked again: paint at the next frame.
    Again,
}

#[derive(Clone, Copy)]
pub struct Pacing {
    state: StoredValue<State>,
}

impl Pacing {
    pub fn new() -> Pacing {
        Pacing { state: StoredValue::new(State::Idle) }
    }

    /// Paints now, or once at the next frame if this frame was painted already.
    pub fn request(self, paint: impl Fn() + Copy + 'static) {
        match self.state.try_get_value() {
            Some(State::Idle) => self.paint(paint),
            Some(_) => self.state.set_value(State::Again),
            None => {}
        }
    }

    fn paint(self, paint: impl Fn() + Copy + 'static) {
        paint();
        self.state.set_value(State::Painted);
        request_animation_frame(move || match self.state.try_get_value() {
            Some(State::Again) => self.paint(paint),
            Some(_) => self.state.set_value(State::Idle),
            None => {}
        });
    }
}
