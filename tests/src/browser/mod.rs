//! The browser-test harness: chromedriver on a free loopback port, headless Chromium
//! sessions that are always closed, pages of the built client read through one snapshot
//! script ([`driver`] starts chromedriver, [`serving`] the relay binary serving dist/). Only
//! with the `browser` feature; the tests themselves are in tests/tests/browser.rs.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Longest a whole test may take; past it the test fails (after closing its browsers).
pub const TEST_LIMIT: Duration = Duration::from_secs(75);
/// Longest one expected page state may take to show up.
pub const WAIT: Duration = Duration::from_secs(20);
/// Longest chromedriver may take to start answering.
pub const DRIVER_START: Duration = Duration::from_secs(15);
/// Longest one WebDriver session may take to start (Chromium's launch).
pub const SESSION_START: Duration = Duration::from_secs(30);
/// Longest closing one session may take.
pub const SESSION_CLOSE: Duration = Duration::from_secs(10);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The built client (`CLIENT_DIST`, default `dist/`). Missing is a failure, never a skip.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("CLIENT_DIST").map(PathBuf::from).unwrap_or_else(|| repo_root().join("dist"));
    // The build names the wasm after its content: client_bg.HASH.wasm.
    let has_wasm = std::fs::read_dir(&dist).into_iter().flatten().flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        name.starts_with("client_bg.") && name.ends_with(".wasm")
    });
    assert!(
        dist.join("index.html").is_file() && has_wasm,
        "no built client in {}: run scripts/build-client.sh (scripts/browser-test.sh does)",
        dist.display()
    );
    dist
}

pub fn program(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

mod driver;
mod serving;

pub use driver::*;
pub use serving::*;

// ---------------------------------------------------------------------------------------------
// Browser sessions

/// Opens browser sessions for a test and remembers every one, so all get closed at the end.
#[derive(Clone)]
pub struct Browsers {
    pub webdriver: String,
    pub profiles: PathBuf,
    pub sessions: Arc<Mutex<Vec<Client>>>,
}

/// Runs `body` with a fresh chromedriver; afterwards closes every session `body` opened and
/// stops chromedriver, whether `body` passed, panicked or ran past `TEST_LIMIT`, and only then
/// reports the outcome.
pub async fn with_browsers<F, Fut>(body: F)
where
    F: FnOnce(Browsers) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let driver = Driver::start().await;
    let profiles = tempfile::tempdir().expect("temp dir for browser profiles");
    let browsers = Browsers {
        webdriver: driver.url.clone(),
        profiles: profiles.path().to_path_buf(),
        sessions: Arc::new(Mutex::new(Vec::new())),
    };
    let sessions = browsers.sessions.clone();
    // A task of its own, so a panic in the body is caught here rather than skipping cleanup.
    // The limit is kept here, outside that task: a body stuck in a blocking call never
    // returns to its own timer, but this future runs on the test's own thread.
    let task = tokio::spawn(body(browsers));
    let abort = task.abort_handle();
    // Benchmarks (ignored tests, run by scripts) may take longer: BROWSER_TEST_LIMIT_SECS.
    let limit = std::env::var("BROWSER_TEST_LIMIT_SECS").ok().and_then(|s| s.parse().ok()).map_or(TEST_LIMIT, Duration::from_secs);
    let outcome = tokio::time::timeout(limit, task).await;
    if outcome.is_err() {
        abort.abort();
    }

    let open: Vec<Client> = std::mem::take(&mut *sessions.lock().unwrap());
    for session in open {
        // Already closed ones answer with an error at once.
        let _ = tokio::time::timeout(SESSION_CLOSE, session.close()).await;
    }
    drop(driver);
    drop(profiles);

    match outcome {
        Ok(Ok(())) => {}
        Err(_) => panic!("the test did not finish within {limit:?}"),
        Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Ok(Err(error)) => panic!("the test task failed: {error}"),
    }
}

/// More Chromium flags for a benchmark run, from `CHROMIUM_EXTRA_ARGS` (space-separated),
/// e.g. `--disable-webgl` to tell what the CPU rasteriser costs.
fn extra_chromium_args() -> Vec<String> {
    std::env::var("CHROMIUM_EXTRA_ARGS").unwrap_or_default().split_whitespace().map(str::to_owned).collect()
}

impl Browsers {
    /// Starts a new browser (its own Chromium with a fresh profile) and opens `url` in it.
    pub async fn open(&self, url: &str) -> Page {
        let profile = tempfile::tempdir_in(&self.profiles).expect("profile dir").keep();
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            // WebGL2 on the CPU (ANGLE on SwiftShader), which Chromium no longer
            // falls back to by itself.
            "--use-angle=swiftshader".to_owned(),
            "--enable-unsafe-swiftshader".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            // Headless Chromium is the whole browser: as it starts it loads its omnibox
            // popups (WebUI pages, ~0.6 s of a core in a renderer of their own), which
            // headless never shows, while the page under test loads on the same two cores.
            // (chromedriver adds these to its own `--disable-features`; a benchmark's
            // `CHROMIUM_EXTRA_ARGS` with another one should repeat them.)
            "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.extend(extra_chromium_args());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": program("CHROMIUM", "/usr/bin/chromium"),
                "args": args,
            },
            "timeouts": { "pageLoad": 20_000, "script": 10_000, "implicit": 0 },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            SESSION_START,
            ClientBuilder::new(connector).capabilities(capabilities).connect(&self.webdriver),
        )
        .await
        .unwrap_or_else(|_| panic!("no browser session within {SESSION_START:?}"))
        .unwrap_or_else(|e| panic!("cannot start a browser session: {e}"));
        let name = {
            let mut sessions = self.sessions.lock().unwrap();
            sessions.push(client.clone());
            format!("browser {}", sessions.len())
        };
        client.goto(url).await.unwrap_or_else(|e| panic!("{name}: cannot open {url}: {e}"));
        Page { client, name }
    }
}

/// A Chromium DevTools command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevToolsCommand {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// One browser showing the client.
pub struct Page {
    pub client: Client,
    pub name: String,
}

/// What the page shows, read in one round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub state: Option<String>,
    pub peers: Option<String>,
    pub nodes: Option<String>,
    /// Names and kinds of the entries of #node-list, in order.
    pub list: Vec<(String, String)>,
    pub room: Option<String>,
    pub share_text: Option<String>,
    pub share_href: Option<String>,
    pub url: String,
    /// The connection problem shown, if any, and the boot message (a failed wasm start).
    pub problem: Option<String>,
    pub boot: Option<String>,
}

pub const SNAPSHOT_JS: &str = r#"
    const text = (id) => { const e = document.getElementById(id); return e ? e.textContent.trim() : null; };
    const share = document.getElementById('share-link');
    return {
        state: text('connection-state'),
        peers: text('peer-count'),
        nodes: text('node-count'),
        list: Array.from(document.querySelectorAll('#node-list li')).map((li) => {
            const name = li.querySelector('.name');
            const kind = li.querySelector('.kind');
            return [name ? name.textContent : '', kind ? (kind.getAttribute('data-kind') || '') : ''];
        }),
        room: text('room-name'),
        share_text: share ? share.textContent.trim() : null,
        share_href: share ? share.getAttribute('href') : null,
        url: location.href,
        problem: text('connection-error'),
        boot: text('boot'),
    };
"#;

impl Page {
    /// Runs `script` in every document this page loads from now on, before the document's
    /// own scripts (DevTools' `Page.addScriptToEvaluateOnNewDocument`): for measurements that
    /// must start with the navigation, which a script WebDriver injects after the load
    /// cannot.
    pub async fn on_every_document(&self, script: &str) {
        let command = DevToolsCommand { cmd: "Page.addScriptToEvaluateOnNewDocument", params: json!({ "source": script }) };
        self.client.issue_cmd(command).await.unwrap_or_else(|e| panic!("{}: cannot add a script to new documents: {e}", self.name));
    }

    pub async fn snapshot(&self) -> Result<Snapshot, String> {
        let value = self.client.execute(SNAPSHOT_JS, Vec::new()).await.map_err(|e| e.to_string())?;
        let s = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let list = value
            .get("list")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|pair| {
                        let at = |i: usize| pair.get(i).and_then(Value::as_str).unwrap_or_default().to_owned();
                        (at(0), at(1))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Snapshot {
            state: s("state"),
            peers: s("peers"),
            nodes: s("nodes"),
            list,
            room: s("room"),
            share_text: s("share_text"),
            share_href: s("share_href"),
            url: s("url").unwrap_or_default(),
            problem: s("problem"),
            boot: s("boot"),
        })
    }

    /// Polls the page until `check` holds; fails with the last snapshot after `WAIT`.
    pub async fn wait_until(&self, what: &str, check: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let deadline = Instant::now() + WAIT;
        let mut last: Result<Snapshot, String>;
        loop {
            // One stuck WebDriver call must not outlast the wait either.
            match tokio::time::timeout(Duration::from_secs(5), self.snapshot()).await {
                Ok(Ok(snapshot)) => {
                    if check(&snapshot) {
                        return snapshot;
                    }
                    last = Ok(snapshot);
                }
                Ok(Err(error)) => last = Err(error),
                Err(_) => last = Err("reading the page timed out".to_owned()),
            }
            if Instant::now() > deadline {
                panic!("{}: timed out after {WAIT:?} waiting for {what}; the page showed {last:#?}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_synced(&self) -> Snapshot {
        self.wait_until("connection state \"synced\"", |s| s.state.as_deref() == Some("synced")).await
    }

    pub async fn wait_peers(&self, peers: usize) -> Snapshot {
        let want = peers.to_string();
        self.wait_until(&format!("peer count {peers}"), |s| s.peers.as_deref() == Some(want.as_str())).await
    }

    pub async fn wait_nodes(&self, nodes: usize) -> Snapshot {
        let want = nodes.to_string();
        self.wait_until(&format!("node count {nodes} (and as many list entries)"), |s| {
            s.nodes.as_deref() == Some(want.as_str()) && s.list.len() == nodes
        })
        .await
    }

    /// A real click (WebDriver element click) on #add-node.
    pub async fn add_node(&self) {
        let button = self
            .client
            .find(Locator::Css("#add-node"))
            .await
            .unwrap_or_else(|e| panic!("{}: no #add-node button: {e}", self.name));
        button.click().await.unwrap_or_else(|e| panic!("{}: clicking #add-node failed: {e}", self.name));
    }

    /// Ends this browser's session (its Chromium quits, so its WebSocket closes).
    pub async fn close(self) {
        tokio::time::timeout(SESSION_CLOSE, self.client.close())
            .await
            .unwrap_or_else(|_| panic!("closing {} timed out", self.name))
            .unwrap_or_else(|e| panic!("closing {} failed: {e}", self.name));
    }
}
