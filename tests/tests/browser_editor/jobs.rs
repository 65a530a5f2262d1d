//! Browser tests of scene jobs (issue #5): a render started in browser A shows its progress
//! in browser B, B cancels it and A's runner stops; a finished render's image shows in both;
//! a scene check whose finding selects the offending nodes; an export whose .glb the relay
//! serves; a late joiner sees all of it; a job whose runner leaves is failed by the
//! collaborator who stays; and a client runs one job at a time: one started meanwhile waits
//! `queued` (with its place in line) until the running one ends, and a collaborator may
//! cancel it before it ever runs; a render whose upload the relay refuses (the room's blob
//! quota is used up) fails with a sentence saying so.
//!
//! The render is kept small and paced with the client's test knobs (`jobsize=WxH`,
//! `jobdelay=MS` between tiles, see `client/src/jobs/mod.rs`) so that cancelling it is
//! deterministic and the whole test stays fast.

use std::time::{Duration, Instant};

use tests::browser::*;

use super::harness::*;

const JOBS_JS: &str = r#"
    const panel = document.getElementById('jobs-panel');
    return {
        running: panel ? Number(panel.getAttribute('data-running')) : -1,
        jobs: Array.from(document.querySelectorAll('#jobs-panel li.job')).map((li) => {
            const img = li.querySelector('img.job-image');
            const link = li.querySelector('a.job-download');
            return {
                id: li.getAttribute('data-job-id'),
                kind: li.getAttribute('data-kind'),
                state: li.getAttribute('data-state'),
                phase: li.getAttribute('data-phase'),
                progress: Number(li.getAttribute('data-progress')),
                runner: li.getAttribute('data-runner'),
                blob: li.getAttribute('data-blob'),
                findings: Number(li.getAttribute('data-findings')),
                error: li.getAttribute('data-error'),
                queue: li.getAttribute('data-queue'),
                started: li.getAttribute('data-started'),
                image_width: img && img.complete ? img.naturalWidth : 0,
                download: link ? link.getAttribute('href') : null,
            };
        }),
    };
"#;

/// One job as the panel shows it.
#[derive(Debug, Clone, Default)]
struct ShownJob {
    id: String,
    kind: String,
    state: String,
    phase: String,
    progress: f64,
    runner: String,
    blob: String,
    findings: u64,
    error: String,
    /// Place in the runner's queue ("1" = next); empty unless queued.
    queue: String,
    /// When it began running; empty if it never ran.
    started: String,
    image_width: u64,
    download: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Panel {
    running: i64,
    jobs: Vec<ShownJob>,
}

impl Panel {
    fn job(&self, id: &str) -> Option<&ShownJob> {
        self.jobs.iter().find(|j| j.id == id)
    }

    fn of_kind(&self, kind: &str) -> Option<&ShownJob> {
        self.jobs.iter().find(|j| j.kind == kind)
    }
}

async fn panel(page: &Page) -> Panel {
    let v = js(page, JOBS_JS, Vec::new()).await;
    let jobs = v["jobs"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|j| {
                    let s = |k: &str| j[k].as_str().unwrap_or_default().to_owned();
                    ShownJob {
                        id: s("id"),
                        kind: s("kind"),
                        state: s("state"),
                        phase: s("phase"),
                        progress: j["progress"].as_f64().unwrap_or(f64::NAN),
                        runner: s("runner"),
                        blob: s("blob"),
                        findings: j["findings"].as_u64().unwrap_or(0),
                        error: s("error"),
                        queue: s("queue"),
                        started: s("started"),
                        image_width: j["image_width"].as_u64().unwrap_or(0),
                        download: j["download"].as_str().map(str::to_owned),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Panel { running: v["running"].as_i64().unwrap_or(-1), jobs }
}

async fn wait_panel(page: &Page, what: &str, check: impl Fn(&Panel) -> bool) -> Panel {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = panel(page).await;
        if check(&now) {
            return now;
        }
        if Instant::now() > deadline {
            panic!("{}: timed out after {WAIT:?} waiting for {what}; the jobs panel showed {now:#?}", page.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `url` in two browsers, both synced and seeing each other.
async fn two(browsers: &Browsers, a_url: &str, b_url: &str) -> (Page, Page) {
    let (a, b) = tokio::join!(browsers.open(a_url), browsers.open(b_url));
    a.wait_synced().await;
    b.wait_synced().await;
    a.wait_peers(1).await;
    b.wait_peers(1).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_shared_cancelled_by_anyone_and_show_their_results() {
    with_browsers(|browsers| async move {
        let started = Instant::now();
        let relay = Relay::start("").await;
        // A renders slowly (24 tiles, 400 ms apart: about 10 s); B quickly (6 tiles).
        let a_url = format!("{}&jobsize=192x128&jobdelay=400", relay.page("jobs"));
        let b_url = format!("{}&jobsize=96x64", relay.page("jobs"));
        let (a, b) = two(&browsers, &a_url, &b_url).await;
        // Two boxes in the same spot: something to render, and an overlap to find.
        a.add_node().await;
        a.add_node().await;
        b.wait_nodes(2).await;
        let a_client = state(&a).await.client;
        eprintln!("jobs: two browsers ready after {:?}", started.elapsed());

        // A starts a render; B sees it running, with progress, and cancels it.
        click(&a, "#job-render").await;
        let seen = wait_panel(&b, "A's render making progress", |p| {
            p.jobs.iter().any(|j| j.kind == "render" && j.state == "running" && j.phase == "tiles" && j.progress > 2.0)
        })
        .await;
        let render = seen.jobs.iter().find(|j| j.kind == "render").cloned().unwrap_or_default();
        assert_eq!(render.runner, a_client, "A runs the job it started");
        wait_panel(&a, "A running one job", |p| p.running == 1).await;
        click(&b, &format!("li.job[data-job-id='{}'] .job-cancel", render.id)).await;
        let stopped = wait_panel(&a, "A's runner stopping on B's cancel", |p| {
            p.running == 0 && p.job(&render.id).is_some_and(|j| j.state == "cancelled")
        })
        .await;
        let at_cancel = stopped.job(&render.id).map(|j| j.progress).unwrap_or_default();
        assert!(at_cancel < 90.0, "cancelled before the tiles were done: {at_cancel}");
        wait_panel(&b, "the cancel seen by B", |p| p.job(&render.id).is_some_and(|j| j.state == "cancelled")).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let later = panel(&a).await;
        assert_eq!(later.job(&render.id).map(|j| j.progress), Some(at_cancel), "no progress after the cancel");

        eprintln!("jobs: cancel done after {:?}", started.elapsed());
        // B renders to the end: both show the image (96 × 64, from the relay's blob endpoint).
        click(&b, "#job-render").await;
        let done = wait_panel(&b, "B's render done", |p| p.jobs.iter().any(|j| j.kind == "render" && j.state == "done")).await;
        let image = done.jobs.iter().find(|j| j.kind == "render" && j.state == "done").cloned().unwrap_or_default();
        assert_eq!(image.blob.len(), 64, "a SHA-256 blob id: {image:?}");
        for page in [&a, &b] {
            wait_panel(page, "the rendered image shown", |p| p.job(&image.id).is_some_and(|j| j.image_width == 96)).await;
        }
        let (status, png) = tests::http_bytes(relay.relay.addr, "GET", &format!("/api/rooms/jobs/blobs/{}", image.blob), &[], &[]).await;
        assert_eq!(status, 200);
        assert!(png.starts_with(b"\x89PNG"), "the blob is a PNG");

        eprintln!("jobs: render shown after {:?}", started.elapsed());
        // B checks the scene; A sees the overlap finding, and clicking it selects both boxes.
        click(&b, "#job-check").await;
        wait_panel(&a, "the check report", |p| p.jobs.iter().any(|j| j.kind == "check" && j.state == "done" && j.findings == 1)).await;
        let checked = wait_panel(&b, "the check report", |p| p.jobs.iter().any(|j| j.kind == "check" && j.state == "done")).await;
        let check = checked.jobs.iter().find(|j| j.kind == "check").cloned().unwrap_or_default();
        assert_eq!(check.findings, 1, "one overlap: {check:?}");
        click(&b, &format!("li.job[data-job-id='{}'] button.finding", check.id)).await;
        let ids = state(&b).await.ids;
        let selected = wait_for(&b, "both boxes selected", |s| s.selection.split(' ').count() == 2).await;
        let mut want = ids.clone();
        want.sort();
        let mut got: Vec<String> = selected.selection.split(' ').map(str::to_owned).collect();
        got.sort();
        assert_eq!(got, want, "the finding selects the overlapping boxes");

        eprintln!("jobs: check done after {:?}", started.elapsed());
        // B exports the scene; the link A shows serves a .glb.
        click(&b, "#job-export").await;
        let exported =
            wait_panel(&a, "the export done", |p| p.jobs.iter().any(|j| j.kind == "export" && j.state == "done" && j.download.is_some())).await;
        let export = exported.jobs.iter().find(|j| j.kind == "export").cloned().unwrap_or_default();
        let (status, glb) = tests::http_bytes(relay.relay.addr, "GET", &format!("/api/rooms/jobs/blobs/{}", export.blob), &[], &[]).await;
        assert_eq!(status, 200);
        assert!(glb.starts_with(b"glTF"), "the blob is a .glb");
        eprintln!("jobs: export done after {:?}", started.elapsed());
        // A late joiner sees the recent jobs, their states and results.
        let c = browsers.open(&relay.page("jobs")).await;
        c.wait_synced().await;
        let late = wait_panel(&c, "the recent jobs, for a late joiner", |p| {
            p.jobs.len() == 4 && p.job(&image.id).is_some_and(|j| j.image_width == 96)
        })
        .await;
        assert_eq!(late.job(&render.id).map(|j| j.state.as_str()), Some("cancelled"));
        assert_eq!(late.job(&check.id).map(|j| j.findings), Some(1));
        screenshot(&b, "jobs").await;
        eprintln!("jobs test body took {:?}", started.elapsed());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_runner_leaves_is_failed_by_a_collaborator() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let a_url = format!("{}&jobsize=192x128&jobdelay=500", relay.page("runner-gone"));
        let (a, b) = two(&browsers, &a_url, &relay.page("runner-gone")).await;
        a.add_node().await;
        b.wait_nodes(1).await;
        click(&a, "#job-render").await;
        let seen = wait_panel(&b, "A's render making progress", |p| p.jobs.iter().any(|j| j.state == "running" && j.progress > 2.0)).await;
        let id = seen.jobs[0].id.clone();

        // A's browser goes away mid-job: B marks the job failed.
        let left = Instant::now();
        a.close().await;
        let failed = wait_panel(&b, "the orphaned job failed", |p| p.job(&id).is_some_and(|j| j.state == "failed")).await;
        let job = failed.job(&id).cloned().unwrap_or_default();
        assert_eq!(job.error, "runner disconnected");
        assert!(left.elapsed() < Duration::from_secs(15), "failed within the timeout: {:?}", left.elapsed());
        // Nothing revives it.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(panel(&b).await.job(&id).map(|j| j.state.clone()), Some("failed".into()));
    })
    .await;
}

/// A page whose renders are slow enough (24 tiles, 250 ms apart: about 6 s) for jobs to queue
/// behind them.
fn slow(relay: &Relay, room: &str) -> String {
    format!("{}&jobsize=192x128&jobdelay=250", relay.page(room))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_while_the_runner_is_busy_waits_queued_then_runs() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = two(&browsers, &slow(&relay, "queue"), &relay.page("queue")).await;
        a.add_node().await;
        a.add_node().await;
        b.wait_nodes(2).await;
        let a_client = state(&a).await.client;

        click(&a, "#job-render").await;
        wait_panel(&a, "A's render running", |p| p.running == 1 && p.of_kind("render").is_some_and(|j| j.state == "running")).await;
        click(&a, "#job-check").await;
        // B sees the check waiting behind the render, first in A's queue.
        let seen = wait_panel(&b, "A's check queued", |p| p.of_kind("check").is_some_and(|j| j.state == "queued")).await;
        let check = seen.of_kind("check").cloned().unwrap_or_default();
        assert_eq!((check.queue.as_str(), check.phase.as_str(), check.runner.as_str()), ("1", "queued", a_client.as_str()), "{check:?}");
        assert!(check.started.is_empty() && check.progress == 0.0, "not started: {check:?}");
        assert_eq!(seen.of_kind("render").map(|j| j.state.as_str()), Some("running"), "the render still runs");
        let a_now = panel(&a).await;
        assert_eq!(a_now.running, 1, "A runs one job at a time: {a_now:?}");

        // When the render is done the check runs (from then on), then is done.
        let running = wait_panel(&b, "A's check running", |p| p.job(&check.id).is_some_and(|j| j.state == "running")).await;
        assert_eq!(running.of_kind("render").map(|j| j.state.as_str()), Some("done"), "the check runs after the render: {running:?}");
        let began = running.job(&check.id).map(|j| j.queue.clone()).unwrap_or_default();
        assert!(began.is_empty(), "no place in line once running: {began:?}");
        let done = wait_panel(&b, "A's check done", |p| p.job(&check.id).is_some_and(|j| j.state == "done")).await;
        let finished = done.job(&check.id).cloned().unwrap_or_default();
        assert_eq!(finished.findings, 1, "the overlap: {finished:?}");
        let started: f64 = finished.started.parse().unwrap_or(0.0);
        assert!(started > 0.0, "a start time: {finished:?}");
        wait_panel(&a, "A idle", |p| p.running == 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_cancelled_by_a_collaborator_never_runs() {
    with_browsers(|browsers| async move {
        let relay = Relay::start("").await;
        let (a, b) = two(&browsers, &slow(&relay, "queue-cancel"), &relay.page("queue-cancel")).await;
        a.add_node().await;
        b.wait_nodes(1).await;

        click(&a, "#job-render").await;
        wait_panel(&a, "A's render running", |p| p.running == 1).await;
        click(&a, "#job-check").await;
        wait_panel(&a, "the check queued", |p| p.of_kind("check").is_some_and(|j| j.queue == "1")).await;
        click(&a, "#job-export").await;
        let queued = wait_panel(&b, "A's check and export queued", |p| {
            p.of_kind("check").is_some_and(|j| j.queue == "1") && p.of_kind("export").is_some_and(|j| j.queue == "2")
        })
        .await;
        let check = queued.of_kind("check").cloned().unwrap_or_default();
        let export = queued.of_kind("export").cloned().unwrap_or_default();

        // B cancels the queued check: cancelled at once, and the export moves up.
        click(&b, &format!("li.job[data-job-id='{}'] .job-cancel", check.id)).await;
        for page in [&a, &b] {
            wait_panel(page, "the check cancelled, the export next", |p| {
                p.job(&check.id).is_some_and(|j| j.state == "cancelled") && p.job(&export.id).is_some_and(|j| j.queue == "1")
            })
            .await;
        }
        assert_eq!(panel(&a).await.of_kind("render").map(|j| j.state.clone()), Some("running".into()), "the render goes on");

        // A's queue moves on to the export; the check never ran.
        let done = wait_panel(&b, "the export done", |p| p.job(&export.id).is_some_and(|j| j.state == "done" && !j.blob.is_empty())).await;
        let never = done.job(&check.id).cloned().unwrap_or_default();
        assert_eq!((never.state.as_str(), never.phase.as_str(), never.started.as_str(), never.progress), ("cancelled", "queued", "", 0.0), "{never:?}");
        assert_eq!(done.of_kind("render").map(|j| j.state.as_str()), Some("done"));
        let on_a = wait_panel(&a, "A idle", |p| p.running == 0).await;
        assert_eq!(on_a.job(&check.id).map(|j| (j.state.clone(), j.started.clone())), Some(("cancelled".into(), String::new())));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_over_the_rooms_blob_quota_fails_saying_the_storage_is_full() {
    with_browsers(|browsers| async move {
        // A relay whose rooms may hold 100 bytes of blobs: no rendered PNG fits.
        let data = tempfile::tempdir().expect("temp data dir");
        let dist = tests::browser::dist_dir().to_str().expect("utf-8 path").to_owned();
        let data_path = data.path().to_path_buf();
        let child = tokio::task::spawn_blocking(move || {
            tests::process::ChildRelay::start_at("127.0.0.1:0", &data_path, &["--static-dir", &dist, "--max-room-blob-bytes", "100"])
        })
        .await
        .expect("relay starts");
        let relay = Relay { relay: child, _data: data, base: "" };
        let url = format!("{}&jobsize=96x64", relay.page("quota"));
        let (a, b) = two(&browsers, &url, &relay.page("quota")).await;
        a.add_node().await;
        b.wait_nodes(1).await;
        click(&a, "#job-render").await;
        let failed = wait_panel(&b, "A's render failed", |p| p.of_kind("render").is_some_and(|j| j.state == "failed")).await;
        let render = failed.of_kind("render").cloned().unwrap_or_default();
        assert!(render.error.starts_with("the room's blob storage is full ("), "{render:?}");
        assert!(render.error.contains("blob quota"), "the relay's figures: {render:?}");
        assert!(render.blob.is_empty(), "{render:?}");
        let shown = js(&b, "return document.querySelector('#jobs-panel li.job .job-detail')?.textContent ?? ''", Vec::new()).await;
        assert!(shown.as_str().unwrap_or_default().starts_with("Failed: the room's blob storage is full"), "{shown}");
    })
    .await;
}
