//! The Share dialog (header): copy a link that can edit or one that can only view, with an
//! expiry (1 hour, 1 day, 7 days, or never where the relay allows it). The relay mints
//! the link's token ([`api`]), so nobody gets a role above their own or a link that
//! outlives the relay's limit; the page only offers what the relay said it may. On an open
//! relay there is nothing to sign: the dialog says anyone with the room's address can edit.
//!
//! For the browser tests: `#share-button` opens `#share-dialog` (`data-state`: loading,
//! ready, open, failed), with `#share-role-editor` / `#share-role-viewer`, `#share-expiry`,
//! `#share-create`, the link in `#share-result`, `#share-copy`, and `#share-note`.

mod api;

use leptos::prelude::*;

use crate::access::Access;
use crate::room::Room;
use api::{Minted, Options, ShareApi};

/// Where the dialog stands.
#[derive(Debug, Clone, PartialEq)]
enum Loaded {
    Loading,
    Failed(String),
    Ready(Options),
}

fn expiry_label(expiry: &str) -> &str {
    match expiry {
        "1h" => "1 hour",
        "1d" => "1 day",
        "7d" => "7 days",
        "never" => "Never",
        other => other,
    }
}

/// The header's Share button and its dialog.
#[component]
pub fn ShareButton(room: Room, access: Access) -> impl IntoView {
    let open = RwSignal::new(false);
    let loaded = RwSignal::new(Loaded::Loading);
    let role = RwSignal::new("viewer".to_owned());
    let expires = RwSignal::new("1d".to_owned());
    let link = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let api = StoredValue::new(ShareApi::new(&room.name, room.token.clone()));
    let page_link = room.link.clone();

    let show = move |_| {
        open.set(true);
        loaded.set(Loaded::Loading);
        link.set(None);
        message.set(None);
        leptos::task::spawn_local(async move {
            let Some(answer) = api.try_get_value() else { return };
            match answer.options().await {
                Ok(options) => {
                    let wanted = if access.can_edit_now() && options.roles.iter().any(|r| r == "editor") { "editor" } else { "viewer" };
                    role.set(wanted.to_owned());
                    if !options.expiries.iter().any(|e| *e == expires.get_untracked()) {
                        expires.set(options.expiries.first().cloned().unwrap_or_default());
                    }
                    loaded.set(Loaded::Ready(options));
                }
                Err(error) => loaded.set(Loaded::Failed(error)),
            }
        });
    };
    let create = move |_| {
        let (wanted_role, wanted_expiry, base) = (role.get_untracked(), expires.get_untracked(), page_link.clone());
        message.set(Some("Making the link…".to_owned()));
        leptos::task::spawn_local(async move {
            let Some(answer) = api.try_get_value() else { return };
            match answer.mint(&wanted_role, &wanted_expiry).await {
                Ok(Minted { token, expires_at }) => {
                    link.set(Some(format!("{base}#token={token}")));
                    let until = expires_at.map(|secs| {
                        let date = js_sys::Date::new(&(secs * 1000.0).into());
                        String::from(date.to_locale_string("default", &js_sys::Object::new()))
                    });
                    let what = if wanted_role == "editor" { "can edit" } else { "can view" };
                    message.set(Some(match until {
                        Some(until) => format!("Anyone with this link {what} until {until}."),
                        None => format!("Anyone with this link {what}; it never expires."),
                    }));
                }
                Err(error) => message.set(Some(error)),
            }
        });
    };
    let state = move || match loaded.get() {
        Loaded::Loading => "loading",
        Loaded::Failed(_) => "failed",
        Loaded::Ready(o) if o.open => "open",
        Loaded::Ready(_) => "ready",
    };
    let plain_link = room.link.clone();

    view! {
        <button id="share-button" class="primary share-button" title="Share this room: a link that can edit or only view"
            on:click=show>"Share"</button>
        <Show when=move || open.get()>
            <div class="overlay" on:click=move |_| open.set(false)>
                <div id="share-dialog" class="dialog share-dialog" role="dialog" aria-label="Share" data-state=state
                    on:click=|ev| ev.stop_propagation()>
                    <div class="panel-head">
                        <h2>"Share this room"</h2>
                        <button class="ghost" id="share-close" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                    {
                        let (plain_link, create) = (plain_link.clone(), create.clone());
                        move || match loaded.get() {
                            Loaded::Loading => view! { <p class="muted">"Asking the relay…"</p> }.into_any(),
                            Loaded::Failed(error) => view! { <p id="share-note" class="problem-text">{error}</p> }.into_any(),
                            Loaded::Ready(options) if options.open => view! {
                                <p id="share-note" class="share-warning">
                                    "This relay is open: anyone with the link can edit (and so can anyone who guesses the room's name)."
                                </p>
                                <CopyField id="share-result" text=plain_link.clone() />
                            }.into_any(),
                            Loaded::Ready(options) if !options.can_mint => view! {
                                <p id="share-note">"This relay cannot make links: ask whoever gave you access to this room."</p>
                            }.into_any(),
                            Loaded::Ready(options) => form(options, role, expires, link, message, create.clone()).into_any(),
                        }
                    }
                </div>
            </div>
        </Show>
    }
}

/// The role and expiry choices, the button, and the link once made.
fn form(
    options: Options,
    role: RwSignal<String>,
    expires: RwSignal<String>,
    link: RwSignal<Option<String>>,
    message: RwSignal<Option<String>>,
    create: impl Fn(leptos::ev::MouseEvent) + Clone + 'static,
) -> impl IntoView {
    let may = |r: &str| options.roles.iter().any(|x| x == r);
    let (may_edit, may_view) = (may("editor"), may("viewer"));
    let role_choice = move |value: &'static str, label: &'static str, allowed: bool| {
        view! {
            <label class="check" class:disabled=!allowed>
                <input type="radio" name="share-role" id=format!("share-role-{value}") value=value disabled=!allowed
                    prop:checked=move || role.get() == value
                    on:change=move |_| {
                        role.set(value.to_owned());
                        link.set(None);
                    } />
                {label}
            </label>
        }
    };
    view! {
        <div class="share-form">
            <div class="share-roles">
                {role_choice("editor", "Can edit", may_edit)}
                {role_choice("viewer", "Can view", may_view)}
            </div>
            {(!may_edit).then(|| view! { <p id="share-note" class="muted">"You can view this room, so you can share view links only."</p> })}
            <label class="field wide">
                <span>"Expires after"</span>
                <select id="share-expiry" on:change=move |ev| {
                    expires.set(event_target_value(&ev));
                    link.set(None);
                }>
                    {options.expiries.iter().map(|e| {
                        let value = e.clone();
                        let selected = move || expires.get() == value;
                        view! { <option value=e.clone() selected=selected>{expiry_label(e).to_owned()}</option> }
                    }).collect::<Vec<_>>()}
                </select>
            </label>
            <button class="primary" id="share-create" on:click=create>"Create link"</button>
            {move || link.get().map(|text| view! { <CopyField id="share-result" text=text /> })}
            {move || message.get().map(|text| view! { <p id="share-message" class="muted">{text}</p> })}
        </div>
    }
}

/// A read-only field holding `text`, with a Copy button (`#share-copy`).
#[component]
fn CopyField(id: &'static str, text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = text.clone();
    let copy = move |_| {
        let text = value.clone();
        leptos::task::spawn_local(async move {
            let Some(window) = web_sys::window() else { return };
            let promise = window.navigator().clipboard().write_text(&text);
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                copied.set(true);
                gloo_timers::future::sleep(std::time::Duration::from_secs(2)).await;
                copied.set(false);
            }
        });
    };
    view! {
        <div class="copy-field">
            <input type="text" id=id readonly prop:value=text on:focus=|ev| {
                if let Some(input) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok()) {
                    input.select();
                }
            } />
            <button class="ghost" id="share-copy" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
        </div>
    }
}
