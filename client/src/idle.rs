//! Waiting for the browser to be idle (`requestIdleCallback`), as a future: work that is not
//! urgent (compacting the device copy, measuring the whole document) runs between frames
//! instead of in the middle of an edit stream. Falls back to a timer where the API is missing.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Resolves in an idle period of the main thread, or after `timeout_ms` at the latest.
pub async fn idle(timeout_ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let window = js_sys::global();
        let request = js_sys::Reflect::get(&window, &JsValue::from_str("requestIdleCallback"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("timeout"), &JsValue::from(timeout_ms));
        let called = match request {
            Some(request) => request.call2(&window, &resolve, &options).is_ok(),
            None => false,
        };
        if !called {
            let fire = Closure::once_into_js(move || {
                let _ = resolve.call0(&JsValue::NULL);
            });
            if let Some(set_timeout) = js_sys::Reflect::get(&window, &JsValue::from_str("setTimeout"))
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            {
                let _ = set_timeout.call2(&window, &fire, &JsValue::from(0));
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}
