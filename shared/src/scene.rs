//! The scene model over a yrs document: the one place that knows the document's layout.
//!
//! Layout (documented for JavaScript clients in `docs/scene-schema.md`): a root map `nodes`
//! holding one nested map per scene node, keyed by the node's stable id. Each node map has
//! the keys `name` (string), `kind` (`"group" | "mesh" | "light" | "camera"`) and `parent`
//! (a node id, or absent at the root). The editor issue grows this model (transforms,
//! materials, sibling order); everything reads and writes scenes through this module.

use yrs::{Any, Doc, In, Map, MapPrelim, MapRef, Out, ReadTxn, Transact, TransactionMut};

/// Name of the root map that holds every node.
pub const NODES: &str = "nodes";

/// Every root map of a scene document (what a restore brings back).
pub const ROOT_MAPS: &[&str] = &[NODES];

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Group,
    Mesh,
    Light,
    Camera,
}

impl NodeKind {
    /// The string stored in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Group => "group",
            NodeKind::Mesh => "mesh",
            NodeKind::Light => "light",
            NodeKind::Camera => "camera",
        }
    }

    /// Parses the stored string; unknown kinds (from newer clients) are `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "group" => NodeKind::Group,
            "mesh" => NodeKind::Mesh,
            "light" => NodeKind::Light,
            "camera" => NodeKind::Camera,
            _ => return None,
        })
    }
}

/// A stable node id: unique per creating client (its yrs client id) and its local counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub String);

impl NodeId {
    pub fn new(client_id: u64, counter: u64) -> Self {
        NodeId(format!("{client_id:x}-{counter}"))
    }
}

/// A node as read from the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub name: String,
    pub kind: Option<NodeKind>,
    pub parent: Option<NodeId>,
}

/// Typed access to the scene held by a yrs document.
#[derive(Clone)]
pub struct Scene {
    nodes: MapRef,
}

impl Scene {
    /// Binds the model to `doc`, creating the root map if needed. Call before the first
    /// transaction that reads the scene.
    pub fn new(doc: &Doc) -> Self {
        Scene { nodes: doc.get_or_insert_map(NODES) }
    }

    /// Adds a node and returns its id.
    pub fn add_node(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        name: &str,
        kind: NodeKind,
        parent: Option<&NodeId>,
    ) -> NodeId {
        let mut fields: MapPrelim = MapPrelim::from([
            ("name", In::from(name)),
            ("kind", In::from(kind.as_str())),
        ]);
        if let Some(parent) = parent {
            fields.insert("parent".into(), In::from(parent.0.as_str()));
        }
        self.nodes.insert(txn, id.0.as_str(), fields);
        id
    }

    /// Renames a node; false if it does not exist.
    pub fn rename(&self, txn: &mut TransactionMut, id: &NodeId, name: &str) -> bool {
        match self.nodes.get(txn, &id.0) {
            Some(Out::YMap(fields)) => {
                fields.insert(txn, "name", name);
                true
            }
            _ => false,
        }
    }

    /// Removes a node (its children keep their parent id; the editor re-roots them).
    pub fn remove_node(&self, txn: &mut TransactionMut, id: &NodeId) -> bool {
        self.nodes.remove(txn, &id.0).is_some()
    }

    /// Number of nodes in the scene.
    pub fn node_count<T: ReadTxn>(&self, txn: &T) -> usize {
        self.nodes.len(txn) as usize
    }

    /// Every node, sorted by id so all peers list them alike.
    pub fn nodes<T: ReadTxn>(&self, txn: &T) -> Vec<Node> {
        let mut nodes: Vec<Node> = self
            .nodes
            .iter(txn)
            .filter_map(|(id, value)| match value {
                Out::YMap(fields) => Some(Node {
                    id: NodeId(id.to_owned()),
                    name: string_field(&fields, txn, "name").unwrap_or_default(),
                    kind: string_field(&fields, txn, "kind").as_deref().and_then(NodeKind::parse),
                    parent: string_field(&fields, txn, "parent").map(NodeId),
                }),
                _ => None,
            })
            .collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        nodes
    }
}

fn string_field<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    match map.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// Counts the nodes of a document without keeping a [`Scene`] around.
pub fn node_count(doc: &Doc) -> usize {
    let scene = Scene::new(doc);
    let txn = doc.transact();
    scene.node_count(&txn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{StateVector, Update};

    #[test]
    fn nodes_added_on_two_docs_merge() {
        let a = Doc::with_client_id(1);
        let b = Doc::with_client_id(2);
        let (sa, sb) = (Scene::new(&a), Scene::new(&b));
        let root = sa.add_node(&mut a.transact_mut(), NodeId::new(1, 0), "Root", NodeKind::Group, None);
        sb.add_node(&mut b.transact_mut(), NodeId::new(2, 0), "Lamp", NodeKind::Light, None);
        sa.add_node(&mut a.transact_mut(), NodeId::new(1, 1), "Box", NodeKind::Mesh, Some(&root));
        let ua = a.transact().encode_state_as_update_v1(&StateVector::default());
        let ub = b.transact().encode_state_as_update_v1(&StateVector::default());
        a.transact_mut().apply_update(Update::decode_v1(&ub).unwrap()).unwrap();
        b.transact_mut().apply_update(Update::decode_v1(&ua).unwrap()).unwrap();
        let na = sa.nodes(&a.transact());
        assert_eq!(na, sb.nodes(&b.transact()));
        assert_eq!(na.len(), 3);
        let boxed = na.iter().find(|n| n.name == "Box").unwrap();
        assert_eq!(boxed.parent.as_ref(), Some(&root));
        assert_eq!(boxed.kind, Some(NodeKind::Mesh));
        assert_eq!(node_count(&b), 3);
    }
}
