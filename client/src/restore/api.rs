//! The relay's restore-point API, from the page: list the room's points, create one, fetch
//! one's content. URLs are relative to the page, so a base path such as `/collab/` works.

use std::fmt;

use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// One named snapshot of the room, as the relay lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: i64,
    pub name: String,
    pub created_ms: f64,
}

/// Why a call to the relay failed.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// No answer (offline, relay down).
    Unreachable(String),
    /// The relay answered with an error status.
    Refused(u16, String),
    /// The answer was not what the API documents.
    Malformed(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(e) => write!(f, "cannot reach the relay: {e}"),
            ApiError::Refused(status, e) => write!(f, "the relay refused ({status}): {e}"),
            ApiError::Malformed(e) => write!(f, "unexpected answer from the relay: {e}"),
        }
    }
}

impl From<ApiError> for String {
    fn from(error: ApiError) -> String {
        error.to_string()
    }
}

/// The restore points of one room.
#[derive(Debug, Clone)]
pub struct RestoreApi {
    room: String,
    token: Option<String>,
}

impl RestoreApi {
    pub fn new(room: &str, token: Option<String>) -> Self {
        RestoreApi { room: room.to_owned(), token }
    }

    fn url(&self, rest: &str) -> String {
        let room: String = js_sys::encode_uri_component(&self.room).into();
        format!("api/rooms/{room}/snapshots{rest}")
    }

    /// The room's points, newest first.
    pub async fn list(&self) -> Result<Vec<Point>, ApiError> {
        let body = self.call("GET", &self.url(""), None).await?;
        let value = json(&body)?;
        let points = value.as_array().ok_or_else(|| ApiError::Malformed("not a list".into()))?;
        points.iter().map(point).collect()
    }

    /// Saves the room's current content under `name`.
    pub async fn create(&self, name: &str) -> Result<Point, ApiError> {
        let body = serde_json::json!({ "name": name }).to_string();
        let answer = self.call("POST", &self.url(""), Some(&body)).await?;
        point(&json(&answer)?)
    }

    /// The content of point `id`: one Yjs update (v1).
    pub async fn state(&self, id: i64) -> Result<Vec<u8>, ApiError> {
        self.call("GET", &self.url(&format!("/{id}")), None).await
    }

    async fn call(&self, method: &str, url: &str, json_body: Option<&str>) -> Result<Vec<u8>, ApiError> {
        let window = web_sys::window().ok_or_else(|| ApiError::Unreachable("no window".into()))?;
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = json_body {
            init.set_body(&body.into());
        }
        let request = Request::new_with_str_and_init(url, &init).map_err(|e| ApiError::Unreachable(format!("{e:?}")))?;
        if json_body.is_some() {
            let _ = request.headers().set("Content-Type", "application/json");
        }
        if let Some(token) = &self.token {
            let _ = request.headers().set("Authorization", &format!("Bearer {token}"));
        }
        let response: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|e| ApiError::Unreachable(js_text(&e)))?
            .unchecked_into();
        let buffer = response.array_buffer().map_err(|e| ApiError::Malformed(format!("{e:?}")))?;
        let bytes = js_sys::Uint8Array::new(&JsFuture::from(buffer).await.map_err(|e| ApiError::Unreachable(format!("{e:?}")))?).to_vec();
        if !response.ok() {
            let reason = json(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| response.status_text());
            return Err(ApiError::Refused(response.status(), reason));
        }
        Ok(bytes)
    }
}

fn json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed(e.to_string()))
}

fn point(value: &Value) -> Result<Point, ApiError> {
    Ok(Point {
        id: value.get("id").and_then(Value::as_i64).ok_or_else(|| ApiError::Malformed("a point without an id".into()))?,
        name: value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        created_ms: value.get("created_ms").and_then(Value::as_f64).unwrap_or_default(),
    })
}

/// A JavaScript exception's message (fetch rejects with a `TypeError`).
fn js_text(value: &wasm_bindgen::JsValue) -> String {
    value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{value:?}"))
}
