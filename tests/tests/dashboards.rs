//! The shipped dashboard (deploy/grafana/relay.json) and alerting rules
//! (deploy/prometheus/alerts.yml) query only metrics the relay exports: every `relay_…` and
//! `process_…` name in them is a series a live relay's `/metrics` has, once it has served
//! some traffic. (Their PromQL is checked by promtool in tests/prometheus.rs.)

use std::collections::BTreeSet;
use std::time::Duration;

use tests::{eventually, http_get, TestClient, TestRelay};

/// Every metric name (`relay_…`, `process_…`) mentioned in `text`.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices(['r', 'p']) {
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let word: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if word.starts_with("relay_") || word.starts_with("process_") {
            names.insert(word);
        }
    }
    names
}

/// The series names in a Prometheus text exposition.
fn exported(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_dashboard_and_the_alerts_query_only_what_the_relay_exports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard = std::fs::read_to_string(root.join("deploy/grafana/relay.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert_eq!(json["uid"], "scene-relay");
    let alerts = std::fs::read_to_string(root.join("deploy/prometheus/alerts.yml")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_sqlite(dir.path(), |_| {}).await;
    let client = TestClient::connect_with_acks(&relay.ws_url(), "watched", yrs::Doc::new()).await;
    client.wait_synced().await;
    client.append_text("t", "x");
    eventually(Duration::from_secs(15), "an acknowledged update and a sample", || async {
        let (_, text) = http_get(relay.addr(), "/metrics").await;
        client.acked() == 1 && text.contains("relay_durable_ack_seconds_count 1")
    })
    .await;
    let (_, metrics) = http_get(relay.addr(), "/metrics").await;
    let exported = exported(&metrics);

    let dashboard_names = names_in(&dashboard);
    let alert_names = names_in(&alerts);
    assert!(dashboard_names.len() >= 20 && alert_names.len() >= 7, "{dashboard_names:?} {alert_names:?}");
    let missing: Vec<&String> = dashboard_names.iter().chain(&alert_names).filter(|name| !exported.contains(*name)).collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}\nexported: {exported:?}");
    drop(client);
    relay.stop().await;
}

#[test]
fn names_are_found_where_queries_use_them() {
    let found = names_in(r#"histogram_quantile(0.99, sum by (le) (rate(relay_durable_ack_seconds_bucket{x="y"}[5m]))) / process_max_fds"#);
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["process_max_fds", "relay_durable_ack_seconds_bucket"]);
    assert!(names_in("a_relay_thing and summary_relay").is_empty());
}
