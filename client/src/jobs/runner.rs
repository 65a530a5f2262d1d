//! Running one job on this client: the worker does the work, this task feeds it, writes
//! progress (throttled) and the outcome into the document, and stops as soon as someone
//! asks to cancel (checked before every tile and phase; the worker is terminated).

use std::time::Duration;

use js_sys::Uint8Array;
use leptos::prelude::GetValue;
use shared::jobs::check::PHASES as CHECK_PHASES;
use shared::jobs::render::tiles;
use shared::jobs::store::{Outcome, Report};
use shared::jobs::{Finding, JobKind, PhaseTiming, Throttle};
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::upload;
use super::JobsState;
use crate::tools_worker::{message, ToolsWorker};

/// Why a job stopped early.
enum Stop {
    Cancelled,
    Failed(String),
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Failed(reason)
    }
}

impl From<upload::UploadError> for Stop {
    fn from(error: upload::UploadError) -> Self {
        Stop::Failed(error.to_string())
    }
}

/// Phase timings and progress reporting of one run.
struct Progress {
    state: JobsState,
    id: String,
    throttle: Throttle,
    timings: Vec<PhaseTiming>,
    phase_started: f64,
}

impl Progress {
    fn new(state: JobsState, id: String) -> Self {
        Progress { state, id, throttle: Throttle::default(), timings: Vec::new(), phase_started: js_sys::Date::now() }
    }

    /// Starts phase `name` (closing the previous one's timing) and reports `percent`.
    fn phase(&mut self, name: &str, percent: f64) {
        let now = js_sys::Date::now();
        if let Some(last) = self.timings.last_mut() {
            last.ms = (now - self.phase_started).round();
        }
        self.timings.push(PhaseTiming { phase: name.to_owned(), ms: 0.0 });
        self.phase_started = now;
        self.report(percent, None, true);
    }

    /// Reports progress in the current phase (throttled unless `force`).
    fn report(&mut self, percent: f64, eta_secs: Option<f64>, force: bool) {
        let now = js_sys::Date::now();
        if !self.throttle.ready(now, force) {
            return;
        }
        if let Some(last) = self.timings.last_mut() {
            last.ms = (now - self.phase_started).round();
        }
        let phase = self.timings.last().map_or("", |t| t.phase.as_str()).to_owned();
        let report = Report { phase: &phase, percent, eta_secs, timings: &self.timings, now_ms: now };
        self.state.write(|jobs, txn| jobs.progress(txn, &self.id, &report));
    }

    /// Stops if someone asked to cancel (or the job was ended by someone else).
    fn check_cancel(&self) -> Result<(), Stop> {
        match self.state.get(&self.id) {
            Some(job) if job.is_active() && !job.cancel_requested => Ok(()),
            _ => Err(Stop::Cancelled),
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        let now = js_sys::Date::now();
        if let Some(last) = self.timings.last_mut() {
            last.ms = (now - self.phase_started).round();
        }
        self.state.write(|jobs, txn| jobs.finish(txn, &self.id, outcome, &self.timings, now));
    }
}

async fn pause(ms: u32) {
    if ms > 0 {
        gloo_timers::future::sleep(Duration::from_millis(ms as u64)).await;
    }
}

/// Runs job `id` to its end and records the outcome.
pub async fn run(state: JobsState, id: String, kind: JobKind) {
    let mut progress = Progress::new(state, id);
    let result = match kind {
        JobKind::Render => render(&mut progress).await,
        JobKind::Check => check(&mut progress).await,
        JobKind::Export => export(&mut progress).await,
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(Stop::Cancelled) => Outcome::Cancelled,
        Err(Stop::Failed(reason)) => Outcome::Failed(reason),
    };
    progress.finish(outcome);
}

/// A worker holding the current scene.
async fn loaded_worker(progress: &mut Progress) -> Result<ToolsWorker, Stop> {
    progress.phase("loading", 0.0);
    let worker = ToolsWorker::loaded(&progress.state.doc.get_value()).await?;
    progress.check_cancel()?;
    Ok(worker)
}

async fn render(progress: &mut Progress) -> Result<Outcome, Stop> {
    let settings = progress.state.settings;
    let (width, height) = (settings.width, settings.height);
    let canvas: HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into().ok())
        .ok_or_else(|| "no canvas".to_owned())?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| "no 2D canvas".to_owned())?;

    let mut worker = loaded_worker(progress).await?;
    let list = tiles(width, height);
    progress.phase("tiles", 2.0);
    let started = js_sys::Date::now();
    for (done, tile) in list.iter().enumerate() {
        progress.check_cancel()?;
        let request = message(
            "tile",
            &[("width", width.into()), ("height", height.into()), ("index", tile.index.into())],
        );
        let answer = worker.call(&request).await?;
        let pixels = Uint8Array::new(&ToolsWorker::field(&answer, "pixels")).to_vec();
        let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&pixels), tile.width, tile.height)
            .map_err(|e| format!("bad tile {}: {e:?}", tile.index))?;
        context.put_image_data(&image, tile.x as f64, tile.y as f64).map_err(|e| format!("canvas: {e:?}"))?;
        let finished = (done + 1) as f64;
        let per_tile = (js_sys::Date::now() - started) / finished;
        let eta = per_tile * (list.len() as f64 - finished) / 1000.0;
        progress.report(2.0 + 88.0 * finished / list.len() as f64, Some(eta), false);
        pause(settings.delay_ms).await;
    }
    drop(worker);
    progress.check_cancel()?;
    progress.phase("encoding", 90.0);
    let png = upload::canvas_png(&canvas).await?;
    progress.check_cancel()?;
    progress.phase("uploading", 95.0);
    let room = progress.state.room.get_value();
    let id = upload::upload(&room.name, room.token.as_deref(), "image/png", &png.into()).await?;
    Ok(Outcome::Done { blob: Some(id), note: Some(format!("{width}×{height} PNG")), findings: Vec::new() })
}

async fn check(progress: &mut Progress) -> Result<Outcome, Stop> {
    let mut worker = loaded_worker(progress).await?;
    let mut findings: Vec<Finding> = Vec::new();
    let count = CHECK_PHASES.len() as f64;
    for (i, phase) in CHECK_PHASES.iter().enumerate() {
        progress.check_cancel()?;
        progress.phase(phase, 5.0 + 95.0 * i as f64 / count);
        let answer = worker.call(&message("check", &[("phase", (i as u32).into())])).await?;
        let json = ToolsWorker::field(&answer, "findings").as_string().unwrap_or_default();
        let found: Vec<Finding> = serde_json::from_str(&json).map_err(|e| format!("bad check report: {e}"))?;
        findings.extend(found);
        pause(progress.state.settings.delay_ms).await;
    }
    let note = match findings.len() {
        0 => "no problems found".to_owned(),
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    };
    Ok(Outcome::Done { blob: None, note: Some(note), findings })
}

async fn export(progress: &mut Progress) -> Result<Outcome, Stop> {
    let mut worker = loaded_worker(progress).await?;
    progress.phase("exporting", 5.0);
    let answer = worker
        .call_with_progress(&message("export", &[]), |fraction| progress.report(5.0 + 80.0 * fraction, None, false))
        .await?;
    let bytes = Uint8Array::new(&ToolsWorker::field(&answer, "bytes")).to_vec();
    drop(worker);
    progress.check_cancel()?;
    progress.phase("uploading", 85.0);
    let room = progress.state.room.get_value();
    let size = bytes.len();
    let id = upload::upload(&room.name, room.token.as_deref(), "model/gltf-binary", &upload::bytes_body(&bytes)).await?;
    Ok(Outcome::Done { blob: Some(id), note: Some(format!("{:.1} KiB .glb", size as f64 / 1024.0)), findings: Vec::new() })
}

