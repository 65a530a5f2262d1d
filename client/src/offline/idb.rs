//! IndexedDB through `web-sys`, as futures: open a database (creating its one object store on
//! first use), and await a request. A request's `success` / `error` event settles a promise,
//! so a task can `await` it and issue the next request of the same transaction while the
//! transaction is still active (promise reactions run before the browser commits it). And
//! delete a database, when its room was deleted. The page starts opening the room's
//! database and reading its records before the editor's module runs (`public/index.html`):
//! requests made once the editor runs were answered ~70 ms later on a reload (the page is
//! busy starting), the same read before it ~5 ms after its open. [`open`] takes that
//! connection and those records over.

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

/// A database connection, with the contents of its [`UPDATES`] store if the page read them
/// before the editor ran.
pub struct Opened {
    pub db: IdbDatabase,
    pub read_early: Option<Contents>,
}

/// Every record of the [`UPDATES`] store: `getAllKeys()` and `getAll()` results (arrays of
/// keys and of Uint8Arrays, in key order).
pub struct Contents {
    pub keys: JsValue,
    pub values: JsValue,
}

/// Opens (creating if needed) the database `name` with its [`UPDATES`] store: the connection
/// the page started opening before the editor ran (`public/index.html`), with what it read,
/// if it is this one.
pub async fn open(name: &str) -> Result<Opened, IdbError> {
    let Opened { db, read_early } = match opened_early(name).await {
        Some(opened) => opened,
        None => Opened { db: open_now(name).await?, read_early: None },
    };
    // The only version change is a deletion (the room was deleted, see `delete`): let it go
    // through rather than block it; writing after it would only bring the room back.
    let on_change = wasm_bindgen::closure::Closure::<dyn FnMut()>::new({
        let db = db.clone();
        move || db.close()
    });
    db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget(); // as long as the connection: once per page
    Ok(Opened { db, read_early })
}

/// Takes over the connection `public/index.html` started opening (`window.earlyRoomCopy`:
/// `{ name, opened }`, `opened` settling to `{ db, keys, values }`, to `{ db }` if the read
/// failed, or to `null`) when it is to `name` and holds what [`open_now`] would have made;
/// any other early connection is closed, so it cannot block a deletion. `None`: open it now.
async fn opened_early(name: &str) -> Option<Opened> {
    let window = web_sys::window()?;
    let key = JsValue::from_str("earlyRoomCopy");
    let early = js_sys::Reflect::get(&window, &key).ok().filter(JsValue::is_object)?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let field = |object: &JsValue, name: &str| js_sys::Reflect::get(object, &JsValue::from_str(name)).ok();
    let early_name = field(&early, "name")?.as_string();
    let opened = JsFuture::from(field(&early, "opened")?.dyn_into::<js_sys::Promise>().ok()?).await.ok()?;
    let db = field(&opened, "db")?.dyn_into::<IdbDatabase>().ok()?;
    if early_name.as_deref() != Some(name) || db.version() != 1.0 || !db.object_store_names().contains(UPDATES) {
        db.close();
        return None;
    }
    let read_early = match (field(&opened, "keys"), field(&opened, "values")) {
        (Some(keys), Some(values)) if js_sys::Array::is_array(&keys) && js_sys::Array::is_array(&values) => {
            Some(Contents { keys, values })
        }
        _ => None,
    };
    Some(Opened { db, read_early })
}

/// Opens the database `name` (creating it with its [`UPDATES`] store on first use).
async fn open_now(name: &str) -> Result<IdbDatabase, IdbError> {
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
    Ok(result?.dyn_into::<IdbDatabase>()?)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Does what `public/index.html` does for database `name`: opens it and reads its
    /// records, and leaves `window.earlyRoomCopy` for [`open`]. Answers that connection.
    async fn open_early(name: &str) -> IdbDatabase {
        let db = open_now(name).await.expect("open");
        let store = updates(&db, IdbTransactionMode::Readonly).expect("store");
        let keys = request(&store.get_all_keys().expect("keys")).await.expect("keys read");
        let values = request(&store.get_all().expect("values")).await.expect("values read");
        let opened = js_sys::Object::new();
        for (key, value) in [("db", JsValue::from(db.clone())), ("keys", keys), ("values", values)] {
            js_sys::Reflect::set(&opened, &key.into(), &value).expect("set");
        }
        let early = js_sys::Object::new();
        js_sys::Reflect::set(&early, &"name".into(), &name.into()).expect("set");
        js_sys::Reflect::set(&early, &"opened".into(), &js_sys::Promise::resolve(&opened)).expect("set");
        js_sys::Reflect::set(&web_sys::window().expect("window"), &"earlyRoomCopy".into(), &early).expect("set");
        db
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn open_takes_over_the_connection_and_records_the_page_read_first() {
        let name = "test-early-taken";
        let _ = delete(name).await;
        let db = open_now(name).await.expect("open");
        let store = updates(&db, IdbTransactionMode::Readwrite).expect("store");
        store.add(&js_sys::Uint8Array::from(&[1u8, 2, 3][..])).expect("add");
        committed(&store).await.expect("committed");
        db.close();

        let early = open_early(name).await;
        let Opened { db, read_early } = open(name).await.expect("open");
        let contents = read_early.expect("the records the page read");
        assert_eq!(all_bytes(&contents.values), vec![vec![1u8, 2, 3]]);
        assert_eq!(js_sys::Array::from(&contents.keys).length(), 1);
        assert!(JsValue::from(db.clone()) == JsValue::from(early), "the same connection");
        let window = web_sys::window().expect("window");
        assert!(js_sys::Reflect::get(&window, &"earlyRoomCopy".into()).expect("get").is_undefined(), "taken");
        db.close();
        delete(name).await.expect("delete");
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn an_early_connection_to_another_database_is_closed() {
        let (theirs, mine) = ("test-early-theirs", "test-early-mine");
        let early = open_early(theirs).await;
        let Opened { db, read_early } = open(mine).await.expect("open");
        assert!(read_early.is_none(), "nothing read early for this database");
        assert_eq!(db.name(), mine);
        // The early connection is closed: it can start no transaction, and cannot hold up
        // the deletion of its database.
        assert!(early.transaction_with_str(UPDATES).is_err(), "closed");
        db.close();
        delete(theirs).await.expect("delete theirs");
        delete(mine).await.expect("delete mine");
    }
}
