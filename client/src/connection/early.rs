//! The relay socket `public/index.html` opened before the editor's module ran.
//!
//! The page's first script opens this room's socket while the module downloads and
//! compiles, and keeps what the relay sends meanwhile. The first session takes that socket
//! over instead of opening one once the editor runs: opened by the running editor, the
//! socket's `open` event came ~190 ms later on a reload (the page is busy starting: its
//! first frames, the viewport's first draw of the scene); opened by the page's first
//! script, ~15 ms. A socket that is not to the URL the session wants (another path, a
//! session with a token, which the page's script does not open), or is already closing,
//! is closed and the session opens its own.

use gloo_net::websocket::Message as WsMessage;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::WebSocket;

/// Name of the page's global: `{ socket, received }` (the socket, and the `data` of every
/// message it received so far, in order).
const GLOBAL: &str = "earlySocket";

/// A socket the page opened, and what it received before this.
pub(super) struct EarlySocket {
    pub socket: WebSocket,
    pub received: Vec<WsMessage>,
}

/// Takes the page's early socket if it is to `url` and still connecting or open; any other
/// early socket is closed. Synchronous on purpose: the caller attaches its own listeners
/// before the browser can deliver another message, so none is lost or seen twice.
pub(super) fn take(url: &str, token: Option<&str>) -> Option<EarlySocket> {
    let window = web_sys::window()?;
    let key = JsValue::from_str(GLOBAL);
    let early = js_sys::Reflect::get(&window, &key).ok().filter(JsValue::is_object)?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let socket = js_sys::Reflect::get(&early, &JsValue::from_str("socket")).ok()?.dyn_into::<WebSocket>().ok()?;
    socket.set_onmessage(None);
    let usable = token.is_none()
        && socket.url() == url
        && matches!(socket.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN);
    if !usable {
        let _ = socket.close();
        return None;
    }
    let received = js_sys::Reflect::get(&early, &JsValue::from_str("received"))
        .ok()
        .map(|list| js_sys::Array::from(&list).iter().filter_map(message).collect())
        .unwrap_or_default();
    Some(EarlySocket { socket, received })
}

/// A message's `data` as gloo's message: binary (an ArrayBuffer: the page's script sets
/// `binaryType` as gloo does) or text.
fn message(data: JsValue) -> Option<WsMessage> {
    if let Some(text) = data.as_string() {
        return Some(WsMessage::Text(text));
    }
    let buffer = data.dyn_into::<js_sys::ArrayBuffer>().ok()?;
    Some(WsMessage::Bytes(js_sys::Uint8Array::new(&buffer).to_vec()))
}
