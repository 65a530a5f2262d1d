//! The toolbar above the viewport (add objects, edit the selection, undo and redo, tool
//! modes, view switcher, snapping, the File menu) and the `?` overlay listing every
//! shortcut.

use leptos::prelude::*;

use crate::camera::ViewKind;
use crate::editor::shortcuts::SHORTCUTS;
use crate::editor::{AddKind, Editor, Mode, Space};

#[component]
pub fn Toolbar(editor: Editor) -> impl IntoView {
    // A viewer's page offers no tool that writes (the editor would refuse it anyway).
    let viewing = move || !editor.access.can_edit();
    let has_selection = move || editor.selection.with(|s| !s.is_empty());
    let mode_button = move |mode: Mode, label: &'static str, key: &'static str| {
        view! {
            <button class="seg" id=format!("mode-{}", mode.as_str()) class:active=move || editor.mode.get() == mode
                disabled=viewing title=format!("{label} ({key})") on:click=move |_| editor.mode.set(mode)>{label}</button>
        }
    };
    let view_button = move |(kind, key): (ViewKind, &'static str)| {
        view! {
            <button class="seg" id=format!("view-{}", kind.as_str()) class:active=move || editor.camera.get().kind() == kind
                title=format!("{} view ({key})", kind.label()) on:click=move |_| editor.switch_view(kind)
            >{kind.label()}</button>
        }
    };
    view! {
        <div class="toolbar" role="toolbar">
            <div class="tool-group">
                <button id="add-node" class="primary" title="Add a box" disabled=viewing on:click=move |_| editor.add(AddKind::Box)>"+ Box"</button>
                {AddKind::ALL[1..].iter().map(|&kind| view! {
                    <button class="tool" id=format!("add-{}", kind.label().to_ascii_lowercase())
                        title=if kind == AddKind::Group { "Add an empty group".to_owned() } else { format!("Add a {}", kind.label().to_ascii_lowercase()) }
                        disabled=viewing on:click=move |_| editor.add(kind)>{kind.button_text()}</button>
                }).collect::<Vec<_>>()}
            </div>
            <div class="tool-group">
                <button class="tool" id="duplicate" title="Duplicate (Ctrl+D)" disabled=move || viewing() || !has_selection() on:click=move |_| editor.duplicate()>"Duplicate"</button>
                <button class="tool" id="delete" title="Delete (Del)" disabled=move || viewing() || !has_selection() on:click=move |_| editor.delete_selection()>"Delete"</button>
                <button class="tool" id="group" title="Group (Ctrl+G)" disabled=move || viewing() || !has_selection() on:click=move |_| editor.group_selection()>"Group"</button>
                <button class="tool" id="ungroup" title="Ungroup (Ctrl+Shift+G)" disabled=move || viewing() || !has_selection() on:click=move |_| editor.ungroup_selection()>"Ungroup"</button>
            </div>
            <div class="tool-group">
                <button class="tool icon-tool" id="undo" title="Undo your last edit (Ctrl+Z)" aria-label="Undo" disabled=move || viewing() || !editor.history.get().0 on:click=move |_| editor.undo()>"↶"</button>
                <button class="tool icon-tool" id="redo" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" disabled=move || viewing() || !editor.history.get().1 on:click=move |_| editor.redo()>"↷"</button>
            </div>
            <div class="tool-group segmented">
                {mode_button(Mode::Move, "Move", "G")}
                {mode_button(Mode::Rotate, "Rotate", "R")}
                {mode_button(Mode::Scale, "Scale", "S")}
            </div>
            <div class="tool-group">
                <button class="tool" id="space-toggle" title="Gizmo axes: the world's or the object's own (L)" disabled=viewing
                    class:active=move || editor.space.get() == Space::Local
                    on:click=move |_| editor.space.update(|s| *s = if *s == Space::World { Space::Local } else { Space::World })
                >{move || if editor.space.get() == Space::World { "World" } else { "Local" }}</button>
            </div>
            <div class="tool-group segmented">
                {ViewKind::CHOICES.map(view_button)}
            </div>
            <div class="tool-group">
                <label class="check" title="Snap moves to a 0.5 grid, turns to 15°, scales to tenths">
                    <input type="checkbox" id="snap" prop:checked=move || editor.snap.get() disabled=viewing
                        on:change=move |ev| editor.snap.set(event_target_checked(&ev)) />
                    "Snap"
                </label>
                <button class="tool" id="frame" title="Frame the selection (F)" on:click=move |_| editor.frame_selection()>"Frame"</button>
                <button class="tool" id="perf-button" title="Performance (P)" class:active=move || editor.ui.perf.get()
                    on:click=move |_| editor.ui.perf.update(|p| *p = !*p)>"Perf"</button>
                <button class="tool" id="help-button" title="Keyboard shortcuts (?)" on:click=move |_| editor.ui.help.update(|h| *h = !*h)>"?"</button>
            </div>
            <crate::files::FileTools editor=editor />
        </div>
    }
}

#[component]
pub fn ShortcutsOverlay(editor: Editor) -> impl IntoView {
    view! {
        <Show when=move || editor.ui.help.get()>
            <div class="overlay" on:click=move |_| editor.ui.help.set(false)>
                <div id="shortcuts" class="dialog" role="dialog" aria-label="Keyboard shortcuts" on:click=|ev| ev.stop_propagation()>
                    <div class="panel-head">
                        <h2>"Keyboard shortcuts"</h2>
                        <button class="ghost" on:click=move |_| editor.ui.help.set(false)>"Close"</button>
                    </div>
                    <table>
                        {SHORTCUTS.iter().map(|(keys, what)| view! {
                            <tr><td><kbd>{*keys}</kbd></td><td>{*what}</td></tr>
                        }).collect::<Vec<_>>()}
                    </table>
                </div>
            </div>
        </Show>
    }
}
