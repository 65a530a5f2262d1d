//! Who is here: me first (name and colour editable, remembered in this browser; a name the
//! relay's sign-in gave is shown instead and not editable), then the others in their
//! colours, each with the id the relay vouches for when it knows one (`.participant-id`). Clicking someone follows them: my camera tracks theirs
//! (perspective or orthographic) until I orbit, pan, zoom or switch view myself (or they
//! leave).

use leptos::prelude::*;

use crate::editor::Editor;
use crate::identity;
use crate::presence::{Peer, User};

#[component]
pub fn Participants(editor: Editor, user: RwSignal<User>, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    // Follow mode: copy the followed peer's view whenever it changes.
    Effect::new(move |_| {
        let Some(client) = editor.follow.get() else { return };
        match peers.with(|ps| ps.iter().find(|p| p.client == client).map(|p| p.camera)) {
            None => editor.follow.set(None),
            Some(Some(camera)) if editor.camera.get_untracked() != camera => editor.camera.set(camera),
            Some(_) => {}
        }
    });

    let others = move || peers.with(|ps| ps.iter().map(|p| (p.client, p.name.clone(), p.color.clone(), p.id.clone())).collect::<Vec<_>>());
    let access = editor.access;
    let signed_in_name = move || access.name.get();
    view! {
        <section class="panel people" id="participants">
            <div class="panel-head">
                <h2>"People"</h2>
                <span class="muted">{move || format!("{} here", peers.with(Vec::len) + 1)}</span>
            </div>
            <ul class="people-list">
                <li class="participant me" data-client="me">
                    <input type="color" id="my-color" class="swatch-input" title="Your colour"
                        prop:value=move || user.with(|u| u.color.clone())
                        on:change=move |ev| {
                            let color = event_target_value(&ev).to_ascii_lowercase();
                            if crate::awareness_state::is_hex_color(&color) {
                                user.update(|u| u.color = color);
                                identity::save(&user.get_untracked());
                            }
                        }
                    />
                    <input type="text" id="my-name" class="participant-name"
                        title=move || if signed_in_name().is_some() { "Your name, from your sign-in" } else { "Your name, as others see it" }
                        maxlength=identity::MAX_NAME.to_string()
                        disabled=move || signed_in_name().is_some()
                        prop:value=move || signed_in_name().unwrap_or_else(|| user.with(|u| u.name.clone()))
                        on:change=move |ev| match identity::clean_name(&event_target_value(&ev)) {
                            Some(name) => {
                                user.update(|u| u.name = name);
                                identity::save(&user.get_untracked());
                            }
                            // Put the old name back in the field.
                            None => user.update(|_| {}),
                        }
                    />
                    <span class="you">"you"</span>
                    {move || access.id.get().map(|id| view! { <span class="participant-id" id="my-id" title="Your id, as the relay knows it">{id}</span> })}
                </li>
                <For each=others key=|p| p.clone() let:peer>
                    {
                        let (client, name, color, id) = peer;
                        let following = move || editor.follow.get() == Some(client);
                        view! {
                            <li class="participant" data-client=client.to_string() class:following=following
                                title="Click to follow their view"
                                on:click=move |_| editor.follow.update(|f| *f = if *f == Some(client) { None } else { Some(client) })
                            >
                                <span class="swatch" style:background=color></span>
                                <span class="participant-name">{name}</span>
                                {id.map(|id| view! { <span class="participant-id" title="Their id, as the relay knows it">{id}</span> })}
                                <span class="follow-label">{move || if following() { "following" } else { "follow" }}</span>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
