//! The WebSocket session with the relay, and the reconnect loop around it.
//!
//! One session ([`session`]): open `ws(s)://<this page's directory>/ws/<room>`, send
//! SyncStep1 (our state vector) and our awareness state, answer the relay's SyncStep1 with a
//! SyncStep2 (this is how edits made while offline reach the room), apply its SyncStep2
//! (then we are "synced") and its updates, and send every local document change as an
//! update (a viewer's session sends no change at all); what a received frame does is in
//! [`incoming`]. When the socket closes, the loop
//! ([`reconnect`]) waits with exponential backoff (capped at 10 s) and starts a new session;
//! close codes that `shared::close` says not to retry are shown to the user, who can retry by
//! hand. A room deleted by an administrator (`deletion/`) ends the loop for good: a new
//! session would upload the old document into the fresh room.
//!
//! The state the UI shows lives in [`Status`] signals ([`status`], the leaf everybody
//! reads); the document and the presence table are owned by the loop's task. The UI sends
//! our awareness state (as JSON, at most at the adaptive streaming rate: see `publish.rs`)
//! over a channel; each one is announced at once while connected, and the latest is
//! announced when a session starts.
//!
//! For the performance view the session reports every frame it sends and receives to a
//! `Meter`, sends a round-trip probe (`102`) every second, and asks for durable
//! acknowledgements.

mod early;
mod incoming;
mod reconnect;
mod session;
mod status;

pub use status::{ConnectionState, Status};

use futures_channel::{mpsc, oneshot};
use yrs::Doc;

use crate::access::Access;
use crate::deletion::Deletion;
use crate::perf::meter::Meter;
use crate::presence::Presence;

/// What the relay connection needs from the page, given once to [`connect`] and kept by the
/// reconnect loop for every session.
pub struct Session {
    /// The room's document.
    pub doc: Doc,
    /// The room's name.
    pub room: String,
    /// The room token, when the relay asks for one.
    pub token: Option<String>,
    /// Our first awareness state (JSON); later ones come over `presence_rx`.
    pub first_state: String,
    pub presence_rx: mpsc::UnboundedReceiver<String>,
    /// Counts frames, probes and acknowledgements for the performance view.
    pub meter: Meter,
    /// Fires (or is dropped) once the copy kept on this device is loaded, so the first
    /// handshake uploads what the relay lacks of it.
    pub ready: oneshot::Receiver<()>,
    /// Whether the room was deleted (then no session starts).
    pub deletion: Deletion,
    /// What the page may do: learnt from the relay, obeyed by every session.
    pub access: Access,
}

/// Starts syncing the session's document with its room through the relay that served this
/// page. The loop runs as long as the page is open; its first session starts once
/// `session.ready` fires, and none once `session.deletion` says the room was deleted.
pub fn connect(session: Session) -> Status {
    let Session { doc, room, token, first_state, presence_rx, meter, ready, deletion, access } = session;
    let (retry_tx, retry_rx) = mpsc::unbounded();
    let status = Status::new(retry_tx);
    let live = session::Live {
        url: socket_url(&room),
        token,
        presence: Presence::new(doc.client_id(), first_state),
        access,
        doc,
        status,
        presence_rx,
        meter,
    };
    leptos::task::spawn_local(async move {
        let _ = ready.await;
        crate::marks::mark(crate::marks::LOCAL_COPY);
        reconnect::run(live, retry_rx, deletion).await
    });
    status
}

/// The WebSocket URL of `room` on the relay that served this page: same origin, `ws:` or
/// `wss:`, under the page's directory, so the app also works under a base path like `/collab/`.
/// It asks for durable acknowledgements (`acks=1`): the performance view counts unconfirmed
/// changes with them; and to be told its role first (`access=1`), so a viewer's page knows
/// before it could write.
pub fn socket_url(room: &str) -> String {
    let location = web_sys::window().expect("a browser window").location();
    let scheme = if location.protocol().as_deref() == Ok("https:") { "wss:" } else { "ws:" };
    let host = location.host().unwrap_or_default();
    let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    let room: String = js_sys::encode_uri_component(room).into();
    format!("{scheme}//{host}{dir}ws/{room}?acks=1&access=1")
}
