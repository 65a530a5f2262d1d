//! The triangle meshes the viewport draws and picks: loaded from the document once each
//! (checked, normals filled in, hierarchy built) and shared by every node that uses them.
//! A mesh that cannot be loaded (missing, damaged) is remembered as such until the meshes in
//! the document change; its nodes draw their stand-in primitive meanwhile.

use std::collections::HashMap;
use std::sync::Arc;

use shared::geometry::shape::LoadedMesh;
use shared::scene::MeshId;

use crate::editor::Editor;

#[derive(Default)]
pub struct MeshLibrary {
    loaded: HashMap<MeshId, Option<Arc<LoadedMesh>>>,
}

impl MeshLibrary {
    /// The mesh `id`, loading it the first time.
    pub fn get(&mut self, editor: Editor, id: &MeshId) -> Option<Arc<LoadedMesh>> {
        if let Some(known) = self.loaded.get(id) {
            return known.clone();
        }
        // `None`: the document is being written; try again next frame (not remembered).
        let loaded = editor.load_mesh(id)?.ok().map(|mesh| Arc::new(LoadedMesh::new(id.clone(), mesh)));
        self.loaded.insert(id.clone(), loaded.clone());
        loaded
    }

    /// Forgets what failed to load (the document's meshes changed: it may be there now) and
    /// what no node uses any more.
    pub fn refresh(&mut self, used: impl Fn(&MeshId) -> bool) {
        self.loaded.retain(|id, m| m.is_some() && used(id));
    }
}
