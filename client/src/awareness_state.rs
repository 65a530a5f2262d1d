//! What an editor publishes over awareness besides its name and colour, and how peers' states
//! are read. Stock Yjs editors put `{"user":{"name","color"}}` in awareness; this editor adds
//! optional fields next to it, so stock clients still see a name and we still read theirs:
//!
//! ```json
//! {"user":{"name":"Swift Otter","color":"#17bebb"},
//!  "cursor":[1.5,0,-2],       // world point under the pointer: on a surface, else the ground
//!  "selection":["4d-1","4d-3"],
//!  "camera":{"projection":"perspective","target":[0,0,0],"yaw":0.6,"pitch":0.45,
//!            "distance":12,"position":[6.2,5.2,9.9],"fov":50},
//!  "drag":{"ids":["4d-1"],"offset":[2,0,0]}}   // a gesture in progress, see below
//! ```
//!
//! The camera orbits `target` from `distance` away; `position` (the eye) is written for
//! readers that want it and ignored when read: eye = target + distance ·
//! (cos pitch · sin yaw, sin pitch, cos pitch · cos yaw). `fov` is the vertical field of view
//! in degrees; an orthographic camera shows the height a perspective one would at the target.
//!
//! `drag` is one of: a move, `{"ids","offset":[x,y,z]}`; a turn,
//! `{"ids","rotate":{"axis":[x,y,z],"angle":radians,"pivot":[x,y,z]}}`; a scale along the
//! nodes' own axes, `{"ids","scale":{"factors":[x,y,z],"pivot":[x,y,z],"axes":[qx,qy,qz,qw]}}`
//! (`axes`: the rotation whose columns carry node origins away from the pivot).
//!
//! Everything read from peers is untrusted: wrong types read as absent, numbers must be
//! finite and of sane size, names and lists are bounded, colours must be hex.

use serde_json::{json, Map, Value};
use shared::jobs::render::world::FOV_Y;
use shared::math::{mat3, Quat};
use shared::scene::{NodeId, Vec3};

use crate::camera::{Camera, Projection, MAX_DISTANCE, MIN_DISTANCE};
use crate::preview::Preview;

/// Longest peer name kept (characters).
const MAX_NAME: usize = 40;
/// Most selected or dragged ids kept from one peer.
const MAX_IDS: usize = 500;
/// Coordinates beyond this are nonsense.
const MAX_COORD: f64 = 1e9;
/// Shown for a peer whose colour is missing or unsafe.
pub const FALLBACK_COLOR: &str = "#8892a6";

/// Everything this editor publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalState {
    pub name: String,
    pub color: String,
    pub cursor: Option<Vec3>,
    pub selection: Vec<String>,
    pub camera: Camera,
    pub drag: Option<Preview>,
}

impl LocalState {
    pub fn to_json(&self) -> String {
        let mut state = Map::new();
        state.insert("user".into(), json!({ "name": self.name, "color": self.color }));
        if let Some(cursor) = self.cursor {
            state.insert("cursor".into(), json!(cursor));
        }
        state.insert("selection".into(), json!(self.selection));
        let c = &self.camera;
        state.insert(
            "camera".into(),
            json!({
                "projection": c.projection.as_str(), "target": c.target, "yaw": c.yaw, "pitch": c.pitch,
                "distance": c.distance, "position": c.eye(), "fov": FOV_Y.to_degrees(),
            }),
        );
        if let Some(drag) = &self.drag {
            let ids: Vec<&str> = drag.ids().iter().map(NodeId::as_str).collect();
            let value = match drag {
                Preview::Move { offset, .. } => json!({ "ids": ids, "offset": offset }),
                Preview::Rotate { axis, angle, pivot, .. } => {
                    json!({ "ids": ids, "rotate": { "axis": axis, "angle": angle, "pivot": pivot } })
                }
                Preview::Scale { factors, pivot, axes, .. } => {
                    let q = quat_of(axes);
                    json!({ "ids": ids, "scale": { "factors": factors, "pivot": pivot, "axes": q.to_array() } })
                }
            };
            state.insert("drag".into(), value);
        }
        Value::Object(state).to_string()
    }
}

/// Another client in the room, as its awareness state describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub client: u64,
    pub name: String,
    /// The person's id as the relay vouches for it (`user.id`, which the relay writes from
    /// a token's `sub` or its auth webhook; see docs/protocol.md).
    pub id: Option<String>,
    pub color: String,
    pub cursor: Option<Vec3>,
    pub selection: Vec<NodeId>,
    pub camera: Option<Camera>,
    pub drag: Option<Preview>,
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
        id: field("id").map(|id| id.trim().chars().take(MAX_NAME * 2).collect::<String>()).filter(|id| !id.is_empty()),
        color: field("color").filter(|c| is_hex_color(c)).unwrap_or(FALLBACK_COLOR).to_owned(),
        cursor: state.get("cursor").and_then(vec3),
        selection: state.get("selection").map(|v| ids(v).into_iter().map(NodeId).collect()).unwrap_or_default(),
        camera: state.get("camera").and_then(camera),
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

fn camera(value: &Value) -> Option<Camera> {
    let angle = |key: &str| number(value.get(key)?).filter(|a| a.abs() <= 100.0);
    Some(Camera {
        projection: Projection::parse(value.get("projection")?.as_str()?)?,
        target: vec3(value.get("target")?)?,
        yaw: angle("yaw")?,
        pitch: angle("pitch")?.clamp(-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2),
        distance: number(value.get("distance")?)?.clamp(MIN_DISTANCE, MAX_DISTANCE),
    })
}

/// A unit vector, or `None`.
fn unit(value: &Value) -> Option<Vec3> {
    let v = vec3(value)?;
    let len = shared::math::length(v);
    (len > 1e-9).then(|| shared::math::scale(v, 1.0 / len))
}

fn drag(value: &Value) -> Option<Preview> {
    let ids: Vec<NodeId> = ids(value.get("ids")?).into_iter().map(NodeId).collect();
    if ids.is_empty() {
        return None;
    }
    if let Some(offset) = value.get("offset").and_then(vec3) {
        return Some(Preview::Move { ids, offset });
    }
    if let Some(r) = value.get("rotate") {
        let angle = number(r.get("angle")?)?;
        return Some(Preview::Rotate { ids, axis: unit(r.get("axis")?)?, angle, pivot: vec3(r.get("pivot")?)? });
    }
    let s = value.get("scale")?;
    let factors = vec3(s.get("factors")?)?;
    let q = s.get("axes")?.as_array().filter(|a| a.len() == 4)?;
    let axes = Quat::from_array([number(&q[0])?, number(&q[1])?, number(&q[2])?, number(&q[3])?]).normalized()?.to_mat3();
    Some(Preview::Scale { ids, factors, pivot: vec3(s.get("pivot")?)?, axes })
}

/// The quaternion of a rotation matrix (Shepperd's method, as three.js
/// `Quaternion.setFromRotationMatrix`).
fn quat_of(m: &mat3::Mat3) -> Quat {
    let trace = m[0][0] + m[1][1] + m[2][2];
    let q = if trace > 0.0 {
        let s = 0.5 / (trace + 1.0).sqrt();
        [(m[2][1] - m[1][2]) * s, (m[0][2] - m[2][0]) * s, (m[1][0] - m[0][1]) * s, 0.25 / s]
    } else if m[0][0] > m[1][1] && m[0][0] > m[2][2] {
        let s = 2.0 * (1.0 + m[0][0] - m[1][1] - m[2][2]).sqrt();
        [0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s, (m[2][1] - m[1][2]) / s]
    } else if m[1][1] > m[2][2] {
        let s = 2.0 * (1.0 + m[1][1] - m[0][0] - m[2][2]).sqrt();
        [(m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s, (m[0][2] - m[2][0]) / s]
    } else {
        let s = 2.0 * (1.0 + m[2][2] - m[0][0] - m[1][1]).sqrt();
        [(m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s, (m[1][0] - m[0][1]) / s]
    };
    Quat::from_array(q)
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
        let axes = mat3::from_euler([0.3, -0.4, 1.0]);
        let drags = [
            Preview::Move { ids: vec!["4d-1".into()], offset: [2.0, 0.0, 0.0] },
            Preview::Rotate { ids: vec!["4d-1".into()], axis: [0.0, 0.0, 1.0], angle: 0.5, pivot: [1.0, 2.0, 3.0] },
            Preview::Scale { ids: vec!["4d-1".into()], factors: [2.0, 1.0, 1.0], pivot: [0.0; 3], axes },
        ];
        for drag in drags {
            let local = LocalState {
                name: "Swift Otter".into(),
                color: "#17bebb".into(),
                cursor: Some([1.5, 0.0, -2.0]),
                selection: vec!["4d-1".into()],
                camera: Camera::default().switched_to(crate::camera::ViewKind::Front),
                drag: Some(drag.clone()),
            };
            let peer = peer(9, &local.to_json()).unwrap();
            assert_eq!(peer.name, "Swift Otter");
            assert_eq!(peer.color, "#17bebb");
            assert_eq!(peer.cursor, local.cursor);
            assert_eq!(peer.selection, [NodeId::from("4d-1")]);
            assert_eq!(peer.camera, Some(local.camera));
            match (&peer.drag, &drag) {
                (Some(Preview::Scale { axes: got, .. }), Preview::Scale { axes: want, .. }) => {
                    assert!((0..3).all(|r| (0..3).all(|c| (got[r][c] - want[r][c]).abs() < 1e-9)), "{got:?}");
                }
                (got, want) => assert_eq!(got.as_ref(), Some(want)),
            }
        }
    }

    #[wasm_bindgen_test]
    fn stock_and_hostile_states_read_tolerantly() {
        let stock = peer(3, r##"{"user":{"name":"Bo","color":"#abc"}}"##).unwrap();
        assert_eq!((stock.name.as_str(), stock.cursor, stock.camera), ("Bo", None, None));
        let odd = peer(
            4,
            r#"{"user":{"name":"   "},"cursor":[1,"x",3],"selection":"all","camera":{"projection":"fisheye"},"drag":{"ids":[],"offset":[1,2,3]}}"#,
        )
        .unwrap();
        assert_eq!(odd.name, "Client 4");
        assert_eq!(odd.color, FALLBACK_COLOR);
        assert!(odd.cursor.is_none() && odd.selection.is_empty() && odd.camera.is_none() && odd.drag.is_none());
        let huge = peer(
            5,
            r#"{"cursor":[1e300,0,0],"camera":{"projection":"orthographic","target":[0,0,0],"yaw":0,"pitch":9,"distance":1e8},
               "drag":{"ids":["a"],"rotate":{"axis":[0,0,0],"angle":1,"pivot":[0,0,0]}}}"#,
        )
        .unwrap();
        assert!(huge.cursor.is_none());
        let camera = huge.camera.unwrap();
        assert_eq!((camera.distance, camera.pitch), (MAX_DISTANCE, std::f64::consts::FRAC_PI_2));
        assert!(huge.drag.is_none(), "a zero axis is no rotation");
        assert!(peer(6, "[1,2]").is_none());
        assert!(peer(6, "not json").is_none());
    }
}
