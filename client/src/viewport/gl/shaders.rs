//! The GLSL ES 3.00 programs of the viewport.
//!
//! - **Meshes**: instanced; each instance carries its model matrix (rows of a 3×4), the
//!   inverse transpose of its 3×3 for normals (computed once on the CPU, exact under any
//!   scale), its linear colour and opacity, roughness, metalness and a hover highlight.
//!   Shading follows the render preview's ray tracer (`shared::jobs::render::shade`): Lambert
//!   plus a normalised Blinn–Phong highlight, F0 = 4 % for dielectrics and the base colour for
//!   metals, point and spot lights falling off as 1 / (1 + d²/25), spot cones with a soft
//!   edge. Instead of shadows and a traced bounce it has a sky/ground ambient and a matching
//!   environment reflection, so unlit sides and metals do not go black.
//! - **Flat**: the same instances in one colour, into the selection mask.
//! - **Outline**: a full-screen pass that draws the mask's edge, 2 px wide, in the mask's
//!   colours (mine and each peer's).
//! - **Grid**: the ground plane (or the view plane of an axis view) with 1-unit and
//!   10-unit lines from screen-space derivatives, fading with distance, axes in colour.
//! - **Lines and overlay**: coloured vertices, for wire icons (lines) and the gizmos (solid
//!   triangles drawn on top).

/// Mesh instances: attribute locations 0–1 per vertex, 2–9 per instance.
pub const MESH_VERTEX: &str = r#"#version 300 es
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec4 i_row0;
layout(location = 3) in vec4 i_row1;
layout(location = 4) in vec4 i_row2;
layout(location = 5) in vec3 i_normal0;
layout(location = 6) in vec3 i_normal1;
layout(location = 7) in vec3 i_normal2;
layout(location = 8) in vec4 i_color;
layout(location = 9) in vec3 i_params;
uniform mat4 u_view_projection;
out vec3 v_world;
out vec3 v_normal;
out vec4 v_color;
out vec3 v_params;
void main() {
    vec4 p = vec4(a_position, 1.0);
    v_world = vec3(dot(i_row0, p), dot(i_row1, p), dot(i_row2, p));
    v_normal = vec3(dot(i_normal0, a_normal), dot(i_normal1, a_normal), dot(i_normal2, a_normal));
    v_color = i_color;
    v_params = i_params;
    gl_Position = u_view_projection * vec4(v_world, 1.0);
}
"#;

/// How many lights the viewport shades with (the first ones, in outliner order).
pub const MAX_LIGHTS: usize = 8;

pub const MESH_FRAGMENT: &str = r#"#version 300 es
precision highp float;
in vec3 v_world;
in vec3 v_normal;
in vec4 v_color;
in vec3 v_params;
uniform vec3 u_eye;
uniform vec3 u_forward;
uniform float u_orthographic;
uniform int u_light_count;
// Per light: a = (position or direction, kind: 0 directional, 1 point, 2 spot),
// b = (spot direction, cos of the outer cone), c = (radiance, cos of the inner cone).
uniform vec4 u_light_a[8];
uniform vec4 u_light_b[8];
uniform vec4 u_light_c[8];
uniform vec3 u_sky;
uniform vec3 u_ground;
uniform vec4 u_tint;
out vec4 o_color;
const float PI = 3.14159265;

vec3 to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

void main() {
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 v = u_orthographic > 0.5 ? -u_forward : normalize(u_eye - v_world);
    vec3 base = v_color.rgb;
    float roughness = clamp(v_params.x, 0.03, 1.0);
    float metal = clamp(v_params.y, 0.0, 1.0);
    vec3 diffuse = base * (1.0 - metal);
    vec3 f0 = mix(vec3(0.04), base, metal);
    float shininess = clamp(2.0 / pow(roughness, 4.0) - 2.0, 1.0, 4096.0);
    vec3 color = vec3(0.0);
    for (int i = 0; i < 8; i++) {
        if (i >= u_light_count) break;
        vec4 a = u_light_a[i];
        vec3 radiance = u_light_c[i].rgb;
        vec3 l;
        if (a.w < 0.5) {
            l = -a.xyz;
        } else {
            vec3 to = a.xyz - v_world;
            float d = length(to);
            l = to / max(d, 1e-6);
            radiance *= 1.0 / (1.0 + d * d / 25.0);
            if (a.w > 1.5) {
                float c = dot(-l, u_light_b[i].xyz);
                float edge = clamp((c - u_light_b[i].w) / max(u_light_c[i].w - u_light_b[i].w, 1e-6), 0.0, 1.0);
                radiance *= edge * edge * (3.0 - 2.0 * edge);
            }
        }
        float n_dot_l = dot(n, l);
        if (n_dot_l <= 0.0) continue;
        vec3 h = normalize(l + v);
        float spec = (shininess + 8.0) / (8.0 * PI) * pow(max(dot(n, h), 0.0), shininess);
        color += (diffuse / PI + f0 * spec) * radiance * n_dot_l * PI;
    }
    vec3 ambient = mix(u_ground, u_sky, n.y * 0.5 + 0.5);
    color += diffuse * ambient;
    vec3 r = reflect(-v, n);
    vec3 environment = mix(u_ground, u_sky, r.y * 0.5 + 0.5);
    float fresnel_cos = 1.0 - max(dot(n, v), 0.0);
    vec3 fresnel = f0 + (1.0 - f0) * fresnel_cos * fresnel_cos * fresnel_cos * fresnel_cos * fresnel_cos;
    color += fresnel * environment * (1.0 - roughness) * (1.0 - roughness);
    color += v_params.z * vec3(0.10, 0.12, 0.18);
    color = mix(color, u_tint.rgb, u_tint.a);
    o_color = vec4(to_srgb(color), v_color.a);
}
"#;

/// One colour for every fragment (the selection mask).
pub const FLAT_FRAGMENT: &str = r#"#version 300 es
precision mediump float;
uniform vec4 u_color;
out vec4 o_color;
void main() { o_color = u_color; }
"#;

/// A triangle covering the screen, from `gl_VertexID` (no buffers).
pub const FULLSCREEN_VERTEX: &str = r#"#version 300 es
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"#;

/// The mask's outline: a pixel outside every selection next to one inside takes its colour.
pub const OUTLINE_FRAGMENT: &str = r#"#version 300 es
precision mediump float;
uniform sampler2D u_mask;
uniform float u_width;
out vec4 o_color;
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 size = textureSize(u_mask, 0);
    vec4 here = texelFetch(u_mask, p, 0);
    if (here.a > 0.0) {
        // Inside: a faint wash of the colour, so a selection inside another object shows.
        o_color = vec4(here.rgb, 0.10);
        return;
    }
    vec4 best = vec4(0.0);
    int w = int(u_width);
    for (int dy = -3; dy <= 3; dy++) {
        for (int dx = -3; dx <= 3; dx++) {
            if (abs(dx) > w || abs(dy) > w || dx * dx + dy * dy > w * w + 1) continue;
            ivec2 q = clamp(p + ivec2(dx, dy), ivec2(0), size - 1);
            vec4 m = texelFetch(u_mask, q, 0);
            if (m.a > best.a) best = m;
        }
    }
    if (best.a == 0.0) discard;
    o_color = vec4(best.rgb, 1.0);
}
"#;

/// The grid plane: a square of `u_extent` about `u_center` in the plane spanned by `u_u` and
/// `u_v` (world axes), drawn with lines every `u_step` and `10 · u_step`.
pub const GRID_VERTEX: &str = r#"#version 300 es
uniform mat4 u_view_projection;
uniform vec3 u_center;
uniform vec3 u_u;
uniform vec3 u_v;
uniform float u_extent;
out vec2 v_plane;
out vec3 v_world;
void main() {
    vec2 corner = vec2(float((gl_VertexID & 1) * 2 - 1), float((gl_VertexID >> 1) * 2 - 1));
    vec3 world = u_center + (u_u * corner.x + u_v * corner.y) * u_extent;
    v_plane = vec2(dot(world, u_u), dot(world, u_v));
    v_world = world;
    gl_Position = u_view_projection * vec4(world, 1.0);
}
"#;

pub const GRID_FRAGMENT: &str = r#"#version 300 es
precision highp float;
in vec2 v_plane;
in vec3 v_world;
uniform float u_step;
uniform vec3 u_fade_from;
uniform float u_fade;
uniform vec3 u_u_color;
uniform vec3 u_v_color;
out vec4 o_color;
// Lines every `step`; they fade out where a cell is only a few pixels across, so the
// distance shows no moiré.
float lines(vec2 c, float step) {
    vec2 g = c / step;
    vec2 w = max(fwidth(g), vec2(1e-6));
    vec2 d = abs(fract(g - 0.5) - 0.5) / w;
    float line = 1.0 - min(min(d.x, d.y), 1.0);
    return line * (1.0 - smoothstep(0.15, 0.45, max(w.x, w.y)));
}
void main() {
    float minor = lines(v_plane, u_step) * 0.10;
    float major = lines(v_plane, u_step * 10.0) * 0.22;
    vec2 axis_width = fwidth(v_plane) * 1.2;
    float on_u = 1.0 - smoothstep(0.0, axis_width.y, abs(v_plane.y));
    float on_v = 1.0 - smoothstep(0.0, axis_width.x, abs(v_plane.x));
    float fade = 1.0 - smoothstep(u_fade * 0.35, u_fade, distance(v_world, u_fade_from));
    vec3 color = vec3(1.0);
    float alpha = max(minor, major);
    if (on_u > 0.0) { color = mix(color, u_u_color, on_u); alpha = max(alpha, 0.75 * on_u); }
    if (on_v > 0.0) { color = mix(color, u_v_color, on_v); alpha = max(alpha, 0.75 * on_v); }
    alpha *= fade;
    if (alpha < 0.004) discard;
    o_color = vec4(color, alpha);
}
"#;

/// Coloured vertices: wire icons (as lines) and the gizmos (as triangles). Colours are sRGB.
pub const COLORED_VERTEX: &str = r#"#version 300 es
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec4 a_color;
uniform mat4 u_view_projection;
out vec4 v_color;
void main() {
    v_color = a_color;
    gl_Position = u_view_projection * vec4(a_position, 1.0);
}
"#;

pub const COLORED_FRAGMENT: &str = r#"#version 300 es
precision mediump float;
in vec4 v_color;
out vec4 o_color;
void main() { o_color = v_color; }
"#;
