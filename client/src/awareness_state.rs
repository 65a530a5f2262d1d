//! What an editor publishes over awareness besides its name and colour, and how peers' states
//! are read. Stock Yjs editors put `{"user":{"name","color"}}` in awareness; this editor adds
//! optional fields next to it, so stock clients still see a name and we still read theirs:
//!
//! ```json
//! {"user":{"name":"Swift Otter","color":"#17bebb"},
//!  "cursor":[1.5,0,-2],                 // world coordinates, absent when off the viewport
//!  "selection":["4d-1","4d-3"],
//!  "view":{"kind":"top","cx":0,"cy":0,"zoom":50},
//!  "drag":{"ids":["4d-1"],"offset":[2,0,0]}}   // a move in progress (world units)
//! ```
//!
//! Everything read from peers is untrusted: wrong types read as absent, numbers must be
//! finite and of sane size, names and lists are bounded, colours must be hex.

use serde_json::{json, Map, Value};
use shared::scene::Vec3;

use crate::view::{View, ViewKind, MAX_ZOOM, MIN_ZOOM};

/// Longest peer name kept (characters).
const MAX_NAME: usize = 40;
/// Most selected or dragged ids kept from one peer.
const MAX_IDS: usize = 500;
/// Coordinates beyond this are nonsense.
const MAX_COORD: f64 = 1e9;
/// Shown for a peer whose colour is missing or unsafe.
pub const FALLBACK_COLOR: &str = "#8892a6";

/// A move in progress: which nodes, by how much (world units).
#[derive(Debug, Clone, PartialEq)]
pub struct DragInfo {
    pub ids: Vec<String>,
    pub offset: Vec3,
}

/// Everything this editor publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalState {
    pub name: String,
    pub color: String,
    pub cursor: Option<Vec3>,
    pub selection: Vec<String>,
    pub view: View,
    pub drag: Option<DragInfo>,
}

impl LocalState {
    pub fn to_json(&self) -> String {
        let mut state = Map::new();
        state.insert("user".into(), json!({ "name": self.name, "color": self.color }));
        if let Some(cursor) = self.cursor {
            state.insert("cursor".into(), json!(cursor));
        }
        state.insert("selection".into(), json!(self.selection));
        let v = &self.view;
        state.insert("view".into(), json!({ "kind": v.kind.as_str(), "cx": v.cx, "cy": v.cy, "zoom": v.zoom }));
        if let Some(drag) = &self.drag {
            state.insert("drag".into(), json!({ "ids": drag.ids, "offset": drag.offset }));
        }
        Value::Object(state).to_string()
    }
}

/// Another client in the room, as its awareness state describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub client: u64,
    pub name: String,
    pub color: String,
    pub cursor: Option<Vec3>,
    pub selection: Vec<String>,
    pub view: Option<View>,
    pub drag: Option<DragInfo>,
}

/// Reads a peer's state; `None` if it is not a JSON object at all.
pub fn peer(client: u64, json: &str) -> Option<Peer> {
    let value: Value = serde_json::from_str(json).ok()?;
    let state = value.as_object()?;
    let user = state.get("user");
    let field = |key: &str| user.and_then(|u| u.get(key)).and_then(Value::as_str);
    let name = field("name")
        .map(|n| n.trim().chars().take(MAX_NAME).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Client {client}"));
    Some(Peer {
        client,
        name,
        color: field("color").filter(|c| is_hex_color(c)).unwrap_or(FALLBACK_COLOR).to_owned(),
        cursor: state.get("cursor").and_then(vec3),
        selection: state.get("selection").map(ids).unwrap_or_default(),
        view: state.get("view").and_then(view),
        drag: state.get("drag").and_then(drag),
    })
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64().filter(|n| n.is_finite() && n.abs() < MAX_COORD)
}

fn vec3(value: &Value) -> Option<Vec3> {
    let items = value.as_array()?;
    if items.len() != 3 {
        return None;
    }
    Some([number(&items[0])?, number(&items[1])?, number(&items[2])?])
}

fn ids(value: &Value) -> Vec<String> {
    let Some(items) = value.as_array() else { return Vec::new() };
    items.iter().filter_map(Value::as_str).filter(|s| !s.is_empty() && s.len() <= 200).take(MAX_IDS).map(str::to_owned).collect()
}

fn view(value: &Value) -> Option<View> {
    let kind = ViewKind::parse(value.get("kind")?.as_str()?)?;
    let zoom = number(value.get("zoom")?)?;
    Some(View {
        kind,
        cx: number(value.get("cx")?)?,
        cy: number(value.get("cy")?)?,
        zoom: zoom.clamp(MIN_ZOOM, MAX_ZOOM),
    })
}

fn drag(value: &Value) -> Option<DragInfo> {
    let ids = ids(value.get("ids")?);
    let offset = vec3(value.get("offset")?)?;
    (!ids.is_empty()).then_some(DragInfo { ids, offset })
}

/// Colours come from other clients and end up in style attributes and canvas styles: accept
/// `#rgb` to `#rrggbbaa` only.
pub fn is_hex_color(color: &str) -> bool {
    let Some(hex) = color.strip_prefix('#') else { return false };
    matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn our_state_reads_back_as_a_peer() {
        let local = LocalState {
            name: "Swift Otter".into(),
            color: "#17bebb".into(),
            cursor: Some([1.5, 0.0, -2.0]),
            selection: vec!["4d-1".into()],
            view: View { kind: ViewKind::Front, cx: 1.0, cy: 2.0, zoom: 80.0 },
            drag: Some(DragInfo { ids: vec!["4d-1".into()], offset: [2.0, 0.0, 0.0] }),
        };
        let peer = peer(9, &local.to_json()).unwrap();
        assert_eq!(peer.name, "Swift Otter");
        assert_eq!(peer.color, "#17bebb");
        assert_eq!(peer.cursor, local.cursor);
        assert_eq!(peer.selection, local.selection);
        assert_eq!(peer.view, Some(local.view));
        assert_eq!(peer.drag, local.drag);
    }

    #[wasm_bindgen_test]
    fn stock_and_hostile_states_read_tolerantly() {
        let stock = peer(3, r##"{"user":{"name":"Bo","color":"#abc"}}"##).unwrap();
        assert_eq!((stock.name.as_str(), stock.cursor, stock.view), ("Bo", None, None));
        let odd = peer(4, r#"{"user":{"name":"   "},"cursor":[1,"x",3],"selection":"all","view":{"kind":"iso"},"drag":{"ids":[],"offset":[1,2,3]}}"#).unwrap();
        assert_eq!(odd.name, "Client 4");
        assert_eq!(odd.color, FALLBACK_COLOR);
        assert!(odd.cursor.is_none() && odd.selection.is_empty() && odd.view.is_none() && odd.drag.is_none());
        let huge = peer(5, r#"{"cursor":[1e300,0,0],"view":{"kind":"top","cx":0,"cy":0,"zoom":1e8}}"#).unwrap();
        assert!(huge.cursor.is_none());
        assert_eq!(huge.view.map(|v| v.zoom), Some(MAX_ZOOM));
        assert!(peer(6, "[1,2]").is_none());
        assert!(peer(6, "not json").is_none());
    }
}
