//! Entry point of the browser client: installs the panic hook so a Rust panic shows up in the
//! browser console with its message, then mounts the app on the page's `<body>` (not in the
//! jobs' Web Worker, which loads the same module).

mod access;
mod app;
mod awareness_state;
mod camera;
mod connection;
mod deletion;
mod editor;
mod files;
mod identity;
mod header;
mod idle;
mod jobs;
mod offline;
mod outliner;
mod participants;
mod perf;
mod presence;
mod properties;
mod preview;
mod publish;
mod restore;
mod room;
mod share;
mod snapping;
mod toolbar;
mod viewport;

fn main() {
    console_error_panic_hook::set_once();
    // The scene jobs' Web Worker (public/worker.js) runs this same module without a page:
    // it only calls the exported worker functions (jobs::entry), so mount nothing there.
    if web_sys::window().is_none() {
        return;
    }
    leptos::mount::mount_to_body(app::App);
}
