//! The editor's tools worker: everything only a job or a file needs — the ray tracer, the
//! scene check, glTF import and export, scene JSON — compiled into a WebAssembly module of its
//! own, which `public/worker.js` runs in a Web Worker. The editor's page never loads this
//! code to start: it spawns the worker on the first job, import, open or save, so the first
//! download carries only the editor (issue 20), and the heavy work runs off the page's main
//! thread.
//!
//! The page sends the document's whole state once per worker (`worker_load`), then one
//! request at a time (`jobs.rs`, `files.rs`). A file conversion does not write into the
//! page's document: it writes into this copy and answers the change as a Yjs update, which
//! the page applies as one local edit (one undo step, sent to the relay like any other).

mod files;
mod jobs;

use std::cell::RefCell;

use shared::jobs::check::input::CheckInput;
use shared::jobs::render::World;
use shared::scene::Scene;
use wasm_bindgen::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

/// The scene this worker was sent, and what was derived from it.
struct Loaded {
    doc: Doc,
    scene: Scene,
    world: Option<World>,
    check: Option<CheckInput>,
}

thread_local! {
    static LOADED: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

fn with_loaded<R>(f: impl FnOnce(&mut Loaded) -> Result<R, JsError>) -> Result<R, JsError> {
    LOADED.with(|cell| match cell.borrow_mut().as_mut() {
        Some(loaded) => f(loaded),
        None => Err(JsError::new("no scene loaded")),
    })
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Takes the scene: a Yjs update holding the whole document.
#[wasm_bindgen]
pub fn worker_load(update: &[u8]) -> Result<(), JsError> {
    let update = Update::decode_v1(update).map_err(|e| JsError::new(&format!("bad scene update: {e}")))?;
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    doc.transact_mut().apply_update(update).map_err(|e| JsError::new(&format!("scene does not apply: {e}")))?;
    LOADED.with(|cell| *cell.borrow_mut() = Some(Loaded { doc, scene, world: None, check: None }));
    Ok(())
}
