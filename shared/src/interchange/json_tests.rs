//! Scene JSON: round trip, open modes, and refusals.

use yrs::{Doc, Transact};

use super::test_support::{assert_same_tree, flat, sample};
use super::{open_scene_json, save_scene_json, OpenMode, SceneJsonError, SCENE_JSON_VERSION};
use crate::scene::{IdGen, Scene};

fn save(doc: &Doc) -> String {
    let scene = Scene::new(doc);
    let txn = doc.transact();
    save_scene_json(&scene, &txn)
}

fn open(doc: &Doc, json: &str, mode: OpenMode) -> Result<usize, SceneJsonError> {
    let scene = Scene::new(doc);
    let mut txn = doc.transact_mut();
    open_scene_json(&scene, &mut txn, &mut IdGen::new(77), json, mode).map(|ids| ids.len())
}

#[test]
fn scene_json_round_trips_every_field() {
    let original = Doc::new();
    sample(&original);
    let json = save(&original);
    let copy = Doc::new();
    assert_eq!(open(&copy, &json, OpenMode::IntoEmpty), Ok(10));
    assert_same_tree(&flat(&copy), &flat(&original), 0.0);
    // Saving the copy gives the same document but for the ids.
    let strip = |s: &str| -> Vec<String> { s.lines().filter(|l| !l.contains("\"id\"") && !l.contains("\"parent\"")).map(str::to_owned).collect() };
    assert_eq!(strip(&save(&copy)), strip(&json));
}

#[test]
fn open_refuses_a_non_empty_scene_unless_replacing() {
    let doc = Doc::new();
    sample(&doc);
    let other = Doc::new();
    sample(&other);
    let json = save(&other);
    assert_eq!(open(&doc, &json, OpenMode::IntoEmpty), Err(SceneJsonError::NotEmpty(10)));
    assert_eq!(open(&doc, &json, OpenMode::Replace), Ok(10));
    assert_eq!(crate::scene::node_count(&doc), 10);
    assert_same_tree(&flat(&doc), &flat(&other), 0.0);
}

#[test]
fn bad_scene_json_is_refused_and_writes_nothing() {
    let doc_json = |nodes: &str| format!(r#"{{"format": "collab-scene", "version": 1, "nodes": {nodes}}}"#);
    let cases = [
        ("[1, 2]".to_owned(), "not scene json"),
        (r#"{"format": "other", "version": 1, "nodes": []}"#.to_owned(), "not scene json"),
        (format!(r#"{{"format": "collab-scene", "version": {}, "nodes": []}}"#, SCENE_JSON_VERSION + 1), "version"),
        (doc_json(r#"[{"id": "a"}, {"id": "a"}]"#), "duplicate"),
        (doc_json(r#"[{"id": "a", "parent": "zz"}]"#), "parent"),
        (doc_json(r#"[{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}]"#), "cycle"),
        (doc_json(r##"[{"id": "a", "kind": "mesh", "material": {"color": "red", "roughness": 0, "metalness": 0, "opacity": 1}}]"##), "colour"),
        (doc_json(r#"[{"id": "a", "position": [1e999, 0, 0]}]"#), "not scene json"),
    ];
    for (json, what) in cases {
        let doc = Doc::new();
        let result = open(&doc, &json, OpenMode::IntoEmpty);
        let ok = match what {
            "not scene json" => matches!(result, Err(SceneJsonError::NotSceneJson(_))),
            "version" => matches!(result, Err(SceneJsonError::UnsupportedVersion(_))),
            "duplicate" => matches!(result, Err(SceneJsonError::DuplicateId(_))),
            "parent" => matches!(result, Err(SceneJsonError::UnknownParent { .. })),
            "cycle" => matches!(result, Err(SceneJsonError::Cycle(_))),
            _ => matches!(result, Err(SceneJsonError::BadColor { .. })),
        };
        assert!(ok, "{what}: {json} gave {result:?}");
        assert_eq!(crate::scene::node_count(&doc), 0);
    }
}
