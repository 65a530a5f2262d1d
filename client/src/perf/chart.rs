//! One small chart of the performance view: a title, the latest value of each line (also in
//! `data-series`/`data-value` attributes the browser tests read), and a sparkline of the last
//! five minutes drawn on a 2D canvas whenever the series change.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d;

use super::series::{Series, CAPACITY};

/// Line colours, in the order of a chart's lines.
const COLORS: [&str; 3] = ["#6366f1", "#f97316", "#10b981"];
const HEIGHT: f64 = 40.0;

/// How a value reads.
#[derive(Clone, Copy)]
pub enum Unit {
    Count,
    Ms,
    Us,
    Bytes,
    Percent,
    Hz,
}

pub fn format(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count if v.fract() == 0.0 => format!("{v}"),
        Unit::Count => format!("{v:.1}"),
        Unit::Ms => format!("{v:.0} ms"),
        Unit::Us if v >= 1000.0 => format!("{:.1} ms", v / 1000.0),
        Unit::Us => format!("{v:.0} µs"),
        Unit::Bytes if v >= 1024.0 * 1024.0 => format!("{:.1} MiB", v / 1024.0 / 1024.0),
        Unit::Bytes if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::Percent => format!("{:.0} %", v * 100.0),
        Unit::Hz => format!("{v:.0} Hz"),
    }
}

/// `lines`: (key in `data`, label). `scope` prefixes the keys in `data-series`.
#[component]
pub fn Chart(
    title: &'static str,
    scope: &'static str,
    data: RwSignal<Series>,
    lines: &'static [(&'static str, &'static str)],
    unit: Unit,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        data.with(|series| draw(&canvas, series, lines));
    });
    view! {
        <div class="chart">
            <div class="chart-head">
                <span class="chart-title">{title}</span>
                {lines.iter().enumerate().map(|(i, (key, label))| {
                    let last = move || data.with(|s| s.last(key));
                    view! {
                        <span class="chart-value" style:color=COLORS[i % COLORS.len()]
                            data-series=format!("{scope}.{key}")
                            data-value=move || last().map(|v| v.to_string()).unwrap_or_default()>
                            {*label}" "{move || last().map_or_else(|| "–".to_owned(), |v| format(unit, v))}
                        </span>
                    }
                }).collect::<Vec<_>>()}
            </div>
            <canvas node_ref=canvas class="sparkline"></canvas>
        </div>
    }
}

fn draw(canvas: &web_sys::HtmlCanvasElement, series: &Series, lines: &[(&str, &str)]) {
    let w = canvas.client_width().max(1) as f64;
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    let (pw, ph) = ((w * dpr).round() as u32, (HEIGHT * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok()) else {
        return;
    };
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, w, HEIGHT);
    let max = lines
        .iter()
        .filter_map(|(key, _)| series.get(key))
        .flat_map(|values| values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let max = if max > 0.0 { max * 1.1 } else { 1.0 };
    let step = w / (CAPACITY - 1) as f64;
    ctx.set_line_width(1.25);
    for (i, (key, _)) in lines.iter().enumerate() {
        let Some(values) = series.get(key) else { continue };
        ctx.set_stroke_style_str(COLORS[i % COLORS.len()]);
        ctx.begin_path();
        let offset = CAPACITY - values.len().min(CAPACITY);
        let mut pen_down = false;
        for (j, value) in values.iter().enumerate() {
            let Some(v) = value else {
                pen_down = false;
                continue;
            };
            let (x, y) = ((offset + j) as f64 * step, HEIGHT - 1.0 - (v / max) * (HEIGHT - 2.0));
            if pen_down {
                ctx.line_to(x, y);
            } else {
                ctx.move_to(x, y);
                pen_down = true;
            }
        }
        ctx.stroke();
    }
}
