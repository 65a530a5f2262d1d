//! Bringing a scene back to the content of an earlier state, as a new change.
//!
//! A restore must not rewind history (connected clients would have to reload, and nobody
//! could undo it). Instead it computes the edits that turn the current content into the
//! target content and applies them as one ordinary transaction: clients receive an update
//! like any other. Unchanged values are left alone, so concurrent edits elsewhere survive.
//! The same walk reports the difference (nodes added, removed, changed) for previews.

use serde::Serialize;
use yrs::types::ToJson;
use yrs::{Any, Array, ArrayPrelim, Doc, GetString, In, Map, MapPrelim, MapRef, Out, ReadTxn, TextPrelim, Transact, TransactionMut, WriteTxn};

use crate::scene::ROOT_MAPS;

/// What restoring `target` would do to the scene's nodes.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SceneDiff {
    /// Node ids the restore brings back.
    pub added: Vec<String>,
    /// Node ids the restore removes.
    pub removed: Vec<String>,
    /// Node ids present in both whose content differs.
    pub changed: Vec<String>,
}

impl SceneDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The difference between the nodes of `current` and those of `target`.
pub fn diff(current: &Doc, target: &Doc) -> SceneDiff {
    let current_nodes = current.get_or_insert_map(crate::scene::NODES);
    let target_nodes = target.get_or_insert_map(crate::scene::NODES);
    let (ct, tt) = (current.transact(), target.transact());
    let mut out = SceneDiff::default();
    for (id, value) in target_nodes.iter(&tt) {
        match current_nodes.get(&ct, id) {
            None => out.added.push(id.to_owned()),
            Some(now) => {
                if now.to_json(&ct) != value.to_json(&tt) {
                    out.changed.push(id.to_owned())
                }
            }
        }
    }
    for (id, _) in current_nodes.iter(&ct) {
        if target_nodes.get(&tt, id).is_none() {
            out.removed.push(id.to_owned());
        }
    }
    crate::order::sort(&mut out.added);
    crate::order::sort(&mut out.removed);
    crate::order::sort(&mut out.changed);
    out
}

/// Edits the document of `txn` so that every root map of the scene has the content it has
/// in `target`.
pub fn revert_to(txn: &mut TransactionMut, target: &Doc) {
    let roots: Vec<(MapRef, MapRef)> =
        ROOT_MAPS.iter().map(|name| (txn.get_or_insert_map(*name), target.get_or_insert_map(*name))).collect();
    let target_txn = target.transact();
    for (now, then) in roots {
        sync_map(txn, &now, &target_txn, &then);
    }
}

fn sync_map<T: ReadTxn>(txn: &mut TransactionMut, now: &MapRef, target_txn: &T, then: &MapRef) {
    let stale: Vec<String> =
        now.keys(txn).filter(|key| then.get(target_txn, key).is_none()).map(str::to_owned).collect();
    for key in stale {
        now.remove(txn, &key);
    }
    for (key, wanted) in then.iter(target_txn) {
        match (now.get(txn, key), wanted) {
            (Some(Out::YMap(inner_now)), Out::YMap(inner_then)) => sync_map(txn, &inner_now, target_txn, &inner_then),
            (Some(Out::Any(have)), Out::Any(want)) if have == want => {}
            (Some(have), want) if !matches!(want, Out::YMap(_)) && have.to_json(txn) == want.to_json(target_txn) => {}
            (_, want) => {
                now.insert(txn, key, prelim(target_txn, &want));
            }
        }
    }
}

/// A fresh, collaborative copy of `value` (maps stay maps, text stays text).
fn prelim<T: ReadTxn>(txn: &T, value: &Out) -> In {
    match value {
        Out::Any(any) => In::Any(any.clone()),
        Out::YMap(map) => In::Map(map.iter(txn).map(|(k, v)| (k.to_owned(), prelim(txn, &v))).collect::<MapPrelim>()),
        Out::YArray(array) => In::Array(array.iter(txn).map(|v| prelim(txn, &v)).collect::<ArrayPrelim>()),
        Out::YText(text) => In::from(TextPrelim::new(text.get_string(txn))),
        other => In::Any(match other.to_json(txn) {
            Any::Undefined => Any::Null,
            any => any,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{NodeId, NodeKind, Scene};
    use yrs::updates::decoder::Decode;
    use yrs::{StateVector, Update};

    fn copy(doc: &Doc) -> Doc {
        let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
        let out = Doc::new();
        out.transact_mut().apply_update(Update::decode_v1(&state).unwrap()).unwrap();
        out
    }

    #[test]
    fn restoring_brings_back_removed_and_drops_added_nodes_as_a_new_change() {
        let doc = Doc::with_client_id(1);
        let scene = Scene::new(&doc);
        let a = scene.add_node(&mut doc.transact_mut(), NodeId::new(1, 0), "A", NodeKind::Mesh, None);
        let b = scene.add_node(&mut doc.transact_mut(), NodeId::new(1, 1), "B", NodeKind::Light, None);
        let saved = copy(&doc);

        scene.remove_node(&mut doc.transact_mut(), &a);
        scene.add_node(&mut doc.transact_mut(), NodeId::new(1, 2), "C", NodeKind::Camera, None);
        scene.rename(&mut doc.transact_mut(), &b, "B renamed");

        let preview = diff(&doc, &saved);
        assert_eq!(preview.added, vec![a.0.clone()]);
        assert_eq!(preview.removed, vec![NodeId::new(1, 2).0]);
        assert_eq!(preview.changed, vec![b.0.clone()]);

        // A peer that only receives the restore's update follows without reloading.
        let peer = copy(&doc);
        let update = {
            let mut txn = doc.transact_mut();
            revert_to(&mut txn, &saved);
            txn.encode_update_v1()
        };
        peer.transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
        for replica in [&doc, &peer] {
            let nodes = Scene::new(replica).nodes(&replica.transact());
            let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, vec!["A", "B"]);
            assert!(diff(replica, &saved).is_empty());
        }
    }
}
