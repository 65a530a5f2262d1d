//! Which outliner rows to build: the arithmetic of the virtualised list, kept apart from the
//! DOM so it can be tested on its own.
//!
//! Every row is [`ROW_HEIGHT`] pixels tall (`.tree li` in public/style.css says the same), so
//! the row at index `i` of the outline sits at `i * ROW_HEIGHT` in the scroll container and
//! the rows that can be seen follow from the scroll offset and the container's height alone.
//! Only those (plus [`OVERSCAN`] on either side, so a short scroll shows rows already built)
//! are in the DOM; the list's own height stays that of every row, so the scrollbar still
//! stands for the whole scene.

/// The height of one outliner row in CSS pixels (`.tree li { height }` in public/style.css).
pub const ROW_HEIGHT: f64 = 26.0;

/// Rows built above and below the visible ones.
pub const OVERSCAN: usize = 8;

/// Empty space under the last row (a drop there moves the dragged node to the scene root).
pub const TAIL: f64 = 32.0;

/// The container's height until it is measured (larger than any real outliner, so the first
/// render never shows a gap; the measurement follows within a frame).
pub const UNMEASURED_HEIGHT: f64 = 1200.0;

/// Within this many pixels of the container's top or bottom edge, a drag scrolls the list.
const DRAG_EDGE: f64 = 32.0;

/// The rows `start..end` of the outline to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

/// The rows of a `rows`-long list that intersect `[scroll_top, scroll_top + height)`, widened
/// by [`OVERSCAN`] and clipped to the list.
pub fn window(scroll_top: f64, height: f64, rows: usize) -> Window {
    let top = if scroll_top.is_finite() { scroll_top.max(0.0) } else { 0.0 };
    let height = if height.is_finite() { height.max(0.0) } else { UNMEASURED_HEIGHT };
    let first = (top / ROW_HEIGHT).floor() as usize;
    let past_last = ((top + height) / ROW_HEIGHT).ceil() as usize;
    let start = first.saturating_sub(OVERSCAN).min(rows);
    let end = past_last.saturating_add(OVERSCAN).min(rows);
    Window { start, end: end.max(start) }
}

/// The height of the whole list: every row and the empty space under them.
pub fn list_height(rows: usize) -> f64 {
    rows as f64 * ROW_HEIGHT + TAIL
}

/// Where to scroll so that row `index` can be seen: `None` if it is wholly visible already,
/// else the offset that puts it in the middle of the container (clamped at the top; the
/// browser clamps the bottom).
pub fn reveal(index: usize, scroll_top: f64, height: f64) -> Option<f64> {
    let top = index as f64 * ROW_HEIGHT;
    if top >= scroll_top && top + ROW_HEIGHT <= scroll_top + height {
        return None;
    }
    Some((top - (height - ROW_HEIGHT) / 2.0).max(0.0).round())
}

/// How far to scroll on one `dragover` at `y` pixels below the container's top edge (the
/// browser repeats `dragover` every ~50 ms while the pointer rests): up near the top, down
/// near the bottom, faster the closer to the edge (up to two rows a step), else nothing.
pub fn drag_scroll(y: f64, height: f64) -> f64 {
    let step = |depth: f64| (depth.clamp(0.0, DRAG_EDGE) / DRAG_EDGE * 2.0 * ROW_HEIGHT).max(4.0);
    if height <= 3.0 * DRAG_EDGE {
        0.0
    } else if y < DRAG_EDGE {
        -step(DRAG_EDGE - y)
    } else if y > height - DRAG_EDGE {
        step(y - (height - DRAG_EDGE))
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_window_covers_the_visible_rows_and_the_overscan() {
        // 520 px show rows 0..20; eight more below.
        assert_eq!(window(0.0, 520.0, 5_000), Window { start: 0, end: 28 });
        // Scrolled to row 100 (2,600 px), half a row more: rows 100..121 partly show.
        assert_eq!(window(2_613.0, 520.0, 5_000), Window { start: 92, end: 129 });
        // Clipped at the end of the list, and a short list is built whole.
        assert_eq!(window(129_480.0, 520.0, 5_000), Window { start: 4_972, end: 5_000 });
        assert_eq!(window(0.0, 520.0, 3), Window { start: 0, end: 3 });
        assert_eq!(window(0.0, 520.0, 0), Window { start: 0, end: 0 });
        // A scroll offset past the end (the list just shrank) builds nothing out of range.
        assert_eq!(window(50_000.0, 520.0, 10), Window { start: 10, end: 10 });
        // Nonsense in, a sane window out.
        assert_eq!(window(f64::NAN, f64::NAN, 5_000), window(0.0, UNMEASURED_HEIGHT, 5_000));
        assert_eq!(window(-40.0, 520.0, 5_000), Window { start: 0, end: 28 });
    }

    #[wasm_bindgen_test]
    fn the_window_stays_small_whatever_the_scene() {
        for rows in [0, 1, 50, 5_000, 100_000] {
            for top in [0.0, 1_000.0, 77_777.0, 2_000_000.0] {
                let w = window(top, 600.0, rows);
                assert!(w.start <= w.end && w.end <= rows, "{w:?} for {rows} rows at {top}");
                assert!(w.end - w.start <= 600 / ROW_HEIGHT as usize + 2 + 2 * OVERSCAN, "{w:?}");
            }
        }
        assert_eq!(list_height(5_000), 5_000.0 * ROW_HEIGHT + TAIL);
    }

    #[wasm_bindgen_test]
    fn revealing_a_row_scrolls_only_when_it_does_not_show() {
        assert_eq!(reveal(3, 0.0, 520.0), None, "in view");
        assert_eq!(reveal(19, 0.0, 520.0), None, "the last whole row");
        // Row 20 starts at the bottom edge: centred.
        assert_eq!(reveal(20, 0.0, 520.0), Some(20.0 * 26.0 - 247.0));
        assert_eq!(reveal(4_000, 0.0, 520.0), Some(104_000.0 - 247.0));
        // Above the window: centred, and never above the top of the list.
        assert_eq!(reveal(1, 2_600.0, 520.0), Some(0.0));
        assert_eq!(reveal(50, 2_600.0, 520.0), Some(1_300.0 - 247.0));
        // Half hidden at the top.
        assert!(reveal(99, 2_590.0, 520.0).is_some());
    }

    #[wasm_bindgen_test]
    fn dragging_near_an_edge_scrolls_toward_it() {
        assert_eq!(drag_scroll(300.0, 600.0), 0.0, "the middle");
        assert!(drag_scroll(2.0, 600.0) < -40.0, "at the top edge: up, fast");
        assert!(drag_scroll(30.0, 600.0) < 0.0 && drag_scroll(30.0, 600.0) > -10.0, "near it: up, slowly");
        assert!(drag_scroll(598.0, 600.0) > 40.0, "at the bottom edge: down");
        assert!(drag_scroll(-20.0, 600.0) <= -2.0 * ROW_HEIGHT, "above the container: at most two rows");
        assert_eq!(drag_scroll(10.0, 80.0), 0.0, "a container too small to have edges");
    }
}
