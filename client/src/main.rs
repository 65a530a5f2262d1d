//! Entry point of the browser client: installs the panic hook so a Rust panic shows up in the
//! browser console with its message, then mounts the app on the page's `<body>`.

mod app;
mod awareness_state;
mod connection;
mod editor;
mod geom;
mod identity;
mod incoming;
mod offline;
mod outliner;
mod participants;
mod perf;
mod presence;
mod properties;
mod publish;
mod reconnect;
mod room;
mod status;
mod toolbar;
mod view;
mod viewport;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
