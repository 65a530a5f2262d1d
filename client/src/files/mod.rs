//! Files: import glTF 2.0 (`.gltf` with embedded data, or `.glb`), export the scene as
//! `.glb`, save and open the scene as JSON, and save the viewport as a PNG. The conversions
//! are `shared::interchange`, run in the tools worker (`crate::tools_worker`, the `worker`
//! crate), so the editor's own module does not carry them and a big file does not freeze the
//! page; this module reads what the user chose, hands it to a fresh worker holding the
//! scene, applies the change the worker answers (a Yjs update) as one local edit (one undo
//! step, through [`Editor::edit`]), and offers results as downloads through Blob URLs.
//!
//! `#files` carries what the last produced file was (`data-last-kind`, `data-last-bytes`,
//! `data-last-url`: the Blob URL) and the last import (`data-imported`: nodes created), for
//! the browser tests and for anyone scripting the page.

mod browser;
mod error;

use js_sys::{Array, Uint8Array};
use leptos::prelude::*;
use shared::scene::NodeId;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlInputElement;
use yrs::updates::decoder::Decode;
use yrs::Update;

use crate::editor::Editor;
use crate::tools_worker::{message, ToolsWorker};
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

/// What a chosen file is opened as.
#[derive(Clone, Copy)]
enum Opening {
    Gltf,
    SceneJson,
}

#[component]
pub fn FileTools(editor: Editor) -> impl IntoView {
    let state = FileState {
        busy: RwSignal::new(None),
        message: RwSignal::new(None),
        last: RwSignal::new(None),
        imported: RwSignal::new(0),
    };
    let chosen = move |ev: web_sys::Event, opening: Opening| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        leptos::task::spawn_local(async move {
            state.busy.set(Some(("Reading the file".to_owned(), 0.1)));
            let read = browser::read_chosen(&input).await;
            input.set_value(""); // choosing the same file again is a new change
            match read {
                Ok(Some((name, bytes))) => {
                    state.busy.set(Some((format!("Adding {name}"), 0.5)));
                    let outcome = match opening {
                        Opening::Gltf => import_gltf(editor, state, &name, bytes).await,
                        Opening::SceneJson => open_json(editor, state, &name, bytes).await,
                    };
                    if let Err(error) = outcome {
                        state.message.set(Some(error.to_string()));
                    }
                }
                Ok(None) => {}
                Err(error) => state.message.set(Some(error.to_string())),
            }
            state.busy.set(None);
        });
    };
    let export = move |_| {
        leptos::task::spawn_local(async move {
            state.busy.set(Some(("Exporting".to_owned(), 0.0)));
            if let Err(error) = export_glb(editor, state).await {
                state.message.set(Some(error.to_string()));
            }
            state.busy.set(None);
        })
    };
    let save = move |_| {
        leptos::task::spawn_local(async move {
            match download_json(editor).await {
                Ok((bytes, url)) => produced(state, Produced { kind: "json", bytes: bytes as f64, url }),
                Err(error) => state.message.set(Some(error.to_string())),
            }
        })
    };
    view! {
        <div class="tool-group files" id="files"
            data-last-kind=move || state.last.with(|l| l.as_ref().map(|l| l.kind).unwrap_or_default())
            data-last-bytes=move || state.last.with(|l| l.as_ref().map(|l| l.bytes.to_string()).unwrap_or_default())
            data-last-url=move || state.last.with(|l| l.as_ref().map(|l| l.url.clone()).unwrap_or_default())
            data-imported=move || state.imported.get().to_string()
        >
            {move || state.busy.get().map(|(step, fraction)| view! {
                <span class="file-progress" id="file-progress">
                    <progress max="1" value=fraction.to_string()></progress>
                    <span>{step}</span>
                </span>
            })}
            {move || state.message.get().map(|text| view! {
                <span class="file-message" id="file-message" title=text.clone()>{text.clone()}</span>
            })}
            <crate::menu::Menu id="file-menu" label="File ▾" title="Open, import, save and export">
                <label class="menu-item file-button" title="Open a scene JSON file (replaces the scene; undo brings it back)"
                    class:disabled=move || !editor.access.can_edit()>
                    "Open scene JSON…"
                    <input type="file" id="open-json" class="file-input" accept=".json,application/json"
                        disabled=move || !editor.access.can_edit() on:change=move |ev| chosen(ev, Opening::SceneJson) />
                </label>
                <label class="menu-item file-button" title="Import a glTF 2.0 file (.gltf or .glb) into the scene"
                    class:disabled=move || !editor.access.can_edit()>
                    "Import glTF…"
                    <input type="file" id="import-gltf" class="file-input" accept=".gltf,.glb,model/gltf+json,model/gltf-binary"
                        disabled=move || !editor.access.can_edit() on:change=move |ev| chosen(ev, Opening::Gltf) />
                </label>
                <button class="menu-item" id="save-json" title="Save the scene as JSON" on:click=save>"Save scene JSON"</button>
                <button class="menu-item" id="export-glb" title="Export the scene as binary glTF (.glb)" on:click=export>"Export glTF (.glb)"</button>
                <button class="menu-item" id="save-png" title="Save the viewport as a PNG image" on:click=move |_| save_png(state)>"Save image (PNG)"</button>
            </crate::menu::Menu>
        </div>
    }
}

/// A worker holding the scene as it is now.
async fn worker_with_scene(editor: Editor) -> Result<ToolsWorker, FileError> {
    ToolsWorker::loaded(&editor.doc()).await.map_err(FileError::Worker)
}

/// Applies the change a worker answered (`update`) as one local edit. `false` if the page
/// may not edit (nothing is written).
fn apply_change(editor: Editor, answer: &JsValue) -> Result<bool, FileError> {
    let bytes = Uint8Array::new(&ToolsWorker::field(answer, "update")).to_vec();
    let update = Update::decode_v1(&bytes).map_err(|e| FileError::Worker(format!("the worker answered a bad update: {e}")))?;
    match editor.edit(|_, txn| txn.apply_update(update)) {
        None => Ok(false),
        Some(Ok(())) => Ok(true),
        Some(Err(e)) => Err(FileError::Worker(format!("the worker's change does not apply: {e}"))),
    }
}

fn count(answer: &JsValue, key: &str) -> usize {
    ToolsWorker::field(answer, key).as_f64().unwrap_or(0.0) as usize
}

fn texts(answer: &JsValue, key: &str) -> Vec<String> {
    Array::from(&ToolsWorker::field(answer, key)).iter().filter_map(|v| v.as_string()).collect()
}

/// Imports a glTF file at the scene root and selects what it added.
async fn import_gltf(editor: Editor, state: FileState, name: &str, bytes: Vec<u8>) -> Result<(), FileError> {
    if !editor.can_edit() {
        return Ok(());
    }
    let mut worker = worker_with_scene(editor).await?;
    let answer = worker
        .call(&message("import", &[("bytes", Uint8Array::from(bytes.as_slice()).into())]))
        .await
        .map_err(FileError::Import)?;
    drop(worker);
    if !apply_change(editor, &answer)? {
        return Ok(());
    }
    let created = count(&answer, "created");
    let warnings = texts(&answer, "warnings");
    state.imported.set(created);
    editor.select(texts(&answer, "roots").into_iter().map(NodeId).collect());
    let note = if warnings.is_empty() { String::new() } else { format!(" ({} warnings: see the console)", warnings.len()) };
    for warning in &warnings {
        leptos::logging::warn!("{name}: {warning}");
    }
    state.message.set(Some(format!("Imported {created} nodes from {name}{note}")));
    Ok(())
}

/// Replaces the scene with a scene JSON file (one undo step).
async fn open_json(editor: Editor, state: FileState, name: &str, bytes: Vec<u8>) -> Result<(), FileError> {
    if !editor.can_edit() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut worker = worker_with_scene(editor).await?;
    let answer = worker.call(&message("open-json", &[("text", text.into())])).await.map_err(FileError::Json)?;
    drop(worker);
    if !apply_change(editor, &answer)? {
        return Ok(());
    }
    let created = count(&answer, "created");
    state.imported.set(created);
    editor.select(Vec::new());
    state.message.set(Some(format!("Opened {name}: {created} nodes")));
    Ok(())
}

/// Offers the scene as `scene.json` for download, as "Save JSON" does; answers its size and
/// Blob URL (valid until revoked). Also the deleted-room banner's "Save my copy".
pub async fn download_json(editor: Editor) -> Result<(usize, String), FileError> {
    let mut worker = worker_with_scene(editor).await?;
    let answer = worker.call(&message("save-json", &[])).await.map_err(FileError::Export)?;
    let json = ToolsWorker::field(&answer, "text").as_string().unwrap_or_default();
    let blob = browser::blob(json.as_bytes(), "application/json")?;
    Ok((json.len(), browser::download(&blob, "scene.json")?))
}

async fn export_glb(editor: Editor, state: FileState) -> Result<(), FileError> {
    let mut worker = worker_with_scene(editor).await?;
    let answer = worker
        .call_with_progress(&message("export", &[]), |fraction| state.busy.set(Some(("Exporting".to_owned(), fraction))))
        .await
        .map_err(FileError::Export)?;
    let bytes = Uint8Array::new(&ToolsWorker::field(&answer, "bytes")).to_vec();
    offer(state, "glb", &bytes, "model/gltf-binary", "scene.glb");
    Ok(())
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
