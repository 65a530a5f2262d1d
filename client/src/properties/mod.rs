//! The property panel for a single selected node: name, transform (rotation in degrees),
//! shape dimensions (or, for a triangle mesh, its size), material, light, visibility and
//! lock. Every field commits on `change`
//! (Enter, blur, or releasing a slider) and writes only its own key, so two people editing
//! different fields of one node at once both keep their edit; each commit is one undo step.
//! A field being typed in keeps the user's text until it is committed or left ([`guard`]).
//! On a view-only page every field shows and none can be changed.

mod guard;

use leptos::either::Either;
use leptos::prelude::*;
use shared::scene::{Color, LightKind, MeshId, Node, NodeId, NodeKind, NumberKey, Primitive, PrimitiveKind};

use crate::editor::Editor;
use guard::Guard;

/// The panel's structure: rebuilt only when the node or the set of fields changes, so a
/// value arriving from a peer updates a field in place.
type Shape = (NodeId, NodeKind, Option<PrimitiveKind>, Option<LightKind>, Option<MeshId>);

#[component]
pub fn Properties(editor: Editor) -> impl IntoView {
    // The selected node's own signal: a peer editing another node never wakes the panel.
    let node = Memo::new(move |_| {
        let selection = editor.selection.get();
        match selection.as_slice() {
            [id] => editor.node(id).get(),
            _ => None,
        }
    });
    let shape = Memo::new(move |_| {
        node.with(|n| n.as_ref().map(|n| (n.id.clone(), n.kind, n.primitive.map(|p| p.kind()), n.light.map(|l| l.kind), n.mesh.clone())))
    });
    let count = move || editor.selection.with(Vec::len);
    view! {
        <section class="panel properties" id="properties">
            <div class="panel-head"><h2>"Properties"</h2></div>
            {move || match shape.get() {
                Some(shape) => Either::Left(fields(editor, node, shape)),
                None => Either::Right(view! {
                    <p class="empty">
                        {move || match count() {
                            0 => "Select an object to edit it.".to_owned(),
                            n => format!("{n} objects selected. Move, rotate or scale them in the viewport."),
                        }}
                    </p>
                }),
            }}
        </section>
    }
}

fn fields(editor: Editor, node: Memo<Option<Node>>, (id, kind, primitive, light, mesh): Shape) -> impl IntoView {
    let name_id = id.clone();
    let vis_id = id.clone();
    let lock_id = id.clone();
    let name_guard = Guard::new(move || node.with(|n| n.as_ref().map(|n| n.name.clone()).unwrap_or_default()));
    let num = move |key: NumberKey, label: &'static str| view! { <NumberField editor node key label /> };
    let vec3 = move |title: &'static str, keys: [NumberKey; 3]| {
        view! {
            <div class="group">
                <div class="group-title">{title}</div>
                <div class="row3">{num(keys[0], "X")}{num(keys[1], "Y")}{num(keys[2], "Z")}</div>
            </div>
        }
    };
    let shape_fields = primitive.map(|p| {
        let dims: Vec<(NumberKey, &'static str)> = match p {
            PrimitiveKind::Box => vec![(NumberKey::Width, "W"), (NumberKey::Height, "H"), (NumberKey::Depth, "D")],
            PrimitiveKind::Sphere => vec![(NumberKey::Radius, "Radius")],
            PrimitiveKind::Cylinder => vec![(NumberKey::Radius, "Radius"), (NumberKey::Height, "Height")],
            PrimitiveKind::Plane => vec![(NumberKey::Width, "W"), (NumberKey::Height, "H")],
        };
        let shape_id = id.clone();
        let color_id = id.clone();
        // A triangle mesh shows its size; its stand-in primitive is not edited here.
        let shape = match &mesh {
            Some(mesh_id) => {
                let counts = editor.mesh_counts(mesh_id);
                let (vertices, triangles) = counts.unwrap_or_default();
                let text = match counts {
                    Some(_) => format!("{triangles} triangles · {vertices} vertices"),
                    None => "not in the document (drawn as its box)".to_owned(),
                };
                Either::Left(view! {
                    <div class="group">
                        <div class="group-title">"Triangle mesh"</div>
                        <div id="prop-mesh" class="muted" data-triangles=triangles.to_string() data-vertices=vertices.to_string()
                            title=mesh_id.0.clone()>{text}</div>
                    </div>
                })
            }
            None => Either::Right(view! {
                <div class="group">
                    <div class="group-title">"Shape"</div>
                    <select id="prop-primitive" on:change=move |ev| {
                        if let Some(kind) = PrimitiveKind::parse(&event_target_value(&ev)) {
                            let _ = editor.edit(|scene, txn| scene.set_primitive_kind(txn, &shape_id, kind));
                        }
                    }>
                        {[PrimitiveKind::Box, PrimitiveKind::Sphere, PrimitiveKind::Cylinder, PrimitiveKind::Plane]
                            .map(|k| view! { <option value=k.as_str() selected=k == p>{k.as_str()}</option> })}
                    </select>
                    <div class="row3">{dims.into_iter().map(|(k, l)| num(k, l)).collect::<Vec<_>>()}</div>
                </div>
            }),
        };
        view! {
            {shape}
            <div class="group">
                <div class="group-title">"Material"</div>
                <label class="field wide">
                    <span>"Colour"</span>
                    <input type="color" id="prop-color"
                        prop:value=move || node.with(|n| n.as_ref().and_then(|n| n.material).map(|m| m.color.to_hex()).unwrap_or_default())
                        on:change=move |ev| {
                            if let Some(color) = Color::parse_hex(&event_target_value(&ev)) {
                                let _ = editor.edit(|scene, txn| scene.set_color(txn, &color_id, color));
                            }
                        }
                    />
                </label>
                <Slider editor node key=NumberKey::Roughness label="Roughness" />
                <Slider editor node key=NumberKey::Metalness label="Metalness" />
                <Slider editor node key=NumberKey::Opacity label="Opacity" />
            </div>
        }
    });
    let light_fields = light.map(|l| {
        let (kind_id, color_id) = (id.clone(), id.clone());
        let current = move || node.with_untracked(|n| n.as_ref().and_then(|n| n.light));
        view! {
            <div class="group">
                <div class="group-title">"Light"</div>
                <select id="prop-light" on:change=move |ev| {
                    if let (Some(kind), Some(mut light)) = (LightKind::parse(&event_target_value(&ev)), current()) {
                        light.kind = kind;
                        let _ = editor.edit(|scene, txn| scene.set_light(txn, &kind_id, &light));
                    }
                }>
                    {[LightKind::Point, LightKind::Directional, LightKind::Spot]
                        .map(|k| view! { <option value=k.as_str() selected=k == l>{k.as_str()}</option> })}
                </select>
                <label class="field wide">
                    <span>"Colour"</span>
                    <input type="color" id="prop-light-color"
                        prop:value=move || node.with(|n| n.as_ref().and_then(|n| n.light).map(|l| l.color.to_hex()).unwrap_or_default())
                        on:change=move |ev| {
                            if let (Some(color), Some(mut light)) = (Color::parse_hex(&event_target_value(&ev)), current()) {
                                light.color = color;
                                let _ = editor.edit(|scene, txn| scene.set_light(txn, &color_id, &light));
                            }
                        }
                    />
                </label>
                <div class="row3">
                    {num(NumberKey::Intensity, "Intensity")}
                    {(l == LightKind::Spot).then(|| num(NumberKey::Angle, "Angle°"))}
                </div>
            </div>
        }
    });
    view! {
        // A viewer sees every field and can change none (a disabled fieldset disables all).
        <fieldset class="fields" data-node-id=id.0.clone() disabled=move || !editor.access.can_edit()>
            <label class="field wide">
                <span>"Name"</span>
                <input type="text" id="prop-name" node_ref=name_guard.input
                    on:input=move |_| name_guard.typing()
                    on:blur=move |_| name_guard.settled()
                    on:change=move |ev| {
                        let name = event_target_value(&ev).trim().to_owned();
                        if !name.is_empty() {
                            editor.edit(|scene, txn| scene.rename(txn, &name_id, &name));
                        }
                        name_guard.settled();
                    }
                />
            </label>
            <div class="kind-line muted">{kind.as_str()}" · "<code>{id.0.clone()}</code></div>
            {vec3("Position", NumberKey::POSITION)}
            {vec3("Rotation (°)", NumberKey::ROTATION)}
            {vec3("Scale", NumberKey::SCALE)}
            {shape_fields}
            {light_fields}
            <div class="group flags">
                <label class="check">
                    <input type="checkbox" id="prop-visible"
                        prop:checked=move || node.with(|n| n.as_ref().is_some_and(|n| n.visible))
                        on:change=move |ev| { let _ = editor.edit(|s, t| s.set_visible(t, &vis_id, event_target_checked(&ev))); }
                    />
                    "Visible"
                </label>
                <label class="check">
                    <input type="checkbox" id="prop-locked"
                        prop:checked=move || node.with(|n| n.as_ref().is_some_and(|n| n.locked))
                        on:change=move |ev| { let _ = editor.edit(|s, t| s.set_locked(t, &lock_id, event_target_checked(&ev))); }
                    />
                    "Locked"
                </label>
            </div>
        </fieldset>
    }
}

/// Rotations and the spot angle are radians in the document and degrees in the panel.
fn in_degrees(key: NumberKey) -> bool {
    matches!(key, NumberKey::Rx | NumberKey::Ry | NumberKey::Rz | NumberKey::Angle)
}

/// The value of a numeric key as the node was read (defaults where the node has none).
pub fn number_of(node: &Node, key: NumberKey) -> f64 {
    use NumberKey::*;
    let t = &node.transform;
    let p = node.primitive;
    let m = node.material;
    let l = node.light;
    let value = match key {
        Px | Py | Pz => Some(t.position[NumberKey::POSITION.iter().position(|k| *k == key).unwrap_or(0)]),
        Rx | Ry | Rz => Some(t.rotation[NumberKey::ROTATION.iter().position(|k| *k == key).unwrap_or(0)]),
        Sx | Sy | Sz => Some(t.scale[NumberKey::SCALE.iter().position(|k| *k == key).unwrap_or(0)]),
        Width => match p {
            Some(Primitive::Box { width, .. } | Primitive::Plane { width, .. }) => Some(width),
            _ => None,
        },
        Height => match p {
            Some(Primitive::Box { height, .. } | Primitive::Plane { height, .. } | Primitive::Cylinder { height, .. }) => Some(height),
            _ => None,
        },
        Depth => match p {
            Some(Primitive::Box { depth, .. }) => Some(depth),
            _ => None,
        },
        Radius => match p {
            Some(Primitive::Sphere { radius } | Primitive::Cylinder { radius, .. }) => Some(radius),
            _ => None,
        },
        Roughness => m.map(|m| m.roughness),
        Metalness => m.map(|m| m.metalness),
        Opacity => m.map(|m| m.opacity),
        Intensity => l.map(|l| l.intensity),
        Angle => l.map(|l| l.angle),
    };
    value.unwrap_or_else(|| key.default_value())
}

/// A short, exact-enough display of a number: at most 4 decimals, no trailing zeros.
pub fn format_number(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

#[component]
fn NumberField(editor: Editor, node: Memo<Option<Node>>, key: NumberKey, label: &'static str) -> impl IntoView {
    let degrees = in_degrees(key);
    let shown = move || {
        node.with(|n| n.as_ref().map(|n| number_of(n, key))).map(|v| format_number(if degrees { v.to_degrees() } else { v })).unwrap_or_default()
    };
    let guard = Guard::new(shown);
    let step = if degrees { "5" } else { "0.1" };
    view! {
        <label class="field">
            <span>{label}</span>
            <input type="number" step=step id=format!("prop-{}", key.as_str()) data-key=key.as_str()
                node_ref=guard.input
                on:input=move |_| guard.typing()
                on:blur=move |_| guard.settled()
                on:change=move |ev| {
                    let value = event_target_value(&ev).trim().parse::<f64>().ok();
                    let value = value.map(|v| if degrees { v.to_radians() } else { v }).filter(|v| v.is_finite());
                    let id = node.with_untracked(|n| n.as_ref().map(|n| n.id.clone()));
                    if let (Some(value), Some(id)) = (value, id) {
                        editor.set_number(&id, key, value);
                    }
                    guard.settled();
                }
            />
        </label>
    }
}

#[component]
fn Slider(editor: Editor, node: Memo<Option<Node>>, key: NumberKey, label: &'static str) -> impl IntoView {
    let value = move || node.with(|n| n.as_ref().map(|n| number_of(n, key))).unwrap_or_default();
    let guard = Guard::new(move || value().to_string());
    view! {
        <label class="field wide slider">
            <span>{label}</span>
            <input type="range" min="0" max="1" step="0.01" id=format!("prop-{}", key.as_str()) data-key=key.as_str()
                node_ref=guard.input
                on:input=move |_| guard.typing()
                on:blur=move |_| guard.settled()
                on:change=move |ev| {
                    let value = event_target_value(&ev).parse::<f64>().ok();
                    if let (Some(value), Some(id)) = (value, node.with_untracked(|n| n.as_ref().map(|n| n.id.clone()))) {
                        editor.set_number(&id, key, value.clamp(0.0, 1.0));
                    }
                    guard.settled();
                }
            />
            <output>{move || format_number(value())}</output>
        </label>
    }
}
