//! The preview ray tracer: one primary ray per pixel, tile by tile, with direct lighting
//! and hard shadows. Deliberately simple and readable rather than physically complete:
//!
//! - **Geometry** ([`crate::geometry::hit`]): boxes, spheres, cylinders (along local y) and planes (local xy,
//!   two-sided), each intersected in its node's local space through the inverse of its world
//!   transform (so any rotation and non-uniform scale through the hierarchy is exact).
//! - **Lights** ([`world`]): point, directional and spot (cone half-angle `angle`, soft
//!   edge); directional and spot lights shine along the node's local −Z. Point and spot light
//!   fall off as `1 / (1 + d²/25)`. A scene without lights gets a headlight.
//! - **Shading** ([`shade`]): Lambert diffuse for the non-metal part of the base colour and a
//!   normalised Blinn-Phong highlight whose sharpness follows roughness and whose colour
//!   follows metalness (`F0` = 4 % grey for dielectrics, the base colour for metals); a small
//!   ambient term; a shadow ray per light; one mirror bounce on smooth surfaces (Schlick
//!   Fresnel, fading out with roughness). Opacity is ignored (everything is opaque).
//! - **Camera**: the first visible camera node (depth-first order), looking along its local
//!   −Z with the editor's 50° vertical field of view; without one, a camera that frames every
//!   visible mesh from the front-right-above.
//!
//! Colours are computed in linear RGB and written as sRGB bytes.

use crate::math::color::linear_to_srgb;

pub mod shade;
#[cfg(test)]
mod tests;
pub mod world;

pub use world::World;

/// Edge length of a tile in pixels.
pub const TILE: u32 = 32;

/// A rectangle of the image, rendered as one unit of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub index: u32,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The tiles of a `width × height` image, row by row.
pub fn tiles(width: u32, height: u32) -> Vec<Tile> {
    let mut out = Vec::new();
    for y in (0..height).step_by(TILE as usize) {
        for x in (0..width).step_by(TILE as usize) {
            let index = out.len() as u32;
            out.push(Tile { index, x, y, width: TILE.min(width - x), height: TILE.min(height - y) });
        }
    }
    out
}

/// Renders one tile of a `width × height` image: RGBA bytes, row by row.
pub fn render_tile(world: &World, width: u32, height: u32, tile: &Tile) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((tile.width * tile.height * 4) as usize);
    for y in tile.y..tile.y + tile.height {
        for x in tile.x..tile.x + tile.width {
            let rgb = world.pixel(x, y, width, height);
            pixels.extend(rgb.map(linear_to_srgb));
            pixels.push(255);
        }
    }
    pixels
}

/// Renders a whole image (tests, and anything that does not need progress).
pub fn render_image(world: &World, width: u32, height: u32) -> Vec<u8> {
    let mut image = vec![0u8; (width * height * 4) as usize];
    for tile in tiles(width, height) {
        let pixels = render_tile(world, width, height, &tile);
        for row in 0..tile.height {
            let from = (row * tile.width * 4) as usize;
            let to = (((tile.y + row) * width + tile.x) * 4) as usize;
            let len = (tile.width * 4) as usize;
            image[to..to + len].copy_from_slice(&pixels[from..from + len]);
        }
    }
    image
}
