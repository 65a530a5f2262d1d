//! The resolved hierarchy: what the outliner and the viewport show. Every peer with the same
//! document content resolves the same tree, whatever order the edits arrived in.
//!
//! Rules (also in `docs/scene-schema.md`):
//! - **Orphans**: a node whose `parent` is absent, empty, itself, or names no node in `nodes`
//!   (e.g. the parent was deleted while someone added this child) is a root.
//! - **Cycles**: concurrent reparenting can store a cycle (A under B, B under A). Each cycle
//!   is broken at its node with the smallest id (byte-wise string order), which becomes a
//!   root; the rest of the cycle hangs below it as stored.
//! - **Sibling order**: by `order` (byte-wise), then by id for equal keys.

use std::collections::HashMap;

use super::types::{Node, NodeId};

/// One node of the resolved tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEntry {
    pub node: Node,
    /// The resolved parent (`None`: a root), which may differ from `node.parent`.
    pub parent: Option<NodeId>,
    /// Children in sibling order.
    pub children: Vec<NodeId>,
}

/// The scene's nodes as a tree, cycles and orphans resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneTree {
    roots: Vec<NodeId>,
    entries: HashMap<NodeId, TreeEntry>,
}

impl SceneTree {
    /// Resolves the hierarchy of `nodes` (as read from one document).
    pub fn from_nodes(nodes: Vec<Node>) -> Self {
        let mut parent: HashMap<NodeId, Option<NodeId>> = HashMap::with_capacity(nodes.len());
        for node in &nodes {
            parent.insert(node.id.clone(), None);
        }
        for node in &nodes {
            let stored = node.parent.as_ref().filter(|p| **p != node.id && parent.contains_key(*p));
            parent.insert(node.id.clone(), stored.cloned());
        }
        break_cycles(&mut parent);

        let mut entries: HashMap<NodeId, TreeEntry> = nodes
            .into_iter()
            .map(|node| {
                let resolved = parent.get(&node.id).cloned().flatten();
                (node.id.clone(), TreeEntry { node, parent: resolved, children: Vec::new() })
            })
            .collect();
        let mut roots = Vec::new();
        let mut ids: Vec<NodeId> = entries.keys().cloned().collect();
        sort_siblings(&mut ids, &entries);
        for id in ids {
            match entries.get(&id).and_then(|e| e.parent.clone()) {
                Some(p) => {
                    if let Some(parent) = entries.get_mut(&p) {
                        parent.children.push(id);
                    }
                }
                None => roots.push(id),
            }
        }
        SceneTree { roots, entries }
    }

    /// Replaces the state of node `node.id` in place when its place in the hierarchy (stored
    /// parent and sibling order) is unchanged, so nothing else about the tree can change; a
    /// client refreshing one edited node then skips resolving the whole scene. Answers `false`,
    /// changing nothing, when the node is new or its parent or order changed: the tree must
    /// then be resolved again ([`SceneTree::from_nodes`]).
    pub fn refresh_node(&mut self, node: Node) -> bool {
        match self.entries.get_mut(&node.id) {
            Some(entry) if entry.node.parent == node.parent && entry.node.order == node.order => {
                entry.node = node;
                true
            }
            _ => false,
        }
    }

    /// Top-level nodes in sibling order.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: &NodeId) -> Option<&TreeEntry> {
        self.entries.get(id)
    }

    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.entries.get(id).map(|e| &e.node)
    }

    /// The resolved parent; `None` for roots and unknown ids.
    pub fn parent(&self, id: &NodeId) -> Option<&NodeId> {
        self.entries.get(id).and_then(|e| e.parent.as_ref())
    }

    /// Children of `parent` (`None`: the roots) in sibling order.
    pub fn children(&self, parent: Option<&NodeId>) -> &[NodeId] {
        match parent {
            None => &self.roots,
            Some(p) => self.entries.get(p).map_or(&[], |e| e.children.as_slice()),
        }
    }

    /// Every node in outliner order (depth first, siblings in order) with its depth (0 = root).
    pub fn depth_first(&self) -> Vec<(&Node, usize)> {
        let mut out = Vec::with_capacity(self.entries.len());
        let mut stack: Vec<(&NodeId, usize)> = self.roots.iter().rev().map(|id| (id, 0)).collect();
        while let Some((id, depth)) = stack.pop() {
            if let Some(entry) = self.entries.get(id) {
                out.push((&entry.node, depth));
                stack.extend(entry.children.iter().rev().map(|c| (c, depth + 1)));
            }
        }
        out
    }

    /// The nodes below `id`, depth first (not `id` itself).
    pub fn descendants(&self, id: &NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<&NodeId> = self.children(Some(id)).iter().rev().collect();
        while let Some(id) = stack.pop() {
            out.push(id.clone());
            stack.extend(self.children(Some(id)).iter().rev());
        }
        out
    }

    /// Whether `ancestor` is `id` or above it.
    pub fn is_ancestor_or_self(&self, ancestor: &NodeId, id: &NodeId) -> bool {
        let mut current = Some(id);
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            current = self.parent(c);
        }
        false
    }
}

fn sort_siblings(ids: &mut [NodeId], entries: &HashMap<NodeId, TreeEntry>) {
    let order = |id: &NodeId| entries.get(id).map_or("", |e| e.node.order.as_str());
    crate::order::sort_by(ids, |a, b| order(a).cmp(order(b)).then_with(|| a.cmp(b)));
}

/// Makes the smallest id of every cycle a root. Each node has at most one parent, so each
/// connected part has at most one cycle, and the result doesn't depend on visiting order.
fn break_cycles(parent: &mut HashMap<NodeId, Option<NodeId>>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        OnPath,
        Done,
    }
    let mut state: HashMap<NodeId, State> = HashMap::with_capacity(parent.len());
    let mut ids: Vec<NodeId> = parent.keys().cloned().collect();
    crate::order::sort(&mut ids);
    for start in ids {
        let mut path = Vec::new();
        let mut current = Some(start);
        while let Some(id) = current {
            match state.get(&id) {
                Some(State::Done) => break,
                Some(State::OnPath) => {
                    let from = path.iter().position(|p| *p == id).unwrap_or(0);
                    if let Some(smallest) = path[from..].iter().min().cloned() {
                        parent.insert(smallest, None);
                    }
                    break;
                }
                None => {
                    state.insert(id.clone(), State::OnPath);
                    current = parent.get(&id).cloned().flatten();
                    path.push(id);
                }
            }
        }
        for id in path {
            state.insert(id, State::Done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::types::{NodeKind, Transform};

    fn node(id: &str, parent: Option<&str>, order: &str) -> Node {
        Node {
            id: NodeId::from(id),
            name: id.to_owned(),
            kind: NodeKind::Group,
            parent: parent.map(NodeId::from),
            order: order.to_owned(),
            transform: Transform::default(),
            visible: true,
            locked: false,
            primitive: None,
            material: None,
            light: None,
            mesh: None,
        }
    }

    fn shape(tree: &SceneTree) -> Vec<(String, usize)> {
        tree.depth_first().into_iter().map(|(n, d)| (n.id.0.clone(), d)).collect()
    }

    #[test]
    fn orders_siblings_and_reroots_orphans() {
        let tree = SceneTree::from_nodes(vec![
            node("b", None, "W"),
            node("a", None, "V"),
            node("c", Some("a"), "V"),
            node("d", Some("a"), "V"),
            node("e", Some("gone"), "U"),
            node("f", Some("f"), "X"),
        ]);
        let expect = [("e", 0), ("a", 0), ("c", 1), ("d", 1), ("b", 0), ("f", 0)];
        assert_eq!(shape(&tree), expect.map(|(s, d)| (s.to_owned(), d)));
        assert_eq!(tree.descendants(&"a".into()), vec![NodeId::from("c"), NodeId::from("d")]);
        assert!(tree.is_ancestor_or_self(&"a".into(), &"d".into()));
        assert!(!tree.is_ancestor_or_self(&"d".into(), &"a".into()));
    }

    #[test]
    fn refreshing_a_node_in_place_equals_resolving_again() {
        let nodes = vec![node("a", None, "V"), node("b", Some("a"), "V"), node("c", Some("b"), "W")];
        let mut tree = SceneTree::from_nodes(nodes.clone());
        let mut renamed = nodes[1].clone();
        renamed.name = "renamed".to_owned();
        renamed.transform.position = [1.0, 2.0, 3.0];
        assert!(tree.refresh_node(renamed.clone()));
        assert_eq!(tree, SceneTree::from_nodes(vec![nodes[0].clone(), renamed, nodes[2].clone()]));
        // A new parent, a new order or a new node needs the whole tree resolved again.
        let before = tree.clone();
        assert!(!tree.refresh_node(node("b", None, "V")));
        assert!(!tree.refresh_node(node("b", Some("a"), "X")));
        assert!(!tree.refresh_node(node("z", None, "V")));
        assert_eq!(tree, before);
    }

    #[test]
    fn cycles_break_at_the_smallest_id_whatever_the_input_order() {
        let nodes = vec![
            node("x", Some("z"), "V"),
            node("y", Some("x"), "V"),
            node("z", Some("y"), "V"),
            node("w", Some("y"), "W"),
            node("p", Some("q"), "V"),
            node("q", Some("p"), "V"),
        ];
        let tree = SceneTree::from_nodes(nodes.clone());
        assert_eq!(tree.parent(&"x".into()), None);
        assert_eq!(tree.parent(&"p".into()), None);
        assert_eq!(tree.parent(&"q".into()), Some(&NodeId::from("p")));
        let expect = [("p", 0), ("q", 1), ("x", 0), ("y", 1), ("z", 2), ("w", 2)];
        assert_eq!(shape(&tree), expect.map(|(s, d)| (s.to_owned(), d)));
        let mut reversed = nodes;
        reversed.reverse();
        assert_eq!(SceneTree::from_nodes(reversed), tree);
    }
}
