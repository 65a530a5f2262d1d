//! The page header: the room and its shareable link, the Share dialog (`share/`), a "View
//! only" badge when this page may not edit, the connection state (with why it dropped, and
//! a way to reconnect at once, unless the room was deleted), whether the copy on this
//! device is saved, and who else is here (through the relay or in another tab).

use leptos::prelude::*;

use crate::access::{Access, Source};
use crate::connection::{ConnectionState, Status};
use crate::deletion::Deletion;
use crate::offline::Offline;
use crate::presence::{Peer, User};
use crate::room::Room;
use crate::share::ShareButton;

#[component]
pub fn Header(room: Room, status: Status, user: RwSignal<User>, offline: Offline, peers: RwSignal<Vec<Peer>>, deletion: Deletion, access: Access) -> impl IntoView {
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true"></span>
                <h1>"Scene editor"</h1>
            </div>
            <ShareLink room=room.clone() />
            <ShareButton room=room access=access />
            <div class="session">
                <ViewOnly access=access />
                <Peers peers=peers user=user />
                <DeviceCopy offline=offline deletion=deletion />
                <ConnectionBadge status=status />
            </div>
        </header>
        <ConnectionProblem status=status deletion=deletion />
    }
}

/// The room name and the link to send to collaborators, with a copy button.
#[component]
fn ShareLink(room: Room) -> impl IntoView {
    let copied = RwSignal::new(false);
    let link = room.link.clone();
    let copy = move |_| {
        let link = link.clone();
        leptos::task::spawn_local(async move {
            let Some(window) = web_sys::window() else { return };
            let promise = window.navigator().clipboard().write_text(&link);
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                copied.set(true);
                gloo_timers::future::sleep(std::time::Duration::from_secs(2)).await;
                copied.set(false);
            }
        });
    };
    view! {
        <div class="share">
            <span class="label">"Room"</span>
            <code id="room-name" class="room-name">{room.name.clone()}</code>
            <a id="share-link" class="share-link" href=room.link.clone() title="Share this link to edit together">
                {room.link.clone()}
            </a>
            <button id="copy-link" class="ghost" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy link" }}
            </button>
        </div>
    }
}

/// "View only", with why, while this page may not edit (`#view-only`).
#[component]
fn ViewOnly(access: Access) -> impl IntoView {
    let why = move || match access.source.get() {
        Source::Token => "Your link lets you view this room, not change it. Presence, follow, the performance view and downloads work.",
        Source::Relay => "The relay lets you view this room, not change it. Presence, follow, the performance view and downloads work.",
        Source::Remembered | Source::Default => "Last time the relay let you view this room only; it will say again when you connect.",
    };
    view! {
        <Show when=move || !access.can_edit()>
            <span id="view-only" class="badge view-only" title=why role="status">"View only"</span>
        </Show>
    }
}

/// Connection state as a coloured pill; `id="connection-state"` holds just the state word.
#[component]
fn ConnectionBadge(status: Status) -> impl IntoView {
    let state = status.state;
    view! {
        <div class="badge" data-state=move || state.get().as_str()>
            <span class="dot" aria-hidden="true"></span>
            <span id="connection-state">{move || state.get().as_str()}</span>
        </div>
    }
}

/// Our own avatar and the others', with the count of others in `id="peer-count"`.
#[component]
fn Peers(peers: RwSignal<Vec<Peer>>, user: RwSignal<User>) -> impl IntoView {
    view! {
        <div class="peers" title="People in this room">
            <span class="avatar me" style:background=move || user.with(|u| u.color.clone())
                title=move || user.with(|u| format!("{} (you)", u.name))>
                {move || user.with(|u| initials(&u.name))}
            </span>
            <For
                each=move || peers.get()
                key=|peer| (peer.client, peer.name.clone(), peer.color.clone())
                children=move |peer| {
                    view! {
                        <span class="avatar" style=format!("background:{}", peer.color) title=peer.name.clone()>
                            {initials(&peer.name)}
                        </span>
                    }
                }
            />
            <span class="peer-label">
                <span id="peer-count">{move || peers.with(Vec::len)}</span>
                {move || if peers.with(Vec::len) == 1 { " other here" } else { " others here" }}
            </span>
        </div>
    }
}

/// Whether the copy of the room kept in this browser is up to date. `id="device-copy"`
/// carries `data-loaded`, `data-pending` and `data-saved` for the browser tests.
#[component]
fn DeviceCopy(offline: Offline, deletion: Deletion) -> impl IntoView {
    let label = move || match (offline.problem.get(), offline.pending.get()) {
        _ if deletion.removed.get() => "removed from this device",
        (Some(_), _) => "not saved on this device",
        (None, 0) => "saved on this device",
        (None, _) => "saving…",
    };
    view! {
        <span id="device-copy" class="device-copy"
            data-loaded=move || offline.loaded.get().to_string()
            data-pending=move || offline.pending.get().to_string()
            data-saved=move || offline.saved.get().to_string()
            title=move || offline.problem.get().unwrap_or_else(|| "This room is kept in this browser: it opens and can be edited without the relay".to_owned())
        >{label}</span>
    }
}

/// Why the connection dropped, when it did, with a "Reconnect now" button while offline
/// (none once the room was deleted: the page never reconnects then).
#[component]
fn ConnectionProblem(status: Status, deletion: Deletion) -> impl IntoView {
    let offline = move || status.state.get() == ConnectionState::Offline;
    let can_retry = move || offline() && !deletion.deleted.get();
    let visible = move || offline() || status.problem.with(Option::is_some);
    view! {
        <Show when=visible>
            <div class="problem" role="status">
                <span id="connection-error">
                    {move || status.problem.get().unwrap_or_else(|| "disconnected".to_owned())}
                </span>
                {move || status.retry_in_secs.get().map(|s| format!(" — retrying in {s} s"))}
                <Show when=can_retry>
                    <button class="ghost" on:click=move |_| status.retry_now()>"Reconnect now"</button>
                </Show>
            </div>
        </Show>
    }
}

/// "Swift Otter" → "SO", "élan vital" → "ÉV". Upper-cased by the browser's own Unicode
/// tables (`String.prototype.toUpperCase`): Rust's would add ~30 KB of case tables to the
/// editor's download for two letters.
fn initials(name: &str) -> String {
    let letters: String = name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect();
    String::from(js_sys::JsString::from(letters).to_upper_case())
}
