//! The outliner's scroll container as signals: its scroll offset (from a passive `scroll`
//! listener, read at most once per animation frame) and its height (from a
//! `ResizeObserver`, so the sidebar growing or the window resizing rebuilds the window of
//! rows), plus scrolling a row into view.
//!
//! The virtualised list ([`super::window`]) is a memo over these two signals and the outline.

use std::cell::Cell;
use std::rc::Rc;

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{AddEventListenerOptions, HtmlDivElement, ResizeObserver};

use super::window::{reveal, window, Window, UNMEASURED_HEIGHT};

#[derive(Clone, Copy)]
pub struct Scroll {
    el: NodeRef<Div>,
    /// The container's `scrollTop` as of the last animation frame that followed a scroll.
    top: RwSignal<f64>,
    /// The container's inner height (`clientHeight`); [`UNMEASURED_HEIGHT`] until measured.
    height: RwSignal<f64>,
}

/// What to remove when the outliner goes away.
struct Listeners {
    el: HtmlDivElement,
    on_scroll: Closure<dyn FnMut()>,
    observer: Option<ResizeObserver>,
    _on_resize: Closure<dyn FnMut()>,
}

impl Scroll {
    /// Follows the element `el` will hold once mounted.
    pub fn follow(el: NodeRef<Div>) -> Scroll {
        let scroll = Scroll { el, top: RwSignal::new(0.0), height: RwSignal::new(UNMEASURED_HEIGHT) };
        let listeners = StoredValue::new_local(None::<Listeners>);
        el.on_load(move |div| {
            scroll.measure(&div);
            // Scroll events can come many times a frame: note the offset once per frame.
            let scheduled = Rc::new(Cell::new(false));
            let on_scroll = Closure::<dyn FnMut()>::new(move || {
                if scheduled.replace(true) {
                    return;
                }
                let scheduled = scheduled.clone();
                request_animation_frame(move || {
                    scheduled.set(false);
                    if let Some(div) = scroll.el.try_get_untracked().flatten() {
                        scroll.top.try_set(f64::from(div.scroll_top()));
                    }
                });
            });
            let options = AddEventListenerOptions::new();
            options.set_passive(true);
            let _ = div.add_event_listener_with_callback_and_add_event_listener_options(
                "scroll",
                on_scroll.as_ref().unchecked_ref(),
                &options,
            );
            let on_resize = Closure::<dyn FnMut()>::new(move || {
                if let Some(div) = scroll.el.try_get_untracked().flatten() {
                    scroll.measure(&div);
                }
            });
            let observer = ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
            if let Some(observer) = &observer {
                observer.observe(&div);
            }
            listeners.set_value(Some(Listeners { el: div, on_scroll, observer, _on_resize: on_resize }));
        });
        on_cleanup(move || {
            if let Some(Some(l)) = listeners.try_update_value(Option::take) {
                let _ = l.el.remove_event_listener_with_callback("scroll", l.on_scroll.as_ref().unchecked_ref());
                if let Some(observer) = l.observer {
                    observer.disconnect();
                }
            }
        });
        scroll
    }

    /// The rows of a `rows`-long outline to build now (tracks the offset and the height).
    pub fn window(&self, rows: usize) -> Window {
        window(self.top.get(), self.height.get(), rows)
    }

    /// Scrolls so that the row at `index` shows, if it does not already.
    pub fn reveal(&self, index: usize) {
        let Some(div) = self.el.get_untracked() else { return };
        let height = f64::from(div.client_height());
        let height = if height > 0.0 { height } else { self.height.get_untracked() };
        if let Some(top) = reveal(index, f64::from(div.scroll_top()), height) {
            div.set_scroll_top(top as i32);
            // Build the rows now rather than a frame later, when the scroll event is read.
            self.top.set(f64::from(div.scroll_top()));
        }
    }

    fn measure(&self, div: &HtmlDivElement) {
        let height = f64::from(div.client_height());
        // Zero while the panel is not laid out (display: none): keep the last height.
        if height > 0.0 && self.height.try_get_untracked() != Some(height) {
            self.height.try_set(height);
        }
        let top = f64::from(div.scroll_top());
        if self.top.try_get_untracked() != Some(top) {
            self.top.try_set(top);
        }
    }
}
