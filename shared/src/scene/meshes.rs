//! Triangle meshes in the document: the root map `meshes`, keyed by content address
//! ([`MeshId`]: `sha256-<hex>` of the stored bytes), each value the mesh's bytes
//! ([`TriMesh::encode`]). A mesh node names its mesh under its `mesh` key. The layout is in
//! `docs/scene-schema.md`, "Meshes".
//!
//! Why in the document and not in the relay's blob store: a mesh is then offline, in restore
//! points, in cluster mode, in room export and import, and removed with its room for free,
//! through the same CRDT as everything else; and two people importing the same model write
//! the same key with the same bytes, so it is stored once. The cost is that every join
//! downloads every mesh (BENCHMARKS.md measures it) and a mesh must fit the relay's frame
//! limit (16 MiB by default, about 600,000 triangles).
//!
//! Meshes are immutable and never removed by an edit: undo and restore cover the nodes
//! (`ROOT_MAPS`), not this map, so undoing one person's import cannot take geometry from
//! under another person's node that uses the same mesh. A mesh no node uses stays until a
//! room is deleted.

use yrs::{Any, In, Map, Out, ReadTxn, TransactionMut};

use super::keys;
use super::types::NodeId;
use super::{read, Scene, SceneError};
use crate::geometry::trimesh::{MeshError, MeshId, TriMesh};

/// Why a stored mesh cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredMeshError {
    #[error("no mesh {0} in the document")]
    Missing(MeshId),
    #[error("mesh {0} is not binary data")]
    NotBinary(MeshId),
    #[error("mesh {0} does not hold the bytes its name is the hash of")]
    WrongContent(MeshId),
    #[error("mesh {id}: {error}")]
    Damaged { id: MeshId, error: MeshError },
}

impl Scene {
    /// Stores `mesh` under its content address, unless it is there already; answers the
    /// address. Refuses a mesh that would not decode.
    pub fn add_mesh(&self, txn: &mut TransactionMut, mesh: &TriMesh) -> Result<MeshId, MeshError> {
        mesh.validate()?;
        let bytes = mesh.encode();
        let id = MeshId::of_bytes(&bytes);
        if !matches!(self.meshes.get(txn, id.as_str()), Some(Out::Any(Any::Buffer(_)))) {
            self.meshes.insert(txn, id.as_str(), In::Any(Any::Buffer(bytes.into())));
        }
        Ok(id)
    }

    /// The stored bytes of a mesh.
    pub fn mesh_bytes<T: ReadTxn>(&self, txn: &T, id: &MeshId) -> Result<std::sync::Arc<[u8]>, StoredMeshError> {
        match self.meshes.get(txn, id.as_str()) {
            Some(Out::Any(Any::Buffer(bytes))) => Ok(bytes),
            Some(_) => Err(StoredMeshError::NotBinary(id.clone())),
            None => Err(StoredMeshError::Missing(id.clone())),
        }
    }

    /// A stored mesh, checked: its bytes hash to its name and decode.
    pub fn mesh<T: ReadTxn>(&self, txn: &T, id: &MeshId) -> Result<TriMesh, StoredMeshError> {
        let bytes = self.mesh_bytes(txn, id)?;
        if MeshId::of_bytes(&bytes) != *id {
            return Err(StoredMeshError::WrongContent(id.clone()));
        }
        TriMesh::decode(&bytes).map_err(|error| StoredMeshError::Damaged { id: id.clone(), error })
    }

    /// (vertices, triangles) of a stored mesh, from its header only.
    pub fn mesh_counts<T: ReadTxn>(&self, txn: &T, id: &MeshId) -> Option<(usize, usize)> {
        TriMesh::counts(&self.mesh_bytes(txn, id).ok()?)
    }

    /// The ids of every stored mesh, sorted.
    pub fn mesh_ids<T: ReadTxn>(&self, txn: &T) -> Vec<MeshId> {
        let mut ids: Vec<MeshId> = self.meshes.iter(txn).map(|(k, _)| MeshId(k.to_owned())).collect();
        crate::order::sort(&mut ids);
        ids
    }

    /// The bytes the stored meshes take (what each join downloads for them).
    pub fn mesh_storage_bytes<T: ReadTxn>(&self, txn: &T) -> usize {
        self.meshes.iter(txn).map(|(_, v)| if let Out::Any(Any::Buffer(b)) = v { b.len() } else { 0 }).sum()
    }

    /// Makes node `id` draw mesh `mesh` (`None`: its primitive again).
    pub fn set_mesh(&self, txn: &mut TransactionMut, id: &NodeId, mesh: Option<&MeshId>) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        match mesh {
            Some(m) if read::string(&map, txn, keys::MESH).as_deref() != Some(m.as_str()) => {
                map.insert(txn, keys::MESH, In::from(m.as_str()));
            }
            None if map.get(txn, keys::MESH).is_some() => {
                map.remove(txn, keys::MESH);
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::NodeKind;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, ReadTxn, Transact};

    fn triangle() -> TriMesh {
        TriMesh { positions: vec![[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], indices: vec![0, 1, 2], ..TriMesh::default() }
    }

    #[test]
    fn a_mesh_is_stored_once_and_read_back_checked() {
        let doc = Doc::with_client_id(1);
        let scene = Scene::new(&doc);
        let mut txn = doc.transact_mut();
        let id = scene.add_mesh(&mut txn, &triangle()).expect("a valid mesh");
        assert_eq!(scene.add_mesh(&mut txn, &triangle()).expect("again"), id);
        assert_eq!(scene.mesh_ids(&txn), std::slice::from_ref(&id));
        scene.add_node(&mut txn, "a".into(), "A", NodeKind::Mesh, None);
        scene.set_mesh(&mut txn, &"a".into(), Some(&id)).expect("the node exists");
        assert_eq!(scene.node(&txn, &"a".into()).and_then(|n| n.mesh), Some(id.clone()));
        assert_eq!(scene.mesh(&txn, &id), Ok(triangle()));
        // Bytes under a name they do not hash to are refused.
        let other = MeshId(format!("sha256-{}", "0".repeat(64)));
        scene.meshes.insert(&mut txn, other.as_str(), In::Any(Any::Buffer(triangle().encode().into())));
        assert_eq!(scene.mesh(&txn, &other), Err(StoredMeshError::WrongContent(other.clone())));
        assert!(matches!(scene.mesh(&txn, &MeshId("sha256-missing".into())), Err(StoredMeshError::Missing(_))));
        scene.set_mesh(&mut txn, &"a".into(), None).expect("the node exists");
        assert_eq!(scene.node(&txn, &"a".into()).and_then(|n| n.mesh), None);
    }

    #[test]
    fn two_people_adding_the_same_mesh_converge_on_one_copy() {
        let (a, b) = (Doc::with_client_id(1), Doc::with_client_id(2));
        let (sa, sb) = (Scene::new(&a), Scene::new(&b));
        let big = TriMesh { positions: vec![[0.5; 3]; 3000], indices: (0..3000).collect(), ..TriMesh::default() };
        let id = sa.add_mesh(&mut a.transact_mut(), &big).expect("valid");
        assert_eq!(sb.add_mesh(&mut b.transact_mut(), &big).expect("valid"), id);
        // Each applies what the other has that it lacks.
        let to_b = a.transact().encode_state_as_update_v1(&b.transact().state_vector());
        let to_a = b.transact().encode_state_as_update_v1(&a.transact().state_vector());
        for (doc, update) in [(&b, to_b), (&a, to_a)] {
            let update = yrs::Update::decode_v1(&update).expect("an update");
            doc.transact_mut().apply_update(update).expect("applies");
        }
        let one = big.encode().len();
        for (doc, scene) in [(&a, &sa), (&b, &sb)] {
            let txn = doc.transact();
            assert_eq!(scene.mesh(&txn, &id), Ok(big.clone()));
            let size = txn.encode_state_as_update_v1(&yrs::StateVector::default()).len();
            assert!(size < one + one / 10, "one copy of {one} bytes, the document has {size}");
        }
    }
}
