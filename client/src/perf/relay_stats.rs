//! The relay's own figures for the performance view: while the panel is open, an `EventSource`
//! follows `api/stats/stream` (relative to this page, so under the same base path as the
//! WebSocket). The `history` event seeds the charts with up to five minutes of samples, each
//! `sample` event adds one. The stream is closed when the panel closes.

use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use super::series::Series;
use super::Perf;

/// The sample fields charted (all numbers; `null` where the relay has no figure).
pub const KEYS: &[&str] = &[
    "connections",
    "rooms",
    "frames_in_per_s",
    "frames_out_per_s",
    "bytes_in_per_s",
    "bytes_out_per_s",
    "handling_p50_us",
    "handling_p99_us",
    "handling_max_us",
    "queued_control",
    "queued_updates",
    "queued_awareness",
    "deepest_queue",
    "cache_hit_rate",
    "cache_bytes",
    "store_latency_p50_us",
    "store_latency_p99_us",
    "rss_bytes",
    "subscribers",
];

/// An open stream and the listeners it calls (dropped, so freed, when it is closed).
struct Follower {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
}

/// Opens the stream while `perf.open` is true.
pub fn follow(perf: Perf) {
    let current = StoredValue::new_local(None::<Follower>);
    Effect::new(move |_| {
        let open = perf.open.get();
        let running = current.with_value(Option::is_some);
        if open && !running {
            match start(perf) {
                Ok(follower) => current.set_value(Some(follower)),
                Err(error) => leptos::logging::warn!("cannot follow the relay's stats: {error:?}"),
            }
        } else if !open && running {
            if let Some(follower) = current.try_update_value(Option::take).flatten() {
                follower.source.close();
            }
            perf.relay_live.set(false);
        }
    });
    on_cleanup(move || {
        if let Some(Some(follower)) = current.try_update_value(Option::take) {
            follower.source.close();
        }
    });
}

fn start(perf: Perf) -> Result<Follower, wasm_bindgen::JsValue> {
    let source = EventSource::new("api/stats/stream")?;
    perf.relay_samples.set(0);
    let history = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(Value::Array(samples)) = parse(&event) else { return };
        let mut series = Series::default();
        for sample in &samples {
            push(&mut series, sample);
        }
        perf.relay.set(series);
        perf.relay_samples.update(|n| *n += samples.len() as u32);
        perf.relay_live.set(true);
    });
    let sample = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(sample @ Value::Object(_)) = parse(&event) else { return };
        perf.relay.update(|series| push(series, &sample));
        perf.relay_samples.update(|n| *n += 1);
        perf.relay_live.set(true);
    });
    let error = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
        // The browser reconnects by itself; the next history event starts the charts over.
        perf.relay_live.set(false);
    });
    source.add_event_listener_with_callback("history", history.as_ref().unchecked_ref())?;
    source.add_event_listener_with_callback("sample", sample.as_ref().unchecked_ref())?;
    source.add_event_listener_with_callback("error", error.as_ref().unchecked_ref())?;
    Ok(Follower { source, _listeners: vec![history, sample, error] })
}

/// The event's JSON data; `None` when it is not JSON.
fn parse(event: &MessageEvent) -> Option<Value> {
    serde_json::from_str(&event.data().as_string()?).ok()
}

fn push(series: &mut Series, sample: &Value) {
    for key in KEYS {
        series.push(key, sample.get(*key).and_then(Value::as_f64));
    }
}
