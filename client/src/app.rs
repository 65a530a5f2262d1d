//! The top component: creates the room's document, starts the relay connection and lays out
//! the page. Everything below it gets what it needs as props; there is no global state.

use leptos::prelude::*;
use shared::scene::Scene;
use yrs::{Doc, Transact};

use crate::connection;
use crate::presence::User;
use crate::room;
use crate::scene_view::ScenePanel;
use crate::status::Header;

/// Key of the document observer that tells the UI the document changed.
const UI_OBSERVER: &str = "ui";

#[component]
pub fn App() -> impl IntoView {
    let window = web_sys::window().expect("a browser window");
    let room = room::resolve(&window);
    let user = User::random();

    // A fresh client id per page load, as Yjs does: two tabs are two clients.
    let doc = Doc::new();
    let scene = Scene::new(&doc);

    // Bumped after every committed change, local or remote. The observer runs while the
    // transaction is still open; the memo below reads the document later, when the UI
    // updates, never inside it.
    let revision = RwSignal::new(0u64);
    doc.observe_update_v1(UI_OBSERVER, move |_, _| {
        revision.try_update(|r| *r += 1);
    })
    .expect("no transaction is open yet");
    let nodes = Memo::new({
        let (doc, scene) = (doc.clone(), scene.clone());
        move |_| {
            revision.track();
            scene.nodes(&doc.transact())
        }
    });

    let status = connection::connect(doc.clone(), &room.name, room.token.clone(), user.clone());

    view! {
        <Header room=room status=status user=user />
        <main class="content">
            <ScenePanel doc=doc scene=scene nodes=nodes />
        </main>
    }
}
