//! Getting a job's result to the relay and back: the canvas as a PNG, the upload to the
//! room's blob endpoint (`PUT {base}/api/rooms/{room}/blobs`, see `relay::blobs`) and the
//! address every collaborator fetches it from. An upload the relay refuses fails the job
//! with a sentence for the jobs panel ([`UploadError`]), e.g. when the room's blob quota is
//! used up.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, HtmlCanvasElement, Request, RequestInit, Response};

/// The directory this page is served from (the relay's base path), ending in `/`.
fn base_dir() -> String {
    let location = web_sys::window().map(|w| w.location());
    let origin = location.as_ref().and_then(|l| l.origin().ok()).unwrap_or_default();
    let path = location.and_then(|l| l.pathname().ok()).unwrap_or_else(|| "/".into());
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    format!("{origin}{}", if dir.is_empty() { "/" } else { dir })
}

fn blobs_url(room: &str) -> String {
    let room: String = js_sys::encode_uri_component(room).into();
    format!("{}api/rooms/{room}/blobs", base_dir())
}

fn with_token(url: String, token: Option<&str>) -> String {
    match token {
        Some(token) => format!("{url}?token={}", String::from(js_sys::encode_uri_component(token))),
        None => url,
    }
}

/// Where blob `id` of `room` is fetched from (with the room token, for `<img>` and links).
pub fn blob_url(room: &str, token: Option<&str>, id: &str) -> String {
    with_token(format!("{}/{id}", blobs_url(room)), token)
}

fn describe(error: JsValue) -> String {
    error.as_string().or_else(|| error.dyn_ref::<js_sys::Error>().map(|e| e.message().into())).unwrap_or_else(|| format!("{error:?}"))
}

/// The canvas as a PNG file.
pub async fn canvas_png(canvas: &HtmlCanvasElement) -> Result<Blob, String> {
    let mut result: Result<(), JsValue> = Ok(());
    let promise = Promise::new(&mut |resolve, reject| {
        let callback = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        result = canvas.to_blob_with_type(callback.unchecked_ref(), "image/png");
        if let Err(error) = &result {
            let _ = reject.call1(&JsValue::NULL, error);
        }
    });
    let blob = JsFuture::from(promise).await.map_err(describe)?;
    blob.dyn_into::<Blob>().map_err(|_| "the browser made no PNG".to_owned())
}

/// Why an upload failed; shown as the job's error.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadError {
    /// 507: the room's blobs would exceed the relay's per-room quota (the relay's words).
    Full(String),
    /// Any other refusal: the status and the relay's error.
    Refused { status: u16, message: String },
    /// The request did not get through, or the answer made no sense.
    Failed(String),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Full(why) => write!(f, "the room's blob storage is full ({why})"),
            UploadError::Refused { status, message } => write!(f, "upload refused ({status}): {message}"),
            UploadError::Failed(why) => write!(f, "upload failed: {why}"),
        }
    }
}

/// The error for a refused upload: `status` and the `error` of the relay's JSON answer.
pub fn refusal(status: u16, message: Option<String>) -> UploadError {
    let message = message.unwrap_or_default();
    if status == 507 {
        UploadError::Full(if message.is_empty() { "the relay refused to store more".into() } else { message })
    } else {
        UploadError::Refused { status, message }
    }
}

/// Uploads `body` (a Blob or a Uint8Array) as `content_type`; returns the blob id.
pub async fn upload(room: &str, token: Option<&str>, content_type: &str, body: &JsValue) -> Result<String, UploadError> {
    let failed = |e: JsValue| UploadError::Failed(describe(e));
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_body(body);
    let headers = web_sys::Headers::new().map_err(failed)?;
    headers.set("Content-Type", content_type).map_err(failed)?;
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(&with_token(blobs_url(room), token), &init).map_err(failed)?;
    let window = web_sys::window().ok_or_else(|| UploadError::Failed("no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(failed)?.unchecked_into();
    let json = JsFuture::from(response.json().map_err(failed)?).await.unwrap_or(JsValue::NULL);
    let field = |key: &str| js_sys::Reflect::get(&json, &key.into()).ok().and_then(|v| v.as_string());
    if !response.ok() {
        return Err(refusal(response.status(), field("error")));
    }
    field("id").ok_or_else(|| UploadError::Failed("the relay sent no blob id".into()))
}

/// Bytes as a JavaScript value for [`upload`].
pub fn bytes_body(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn a_full_room_reads_as_such_and_other_refusals_keep_their_status() {
        let full = refusal(507, Some("300 KiB of the room's 256 KiB quota".into()));
        assert_eq!(full.to_string(), "the room's blob storage is full (300 KiB of the room's 256 KiB quota)");
        assert!(refusal(507, None).to_string().starts_with("the room's blob storage is full ("));
        assert_eq!(refusal(403, Some("viewers cannot upload".into())).to_string(), "upload refused (403): viewers cannot upload");
    }
}
