//! The page's handle on one tools worker (`public/worker.js`, a module worker running the
//! `worker` crate's WebAssembly: the jobs' ray tracer, scene check and export, and the file
//! conversions), which jobs (`jobs/runner.rs`) and the file tools (`files/`) start for each
//! job or file: one request at a time, answered by one message. The editor's own module does
//! not carry that code, so the first visit does not download it. Dropping the handle (or
//! cancelling) terminates the worker, whatever it was doing.

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// A running worker.
pub struct ToolsWorker {
    worker: Worker,
    replies: mpsc::UnboundedReceiver<Result<JsValue, String>>,
    progress: mpsc::UnboundedReceiver<f64>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A message `{op, ...fields}`.
pub fn message(op: &str, fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    let _ = Reflect::set(&object, &"op".into(), &op.into());
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}

impl ToolsWorker {
    /// Starts `worker.js` next to the page (its module is fetched, or taken from the HTTP or
    /// the service worker's cache, the first time).
    pub fn spawn() -> Result<ToolsWorker, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("./worker.js", &options).map_err(|e| format!("cannot start a worker: {e:?}"))?;
        let (reply_tx, replies) = mpsc::unbounded();
        let (progress_tx, progress) = mpsc::unbounded();
        let error_tx = reply_tx.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            match get(&data, "op").as_string().as_deref() {
                Some("progress") => {
                    let _ = progress_tx.unbounded_send(get(&data, "fraction").as_f64().unwrap_or(0.0));
                }
                Some("error") => {
                    let text = get(&data, "message").as_string().unwrap_or_else(|| "the worker failed".into());
                    let _ = reply_tx.unbounded_send(Err(text));
                }
                _ => {
                    let _ = reply_tx.unbounded_send(Ok(data));
                }
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let text = get(&event, "message").as_string().unwrap_or_else(|| "the worker could not start".into());
            let _ = error_tx.unbounded_send(Err(text));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(ToolsWorker { worker, replies, progress, _on_message: on_message, _on_error: on_error })
    }

    /// Starts a worker and sends it the whole of `doc` (the scene its requests work on).
    pub async fn loaded(doc: &yrs::Doc) -> Result<ToolsWorker, String> {
        use yrs::{ReadTxn, StateVector, Transact};
        let mut worker = ToolsWorker::spawn()?;
        let update = doc.transact().encode_state_as_update_v1(&StateVector::default());
        worker.call(&message("load", &[("update", js_sys::Uint8Array::from(update.as_slice()).into())])).await?;
        Ok(worker)
    }

    /// Sends one request and waits for its answer.
    pub async fn call(&mut self, request: &Object) -> Result<JsValue, String> {
        self.worker.post_message(request).map_err(|e| format!("cannot talk to the worker: {e:?}"))?;
        self.replies.next().await.unwrap_or_else(|| Err("the worker stopped".into()))
    }

    /// Sends one request and waits for its answer, passing the progress reports the worker
    /// sends meanwhile (fractions 0..=1) to `on_progress`.
    pub async fn call_with_progress(&mut self, request: &Object, mut on_progress: impl FnMut(f64)) -> Result<JsValue, String> {
        self.worker.post_message(request).map_err(|e| format!("cannot talk to the worker: {e:?}"))?;
        loop {
            match select(self.replies.next(), self.progress.next()).await {
                Either::Left((reply, _)) => return reply.unwrap_or_else(|| Err("the worker stopped".into())),
                Either::Right((Some(fraction), _)) => on_progress(fraction),
                Either::Right((None, _)) => return self.replies.next().await.unwrap_or_else(|| Err("the worker stopped".into())),
            }
        }
    }

    /// The answer's field `key`.
    pub fn field(answer: &JsValue, key: &str) -> JsValue {
        get(answer, key)
    }
}

impl Drop for ToolsWorker {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
