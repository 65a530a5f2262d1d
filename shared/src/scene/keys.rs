//! The key names of a node map and the numeric fields addressed one key at a time.
//! `docs/scene-schema.md` is the same table for JavaScript.

pub const NAME: &str = "name";
pub const KIND: &str = "kind";
pub const PARENT: &str = "parent";
pub const ORDER: &str = "order";
pub const VISIBLE: &str = "visible";
pub const LOCKED: &str = "locked";
pub const PRIMITIVE: &str = "primitive";
pub const COLOR: &str = "color";
pub const LIGHT: &str = "light";
pub const LIGHT_COLOR: &str = "lightColor";
/// A mesh node's triangle mesh: a key of the root map `meshes` (see `super::meshes`).
pub const MESH: &str = "mesh";

/// Every numeric key of a node. Each is its own CRDT entry: two people changing different
/// ones at once both keep their change. Write them one at a time with
/// [`super::Scene::set_number`] when the user edits one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKey {
    /// Position x, y, z.
    Px,
    Py,
    Pz,
    /// Rotation about x, y, z (radians, Euler order XYZ).
    Rx,
    Ry,
    Rz,
    /// Scale x, y, z.
    Sx,
    Sy,
    Sz,
    /// Box and plane width (x).
    Width,
    /// Box, plane and cylinder height (y; a plane's height is along its local y).
    Height,
    /// Box depth (z).
    Depth,
    /// Sphere and cylinder radius.
    Radius,
    Roughness,
    Metalness,
    Opacity,
    /// Light intensity.
    Intensity,
    /// Spot light cone half-angle (radians).
    Angle,
}

impl NumberKey {
    pub const POSITION: [NumberKey; 3] = [NumberKey::Px, NumberKey::Py, NumberKey::Pz];
    pub const ROTATION: [NumberKey; 3] = [NumberKey::Rx, NumberKey::Ry, NumberKey::Rz];
    pub const SCALE: [NumberKey; 3] = [NumberKey::Sx, NumberKey::Sy, NumberKey::Sz];

    /// The key in the node map.
    pub fn as_str(self) -> &'static str {
        use NumberKey::*;
        match self {
            Px => "px",
            Py => "py",
            Pz => "pz",
            Rx => "rx",
            Ry => "ry",
            Rz => "rz",
            Sx => "sx",
            Sy => "sy",
            Sz => "sz",
            Width => "width",
            Height => "height",
            Depth => "depth",
            Radius => "radius",
            Roughness => "roughness",
            Metalness => "metalness",
            Opacity => "opacity",
            Intensity => "intensity",
            Angle => "angle",
        }
    }

    /// The value a reader uses when the key is missing or not a finite number.
    pub fn default_value(self) -> f64 {
        use NumberKey::*;
        match self {
            Sx | Sy | Sz | Width | Height | Depth | Opacity | Intensity => 1.0,
            Radius | Roughness => 0.5,
            Angle => std::f64::consts::FRAC_PI_6,
            Px | Py | Pz | Rx | Ry | Rz | Metalness => 0.0,
        }
    }
}
