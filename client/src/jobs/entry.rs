//! The Web Worker's side: `#[wasm_bindgen]` functions that `public/worker.js` calls in the
//! worker, with the same WASM module as the page. The page sends the document's encoded
//! state once (`worker_load`), then asks for one tile, one check phase or the export at a
//! time; everything heavy (ray tracing, the check, glTF encoding) runs here, off the page's
//! main thread.

use std::cell::RefCell;

use shared::jobs::check::{self, input::CheckInput};
use shared::jobs::render::{self, World};
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

/// Renders tile `index` of a `width × height` image: RGBA bytes.
#[wasm_bindgen]
pub fn worker_render_tile(width: u32, height: u32, index: u32) -> Result<Vec<u8>, JsError> {
    with_loaded(|loaded| {
        let tile = render::tiles(width, height).into_iter().nth(index as usize).ok_or_else(|| JsError::new("no such tile"))?;
        let world = loaded.world.get_or_insert_with(|| World::from_scene(&loaded.scene, &loaded.doc.transact()));
        Ok(render::render_tile(world, width, height, &tile))
    })
}

/// Runs phase `index` of the scene check: its findings as JSON.
#[wasm_bindgen]
pub fn worker_check_phase(index: u32) -> Result<String, JsError> {
    with_loaded(|loaded| {
        let input = loaded.check.get_or_insert_with(|| CheckInput::read(&loaded.scene, &loaded.doc.transact()));
        let findings = check::run_phase(input, index as usize);
        serde_json::to_string(&findings).map_err(|e| JsError::new(&e.to_string()))
    })
}

/// Exports the scene as .glb; `progress` is called with fractions from 0 to 1.
#[wasm_bindgen]
pub fn worker_export(progress: &js_sys::Function) -> Result<Vec<u8>, JsError> {
    with_loaded(|loaded| {
        let report = |fraction: f32| {
            let _ = progress.call1(&JsValue::NULL, &JsValue::from_f64(fraction as f64));
        };
        shared::interchange::export_glb(&loaded.scene, &loaded.doc.transact(), report).map_err(|e| JsError::new(&e.to_string()))
    })
}
