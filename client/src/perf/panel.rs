//! The Performance panel (toolbar button or `P`): this client's round trip, traffic, document
//! size, frame time, unconfirmed changes and streaming rate, then the relay's figures from its
//! stats stream. `#perf-panel` carries `data-relay-samples` and `data-relay-live` for tests.

use leptos::prelude::*;

use super::chart::{format, Chart, Unit};
use super::Perf;

#[component]
pub fn PerfPanel(perf: Perf) -> impl IntoView {
    let (local, relay) = (perf.local, perf.relay);
    let lost = move || local.with(|s| s.get("lost").map_or(0.0, |v| v.iter().rev().take(60).flatten().sum::<f64>()));
    view! {
        <Show when=move || perf.open.get()>
            <aside id="perf-panel" class="perf-panel" aria-label="Performance"
                data-relay-samples=move || perf.relay_samples.get().to_string()
                data-relay-live=move || perf.relay_live.get().to_string()>
                <div class="panel-head">
                    <h2>"Performance"</h2>
                    <span id="perf-quality" class="quality" title="Cursor and drag streaming rate, adapted to the link">
                        {move || format(Unit::Hz, perf.quality.get() as f64)}
                    </span>
                    <button class="ghost" on:click=move |_| perf.open.set(false)>"Close"</button>
                </div>
                <h3>"This client"</h3>
                <Chart title="Round trip" scope="local" data=local lines=&[("rtt_p50", "p50"), ("rtt_p95", "p95")] unit=Unit::Ms />
                <p class="chart-note">{move || format!("{} probes lost in the last minute", lost())}</p>
                <Chart title="Updates /s" scope="local" data=local lines=&[("updates_in", "in"), ("updates_out", "out")] unit=Unit::Count />
                <Chart title="Bytes /s" scope="local" data=local lines=&[("bytes_in", "in"), ("bytes_out", "out")] unit=Unit::Bytes />
                <Chart title="Awareness /s" scope="local" data=local lines=&[("awareness_in", "in"), ("awareness_out", "out")] unit=Unit::Count />
                <Chart title="Document" scope="local" data=local lines=&[("doc_bytes", "size")] unit=Unit::Bytes />
                <Chart title="Frame time" scope="local" data=local lines=&[("frame_p95", "p95")] unit=Unit::Ms />
                <Chart title="Unconfirmed changes" scope="local" data=local lines=&[("unsynced", "now")] unit=Unit::Count />
                <Chart title="Streaming" scope="local" data=local lines=&[("quality", "rate"), ("backlog", "backlog B")] unit=Unit::Count />
                <h3>"Relay" {move || (!perf.relay_live.get()).then_some(" (connecting…)")}</h3>
                <Chart title="Connections" scope="relay" data=relay lines=&[("connections", "conns"), ("rooms", "rooms")] unit=Unit::Count />
                <Chart title="Messages /s" scope="relay" data=relay lines=&[("frames_in_per_s", "in"), ("frames_out_per_s", "out")] unit=Unit::Count />
                <Chart title="Bytes /s" scope="relay" data=relay lines=&[("bytes_in_per_s", "in"), ("bytes_out_per_s", "out")] unit=Unit::Bytes />
                <Chart title="Handling" scope="relay" data=relay lines=&[("handling_p50_us", "p50"), ("handling_p99_us", "p99")] unit=Unit::Us />
                <Chart title="Queued frames" scope="relay" data=relay lines=&[("queued_updates", "updates"), ("queued_awareness", "awareness"), ("deepest_queue", "deepest")] unit=Unit::Count />
                <Chart title="Cache hit rate" scope="relay" data=relay lines=&[("cache_hit_rate", "hits")] unit=Unit::Percent />
                <Chart title="Store write latency" scope="relay" data=relay lines=&[("store_latency_p50_us", "p50"), ("store_latency_p99_us", "p99")] unit=Unit::Us />
                <Chart title="Memory (RSS)" scope="relay" data=relay lines=&[("rss_bytes", "rss")] unit=Unit::Bytes />
                <Chart title="Stats subscribers" scope="relay" data=relay lines=&[("subscribers", "streams")] unit=Unit::Count />
            </aside>
        </Show>
    }
}
