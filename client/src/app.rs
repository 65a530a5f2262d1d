//! The top component: creates the room's document and the editor state, starts the relay
//! connection and the presence publisher, and lays out the page (header, outliner and
//! people, toolbar and viewport, property panel). Everything below gets what it needs as
//! props; there is no global state.

use futures_channel::mpsc;
use leptos::prelude::*;
use yrs::Doc;

use crate::access::Access;
use crate::connection;
use crate::deletion::{banner::DeletedBanner, Deletion};
use crate::offline;
use crate::editor::{shortcuts, Editor};
use crate::identity;
use crate::jobs::{self, JobsPanel};
use crate::outliner::Outliner;
use crate::participants::Participants;
use crate::perf::{self, meter::Meter, PerfPanel};
use crate::properties::Properties;
use crate::restore::RestorePoints;
use crate::publish;
use crate::room;
use crate::header::Header;
use crate::toolbar::{ShortcutsOverlay, Toolbar};
use crate::viewport::Viewport;

#[component]
pub fn App() -> impl IntoView {
    let window = web_sys::window().expect("a browser window");
    let room = room::resolve(&window);
    let user = RwSignal::new(identity::load());

    // A fresh client id per page load, as Yjs does: two tabs are two clients.
    let doc = Doc::new();
    // Known before anything can write: the token's claims, or what the relay said last time.
    let access = Access::new(&room.name, room.token.as_deref());
    let editor = Editor::new(doc.clone(), access);

    let (presence_tx, presence_rx) = mpsc::unbounded();
    let first_state = publish::local_state(editor, user).to_json();
    let meter = Meter::default();
    // The copy on this device loads first; the relay session starts once it is in. Both
    // stop for good if the relay says the room was deleted.
    let deletion = Deletion::new();
    let (offline, stored, presence_rx) = offline::start(&doc, &room.name, first_state.clone(), presence_rx, deletion);
    let status = connection::connect(connection::Session {
        doc,
        room: room.name.clone(),
        token: room.token.clone(),
        first_state,
        presence_rx,
        meter: meter.clone(),
        ready: stored,
        deletion,
        access,
    });
    let perf = perf::start(editor, status, meter);
    publish::start(editor, user, presence_tx, perf.quality);
    shortcuts::install(editor);
    let jobs = jobs::start(editor.doc(), room.clone(), user, status, access);
    let peers = offline::merged_peers(status.peers, offline.tab_peers);

    view! {
        <Header room=room.clone() status=status user=user offline=offline peers=peers deletion=deletion access=access />
        <DeletedBanner deletion=deletion editor=editor />
        <div id="editor" class="editor"
            data-local-updates=move || editor.local_updates.get().to_string()
            data-undo-depth=move || editor.history.get().2.to_string()
            data-selection=move || editor.selection.with(|s| s.iter().map(|id| id.0.as_str()).collect::<Vec<_>>().join(" "))
            data-mode=move || editor.mode.get().as_str()
            data-space=move || editor.space.get().as_str()
            data-following=move || editor.follow.get().map(|c| c.to_string()).unwrap_or_default()
            data-client=editor.doc().client_id().get().to_string()
            data-quality=move || perf.quality.get().to_string()
            data-role=move || access.role.get().as_str()
        >
            <aside class="sidebar left">
                <Outliner editor=editor peers=peers />
                <Participants editor=editor user=user peers=peers />
            </aside>
            <main class="stage">
                <Toolbar editor=editor />
                <Viewport editor=editor peers=peers />
            </main>
            <aside class="sidebar right">
                <Properties editor=editor />
                <RestorePoints editor=editor room=room.name.clone() token=room.token.clone() />
                <JobsPanel jobs=jobs editor=editor />
            </aside>
            // Over the right sidebar's column, so it never covers the toolbar or the viewport.
            <PerfPanel perf=perf />
        </div>
        <ShortcutsOverlay editor=editor />
    }
}
