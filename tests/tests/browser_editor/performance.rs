//! Browser tests of the performance view (issue #5): the panel opens (shortcut `P`) and shows
//! the relay's figures from its stats stream and a round-trip time from the `102`/`103` probe,
//! and closes again (closing its stats stream); the adaptive streaming rate drops below 60 Hz
//! for a browser whose link to the relay is slowed by a delaying proxy, while a browser on the
//! direct link stays at 60.

use std::time::Duration;

use serde_json::{json, Value};
use tests::browser::*;
use tests::slow_proxy::SlowProxy;

use super::harness::*;

/// The `data-value` of a chart line (`scope.key`), as a number.
const VALUE_JS: &str = "const e = document.querySelector(`[data-series='${arguments[0]}']`); \
    const v = e ? e.getAttribute('data-value') : ''; return v === '' || v === null ? null : Number(v);";

async fn value(page: &Page, series: &str) -> Option<f64> {
    js(page, VALUE_JS, vec![json!(series)]).await.as_f64()
}

async fn relay_samples(page: &Page) -> u64 {
    let got = js(page, "const p = document.getElementById('perf-panel'); return p ? Number(p.getAttribute('data-relay-samples')) : -1;", vec![]).await;
    got.as_f64().unwrap_or(-1.0).max(0.0) as u64
}

/// Moves a pointer over the canvas every 10 ms for `ms` (synthetic `pointermove` events, so
/// the WebDriver session stays free for reading the page meanwhile).
async fn wiggle(page: &Page, ms: u64) {
    js(page, "const c = document.getElementById('viewport-canvas'); const r = c.getBoundingClientRect(); \
        let i = 0; const t = setInterval(() => { i += 1; \
            c.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: r.left + 100 + (i % 200), clientY: r.top + 100 + (i % 50) })); \
        }, 10); setTimeout(() => clearInterval(t), arguments[0]); return true;", vec![json!(ms)]).await;
}

/// The most awareness messages sent in one second while the pointer moves for 3 s.
async fn awareness_rate_while_moving(page: &Page) -> f64 {
    wiggle(page, 3_000).await;
    let mut most = 0.0f64;
    for _ in 0..14 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        most = most.max(value(page, "local.awareness_out").await.unwrap_or(0.0));
    }
    most
}

async fn quality(page: &Page) -> String {
    js(page, "return document.getElementById('editor')?.getAttribute('data-quality') || '';", vec![]).await.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_performance_panel_shows_relay_stats_and_round_trip() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("/collab").await;
        let page = browsers.open(&relay.page("perf")).await;
        page.wait_synced().await;
        assert_eq!(quality(&page).await, "60", "a local link streams at 60 Hz");

        // The shortcut opens the panel; the relay's stream fills it.
        press(&page, &[], 'p').await;
        wait_js(&page, "the panel with the relay's connections (at least this browser)",
            "const e = document.querySelector(\"[data-series='relay.connections']\"); return !!e && Number(e.getAttribute('data-value')) >= 1;",
            vec![]).await;
        let seeded = relay_samples(&page).await;
        assert!(seeded >= 1, "the history seeded the charts: {seeded}");
        wait_js(&page, "a live sample after the history",
            "return Number(document.getElementById('perf-panel').getAttribute('data-relay-samples')) > arguments[0];",
            vec![json!(seeded)]).await;
        assert!(value(&page, "relay.rss_bytes").await.is_some_and(|v| v > 0.0), "the relay's RSS is shown");
        // One probe a second: a round trip on loopback, well under a second.
        wait_js(&page, "a round-trip time", "const e = document.querySelector(\"[data-series='local.rtt_p50']\"); \
            return !!e && e.getAttribute('data-value') !== '';", vec![]).await;
        let rtt = value(&page, "local.rtt_p50").await.unwrap_or(f64::NAN);
        assert!((0.0..1000.0).contains(&rtt), "round trip on loopback: {rtt} ms");
        wait_js(&page, "bytes counted both ways", "const v = (k) => Number(document.querySelector(`[data-series='local.${k}']`)?.getAttribute('data-value')); \
            return v('doc_bytes') > 0 && (v('bytes_out') > 0 || v('bytes_in') > 0);", vec![]).await;
        // An edit goes out, and once the relay has stored it nothing is left unconfirmed.
        // `updates_out` is a per-second figure shown for one second: an observer sees it
        // however slowly this test's polls reach a busy browser.
        let watching = js(&page, "const e = document.querySelector(\"[data-series='local.updates_out']\"); if (!e) return false; \
            window.__sawOut = false; new MutationObserver(() => { if (Number(e.getAttribute('data-value')) > 0) window.__sawOut = true; }) \
            .observe(e, { attributes: true, attributeFilter: ['data-value'] }); return true;", vec![]).await;
        assert_eq!(watching, json!(true), "the outgoing updates line is shown");
        click(&page, "#add-node").await;
        wait_js(&page, "the edit counted as an outgoing update", "return window.__sawOut === true;", vec![]).await;
        wait_js(&page, "nothing left unconfirmed once the relay stored the edit",
            "return document.querySelector(\"[data-series='local.unsynced']\")?.getAttribute('data-value') === '0';", vec![]).await;
        screenshot(&page, "performance").await;

        // The button closes it, and the stream with it: opened again, the relay counts one
        // stats subscriber, not two.
        click(&page, "#perf-button").await;
        wait_js(&page, "the panel closed", "return !document.getElementById('perf-panel');", vec![]).await;
        click(&page, "#perf-button").await;
        wait_js(&page, "one stats subscriber after reopening",
            "const e = document.querySelector(\"[data-series='relay.subscribers']\"); return !!e && e.getAttribute('data-value') === '1';",
            vec![]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_streaming_rate_drops_on_a_slow_link_only() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        // Page and WebSocket both through the proxy: the socket URL comes from the page's.
        let proxy = SlowProxy::start(relay.relay.addr, Duration::from_millis(400)).await;
        let slow_url = format!("http://{}/?room=slow", proxy.addr);
        let fast_url = relay.page("slow");
        let (slow, fast) = tokio::join!(browsers.open(&slow_url), browsers.open(&fast_url));
        slow.wait_synced().await;
        fast.wait_synced().await;
        slow.wait_peers(1).await;

        wait_js(&slow, "the slowed browser's streaming rate below 60 Hz",
            "const q = Number(document.getElementById('editor')?.getAttribute('data-quality')); return q > 0 && q < 60;",
            vec![]).await;
        let slow_hz: u32 = quality(&slow).await.parse().unwrap_or(0);
        assert!([30, 15, 5].contains(&slow_hz), "a profile rate: {slow_hz}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let slow_now = quality(&slow).await;
        assert!(slow_now.parse::<u32>().is_ok_and(|hz| hz < 60), "no climb back on the slow link: {slow_now}");
        let shown = js(&slow, "return document.getElementById('perf-panel');", vec![]).await;
        assert_eq!(shown, Value::Null, "the panel is not needed for the rate to adapt");

        // The rate applies: a moving pointer sends at most about that many states a second
        // (one renewal or leave may come on top), the direct browser sends more.
        // 400 ms each way is a round trip over 600 ms: the lowest profile, 5 Hz.
        wait_js(&slow, "the slowed browser at 5 Hz",
            "return document.getElementById('editor')?.getAttribute('data-quality') === '5';", vec![]).await;
        // The direct browser measured its own link all along. On a quiet machine it stays at
        // 60 Hz; on a loaded one its round trip (through a busy page) may cost it a level, but
        // loopback never comes near the slowed link's lowest profile.
        let fast_hz: u32 = quality(&fast).await.parse().unwrap_or(0);
        eprintln!("streaming rates: slowed 5 Hz, direct {fast_hz} Hz");
        assert!(fast_hz > 5, "the direct browser keeps a better rate than the slowed one: {fast_hz} Hz");
        press(&slow, &[], 'p').await;
        press(&fast, &[], 'p').await;
        let slow_rate = awareness_rate_while_moving(&slow).await;
        let fast_rate = awareness_rate_while_moving(&fast).await;
        eprintln!("awareness states sent per second while moving: slowed {slow_rate} (5 Hz), direct {fast_rate}");
        assert!((1.0..=7.0).contains(&slow_rate), "slowed browser at 5 Hz sent {slow_rate}/s");
        assert!(fast_rate > slow_rate, "direct browser sent {fast_rate}/s, slowed one {slow_rate}/s");
        drop(proxy);
    })
    .await;
}
