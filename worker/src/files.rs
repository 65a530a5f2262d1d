//! File conversions for the editor's file tools (`client/src/files/`): a glTF import or a
//! scene JSON opened is written into the loaded copy of the document, and the change goes
//! back as a Yjs update (the page applies it as one local edit); a refused file writes
//! nothing and answers why. Node ids come from this copy's own client id, so they never
//! collide with the page's or anyone else's.

use js_sys::{Array, Object, Reflect, Uint8Array};
use shared::interchange::{self, OpenMode};
use shared::scene::IdGen;
use wasm_bindgen::prelude::*;
use yrs::{ReadTxn, Transact, TransactionMut};

use crate::{with_loaded, Loaded};

/// Imports a glTF 2.0 file (`.gltf` with embedded data, or `.glb`) at the scene root:
/// `{update, roots: [node id], created, warnings: [text]}`, or the reason it was refused.
#[wasm_bindgen]
pub fn worker_import_gltf(bytes: &[u8]) -> Result<Object, JsError> {
    with_loaded(|loaded| {
        let (summary, update) = change(loaded, |scene, txn, ids| interchange::import_gltf(scene, txn, ids, None, bytes, |_| {}))?;
        let summary = summary.map_err(|e| JsError::new(&e.to_string()))?;
        let answer = with_update(&update);
        set(&answer, "roots", &summary.roots.iter().map(|id| JsValue::from_str(id.as_str())).collect::<Array>());
        set(&answer, "created", &JsValue::from(summary.nodes_created as u32));
        set(&answer, "warnings", &summary.warnings.iter().map(|w| JsValue::from_str(&w.to_string())).collect::<Array>());
        Ok(answer)
    })
}

/// Replaces the scene with a scene JSON file: `{update, created}`, or why it was refused.
#[wasm_bindgen]
pub fn worker_open_json(text: &str) -> Result<Object, JsError> {
    with_loaded(|loaded| {
        let (created, update) = change(loaded, |scene, txn, ids| interchange::open_scene_json(scene, txn, ids, text, OpenMode::Replace))?;
        let created = created.map_err(|e| JsError::new(&e.to_string()))?;
        let answer = with_update(&update);
        set(&answer, "created", &JsValue::from(created.len() as u32));
        Ok(answer)
    })
}

/// The loaded scene as scene JSON text.
#[wasm_bindgen]
pub fn worker_save_json() -> Result<String, JsError> {
    with_loaded(|loaded| Ok(interchange::save_scene_json(&loaded.scene, &loaded.doc.transact())))
}

/// Runs `write` in one transaction on the loaded copy and answers its result and the change
/// it made as a Yjs update. A refused file must add nothing: its update never reaches the
/// page (the callers answer the error instead), and the page starts a fresh worker for
/// each file, so a copy holding part of a refused file is never used again.
fn change<R, E>(
    loaded: &mut Loaded,
    write: impl FnOnce(&shared::scene::Scene, &mut TransactionMut, &mut IdGen) -> Result<R, E>,
) -> Result<(Result<R, E>, Vec<u8>), JsError> {
    let mut ids = IdGen::new(loaded.doc.client_id().get());
    let mut txn = loaded.doc.transact_mut();
    let before = txn.state_vector();
    let outcome = write(&loaded.scene, &mut txn, &mut ids);
    let update = txn.encode_state_as_update_v1(&before);
    Ok((outcome, update))
}

fn with_update(update: &[u8]) -> Object {
    let answer = Object::new();
    set(&answer, "update", &Uint8Array::from(update));
    answer
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}
