//! Relay telemetry: Prometheus text at `/metrics` reflects what the relay did, and the stats
//! stream serves its history and a live sample every second to 100 subscribers at once.

use std::net::SocketAddr;
use std::time::Duration;

use tests::{eventually, http_get, TestClient, TestRelay};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(15);

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))?.rsplit(' ').next()?.parse().ok()
}

#[tokio::test]
async fn metrics_count_connections_frames_and_handling() {
    let relay = TestRelay::start().await;
    let (status, text) = http_get(relay.addr(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains("# TYPE relay_frames_in_total counter"), "{text}");
    assert!(text.contains("relay_message_handling_seconds_bucket"), "{text}");

    let writer = TestClient::connect(&relay.ws_url(), "measured").await;
    writer.wait_synced().await;
    for _ in 0..20 {
        writer.append_text("t", "x");
    }
    let observer = TestClient::join(&relay.ws_url(), "measured").await;
    eventually(WAIT, "the metrics show the traffic", || async {
        let (_, text) = http_get(relay.addr(), "/metrics").await;
        metric(&text, "relay_connections") == Some(2.0)
            && metric(&text, "relay_frames_in_total").unwrap_or(0.0) >= 20.0
            && metric(&text, "relay_frames_out_total").unwrap_or(0.0) >= 20.0
            && metric(&text, "relay_message_handling_seconds_count").unwrap_or(0.0) >= 20.0
            && metric(&text, "relay_rooms_in_memory") == Some(1.0)
    })
    .await;
    drop((writer, observer));
    relay.stop().await;
}

/// Reads a stats stream until it has seen the history and `samples` live samples.
async fn subscribe(addr: SocketAddr, samples: usize) -> Result<(usize, String), String> {
    let mut socket = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let request = format!("GET /api/stats/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut seen = String::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = socket.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if read == 0 {
            return Err(format!("stream ended: {seen}"));
        }
        seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
        let live = seen.matches("event: sample").count();
        if seen.contains("event: history") && live >= samples {
            return Ok((live, seen));
        }
    }
}

#[tokio::test]
async fn the_stats_stream_serves_history_then_a_sample_a_second_to_100_subscribers() {
    let relay = TestRelay::start().await;
    // Let a couple of samples build up a history first.
    eventually(WAIT, "history exists", || async {
        let (_, text) = http_get(relay.addr(), "/api/stats").await;
        text.contains("\"latest\":{")
    })
    .await;
    let addr = relay.addr();
    let subscribers: Vec<_> =
        (0..100).map(|_| tokio::spawn(async move { tokio::time::timeout(WAIT, subscribe(addr, 2)).await })).collect();
    for subscriber in subscribers {
        let (live, text) = subscriber.await.unwrap().expect("two samples within the limit").expect("a readable stream");
        assert!(live >= 2);
        assert!(text.contains("text/event-stream"), "{text}");
        let history = text.split("event: history\ndata: ").nth(1).and_then(|rest| rest.lines().next()).unwrap();
        let history: serde_json::Value = serde_json::from_str(history).unwrap();
        assert!(!history.as_array().unwrap().is_empty(), "the history holds the samples taken before");
        let sample = text.split("event: sample\ndata: ").nth(1).and_then(|rest| rest.lines().next()).unwrap();
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        for field in ["connections", "frames_in_per_s", "handling_p99_us", "queued_updates", "rss_bytes"] {
            assert!(sample.get(field).is_some(), "{field} in {sample}");
        }
        assert!(sample["subscribers"].as_u64().unwrap() >= 1);
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_probe_is_answered_to_its_sender_alone() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{self, Message};
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    let relay = TestRelay::start().await;
    let other = TestClient::join(&relay.ws_url(), "probed").await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{}/probed", relay.ws_url())).await.unwrap();
    socket.send(WsMessage::binary(protocol::ping(&[7, 7, 7]))).await.unwrap();
    let answer = tokio::time::timeout(WAIT, async {
        while let Some(Ok(frame)) = socket.next().await {
            if let WsMessage::Binary(bytes) = frame {
                for message in protocol::decode_frame(&bytes).unwrap() {
                    if let Message::Custom(protocol::MSG_PONG, payload) = message {
                        return payload;
                    }
                }
            }
        }
        panic!("the connection ended without an answer");
    })
    .await
    .expect("an answer within the limit");
    assert_eq!(answer, [7, 7, 7]);
    // A probe is not an edit: the other member's document is untouched and it stays in.
    assert!(!other.is_closed());
    assert_eq!(other.state(), TestClient::join(&relay.ws_url(), "probed").await.state());
    relay.stop().await;
}

/// The value of the series `name{labels}` exactly as written (labels in the relay's order).
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn latencies_are_histograms_closes_count_by_code_and_the_process_and_build_are_described() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let writer = TestClient::connect_with_acks(&relay.ws_url(), "histograms", yrs::Doc::new()).await;
    writer.wait_synced().await;
    for _ in 0..5 {
        writer.append_text("t", "x");
    }
    eventually(WAIT, "five updates acknowledged durable", || async { writer.acked() >= 5 }).await;
    // A text frame is refused with 1003, by the relay.
    let refused = TestClient::join(&relay.ws_url(), "histograms").await;
    refused.send_text("hello");
    assert_eq!(refused.wait_closed().await.0, 1003);
    writer.close().await;

    eventually(WAIT, "the metrics show it", || async {
        let (_, text) = http_get(relay.addr(), "/metrics").await;
        series(&text, "relay_durable_ack_seconds_count").unwrap_or(0.0) >= 5.0
            && series(&text, "relay_store_commit_seconds_count").unwrap_or(0.0) >= 1.0
            && series(&text, "relay_join_seconds_count") == Some(2.0)
            && series(&text, "relay_connections_closed_total{code=\"1003\",by=\"relay\"}") == Some(1.0)
            && series(&text, "relay_connections_closed_total{code=\"1000\",by=\"client\"}") == Some(1.0)
    })
    .await;
    let (_, text) = http_get(relay.addr(), "/metrics").await;
    assert!(text.contains("# TYPE relay_durable_ack_seconds histogram"), "{text}");
    assert!(text.contains("relay_durable_ack_seconds_bucket{le=\"0.01\"}"), "{text}");
    assert!(!text.contains("quantile="), "no quantile gauges: {text}");
    assert_eq!(series(&text, "relay_store_errors_total{kind=\"journal\"}"), Some(0.0), "known label values start at zero");
    assert_eq!(series(&text, "relay_redis_errors_total{op=\"publish\"}"), Some(0.0));
    let build = text.lines().find(|l| l.starts_with("relay_build_info{")).expect("relay_build_info");
    assert!(build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))) && build.contains("commit=\""), "{build}");
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
        assert!(series(&text, name).is_some_and(|v| v > 0.0), "{name} in {text}");
    }
    // Prometheus itself asks for OpenMetrics, and gets it.
    let (status, head, body) =
        tests::http_response(relay.addr(), "GET", "/metrics", &[("Accept", "application/openmetrics-text;version=1.0.0")], &[]).await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("application/openmetrics-text"), "{head}");
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("# TYPE relay_frames_in counter") && body.ends_with("# EOF\n"), "{body}");
    drop(refused);
    relay.stop().await;
}
