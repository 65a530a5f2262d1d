//! Known scenes render known colours.

use yrs::{Doc, Transact};

use super::shade::BACKGROUND;
use super::{render_image, render_tile, tiles, World};
use crate::scene::{Color, Light, LightKind, Material, NodeId, NodeKind, Primitive, Scene};

fn px(image: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * width + x) * 4) as usize;
    [image[i], image[i + 1], image[i + 2]]
}

fn background() -> [u8; 3] {
    BACKGROUND.map(crate::math::color::linear_to_srgb)
}

/// A red sphere at the origin, a camera on +z looking at it, and a white light along −z
/// (coming from behind the camera) unless `light` says otherwise.
/// A square plane of side `size` turned to face +y, at the origin: the floor of a test scene.
fn add_floor(scene: &Scene, txn: &mut yrs::TransactionMut, size: f64) -> NodeId {
    let floor = scene.add_node(txn, NodeId::from("floor"), "Floor", NodeKind::Mesh, None);
    scene.set_primitive(txn, &floor, Primitive::Plane { width: size, height: size }).unwrap();
    scene.set_rotation(txn, &floor, [-std::f64::consts::FRAC_PI_2, 0.0, 0.0]).unwrap();
    floor
}

fn red_sphere_scene(light: Option<(LightKind, [f64; 3], [f64; 3])>) -> (Doc, Scene) {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let ball = scene.add_node(&mut txn, NodeId::from("ball"), "Ball", NodeKind::Mesh, None);
        scene.set_primitive(&mut txn, &ball, Primitive::Sphere { radius: 1.0 }).unwrap();
        let red = Material { color: Color { r: 255, g: 0, b: 0 }, roughness: 0.8, metalness: 0.0, opacity: 1.0 };
        scene.set_material(&mut txn, &ball, &red).unwrap();
        let cam = scene.add_node(&mut txn, NodeId::from("cam"), "Camera", NodeKind::Camera, None);
        scene.set_position(&mut txn, &cam, [0.0, 0.0, 5.0]).unwrap();
        let (kind, position, rotation) = light.unwrap_or((LightKind::Directional, [0.0, 0.0, 10.0], [0.0, 0.0, 0.0]));
        let sun = scene.add_node(&mut txn, NodeId::from("sun"), "Sun", NodeKind::Light, None);
        scene.set_light(&mut txn, &sun, &Light { kind, color: Color::WHITE, intensity: 1.0, angle: 0.5 }).unwrap();
        scene.set_position(&mut txn, &sun, position).unwrap();
        scene.set_rotation(&mut txn, &sun, rotation).unwrap();
    }
    (doc, scene)
}

#[test]
fn a_lit_red_sphere_is_red_in_the_middle_and_background_at_the_corners() {
    let (doc, scene) = red_sphere_scene(None);
    let world = World::from_scene(&scene, &doc.transact());
    let (w, h) = (48, 32);
    let image = render_image(&world, w, h);
    let [r, g, b] = px(&image, w, w / 2, h / 2);
    // Red, with a little white from the highlight (the light comes from behind the camera).
    assert!(r > 200 && g < r / 2 && g == b, "centre {:?}", [r, g, b]);
    let [r, g, b] = px(&image, w, w / 2 + 6, h / 2);
    assert!(r > 150 && g < 20 && b < 20, "beside the highlight {:?}", [r, g, b]);
    for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
        assert_eq!(px(&image, w, x, y), background(), "corner {x},{y}");
    }
}

#[test]
fn tiles_cover_the_image_once_and_match_the_whole_render() {
    let (doc, scene) = red_sphere_scene(None);
    let world = World::from_scene(&scene, &doc.transact());
    let (w, h) = (70, 40);
    let list = tiles(w, h);
    assert_eq!(list.len(), 3 * 2);
    assert_eq!(list.iter().map(|t| t.width * t.height).sum::<u32>(), w * h);
    let image = render_image(&world, w, h);
    let last = list.last().unwrap();
    let pixels = render_tile(&world, w, h, last);
    assert_eq!(pixels.len() as u32, last.width * last.height * 4);
    assert_eq!(&pixels[..3], &px(&image, w, last.x, last.y));
}

#[test]
fn a_light_from_behind_leaves_the_visible_side_dark() {
    // The light travels towards +z (turned half a turn about y): it lights the far side.
    let (doc, scene) = red_sphere_scene(Some((LightKind::Directional, [0.0, 0.0, -10.0], [0.0, std::f64::consts::PI, 0.0])));
    let world = World::from_scene(&scene, &doc.transact());
    let image = render_image(&world, 32, 32);
    let [r, g, b] = px(&image, 32, 16, 16);
    assert!(r < 90 && r > 0 && g < 10 && b < 10, "only ambient light: {:?}", [r, g, b]);
}

#[test]
fn a_shadowed_point_is_darker_than_a_lit_one() {
    // A white floor (a plane turned to face +y), a box above it, a point light above the box.
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let floor = add_floor(&scene, &mut txn, 20.0);
        scene.set_color(&mut txn, &floor, Color::WHITE).unwrap();
        let block = scene.add_node(&mut txn, NodeId::from("block"), "Block", NodeKind::Mesh, None);
        scene.set_position(&mut txn, &block, [0.0, 1.0, 0.0]).unwrap();
        let lamp = scene.add_node(&mut txn, NodeId::from("lamp"), "Lamp", NodeKind::Light, None);
        scene.set_position(&mut txn, &lamp, [0.0, 4.0, 0.0]).unwrap();
        let cam = scene.add_node(&mut txn, NodeId::from("cam"), "Camera", NodeKind::Camera, None);
        // Looking straight down from high above.
        scene.set_position(&mut txn, &cam, [0.0, 12.0, 0.0]).unwrap();
        scene.set_rotation(&mut txn, &cam, [-std::f64::consts::FRAC_PI_2, 0.0, 0.0]).unwrap();
    }
    let world = World::from_scene(&scene, &doc.transact());
    assert_eq!(world.objects.len(), 2);
    let point_on_floor = |x: f64, z: f64| -> f64 {
        let hit = world.trace([x, 5.0, z], [0.0, -1.0, 0.0], f64::INFINITY).unwrap();
        let material = hit.object.material;
        let surface = super::shade::Surface { point: hit.point, normal: hit.normal, view: [0.0, 1.0, 0.0], material: &material };
        super::shade::shade(&world, &surface, 0)[0]
    };
    // Under the box's edge the floor is hidden by the box from above: pick a spot in its
    // shadow cone but outside the box seen from above (the lamp is higher than the camera
    // ray's start, so trace from beside the box).
    let lit = point_on_floor(5.0, 0.0);
    let shadowed = {
        let hit = world.trace([0.7, 0.5, 0.0], [0.0, -1.0, 0.0], f64::INFINITY).unwrap();
        let material = hit.object.material;
        let surface = super::shade::Surface { point: hit.point, normal: hit.normal, view: [0.0, 1.0, 0.0], material: &material };
        super::shade::shade(&world, &surface, 0)[0]
    };
    assert!(shadowed < lit * 0.5, "shadowed {shadowed} vs lit {lit}");
    // And the image from above shows the box's shadow ring darker than the far floor.
    let image = render_image(&world, 64, 64);
    assert!(px(&image, 64, 32, 32)[0] > 0);
}

#[test]
fn spot_lights_light_only_inside_their_cone_and_hidden_nodes_do_not_render() {
    // A spot light above the floor pointing down (−Z turned to −y), cone half-angle 0.5.
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let floor = add_floor(&scene, &mut txn, 40.0);
        scene.set_color(&mut txn, &floor, Color::WHITE).unwrap();
        let spot = scene.add_node(&mut txn, NodeId::from("spot"), "Spot", NodeKind::Light, None);
        scene.set_light(&mut txn, &spot, &Light { kind: LightKind::Spot, color: Color::WHITE, intensity: 2.0, angle: 0.5 }).unwrap();
        scene.set_position(&mut txn, &spot, [0.0, 3.0, 0.0]).unwrap();
        scene.set_rotation(&mut txn, &spot, [-std::f64::consts::FRAC_PI_2, 0.0, 0.0]).unwrap();
        let ghost = scene.add_node(&mut txn, NodeId::from("ghost"), "Ghost", NodeKind::Mesh, None);
        scene.set_position(&mut txn, &ghost, [0.0, 1.0, 0.0]).unwrap();
        scene.set_visible(&mut txn, &ghost, false).unwrap();
    }
    let world = World::from_scene(&scene, &doc.transact());
    assert_eq!(world.objects.len(), 1, "the hidden box is not rendered");
    let brightness = |x: f64| {
        let hit = world.trace([x, 1.0, 0.0], [0.0, -1.0, 0.0], f64::INFINITY).unwrap();
        let material = hit.object.material;
        let surface = super::shade::Surface { point: hit.point, normal: hit.normal, view: [0.0, 1.0, 0.0], material: &material };
        super::shade::shade(&world, &surface, 0)[0]
    };
    let inside = brightness(0.0);
    let outside = brightness(5.0);
    assert!(inside > 0.5, "inside {inside}");
    assert!(outside < 0.1, "outside {outside}");
}

#[test]
fn boxes_cylinders_and_scaled_parents_are_hit_where_they_are() {
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let group = scene.add_node(&mut txn, NodeId::from("g"), "G", NodeKind::Group, None);
        scene.set_position(&mut txn, &group, [10.0, 0.0, 0.0]).unwrap();
        scene.set_scale(&mut txn, &group, [2.0, 2.0, 2.0]).unwrap();
        let can = scene.add_node(&mut txn, NodeId::from("can"), "Can", NodeKind::Mesh, Some(&group));
        scene.set_primitive(&mut txn, &can, Primitive::Cylinder { radius: 0.5, height: 2.0 }).unwrap();
        scene.add_node(&mut txn, NodeId::from("box"), "Box", NodeKind::Mesh, None);
    }
    let world = World::from_scene(&scene, &doc.transact());
    // The cylinder: centre x = 10, radius 1 and half height 2 after the parent's scale.
    let side = world.trace([10.0, 0.0, 5.0], [0.0, 0.0, -1.0], f64::INFINITY).unwrap();
    assert!((side.t - 4.0).abs() < 1e-9 && (side.normal[2] - 1.0).abs() < 1e-9);
    let cap = world.trace([10.0, 5.0, 0.0], [0.0, -1.0, 0.0], f64::INFINITY).unwrap();
    assert!((cap.t - 3.0).abs() < 1e-9 && (cap.normal[1] - 1.0).abs() < 1e-9);
    assert!(world.trace([10.0, 2.5, 5.0], [0.0, 0.0, -1.0], f64::INFINITY).is_none(), "above the cylinder");
    // The unit box at the origin.
    let face = world.trace([-3.0, 0.2, 0.1], [1.0, 0.0, 0.0], f64::INFINITY).unwrap();
    assert!((face.t - 2.5).abs() < 1e-9 && (face.normal[0] + 1.0).abs() < 1e-9);
    // With no camera and no light the render still frames and lights the scene.
    let image = render_image(&world, 32, 32);
    assert!(image.chunks(4).any(|p| p[0] > 60), "something is lit");
}

#[test]
fn a_smooth_metal_floor_reflects_what_is_above_it() {
    // A red sphere above a white floor, seen from straight above the floor just beside it.
    let shade_floor = |roughness: f64, metalness: f64| {
        let doc = Doc::new();
        let scene = Scene::new(&doc);
        {
            let mut txn = doc.transact_mut();
            let floor = add_floor(&scene, &mut txn, 20.0);
            scene.set_material(&mut txn, &floor, &Material { color: Color::WHITE, roughness, metalness, opacity: 1.0 }).unwrap();
            let ball = scene.add_node(&mut txn, NodeId::from("ball"), "Ball", NodeKind::Mesh, None);
            scene.set_primitive(&mut txn, &ball, Primitive::Sphere { radius: 1.0 }).unwrap();
            scene.set_color(&mut txn, &ball, Color { r: 255, g: 0, b: 0 }).unwrap();
            scene.set_position(&mut txn, &ball, [0.0, 3.0, 0.0]).unwrap();
            let sun = scene.add_node(&mut txn, NodeId::from("sun"), "Sun", NodeKind::Light, None);
            scene.set_light(&mut txn, &sun, &Light { kind: LightKind::Directional, ..Light::default() }).unwrap();
            // Shining sideways, along −x (local −Z turned a quarter about y): it lights the
            // ball's +x side and grazes the floor, which gets ambient light only.
            scene.set_rotation(&mut txn, &sun, [0.0, std::f64::consts::FRAC_PI_2, 0.0]).unwrap();
        }
        let world = World::from_scene(&scene, &doc.transact());
        // The floor point below the ball's lit side, looked at from straight above: only a
        // reflection can make it red.
        let hit = world.trace([0.5, 0.5, 0.0], [0.0, -1.0, 0.0], f64::INFINITY).unwrap();
        let material = hit.object.material;
        let surface = super::shade::Surface { point: hit.point, normal: hit.normal, view: [0.0, 1.0, 0.0], material: &material };
        super::shade::shade(&world, &surface, 0)
    };
    let mirror = shade_floor(0.0, 1.0);
    let matte = shade_floor(1.0, 0.0);
    assert!(mirror[0] > 0.2 && mirror[0] > 4.0 * mirror[1], "the mirror shows the red ball: {mirror:?}");
    assert!((matte[0] - matte[1]).abs() < 1e-9, "a matte floor shows no reflection: {matte:?}");
}

#[test]
fn a_triangle_mesh_is_traced_through_its_hierarchy() {
    // A red square of two triangles facing the camera, lit from behind the camera: the centre
    // is red, and the corners (outside the square) show the background.
    let doc = Doc::new();
    let scene = Scene::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let square = crate::geometry::trimesh::TriMesh {
            positions: vec![[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]],
            indices: vec![0, 1, 2, 0, 2, 3],
            ..Default::default()
        };
        let id = scene.add_mesh(&mut txn, &square).unwrap();
        let node = scene.add_node(&mut txn, NodeId::from("sq"), "Square", NodeKind::Mesh, None);
        scene.set_mesh(&mut txn, &node, Some(&id)).unwrap();
        // The stand-in is far larger than the mesh: a trace of the stand-in would fill the image.
        scene.set_primitive(&mut txn, &node, Primitive::Box { width: 100.0, height: 100.0, depth: 0.1 }).unwrap();
        scene.set_material(&mut txn, &node, &Material { color: Color { r: 255, g: 0, b: 0 }, roughness: 0.9, metalness: 0.0, opacity: 1.0 }).unwrap();
        let cam = scene.add_node(&mut txn, NodeId::from("cam"), "Camera", NodeKind::Camera, None);
        scene.set_position(&mut txn, &cam, [0.0, 0.0, 6.0]).unwrap();
        let sun = scene.add_node(&mut txn, NodeId::from("sun"), "Sun", NodeKind::Light, None);
        scene.set_light(&mut txn, &sun, &Light { kind: LightKind::Directional, color: Color::WHITE, intensity: 1.0, angle: 0.5 }).unwrap();
    }
    let world = World::from_scene(&scene, &doc.transact());
    let (w, h) = (40, 40);
    let image = render_image(&world, w, h);
    let [r, g, b] = px(&image, w, w / 2, h / 2);
    assert!(r > 200 && g < r / 2 && g == b, "centre {:?}", [r, g, b]);
    assert_eq!(px(&image, w, 1, 1), background(), "outside the square");
}
