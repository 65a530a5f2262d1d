//! Entry point of the browser client: installs the panic hook so a Rust panic shows up in the
//! browser console with its message, then mounts the app on the page's `<body>`. (The jobs'
//! and files' Web Worker runs a module of its own, the `worker` crate.)

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
mod marks;
mod menu;
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
mod tools_worker;
mod viewport;

fn main() {
    console_error_panic_hook::set_once();
    marks::mark(marks::MAIN);
    leptos::mount::mount_to_body(app::App);
    marks::mark(marks::MOUNTED);
}
