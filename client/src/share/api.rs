//! The relay's share-link endpoint, from the page: what this page may share
//! (`GET api/rooms/{room}/share`) and a new link's token (`POST`). Authorised like every
//! room request, by the page's own token (or, without one, its cookie and the relay's
//! auth webhook). URLs are relative to the page, so a base path such as `/collab/` works.

use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// What the relay lets this page share.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The relay checks nobody: the room's plain address lets anyone edit.
    pub open: bool,
    /// The relay can sign links (it has a shared key).
    pub can_mint: bool,
    /// The roles this page may hand out ("editor", "viewer").
    pub roles: Vec<String>,
    /// The expiries the relay allows ("1h", "1d", "7d", "never").
    pub expiries: Vec<String>,
}

/// A minted link's token and when it expires (Unix seconds; `None`: never).
#[derive(Debug, Clone, PartialEq)]
pub struct Minted {
    pub token: String,
    pub expires_at: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ShareApi {
    room: String,
    token: Option<String>,
}

impl ShareApi {
    pub fn new(room: &str, token: Option<String>) -> ShareApi {
        ShareApi { room: room.to_owned(), token }
    }

    fn url(&self) -> String {
        let room: String = js_sys::encode_uri_component(&self.room).into();
        format!("api/rooms/{room}/share")
    }

    pub async fn options(&self) -> Result<Options, String> {
        let value = self.call("GET", None).await?;
        let list = |key: &str| -> Vec<String> {
            value.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
        };
        Ok(Options {
            open: value.get("open").and_then(Value::as_bool).unwrap_or(false),
            can_mint: value.get("canMint").and_then(Value::as_bool).unwrap_or(false),
            roles: list("roles"),
            expiries: list("expiries"),
        })
    }

    pub async fn mint(&self, role: &str, expires: &str) -> Result<Minted, String> {
        let body = json!({ "role": role, "expires": expires }).to_string();
        let value = self.call("POST", Some(&body)).await?;
        let token = value.get("token").and_then(Value::as_str).ok_or("the relay sent no token")?.to_owned();
        Ok(Minted { token, expires_at: value.get("expiresAt").and_then(Value::as_f64) })
    }

    async fn call(&self, method: &str, body: Option<&str>) -> Result<Value, String> {
        let window = web_sys::window().ok_or("no window")?;
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            init.set_body(&body.into());
        }
        let request = Request::new_with_str_and_init(&self.url(), &init).map_err(|e| format!("{e:?}"))?;
        if body.is_some() {
            let _ = request.headers().set("Content-Type", "application/json");
        }
        if let Some(token) = &self.token {
            let _ = request.headers().set("Authorization", &format!("Bearer {token}"));
        }
        let response: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|_| "cannot reach the relay".to_owned())?
            .unchecked_into();
        let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
        let value: Value = serde_json::from_str(&text.as_string().unwrap_or_default()).unwrap_or(Value::Null);
        if !response.ok() {
            let reason = value.get("error").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| response.status_text());
            return Err(format!("the relay refused ({}): {reason}", response.status()));
        }
        Ok(value)
    }
}
