//! Restore points in the UI: the relay's named snapshots of the room, listed newest first;
//! save one under a name; preview what restoring one would change (nodes added, removed,
//! changed); restore it — and undo that like any edit of one's own.
//!
//! The restore is computed here, not by the relay: the page fetches the point's content
//! ([`api`]), and `shared::revert` turns the current scene into it as one transaction with
//! the editor's undo origin ([`Editor::edit`]). Peers receive it as an ordinary update, and
//! Ctrl+Z (or Undo) by the person who restored takes it back, without touching other people's
//! later edits. The preview is computed the same way, against this page's document (which
//! includes edits the relay may not have yet). The relay's own restore endpoint, with its
//! "Before restoring" point, stays for scripts and operators.

mod api;

use leptos::prelude::*;
use shared::revert::{self, SceneDiff};
use shared::scene::{NodeId, Scene};
use yrs::{Doc, Transact};

use crate::editor::Editor;
use api::{Point, RestoreApi};

/// A previewed restore: the point and what restoring it would do.
#[derive(Debug, Clone, PartialEq)]
struct Preview {
    point: i64,
    diff: SceneDiff,
    /// Display names of the nodes in `diff`, in the same order (added, removed, changed).
    names: (Vec<String>, Vec<String>, Vec<String>),
}

#[derive(Clone, Copy)]
struct PanelState {
    points: RwSignal<Vec<Point>>,
    preview: RwSignal<Option<Preview>>,
    message: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    api: StoredValue<RestoreApi>,
}

#[component]
pub fn RestorePoints(editor: Editor, room: String, token: Option<String>) -> impl IntoView {
    let state = PanelState {
        points: RwSignal::new(Vec::new()),
        preview: RwSignal::new(None),
        message: RwSignal::new(None),
        busy: RwSignal::new(false),
        api: StoredValue::new(RestoreApi::new(&room, token)),
    };
    let name = RwSignal::new(String::new());
    refresh(state);

    let create = move || {
        let wanted = name.get_untracked().trim().to_owned();
        let wanted = if wanted.is_empty() { default_name() } else { wanted };
        run(state, async move {
            let api = state.api.get_value();
            let point = api.create(&wanted).await?;
            name.set(String::new());
            state.points.set(api.list().await?);
            Ok(format!("Saved “{}”", point.name))
        });
    };

    view! {
        <section class="panel restore" id="restore-points" data-busy=move || state.busy.get().to_string()>
            <div class="panel-head">
                <h2>"Restore points"</h2>
                <button class="ghost" id="restore-refresh" title="Reload the list" on:click=move |_| refresh(state)>"Refresh"</button>
            </div>
            <Show when=move || editor.access.can_edit()>
                <div class="restore-new">
                    <input id="restore-name" type="text" placeholder="Name this point" maxlength="200"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" { create() } />
                    <button class="tool" id="restore-create" title="Save the room's current content as a restore point"
                        disabled=move || state.busy.get() on:click=move |_| create()>"Save point"</button>
                </div>
            </Show>
            <ul id="restore-list" class="restore-list">
                <For each=move || state.points.get() key=|p| p.id children=move |point| point_row(editor, state, point) />
            </ul>
            {move || state.preview.get().map(|preview| preview_view(state, editor, preview))}
            {move || state.message.get().map(|text| view! { <p id="restore-message" class="restore-message">{text}</p> })}
        </section>
    }
}

fn point_row(editor: Editor, state: PanelState, point: Point) -> impl IntoView {
    let id = point.id;
    let when = js_sys::Date::new(&point.created_ms.into()).to_locale_string("default", &js_sys::Object::new());
    let when: String = when.into();
    let label = point.name.clone();
    view! {
        <li data-point-id=id.to_string() class:previewed=move || state.preview.with(|p| p.as_ref().is_some_and(|p| p.point == id))>
            <span class="restore-label" title=when.clone()>{point.name.clone()}</span>
            <span class="restore-when">{when}</span>
            <button class="ghost restore-preview" title="Show what restoring this point would change"
                on:click=move |_| preview(editor, state, id)>"Preview"</button>
            <button class="tool restore-apply" title="Bring the scene back to this point (undo takes it back)"
                disabled=move || !editor.access.can_edit()
                on:click=move |_| restore(editor, state, id, label.clone())>"Restore"</button>
        </li>
    }
}

fn preview_view(state: PanelState, editor: Editor, preview: Preview) -> impl IntoView {
    let Preview { point, diff, names } = preview;
    let line = |class: &'static str, sign: &'static str, names: Vec<String>| {
        (!names.is_empty()).then(|| view! { <li class=class>{sign}" "{names.join(", ")}</li> })
    };
    view! {
        <div id="restore-diff" class="restore-diff" data-point=point.to_string()
            data-added=diff.added.len().to_string() data-removed=diff.removed.len().to_string()
            data-changed=diff.changed.len().to_string()>
            <div class="panel-head">
                <h3>"Restoring would"</h3>
                <button class="ghost" on:click=move |_| state.preview.set(None)>"Close"</button>
            </div>
            {diff.is_empty().then(|| view! { <p>"change nothing: the scene is as it was."</p> })}
            <ul>
                {line("added", "bring back", names.0)}
                {line("removed", "remove", names.1)}
                {line("changed", "change", names.2)}
            </ul>
            {(!diff.is_empty()).then(|| {
                view! { <button class="tool" id="restore-diff-apply" disabled=move || !editor.access.can_edit()
                    on:click=move |_| restore(editor, state, point, format!("#{point}"))>"Restore"</button> }
            })}
        </div>
    }
}

/// Reloads the list of points.
fn refresh(state: PanelState) {
    run(state, async move {
        state.points.set(state.api.get_value().list().await?);
        Ok(String::new())
    });
}

/// Fetches point `id` and shows what restoring it would change.
fn preview(editor: Editor, state: PanelState, id: i64) {
    run(state, async move {
        let target = fetch_point(state, id).await?;
        let current = editor.doc();
        let diff = revert::diff(&current, &target);
        let names = names(&current, &target, &diff);
        state.preview.set(Some(Preview { point: id, diff, names }));
        Ok(String::new())
    });
}

/// Fetches point `id` and turns the scene into it, as one edit of mine (undoable).
fn restore(editor: Editor, state: PanelState, id: i64, label: String) {
    run(state, async move {
        let target = fetch_point(state, id).await?;
        if editor.edit(|_, txn| revert::revert_to(txn, &target)).is_none() {
            return Err("View only: restoring is for people who can edit".to_owned());
        }
        state.preview.set(None);
        Ok(format!("Restored “{label}”. Undo (Ctrl+Z) takes it back."))
    });
}

async fn fetch_point(state: PanelState, id: i64) -> Result<Doc, String> {
    let bytes = state.api.get_value().state(id).await.map_err(|e| e.to_string())?;
    let update = shared::protocol::decode_update(&bytes).map_err(|e| format!("restore point {id} is damaged: {e}"))?;
    let doc = Doc::new();
    doc.transact_mut().apply_update(update).map_err(|e| format!("restore point {id} is damaged: {e}"))?;
    Ok(doc)
}

/// Node names for a diff: added and changed ones as the point has them, removed ones as
/// the scene has them now.
fn names(current: &Doc, target: &Doc, diff: &SceneDiff) -> (Vec<String>, Vec<String>, Vec<String>) {
    let now = Scene::new(current).tree(&current.transact());
    let then = Scene::new(target).tree(&target.transact());
    let name = |tree: &shared::scene::SceneTree, id: &String| {
        tree.node(&NodeId(id.clone())).map(|n| n.name.clone()).unwrap_or_else(|| id.clone())
    };
    (
        diff.added.iter().map(|id| name(&then, id)).collect(),
        diff.removed.iter().map(|id| name(&now, id)).collect(),
        diff.changed.iter().map(|id| name(&then, id)).collect(),
    )
}

/// A default name: the local date and time.
fn default_name() -> String {
    String::from(js_sys::Date::new_0().to_locale_string("default", &js_sys::Object::new()))
}

/// Runs one API action with the panel busy; its message (or error) is shown after.
fn run(state: PanelState, action: impl std::future::Future<Output = Result<String, String>> + 'static) {
    state.busy.set(true);
    leptos::task::spawn_local(async move {
        let outcome = action.await;
        state.busy.set(false);
        match outcome {
            Ok(text) if text.is_empty() => state.message.set(None),
            Ok(text) => state.message.set(Some(text)),
            Err(error) => state.message.set(Some(error)),
        }
    });
}
