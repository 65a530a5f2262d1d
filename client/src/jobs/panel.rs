//! The Jobs panel (right sidebar): buttons that start a render preview, a scene check or a
//! .glb export, and every job in the room with its state, phase, progress, ETA, who started
//! it and the time each phase took; a queued job's place in its runner's queue; Cancel on
//! queued and running jobs (anyone's), the rendered image, the check's findings (a click
//! selects the nodes) and the export's download link.
//!
//! For browser tests: `#jobs-panel[data-jobs]` and `[data-running]` (jobs this client runs), and per job `li.job` with `data-job-id`,
//! `data-kind`, `data-state`, `data-phase`, `data-progress`, `data-runner`, `data-blob`,
//! `data-findings`, `data-error`, `data-queue` (place in the runner's queue, 1 = next; empty
//! unless queued), `data-started` (when it began running, ms; empty if it never ran);
//! `img.job-image`, `button.job-cancel`, `a.job-download`, `button.finding`.

use leptos::prelude::*;
use shared::jobs::{queue, Job, JobKind, JobState};
use shared::scene::NodeId;

use super::upload::blob_url;
use super::JobsState;
use crate::editor::Editor;

fn seconds(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[component]
pub fn JobsPanel(jobs: JobsState, editor: Editor) -> impl IntoView {
    let start_button = move |kind: JobKind, id: &'static str| {
        view! { <button class="tool" id=id disabled=move || !jobs.access.can_edit() on:click=move |_| jobs.start(kind)>{kind.label()}</button> }
    };
    view! {
        <section id="jobs-panel" class="panel jobs-panel" aria-label="Jobs"
            data-jobs=move || jobs.list.with(|l| l.len().to_string())
            data-running=move || jobs.running.with(|r| r.len().to_string())>
            <h2>"Jobs"</h2>
            <div class="job-buttons">
                {start_button(JobKind::Render, "job-render")}
                {start_button(JobKind::Check, "job-check")}
                {start_button(JobKind::Export, "job-export")}
            </div>
            <ul class="job-list">
                {move || {
                    let list = jobs.list.get();
                    list.iter()
                        .map(|job| {
                            let place = queue::position(&list, &job.id);
                            view! { <JobRow job=job.clone() place=place jobs=jobs editor=editor /> }
                        })
                        .collect::<Vec<_>>()
                }}
            </ul>
        </section>
    }
}

#[component]
fn JobRow(job: Job, place: Option<usize>, jobs: JobsState, editor: Editor) -> impl IntoView {
    let state = job.state.map_or("unknown", JobState::as_str);
    let kind = job.kind.map_or("unknown", JobKind::as_str);
    let label = job.kind.map_or("Unknown job", JobKind::label);
    let running = job.is_active();
    let room = jobs.room.get_value();
    let url = job.blob.as_deref().map(|id| blob_url(&room.name, room.token.as_deref(), id));
    let mine = job.runner == jobs.client;
    let who = if mine { format!("{} (you)", job.started_by) } else { job.started_by.clone() };
    let eta = job.eta_secs.filter(|_| running).map(|s| format!(" · ~{s:.0} s left"));
    let progress_line = match place {
        Some(1) => "queued · next in line".to_owned(),
        Some(n) => format!("queued · {n} in line"),
        None => format!("{} · {:.0} %{}", job.phase, job.progress, eta.unwrap_or_default()),
    };
    let waited = job.started_ms.filter(|s| *s > job.created_ms + 500.0).map(|s| format!(" · waited {}", seconds(s - job.created_ms)));
    let timings = job.timings.iter().map(|t| format!("{} {}", t.phase, seconds(t.ms))).collect::<Vec<_>>().join(" · ");
    let id = job.id.clone();
    let cancel = running.then(|| {
        let requested = job.cancel_requested;
        view! {
            <button class="ghost job-cancel" disabled=move || requested || !jobs.access.can_edit() on:click=move |_| jobs.cancel(&id)>
                {if requested { "Cancelling…" } else { "Cancel" }}
            </button>
        }
    });
    let image = (job.kind == Some(JobKind::Render) && job.state == Some(JobState::Done))
        .then(|| url.clone())
        .flatten()
        .map(|src| view! { <img class="job-image" src=src alt="Rendered preview" /> });
    let download = (job.kind == Some(JobKind::Export) && job.state == Some(JobState::Done))
        .then(|| url.clone())
        .flatten()
        .map(|href| view! { <a class="job-download" href=href download="scene.glb">"Download .glb"</a> });
    let findings = (job.kind == Some(JobKind::Check) && job.state == Some(JobState::Done)).then(|| {
        job.findings
            .iter()
            .map(|finding| {
                let nodes: Vec<NodeId> = finding.nodes.iter().map(|n| NodeId::from(n.as_str())).collect();
                let ids = finding.nodes.join(" ");
                view! {
                    <li>
                        <button class="finding" data-nodes=ids title="Select these objects"
                            on:click=move |_| {
                                let present: Vec<NodeId> = editor.tree.with_untracked(|t| nodes.iter().filter(|n| t.get(n).is_some()).cloned().collect());
                                editor.select(present);
                            }>
                            <strong>{finding.kind.label()}</strong>" "{finding.message.clone()}
                        </button>
                    </li>
                }
            })
            .collect::<Vec<_>>()
    });
    let detail = match (&job.error, &job.note, &job.cancelled_by) {
        (Some(error), _, _) => Some(format!("Failed: {error}")),
        (None, _, Some(by)) if job.state == Some(JobState::Cancelled) => Some(format!("Cancelled by {by}")),
        (None, Some(note), _) => Some(note.clone()),
        _ => None,
    };
    view! {
        <li class="job" class:running=running
            data-job-id=job.id.clone() data-kind=kind data-state=state data-phase=job.phase.clone()
            data-progress=job.progress.to_string() data-runner=job.runner.to_string()
            data-blob=job.blob.clone().unwrap_or_default() data-findings=job.findings.len().to_string()
            data-error=job.error.clone().unwrap_or_default()
            data-queue=place.map(|p| p.to_string()).unwrap_or_default()
            data-started=job.started_ms.map(|s| s.to_string()).unwrap_or_default()>
            <div class="job-head">
                <span class="job-kind">{label}</span>
                <span class=format!("job-state {state}")>{state}</span>
                {cancel}
            </div>
            <progress max="100" value=job.progress></progress>
            <div class="job-meta job-progress">{progress_line}</div>
            <div class="job-meta">{format!("by {who}{}", waited.unwrap_or_default())}</div>
            {(!timings.is_empty()).then(|| view! { <div class="job-meta job-timings">{timings}</div> })}
            {detail.map(|d| view! { <div class="job-meta job-detail">{d}</div> })}
            {image}
            {download}
            {findings.map(|f| view! { <ul class="findings">{f}</ul> })}
        </li>
    }
}
