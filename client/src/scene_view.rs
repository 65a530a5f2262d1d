//! The scene panel: how many nodes the shared scene holds, a button that adds one, and the
//! list of nodes. It reads the scene through `shared::scene` and writes it the same way.

use leptos::prelude::*;
use shared::scene::{Node, NodeId, NodeKind, Scene};
use yrs::{Doc, Transact};

#[component]
pub fn ScenePanel(doc: Doc, scene: Scene, nodes: Memo<Vec<Node>>) -> impl IntoView {
    // Ids are unique per client id and this counter, so peers never collide.
    let next = RwSignal::new(0u64);
    let client = doc.client_id().get();
    let add = move |_| {
        let counter = next.get_untracked();
        next.set(counter + 1);
        let name = format!("Mesh {}", nodes.with_untracked(Vec::len) + 1);
        let mut txn = doc.transact_mut();
        scene.add_node(&mut txn, NodeId::new(client, counter), &name, NodeKind::Mesh, None);
    };
    let count = move || nodes.with(Vec::len);

    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Scene"</h2>
                    <p class="muted">
                        <span id="node-count" class="count">{count}</span>
                        {move || if count() == 1 { " node" } else { " nodes" }}
                    </p>
                </div>
                <button id="add-node" class="primary" on:click=add>"Add mesh"</button>
            </div>
            <Show when=move || count() == 0>
                <p class="empty">"The scene is empty. Add a mesh, or open the room link in another tab."</p>
            </Show>
            <ul id="node-list" class="nodes">
                    <For
                        each=move || nodes.get()
                        key=|node| node.id.clone()
                        children=move |node| {
                            let kind = node.kind.as_str();
                            view! {
                                <li data-node-id=node.id.0.clone()>
                                    <span class="kind" data-kind=kind>{kind}</span>
                                    <span class="name">{node.name.clone()}</span>
                                    <code class="node-id">{node.id.0.clone()}</code>
                                </li>
                            }
                        }
                    />
            </ul>
        </section>
    }
}
