//! IndexedDB through `web-sys`, as futures: open a database (creating its one object store on
//! first use), and await a request. A request's `success` / `error` event settles a promise,
//! so a task can `await` it and issue the next request of the same transaction while the
//! transaction is still active (promise reactions run before the browser commits it). And
//! delete a database, when its room was deleted.

use std::fmt;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

/// The object store every room database holds: document updates, keyed by an
/// auto-incremented number.
pub const UPDATES: &str = "updates";

/// Why an IndexedDB call failed.
#[derive(Debug, Clone)]
pub struct IdbError(pub String);

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexedDB: {}", self.0)
    }
}

impl From<JsValue> for IdbError {
    fn from(value: JsValue) -> Self {
        let text = value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.dyn_ref::<web_sys::DomException>().map(|e| e.message()))
            .unwrap_or_else(|| format!("{value:?}"));
        IdbError(text)
    }
}

/// Waits for `request` to succeed; returns its result.
pub async fn request(request: &IdbRequest) -> Result<JsValue, IdbError> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let settled = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match settled {
        Ok(_) => Ok(request.result()?),
        Err(_) => Err(request.error().ok().flatten().map(|e| IdbError(e.message())).unwrap_or_else(|| IdbError("request failed".into()))),
    }
}

/// Opens (creating if needed) the database `name` with its [`UPDATES`] store.
pub async fn open(name: &str) -> Result<IdbDatabase, IdbError> {
    let window = web_sys::window().ok_or_else(|| IdbError("no window".into()))?;
    let factory = window.indexed_db()?.ok_or_else(|| IdbError("not available".into()))?;
    let opening: IdbOpenDbRequest = factory.open_with_u32(name, 1)?;
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new({
        let opening = opening.clone();
        move |_| {
            if let Ok(db) = opening.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                if !db.object_store_names().contains(UPDATES) {
                    let options = web_sys::IdbObjectStoreParameters::new();
                    options.set_auto_increment(true);
                    let _ = db.create_object_store_with_optional_parameters(UPDATES, &options);
                }
            }
        }
    });
    opening.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let result = request(&opening).await;
    opening.set_onupgradeneeded(None);
    drop(upgrade);
    let db = result?.dyn_into::<IdbDatabase>()?;
    // The only version change is a deletion (the room was deleted, see `delete`): let it go
    // through rather than block it; writing after it would only bring the room back.
    let on_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new({
        let db = db.clone();
        move || db.close()
    });
    db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget(); // as long as the connection: once per page
    Ok(db)
}

/// Deletes the database `name` with every record in it. Open connections to it (this page's
/// and other tabs') close on the way (see `open`); a later `open` starts from empty.
pub async fn delete(name: &str) -> Result<(), IdbError> {
    let window = web_sys::window().ok_or_else(|| IdbError("no window".into()))?;
    let factory = window.indexed_db()?.ok_or_else(|| IdbError("not available".into()))?;
    let deleting = factory.delete_database(name)?;
    request(&deleting).await.map(|_| ())
}

/// The [`UPDATES`] store in a new transaction of `mode`.
pub fn updates(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbObjectStore, IdbError> {
    let txn = db.transaction_with_str_and_mode(UPDATES, mode)?;
    Ok(txn.object_store(UPDATES)?)
}

/// The bytes of every value of a `getAll()` result (Uint8Arrays).
pub fn all_bytes(values: &JsValue) -> Vec<Vec<u8>> {
    js_sys::Array::from(values).iter().map(|v| js_sys::Uint8Array::new(&v).to_vec()).collect()
}

/// Waits for the transaction of `store` to commit (its writes are then on disk as far as
/// the browser is concerned).
pub async fn committed(store: &IdbObjectStore) -> Result<(), IdbError> {
    let txn = store.transaction();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        txn.set_oncomplete(Some(&resolve));
        txn.set_onerror(Some(&reject));
        txn.set_onabort(Some(&reject));
    });
    let settled = JsFuture::from(promise).await;
    txn.set_oncomplete(None);
    txn.set_onerror(None);
    txn.set_onabort(None);
    settled.map(|_| ()).map_err(|_| IdbError(txn.error().map(|e| e.message()).unwrap_or_else(|| "transaction aborted".into())))
}
