//! Named moments of the editor's start, as User Timing marks (`performance.mark`), so that a
//! benchmark or a browser's performance panel can tell where the time from navigation to the
//! first synced render goes: the module running, the page built, the viewport's WebGL set
//! up, the copy on this device loaded, the relay's socket open, the room synced. A mark costs microseconds; a later
//! session (a reconnect) adds another entry of the same name, and readers take the first.

/// The editor's module started (its wasm is compiled and instantiated).
pub const MAIN: &str = "editor:main";
/// The page is built (the app mounted; nothing synced yet).
pub const MOUNTED: &str = "editor:mounted";
/// The viewport starts creating its WebGL context, shaders and buffers (in its first frame).
pub const GL_START: &str = "editor:gl-start";
/// … and is done.
pub const GL_READY: &str = "editor:gl-ready";
/// The copy of the room kept on this device is loaded (IndexedDB), so a session may start.
pub const LOCAL_COPY: &str = "editor:local-copy";
/// A session's socket to the relay is open.
pub const SOCKET_OPEN: &str = "editor:socket-open";
/// The relay's SyncStep2 was applied: the room is synced.
pub const SYNCED: &str = "editor:synced";

/// Records `name` now.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
