//! The banner shown once the room was deleted by an administrator: what happened, and the
//! user's two ways on. "Save my copy (JSON)" downloads the scene still in this page (the
//! editor's own File ▸ Save scene JSON); "Start again" reloads the page into the room as it now is:
//! empty on the relay, with no copy on this device. Until the user chooses, the scene stays
//! in the page, readable.
//!
//! `#room-deleted` carries `data-removed` (the device copy is gone) and `data-saved-url` (the
//! Blob URL of the last copy saved here) for the browser tests.

use std::time::Duration;

use leptos::prelude::*;

use super::Deletion;
use crate::editor::Editor;

/// Longest "Start again" waits for the device copy to be removed before reloading anyway
/// (IndexedDB runs the deletion before the reloaded page's open in any case).
const REMOVAL_WAIT: Duration = Duration::from_secs(3);

#[component]
pub fn DeletedBanner(deletion: Deletion, editor: Editor) -> impl IntoView {
    // The last saved copy: (bytes, Blob URL), or why saving failed.
    let saved = RwSignal::new(None::<Result<(usize, String), String>>);
    let leaving = RwSignal::new(false);
    let save = move |_| {
        leptos::task::spawn_local(async move {
            let outcome = crate::files::download_json(editor).await.map_err(|e| e.to_string());
            if let Some(Ok((_, previous))) = saved.get_untracked() {
                let _ = web_sys::Url::revoke_object_url(&previous);
            }
            saved.set(Some(outcome));
        })
    };
    let start_again = move |_| {
        leaving.set(true);
        leptos::task::spawn_local(start_again(deletion));
    };
    view! {
        <Show when=move || deletion.deleted.get()>
            <div id="room-deleted" class="deleted" role="alertdialog" aria-labelledby="room-deleted-title"
                data-removed=move || deletion.removed.get().to_string()
                data-saved-url=move || saved.with(|s| match s { Some(Ok((_, url))) => url.clone(), _ => String::new() })
            >
                <div class="deleted-text">
                    <strong id="room-deleted-title">"This room was deleted by an administrator."</strong>
                    <span>{move || if deletion.removed.get() {
                        "Its copy on this device was removed. The scene below is only in this page now (changes are not saved): save a copy to keep it."
                    } else {
                        "Removing its copy on this device…"
                    }}</span>
                    {move || saved.get().map(|outcome| match outcome {
                        Ok((bytes, _)) => view! { <span class="deleted-note">{format!("Saved scene.json ({bytes} bytes)")}</span> }.into_any(),
                        Err(error) => view! { <span class="deleted-note failed">{error}</span> }.into_any(),
                    })}
                </div>
                <div class="deleted-actions">
                    <button id="save-my-copy" class="primary" title="Download the scene in this page as JSON" on:click=save>
                        "Save my copy (JSON)"
                    </button>
                    <button id="start-again" class="ghost" title="Reload into the room as it is now: empty"
                        disabled=move || leaving.get() on:click=start_again>
                        "Start again"
                    </button>
                </div>
            </div>
        </Show>
    }
}

/// Reloads the page once the device copy is gone (or after [`REMOVAL_WAIT`]).
async fn start_again(deletion: Deletion) {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while !deletion.removed.get_untracked() && waited < REMOVAL_WAIT {
        gloo_timers::future::sleep(step).await;
        waited += step;
    }
    if let Some(window) = web_sys::window() {
        if let Err(error) = window.location().reload() {
            leptos::logging::warn!("cannot reload the page: {error:?}");
        }
    }
}
