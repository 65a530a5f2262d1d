//! IndexedDB through `web-sys`, as futures: open a database (creating its one object store on
//! first use), and await a request. A request's `success` / `error` event settles a promise,
//! so a task can `await` it and issue the next request of the same transaction while the
//! transaction is still active (promise reactions run before the browser commits it). And
//! delete a database, when its room was deleted. The page starts opening the room's
//! database and reading its records before the editor's module runs (`public/index.html`):
//! requests made once the editor runs were answered ~70 ms later on a reload (the page is
//! busy starting), the same read before it ~5 ms after its open. [`take_early`] takes that
//! connection and those records over, or learns from it that the room has no database on
//! this device (a first visit), which lets the relay session start without waiting for one
//! to be created.

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

/// What the page's first script (`public/index.html`) found out about a room's database
/// before the editor ran.
pub enum Early {
    /// Its connection, and the records it read if the read succeeded.
    Opened(Opened),
    /// There is no such database: its open asked for an upgrade, which the page aborted.
    /// Nothing of the room is stored on this device.
    Absent,
    /// Nothing usable: no early open, one to another database, or one that failed.
    Unknown,
}

/// Takes over what the page's first script did about database `name` (`window.earlyRoomCopy`:
/// `{ name, absent: true }` when localStorage holds no mark for it, see [`mark`]; otherwise
/// `{ name, opened }`, `opened` settling to `{ db, keys, values }`, to `{ db }` if the read
/// failed, to `{ absent: true }` if there is no such database, or to `null`). A connection
/// to another database, or to one that is not what [`open`] would have made, is closed, so
/// it cannot block a deletion.
pub async fn take_early(name: &str) -> Early {
    opened_early(name).await.unwrap_or(Early::Unknown)
}

/// Opens (creating if needed) the database `name` with its [`UPDATES`] store: the connection
/// in `early` if the page opened it, with what it read.
pub async fn open(name: &str, early: Early) -> Result<Opened, IdbError> {
    let Opened { db, read_early } = match early {
        Early::Opened(opened) => opened,
        Early::Absent | Early::Unknown => Opened { db: open_now(name).await?, read_early: None },
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

async fn opened_early(name: &str) -> Option<Early> {
    let window = web_sys::window()?;
    let key = JsValue::from_str("earlyRoomCopy");
    let early = js_sys::Reflect::get(&window, &key).ok().filter(JsValue::is_object)?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let field = |object: &JsValue, name: &str| js_sys::Reflect::get(object, &JsValue::from_str(name)).ok();
    let early_name = field(&early, "name")?.as_string();
    let absent = |object: &JsValue| field(object, "absent").and_then(|absent| absent.as_bool()) == Some(true);
    if absent(&early) {
        // The page knew without opening anything (no mark in localStorage, see `marked`).
        return (early_name.as_deref() == Some(name)).then_some(Early::Absent);
    }
    let opened = JsFuture::from(field(&early, "opened")?.dyn_into::<js_sys::Promise>().ok()?).await.ok()?;
    if early_name.as_deref() != Some(name) {
        if let Some(db) = field(&opened, "db").and_then(|db| db.dyn_into::<IdbDatabase>().ok()) {
            db.close();
        }
        return None;
    }
    if absent(&opened) {
        return Some(Early::Absent);
    }
    let db = field(&opened, "db")?.dyn_into::<IdbDatabase>().ok()?;
    if db.version() != 1.0 || !db.object_store_names().contains(UPDATES) {
        db.close();
        return None;
    }
    let read_early = match (field(&opened, "keys"), field(&opened, "values")) {
        (Some(keys), Some(values)) if js_sys::Array::is_array(&keys) && js_sys::Array::is_array(&values) => {
            Some(Contents { keys, values })
        }
        _ => None,
    };
    Some(Early::Opened(Opened { db, read_early }))
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

/// Marks in localStorage that database `name` exists (`true`) or not (`false`), so that the
/// page's first script knows a first visit without opening IndexedDB: in a new browser
/// profile IndexedDB's first open took ~200 ms to answer even for a database that is not
/// there. The mark is only a hint: without it (cleared, or from an editor that did not set
/// it) the session starts before an existing copy is loaded, and what the copy holds that
/// the relay lacks goes up once it is, as any local change does.
pub fn mark(name: &str, exists: bool) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else { return };
    let _ = if exists { storage.set_item(name, "1") } else { storage.remove_item(name) };
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
        let Opened { db, read_early } = open(name, take_early(name).await).await.expect("open");
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
        let Opened { db, read_early } = open(mine, take_early(mine).await).await.expect("open");
        assert!(read_early.is_none(), "nothing read early for this database");
        assert_eq!(db.name(), mine);
        // The early connection is closed: it can start no transaction, and cannot hold up
        // the deletion of its database.
        assert!(early.transaction_with_str(UPDATES).is_err(), "closed");
        db.close();
        delete(theirs).await.expect("delete theirs");
        delete(mine).await.expect("delete mine");
    }

    /// Sets `window.earlyRoomCopy` to an object with `fields`.
    fn set_early(fields: &[(&str, JsValue)]) {
        let early = js_sys::Object::new();
        for (key, value) in fields {
            js_sys::Reflect::set(&early, &(*key).into(), value).expect("set");
        }
        js_sys::Reflect::set(&web_sys::window().expect("window"), &"earlyRoomCopy".into(), &early).expect("set");
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn a_page_that_found_no_database_says_so_for_that_database_only() {
        // No mark in localStorage: the page opened nothing.
        set_early(&[("name", "test-absent".into()), ("absent", true.into())]);
        assert!(matches!(take_early("test-absent").await, Early::Absent));
        assert!(matches!(take_early("test-absent").await, Early::Unknown), "taken once");
        set_early(&[("name", "test-absent".into()), ("absent", true.into())]);
        assert!(matches!(take_early("test-other").await, Early::Unknown), "another database's answer");
        // A mark, but the open asked for an upgrade (the database is gone): the page aborted it.
        let opened = js_sys::Object::new();
        js_sys::Reflect::set(&opened, &"absent".into(), &true.into()).expect("set");
        set_early(&[("name", "test-absent".into()), ("opened", js_sys::Promise::resolve(&opened).into())]);
        assert!(matches!(take_early("test-absent").await, Early::Absent));
        // The open failed: nothing known.
        set_early(&[("name", "test-absent".into()), ("opened", js_sys::Promise::resolve(&JsValue::NULL).into())]);
        assert!(matches!(take_early("test-absent").await, Early::Unknown));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_mark_says_whether_a_database_is_kept() {
        let storage = web_sys::window().expect("window").local_storage().expect("storage").expect("localStorage");
        mark("test-marked", true);
        assert_eq!(storage.get_item("test-marked").expect("read"), Some("1".to_owned()));
        mark("test-marked", false);
        assert_eq!(storage.get_item("test-marked").expect("read"), None);
    }
}
