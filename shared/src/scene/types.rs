//! The typed values of a scene node (what readers get and setters take), with the strings
//! and defaults they have in the document. Key names live in [`super::keys`].

use std::fmt;

pub use crate::geometry::trimesh::MeshId;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NodeKind {
    /// A container; also what a kind this version doesn't know reads as (it keeps its
    /// children and transform, and renders nothing).
    #[default]
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
/// Ids from other clients may be any non-empty string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub String);

impl NodeId {
    pub fn new(client_id: u64, counter: u64) -> Self {
        NodeId(format!("{client_id:x}-{counter}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId(s.to_owned())
    }
}

/// Makes fresh node ids for one client: `NodeId::new(client_id, 0)`, then 1, 2, ...
/// Keep one per document for the session (the client id is fresh per page load).
#[derive(Debug, Clone)]
pub struct IdGen {
    client_id: u64,
    next: u64,
}

impl IdGen {
    pub fn new(client_id: u64) -> Self {
        IdGen { client_id, next: 0 }
    }

    /// Skips ids already used in a scene (e.g. after reloading a document with this client id).
    pub fn starting_at(client_id: u64, next: u64) -> Self {
        IdGen { client_id, next }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> NodeId {
        let id = NodeId::new(self.client_id, self.next);
        self.next += 1;
        id
    }
}

/// Three components (x, y, z).
pub type Vec3 = [f64; 3];

/// Position, rotation (Euler angles in radians, applied in XYZ order as in three.js) and
/// scale, relative to the parent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub position: Vec3,
    pub rotation: Vec3,
    pub scale: Vec3,
}

impl Default for Transform {
    fn default() -> Self {
        Transform { position: [0.0; 3], rotation: [0.0; 3], scale: [1.0; 3] }
    }
}

/// The shape of a mesh. Dimensions are in scene units; each is its own document key, and
/// keys a shape doesn't use are kept (switching box → sphere → box keeps the box's size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Primitive {
    Box { width: f64, height: f64, depth: f64 },
    Sphere { radius: f64 },
    Cylinder { radius: f64, height: f64 },
    Plane { width: f64, height: f64 },
}

impl Default for Primitive {
    fn default() -> Self {
        Primitive::Box { width: 1.0, height: 1.0, depth: 1.0 }
    }
}

/// The shape names stored under `primitive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PrimitiveKind {
    #[default]
    Box,
    Sphere,
    Cylinder,
    Plane,
}

impl PrimitiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrimitiveKind::Box => "box",
            PrimitiveKind::Sphere => "sphere",
            PrimitiveKind::Cylinder => "cylinder",
            PrimitiveKind::Plane => "plane",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "box" => PrimitiveKind::Box,
            "sphere" => PrimitiveKind::Sphere,
            "cylinder" => PrimitiveKind::Cylinder,
            "plane" => PrimitiveKind::Plane,
            _ => return None,
        })
    }
}

impl Primitive {
    pub fn kind(&self) -> PrimitiveKind {
        match self {
            Primitive::Box { .. } => PrimitiveKind::Box,
            Primitive::Sphere { .. } => PrimitiveKind::Sphere,
            Primitive::Cylinder { .. } => PrimitiveKind::Cylinder,
            Primitive::Plane { .. } => PrimitiveKind::Plane,
        }
    }
}

/// An sRGB colour, stored as `"#rrggbb"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Color {
    pub const WHITE: Color = Color { r: 255, g: 255, b: 255 };
    /// The default base colour of a mesh.
    pub const GREY: Color = Color { r: 0xcc, g: 0xcc, b: 0xcc };

    /// `"#rrggbb"` (lower case), as stored.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Parses `"#rrggbb"` or `"#rgb"` (any case); anything else is `None`.
    pub fn parse_hex(s: &str) -> Option<Self> {
        let hex = s.strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize, len: usize| u8::from_str_radix(hex.get(i..i + len)?, 16).ok();
        match hex.len() {
            6 => Some(Color { r: byte(0, 2)?, g: byte(2, 2)?, b: byte(4, 2)? }),
            3 => Some(Color { r: byte(0, 1)? * 17, g: byte(1, 1)? * 17, b: byte(2, 1)? * 17 }),
            _ => None,
        }
    }
}

/// How a mesh looks (a physically based material, as three.js `MeshStandardMaterial`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Material {
    pub color: Color,
    /// 0 (mirror) ..= 1 (matte).
    pub roughness: f64,
    /// 0 (dielectric) ..= 1 (metal).
    pub metalness: f64,
    /// 0 (invisible) ..= 1 (opaque).
    pub opacity: f64,
}

impl Default for Material {
    fn default() -> Self {
        Material { color: Color::GREY, roughness: 0.5, metalness: 0.0, opacity: 1.0 }
    }
}

/// The light types stored under `light`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LightKind {
    #[default]
    Point,
    Directional,
    Spot,
}

impl LightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LightKind::Point => "point",
            LightKind::Directional => "directional",
            LightKind::Spot => "spot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "point" => LightKind::Point,
            "directional" => LightKind::Directional,
            "spot" => LightKind::Spot,
            _ => return None,
        })
    }
}

/// A light's settings. Directional and spot lights shine along the node's local -Z axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Light {
    pub kind: LightKind,
    pub color: Color,
    pub intensity: f64,
    /// Half-angle of a spot light's cone in radians (ignored by other kinds).
    pub angle: f64,
}

impl Default for Light {
    fn default() -> Self {
        Light { kind: LightKind::Point, color: Color::WHITE, intensity: 1.0, angle: std::f64::consts::FRAC_PI_6 }
    }
}

/// A node as read from the document. `parent` is the stored value; [`super::SceneTree`]
/// gives the resolved hierarchy (cycles broken, orphans at the root).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub name: String,
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    /// Fractional-index key among its siblings (see [`super::order`]); may be empty.
    pub order: String,
    pub transform: Transform,
    pub visible: bool,
    pub locked: bool,
    /// Set for meshes.
    pub primitive: Option<Primitive>,
    /// Set for meshes.
    pub material: Option<Material>,
    /// For meshes drawn as a triangle mesh: its id in the `meshes` map (the primitive is
    /// then a stand-in for readers without meshes).
    pub mesh: Option<MeshId>,
    /// Set for lights.
    pub light: Option<Light>,
}

impl Node {
    /// A node of `kind` at the scene root with every other field at the schema's default
    /// (meshes a unit box of the default material, lights the default light).
    pub fn new(id: NodeId, name: &str, kind: NodeKind) -> Node {
        Node {
            id,
            name: name.to_owned(),
            kind,
            parent: None,
            order: String::new(),
            transform: Transform::default(),
            visible: true,
            locked: false,
            primitive: (kind == NodeKind::Mesh).then(Primitive::default),
            material: (kind == NodeKind::Mesh).then(Material::default),
            light: (kind == NodeKind::Light).then(Light::default),
            mesh: None,
        }
    }
}
