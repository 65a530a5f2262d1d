//! The relay's metrics and the shipped monitoring files, checked by Prometheus's own tool
//! (Debian's `prometheus` package ships `promtool`): a live relay's `/metrics`, standalone
//! and in cluster mode after real traffic, passes `promtool check metrics` without a single
//! complaint, and every query of the Grafana dashboard (deploy/grafana/relay.json) parses
//! as PromQL. (The alerting rules' own tests run with `promtool test rules`, in
//! scripts/ops-check.sh.)
//!
//! Needs the `cluster` feature, redis-server and promtool; scripts/cluster-test.sh installs
//! them.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use tests::redis_server::RedisServer;
use tests::{eventually, http_get, TestClient, TestRelay};

const WAIT: Duration = Duration::from_secs(15);

fn promtool() -> String {
    std::env::var("PROMTOOL").unwrap_or_else(|_| "/usr/bin/promtool".to_owned())
}

/// `promtool check metrics` on `text`: its verdict and what it said.
fn check_metrics(text: &str) -> (bool, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (scripts/cluster-test.sh installs prometheus)", promtool()));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

/// Edits one room through `a` and `b` with durable acks, and closes a connection with 1003.
async fn traffic(a: &TestRelay, b: &TestRelay) {
    let one = TestClient::connect_with_acks(&a.ws_url(), "linted", yrs::Doc::new()).await;
    one.wait_synced().await;
    let two = TestClient::join(&b.ws_url(), "linted").await;
    for _ in 0..10 {
        one.append_text("t", "x");
        two.append_text("t", "y");
    }
    eventually(WAIT, "both edits everywhere, durable", || async { one.acked() == 10 && one.text_len("t") == 20 && two.text_len("t") == 20 })
        .await;
    let bad = TestClient::join(&a.ws_url(), "linted").await;
    bad.send_text("not binary");
    assert_eq!(bad.wait_closed().await.0, 1003);
    one.close().await;
    two.close().await;
}

async fn lint(relay: &TestRelay, what: &str) -> String {
    // Histograms and the sampled counters show the traffic.
    eventually(WAIT, "the traffic shows in the metrics", || async {
        let (_, text) = http_get(relay.addr(), "/metrics").await;
        !text.contains("relay_frames_in_total 0\n") && !text.contains("relay_join_seconds_count 0\n")
    })
    .await;
    let (status, text) = http_get(relay.addr(), "/metrics").await;
    assert_eq!(status, 200);
    let (ok, said) = check_metrics(&text);
    assert!(ok && said.trim().is_empty(), "promtool check metrics on the {what} relay: {said}\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_relays_metrics_pass_promtool_standalone_and_clustered() {
    let dir = tempfile::tempdir().unwrap();
    let standalone = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    traffic(&standalone, &standalone).await;
    let text = lint(&standalone, "standalone").await;
    assert!(!text.contains("relay_durable_ack_seconds_count 0\n"), "{text}");
    standalone.stop().await;

    let redis = RedisServer::start();
    let relays = tests::cluster::relays(&redis, 2, |_| {}).await;
    traffic(&relays[0], &relays[1]).await;
    let text = lint(&relays[0], "clustered").await;
    for series in ["relay_redis_round_trip_seconds_count{op=\"publish\"} 0\n", "relay_redis_reader_lag_seconds_count 0\n"] {
        assert!(!text.contains(series), "Redis figures are measured: {series} in {text}");
    }
    for relay in relays {
        relay.stop().await;
    }
}

/// Every query of the dashboard, as a recording rule (Grafana's variables given values),
/// passes `promtool check rules`: they parse as PromQL.
#[test]
fn the_dashboards_queries_parse_as_promql() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("deploy/grafana/relay.json")).unwrap()).unwrap();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().unwrap().replace("$__rate_interval", "1m").replace("$instance", ".*"));
        }
    }
    assert!(exprs.len() >= 20);
    let rules: String = exprs
        .iter()
        .enumerate()
        .map(|(i, expr)| format!("      - record: dashboard:query_{i}\n        expr: {}\n", serde_json::Value::String(expr.clone())))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard-rules.yml");
    std::fs::write(&file, format!("groups:\n  - name: dashboard\n    rules:\n{rules}")).unwrap();
    let output = Command::new(promtool()).args(["check", "rules"]).arg(&file).output().expect("promtool runs");
    assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}
