//! A drop-down menu of the toolbar, on the page's own `<details>` element: it opens and
//! closes on its button (keyboard included) with no state of ours, and its items stay in
//! the page while it is closed (their ids and `disabled` state, and the file inputs whose
//! `change` arrives after it closed). Written here because the behaviour a menu needs on
//! top is three listeners: it closes once an item is chosen, on a press elsewhere, and on
//! Escape.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn Menu(id: &'static str, label: &'static str, title: &'static str, children: Children) -> impl IntoView {
    let details = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(details) = details.get_untracked() {
            details.set_open(false);
        }
    };
    let pressed_elsewhere = window_event_listener(leptos::ev::pointerdown, move |ev| {
        let Some(menu) = details.get_untracked() else { return };
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        if menu.open() && !menu.contains(target.as_ref()) {
            menu.set_open(false);
        }
    });
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    });
    on_cleanup(move || {
        pressed_elsewhere.remove();
        escape.remove();
    });
    view! {
        <details class="menu" id=id node_ref=details>
            <summary class="tool" title=title>{label}</summary>
            <div class="menu-list" role="menu" on:click=move |_| close()>{children()}</div>
        </details>
    }
}
