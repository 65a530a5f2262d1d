//! The browser side of files: reading the file a user chose, offering bytes as a download
//! through a Blob URL, and the viewport canvas as a PNG blob.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlCanvasElement, HtmlInputElement};

use super::error::{js_text, FileError};

/// The first file chosen in `input`: its name and bytes.
pub async fn read_chosen(input: &HtmlInputElement) -> Result<Option<(String, Vec<u8>)>, FileError> {
    let Some(file) = input.files().and_then(|list| list.get(0)) else { return Ok(None) };
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| FileError::Read(js_text(e)))?;
    Ok(Some((file.name(), js_sys::Uint8Array::new(&buffer).to_vec())))
}

/// A Blob of `bytes` typed `mime`.
pub fn blob(bytes: &[u8], mime: &str) -> Result<Blob, FileError> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| FileError::Browser(js_text(e)))
}

/// Starts a download of `blob` as `filename`; returns its object URL (valid until revoked).
pub fn download(blob: &Blob, filename: &str) -> Result<String, FileError> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(|e| FileError::Browser(js_text(e)))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| FileError::Browser("no document".into()))?;
    let link: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|e| FileError::Browser(js_text(e)))?.unchecked_into();
    link.set_href(&url);
    link.set_download(filename);
    link.click();
    Ok(url)
}

/// The viewport canvas as a PNG.
pub async fn canvas_png(canvas_id: &str) -> Result<Blob, FileError> {
    let canvas: HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(canvas_id))
        .and_then(|e| e.dyn_into().ok())
        .ok_or_else(|| FileError::Browser(format!("no #{canvas_id} canvas")))?;
    let mut callback = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let done = Closure::once(move |blob: wasm_bindgen::JsValue| {
            let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &blob);
        });
        let _ = canvas.to_blob(done.as_ref().unchecked_ref());
        callback = Some(done);
    });
    let value = JsFuture::from(promise).await.map_err(|e| FileError::Browser(js_text(e)))?;
    drop(callback);
    value.dyn_into::<Blob>().map_err(|_| FileError::Browser("the canvas gave no image".into()))
}
