//! The scene jobs' work (`client/src/jobs/`): one render tile, one scene-check phase or the
//! whole .glb export per request, over the loaded scene.

use shared::jobs::check::{self, input::CheckInput};
use shared::jobs::render::{self, World};
use wasm_bindgen::prelude::*;
use yrs::Transact;

use crate::with_loaded;

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
