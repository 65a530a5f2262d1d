//! Files: import glTF 2.0 (`.gltf` with embedded data, or `.glb`), export the scene as
//! `.glb`, save and open the scene as JSON, and save the viewport as a PNG. The conversions
//! are `shared::interchange`; this module reads what the user chose, applies it as one edit
//! (one undo step, through [`Editor::edit_with_ids`]), and offers results as downloads
//! through Blob URLs.
//!
//! `#files` carries what the last produced file was (`data-last-kind`, `data-last-bytes`,
//! `data-last-url`: the Blob URL) and the last import (`data-imported`: nodes created), for
//! the browser tests and for anyone scripting the page.

mod browser;
mod error;

use leptos::prelude::*;
use shared::interchange::{self, OpenMode};
use shared::scene::Scene;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yrs::Transact;

use crate::editor::Editor;
pub use error::FileError;

/// The viewport canvas (drawn by `crate::viewport`).
const CANVAS_ID: &str = "viewport-canvas";

/// A file the page produced for download.
#[derive(Debug, Clone, PartialEq)]
struct Produced {
    kind: &'static str,
    bytes: f64,
    url: String,
}

/// What the file tools show.
#[derive(Clone, Copy)]
struct FileState {
    /// The step under way and how far along (0..=1).
    busy: RwSignal<Option<(String, f64)>>,
    /// The outcome of the last action (or why it failed).
    message: RwSignal<Option<String>>,
    last: RwSignal<Option<Produced>>,
    imported: RwSignal<usize>,
}

#[component]
pub fn FileTools(editor: Editor) -> impl IntoView {
    let state = FileState {
        busy: RwSignal::new(None),
        message: RwSignal::new(None),
        last: RwSignal::new(None),
        imported: RwSignal::new(0),
    };
    let chosen = move |ev: web_sys::Event, open: fn(Editor, FileState, String, Vec<u8>)| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        leptos::task::spawn_local(async move {
            state.busy.set(Some(("Reading the file".to_owned(), 0.1)));
            let read = browser::read_chosen(&input).await;
            input.set_value(""); // choosing the same file again is a new change
            match read {
                Ok(Some((name, bytes))) => {
                    state.busy.set(Some((format!("Adding {name}"), 0.5)));
                    browser::next_frame().await; // show it before the work blocks the page
                    open(editor, state, name, bytes);
                }
                Ok(None) => {}
                Err(error) => state.message.set(Some(error.to_string())),
            }
            state.busy.set(None);
        });
    };
    view! {
        <div class="tool-group files" id="files"
            data-last-kind=move || state.last.with(|l| l.as_ref().map(|l| l.kind).unwrap_or_default())
            data-last-bytes=move || state.last.with(|l| l.as_ref().map(|l| l.bytes.to_string()).unwrap_or_default())
            data-last-url=move || state.last.with(|l| l.as_ref().map(|l| l.url.clone()).unwrap_or_default())
            data-imported=move || state.imported.get().to_string()
        >
            <label class="tool file-button" title="Open a scene JSON file (replaces the scene; undo brings it back)"
                class:disabled=move || !editor.access.can_edit()>
                "Open…"
                <input type="file" id="open-json" class="file-input" accept=".json,application/json"
                    disabled=move || !editor.access.can_edit() on:change=move |ev| chosen(ev, open_json) />
            </label>
            <label class="tool file-button" title="Import a glTF 2.0 file (.gltf or .glb) into the scene"
                class:disabled=move || !editor.access.can_edit()>
                "Import glTF…"
                <input type="file" id="import-gltf" class="file-input" accept=".gltf,.glb,model/gltf+json,model/gltf-binary"
                    disabled=move || !editor.access.can_edit() on:change=move |ev| chosen(ev, import_gltf) />
            </label>
            <button class="tool" id="save-json" title="Save the scene as JSON" on:click=move |_| save_json(editor, state)>"Save JSON"</button>
            <button class="tool" id="export-glb" title="Export the scene as binary glTF (.glb)" on:click=move |_| export_glb(editor, state)>"Export .glb"</button>
            <button class="tool" id="save-png" title="Save the viewport as a PNG image" on:click=move |_| save_png(state)>"PNG"</button>
            {move || state.busy.get().map(|(step, fraction)| view! {
                <span class="file-progress" id="file-progress">
                    <progress max="1" value=fraction.to_string()></progress>
                    <span>{step}</span>
                </span>
            })}
            {move || state.message.get().map(|text| view! {
                <span class="file-message" id="file-message" title=text.clone()>{text.clone()}</span>
            })}
        </div>
    }
}

/// Imports a glTF file at the scene root and selects what it added.
fn import_gltf(editor: Editor, state: FileState, name: String, bytes: Vec<u8>) {
    let outcome = editor.edit_with_ids(|scene, txn, ids| interchange::import_gltf(scene, txn, ids, None, &bytes, |_| {}));
    match outcome {
        Some(Ok(summary)) => {
            let warnings = summary.warnings.len();
            state.imported.set(summary.nodes_created);
            editor.select(summary.roots);
            let note = if warnings > 0 { format!(" ({warnings} warnings: see the console)") } else { String::new() };
            for warning in &summary.warnings {
                leptos::logging::warn!("{name}: {warning}");
            }
            state.message.set(Some(format!("Imported {} nodes from {name}{note}", summary.nodes_created)));
        }
        Some(Err(error)) => state.message.set(Some(FileError::Import(error).to_string())),
        None => {}
    }
}

/// Replaces the scene with a scene JSON file (one undo step).
fn open_json(editor: Editor, state: FileState, name: String, bytes: Vec<u8>) {
    let text = String::from_utf8_lossy(&bytes);
    let outcome = editor.edit_with_ids(|scene, txn, ids| interchange::open_scene_json(scene, txn, ids, &text, OpenMode::Replace));
    match outcome {
        Some(Ok(created)) => {
            state.imported.set(created.len());
            editor.select(Vec::new());
            state.message.set(Some(format!("Opened {name}: {} nodes", created.len())));
        }
        Some(Err(error)) => state.message.set(Some(FileError::Json(error).to_string())),
        None => {}
    }
}

fn save_json(editor: Editor, state: FileState) {
    match download_json(editor) {
        Ok((bytes, url)) => produced(state, Produced { kind: "json", bytes: bytes as f64, url }),
        Err(error) => state.message.set(Some(error.to_string())),
    }
}

/// Offers the scene as `scene.json` for download, as "Save JSON" does; answers its size and
/// Blob URL (valid until revoked). Also the deleted-room banner's "Save my copy".
pub fn download_json(editor: Editor) -> Result<(usize, String), FileError> {
    let doc = editor.doc();
    let json = interchange::save_scene_json(&Scene::new(&doc), &doc.transact());
    let blob = browser::blob(json.as_bytes(), "application/json")?;
    Ok((json.len(), browser::download(&blob, "scene.json")?))
}

fn export_glb(editor: Editor, state: FileState) {
    let doc = editor.doc();
    let exported = interchange::export_glb(&Scene::new(&doc), &doc.transact(), |_| {});
    match exported {
        Ok(bytes) => offer(state, "glb", &bytes, "model/gltf-binary", "scene.glb"),
        Err(error) => state.message.set(Some(FileError::Export(error).to_string())),
    }
}

fn save_png(state: FileState) {
    leptos::task::spawn_local(async move {
        match browser::canvas_png(CANVAS_ID).await.and_then(|blob| {
            let size = blob.size();
            browser::download(&blob, "scene.png").map(|url| (url, size))
        }) {
            Ok((url, bytes)) => produced(state, Produced { kind: "png", bytes, url }),
            Err(error) => state.message.set(Some(error.to_string())),
        }
    });
}

/// Offers `bytes` as a download and records it.
fn offer(state: FileState, kind: &'static str, bytes: &[u8], mime: &str, filename: &str) {
    match browser::blob(bytes, mime).and_then(|blob| browser::download(&blob, filename)) {
        Ok(url) => produced(state, Produced { kind, bytes: bytes.len() as f64, url }),
        Err(error) => state.message.set(Some(error.to_string())),
    }
}

/// Records the new download, revoking the previous one's URL.
fn produced(state: FileState, file: Produced) {
    if let Some(previous) = state.last.get_untracked() {
        let _ = web_sys::Url::revoke_object_url(&previous.url);
    }
    state.message.set(Some(format!("Saved {} ({} bytes)", file.kind, file.bytes)));
    state.last.set(Some(file));
}
