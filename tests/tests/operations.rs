//! What an operator relies on, against the real `relay` binary: an access log line per HTTP
//! request that never holds a room token, and a `/readyz` that turns 503 once the store can
//! no longer commit (while `/healthz`, liveness, stays 200).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use relay::auth::{Claims, Role, Signer};
use tests::process::ChildRelay;
use tests::{eventually, http, http_get, TestClient};

const WAIT: Duration = Duration::from_secs(15);

/// A 32-byte key file and a token for `room` signed with it.
fn key_and_token(dir: &Path, room: &str) -> (PathBuf, String) {
    let path = dir.join("auth.key");
    let secret = b"0123456789abcdef0123456789abcdef-test-key";
    std::fs::write(&path, secret).unwrap();
    let claims = Claims { room: room.into(), role: Role::Editor, exp: Some(relay::auth::unix_now() + 3600), nbf: None, iat: None, sub: None };
    let token = Signer::shared(secret).unwrap().mint(&claims).unwrap();
    (path, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_logged_once_and_no_token_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (key, token) = key_and_token(dir.path(), "logged");
    let log = dir.path().join("relay.log");
    let data = dir.path().join("data");
    let key = key.to_str().unwrap().to_owned();
    let relay = tokio::task::spawn_blocking({
        let (data, log) = (data.clone(), log.clone());
        move || {
            let args = ["--auth-key-file", key.as_str(), "--base-path", "/collab"];
            ChildRelay::start_logged(&data, &args, "warn,relay::access=info", &log)
        }
    })
    .await
    .unwrap();

    // A WebSocket with the token in its query string, an API call with it, a health check.
    let ws = format!("ws://{}/collab/ws", relay.addr);
    let client = TestClient::join(&ws, &format!("logged?token={token}&acks=1")).await;
    client.append_text("t", "x");
    let (status, _) = http(relay.addr, "GET", &format!("/collab/api/rooms/logged/snapshots?token={token}"), &[], &[]).await;
    assert_eq!(status, 200);
    let (status, _) = http(relay.addr, "GET", "/collab/api/rooms/logged/snapshots", &[("Authorization", &format!("Bearer {token}"))], &[]).await;
    assert_eq!(status, 200);
    assert_eq!(http_get(relay.addr, "/collab/readyz").await, (200, "ready\n".to_owned()));
    assert_eq!(http_get(relay.addr, "/collab/nowhere").await.0, 404);
    client.close().await;
    assert!(relay.terminate().is_some_and(|status| status.success()), "the relay stops cleanly");

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("relay::access")).collect();
    let line_of = |needle: &str| {
        let found: Vec<&&str> = lines.iter().filter(|l| l.contains(needle)).collect();
        assert_eq!(found.len(), 1, "one line for {needle}: {text}");
        found[0].to_string()
    };
    let ready = line_of("path=/collab/readyz");
    for field in ["method=GET", "status=200", "latency_ms=", "bytes=6", "client=127.0.0.1"] {
        assert!(ready.contains(field), "{field} in {ready}");
    }
    assert!(line_of("path=/collab/nowhere").contains("status=404"));
    let upgrade = line_of("path=/collab/ws/logged");
    assert!(upgrade.contains("status=101") && upgrade.contains("token=REDACTED") && upgrade.contains("acks=1"), "{upgrade}");
    assert!(line_of("snapshots?token=REDACTED").contains("status=200"));
    assert_eq!(lines.len(), 5, "one line per request: {text}");
    // The token as a whole, and its signature (the part after the dot) on its own.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(&token) && !text.contains(signature), "a token reached the log: {text}");
}

/// Runs `chattr` (e2fsprogs) on `path`.
fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr").arg(flag).arg(path).status().is_ok_and(|s| s.success())
}

/// Journal segments made immutable for the test, made mutable again however it ends (an
/// immutable file cannot even be deleted).
struct Immutable(Vec<PathBuf>);

impl Drop for Immutable {
    fn drop(&mut self) {
        for path in &self.0 {
            chattr("-i", path);
        }
    }
}

/// The store's journal refuses to write (its active segment made immutable under the live
/// relay, so the next append fails as on a dead disk): /readyz says so, /healthz does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_once_the_store_cannot_commit_and_healthz_stays_live() {
    // chattr needs a filesystem that keeps attributes: the target directory's, not a tmpfs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().to_path_buf();
    let relay = tokio::task::spawn_blocking(move || ChildRelay::start(&data, &[])).await.unwrap();
    let ws = relay.ws_url();
    assert_eq!(http_get(relay.addr, "/readyz").await, (200, "ready\n".to_owned()));

    let writer = TestClient::connect_with_acks(&ws, "doomed", yrs::Doc::new()).await;
    writer.wait_synced().await;
    writer.append_text("t", "durable");
    eventually(WAIT, "the first update is durable", || async { writer.acked() == 1 }).await;

    let segments: Vec<PathBuf> = std::fs::read_dir(dir.path().join("journal"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    assert!(!segments.is_empty());
    let _guard = Immutable(segments.clone());
    for segment in &segments {
        assert!(chattr("+i", segment), "chattr +i {} (the test needs e2fsprogs and ext4)", segment.display());
    }
    writer.append_text("t", "lost");
    eventually(WAIT, "/readyz turns 503 with the store's reason", || async {
        let (status, body) = http_get(relay.addr, "/readyz").await;
        status == 503 && body.starts_with("not ready:") && body.contains("journal")
    })
    .await;
    assert_eq!(http_get(relay.addr, "/healthz").await, (200, "ok\n".to_owned()), "the process is alive");
    assert_eq!(writer.acked(), 1, "nothing more was acknowledged");
    let (_, metrics) = http_get(relay.addr, "/metrics").await;
    assert!(metrics.contains("relay_store_errors_total{kind=\"journal\"} 1"), "{metrics}");
    drop(writer);
    relay.kill();
}

/// Nothing secret on the command line or in the environment: the admin token comes from a
/// file named in the config file, and `--print-config` shows the configuration without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_come_from_files_and_print_config_hides_them() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("admin.token");
    std::fs::write(&token_file, "adm1n-s3cret\n").unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!("admin-token-file = {:?}\nredis-trim-slack-ms = 5000\nallowed-origin = [\"https://a.example\"]\n", token_file.to_str().unwrap()),
    )
    .unwrap();
    let config_arg = config.to_str().unwrap().to_owned();
    let data = dir.path().join("data");
    let relay = tokio::task::spawn_blocking(move || ChildRelay::start(&data, &["--config", config_arg.as_str()])).await.unwrap();
    assert_eq!(http_get(relay.addr, "/api/rooms").await.0, 401, "the admin API wants the token from the file");
    let (status, _) = http(relay.addr, "GET", "/api/rooms", &[("Authorization", "Bearer adm1n-s3cret")], &[]).await;
    assert_eq!(status, 200);
    relay.kill();

    let printed = Command::new(tests::process::relay_binary())
        .args(["--config", config.to_str().unwrap(), "--print-config", "--cache-bytes", "12345"])
        .env("RELAY_LISTEN", "127.0.0.1:9999")
        .output()
        .unwrap();
    assert!(printed.status.success());
    let printed = String::from_utf8(printed.stdout).unwrap();
    assert!(!printed.contains("adm1n-s3cret"), "{printed}");
    for line in ["admin-token-file = ", "redis-trim-slack-ms = 5000", "cache-bytes = 12345", "listen = \"127.0.0.1:9999\"", "allowed-origin = [\"https://a.example\"]"] {
        assert!(printed.contains(line), "{line} in {printed}");
    }
}
