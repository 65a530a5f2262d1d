//! Entry point of the browser client: installs the panic hook so a Rust panic shows up in the
//! browser console with its message, then mounts the app on the page's `<body>`.

mod app;
mod connection;
mod presence;
mod room;
mod scene_view;
mod status;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
