// Interop: the scene schema (docs/scene-schema.md) between plain Yjs and the Rust scene model.
// A scene written with plain Yjs, by the rules of the schema doc only, travels through the
// real relay and must read the same in Rust (shared::scene, via the `scene_interop` example
// of the shared crate); a scene written in Rust must read as documented in plain Yjs.
//
// The Rust tool: lib/scene-tool.js.

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'

import * as Y from 'yjs'

import { clientComplaints, createClient, destroyAllClients, startRelay, waitFor } from './lib/harness.js'
import { sceneInteropTool } from './lib/scene-tool.js'

const T = { timeout: 120_000 }

// ---- What a JavaScript client needs, written from docs/scene-schema.md only. ----

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function midpoint (a, b) {
  if (b !== null) {
    let n = 0
    while ((a[n] || '0') === b[n]) n++
    if (n > 0) return b.slice(0, n) + midpoint(a.slice(n), b.slice(n))
  }
  const da = a ? ALPHABET.indexOf(a[0]) : 0
  const db = b !== null ? ALPHABET.indexOf(b[0]) : ALPHABET.length
  if (db - da > 1) return ALPHABET[Math.ceil((da + db) / 2)]
  if (b !== null && b.length > 1) return b.slice(0, 1)
  return ALPHABET[da] + midpoint(a.slice(1), null)
}

/** A sibling-order key strictly between `a` and `b` (null: the start / end of the list). */
function keyBetween (a, b) {
  if (a === null && b === null) return 'V'
  if (b === null) {
    const i = [...a].findIndex((c) => c !== 'z')
    return i < 0 ? a + '1' : a.slice(0, i) + ALPHABET[ALPHABET.indexOf(a[i]) + 1]
  }
  if (a === null) {
    const i = [...b].findIndex((c) => c > '1')
    if (i >= 0) return b.slice(0, i) + ALPHABET[ALPHABET.indexOf(b[i]) - 1]
    return '0'.repeat(b.indexOf('1') + 1) + 'z'
  }
  if (a >= b) throw new Error(`${a} is not below ${b}`)
  return midpoint(a, b)
}

const NUMBER_DEFAULTS = {
  px: 0, py: 0, pz: 0, rx: 0, ry: 0, rz: 0, sx: 1, sy: 1, sz: 1,
  width: 1, height: 1, depth: 1, radius: 0.5,
  roughness: 0.5, metalness: 0, opacity: 1, intensity: 1, angle: Math.PI / 6
}
const KINDS = ['group', 'mesh', 'light', 'camera']

function num (m, key) {
  const v = m.get(key)
  return typeof v === 'number' && Number.isFinite(v) ? v : NUMBER_DEFAULTS[key]
}
function str (m, key, dflt, allowed) {
  const v = m.get(key)
  return typeof v === 'string' && (!allowed || allowed.includes(v)) ? v : dflt
}
function color (m, key, dflt) {
  const v = m.get(key)
  if (typeof v !== 'string') return dflt
  if (/^#[0-9a-fA-F]{6}$/.test(v)) return v.toLowerCase()
  if (/^#[0-9a-fA-F]{3}$/.test(v)) return ('#' + [...v.slice(1)].map((c) => c + c).join('')).toLowerCase()
  return dflt
}

/** A triangle mesh's stored bytes, per the "Meshes" layout. */
function encodeMesh ({ positions, normals = null, indices }) {
  const v = positions.length / 3
  const bytes = new Uint8Array(16 + v * 12 + (normals ? v * 12 : 0) + indices.length * 4)
  const view = new DataView(bytes.buffer)
  bytes.set([0x54, 0x4d, 0x53, 0x48, 1, normals ? 1 : 0, 0, 0])
  view.setUint32(8, v, true)
  view.setUint32(12, indices.length, true)
  let at = 16
  for (const f of [...positions, ...(normals || [])]) { view.setFloat32(at, f, true); at += 4 }
  for (const i of indices) { view.setUint32(at, i, true); at += 4 }
  return bytes
}

const meshId = (bytes) => 'sha256-' + createHash('sha256').update(bytes).digest('hex')

/** Reads a stored mesh per the layout, checking what the schema says readers must. */
function decodeMesh (id, bytes) {
  if (!(bytes instanceof Uint8Array)) return { id, error: 'not binary' }
  if (meshId(bytes) !== id) return { id, error: 'wrong content' }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const [magic, version, flags] = [String.fromCharCode(...bytes.slice(0, 4)), bytes[4], bytes[5]]
  const v = view.getUint32(8, true)
  const i = view.getUint32(12, true)
  const hasNormals = (flags & 1) !== 0
  const length = 16 + v * (12 + (hasNormals ? 12 : 0) + ((flags & 2) ? 8 : 0)) + i * 4
  if (magic !== 'TMSH' || version !== 1 || length !== bytes.length || i % 3 !== 0) return { id, error: 'bad layout' }
  const positions = []
  for (let k = 0; k < v * 3; k++) positions.push(view.getFloat32(16 + 4 * k, true))
  const indices = []
  for (let k = 0; k < i; k++) indices.push(view.getUint32(bytes.length - 4 * i + 4 * k, true))
  if (indices.some((x) => x >= v)) return { id, error: 'index out of range' }
  return { id, vertices: v, triangles: i / 3, normals: hasNormals, positions, indices }
}

const byName = (scene) => Object.fromEntries(scene.map((n) => [n.name, n]))

/** Resolves the scene of `doc` by the schema's rules, in outliner order. */
function readScene (doc) {
  const nodes = doc.getMap('nodes')
  const byId = new Map()
  for (const [id, m] of nodes.entries()) if (m instanceof Y.Map) byId.set(id, m)
  const parent = new Map()
  for (const [id, m] of byId) {
    const p = m.get('parent')
    parent.set(id, typeof p === 'string' && p !== id && byId.has(p) ? p : null)
  }
  // Cycle rule: each cycle is broken at its smallest id (byte-wise; ids here are ASCII).
  const done = new Set()
  for (const start of [...byId.keys()].sort()) {
    const path = []
    const onPath = new Set()
    let cur = start
    while (cur !== null && !done.has(cur)) {
      if (onPath.has(cur)) {
        const cycle = path.slice(path.indexOf(cur))
        parent.set(cycle.sort()[0], null)
        break
      }
      onPath.add(cur)
      path.push(cur)
      cur = parent.get(cur)
    }
    for (const id of path) done.add(id)
  }
  const order = (id) => str(byId.get(id), 'order', '')
  const children = (p) => [...byId.keys()].filter((id) => parent.get(id) === p)
    .sort((a, b) => order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : a < b ? -1 : a > b ? 1 : 0)
  const out = []
  const visit = (id, depth) => {
    const m = byId.get(id)
    const kind = str(m, 'kind', 'group', KINDS)
    const n = (k) => num(m, k)
    const prim = str(m, 'primitive', 'box', ['box', 'sphere', 'cylinder', 'plane'])
    const dims = {
      box: { width: n('width'), height: n('height'), depth: n('depth') },
      sphere: { radius: n('radius') },
      cylinder: { radius: n('radius'), height: n('height') },
      plane: { width: n('width'), height: n('height') }
    }[prim]
    out.push({
      id,
      depth,
      parent: parent.get(id),
      name: str(m, 'name', ''),
      kind,
      order: order(id),
      position: [n('px'), n('py'), n('pz')],
      rotation: [n('rx'), n('ry'), n('rz')],
      scale: [n('sx'), n('sy'), n('sz')],
      visible: typeof m.get('visible') === 'boolean' ? m.get('visible') : true,
      locked: typeof m.get('locked') === 'boolean' ? m.get('locked') : false,
      primitive: kind === 'mesh' ? { type: prim, ...dims } : null,
      material: kind === 'mesh'
        ? { color: color(m, 'color', '#cccccc'), roughness: n('roughness'), metalness: n('metalness'), opacity: n('opacity') }
        : null,
      light: kind === 'light'
        ? { type: str(m, 'light', 'point', ['point', 'directional', 'spot']), color: color(m, 'lightColor', '#ffffff'), intensity: n('intensity'), angle: n('angle') }
        : null,
      mesh: kind === 'mesh' && /^sha256-[0-9a-f]{64}$/.test(m.get('mesh'))
        ? decodeMesh(m.get('mesh'), doc.getMap('meshes').get(m.get('mesh')))
        : null
    })
    for (const c of children(id)) visit(c, depth + 1)
  }
  for (const r of children(null)) visit(r, 0)
  return out
}

// ---- The Rust side. ----

let sceneTool

/** Compares numbers with a tolerance (float32 storage, f64 printing), everything else exactly. */
function assertClose (actual, expected, where = '') {
  if (typeof expected === 'number') {
    assert.ok(Math.abs(actual - expected) < 1e-6, `${where}: ${actual} vs ${expected}`)
  } else if (expected && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: keys`)
    for (const k of Object.keys(expected)) assertClose(actual[k], expected[k], `${where}.${k}`)
  } else {
    assert.equal(actual, expected, where)
  }
}

let relay
let roomSeq = 0
const room = (name) => `scene-${name}-${process.pid}-${++roomSeq}`

describe('scene schema: plain Yjs and the Rust model agree', () => {
  before(async () => {
    sceneTool = sceneInteropTool()
    relay = await startRelay()
  })
  afterEach(() => {
    destroyAllClients()
    assert.deepEqual(clientComplaints.splice(0), [], 'the stock client logged no error or warning')
  })
  after(async () => {
    destroyAllClients()
    if (relay) await relay.stop()
  })

  test('fractional-index keys: the JS port makes the documented keys', () => {
    const cases = [[null, null, 'V'], ['V', null, 'W'], [null, 'V', 'U'], ['z', null, 'z1'], [null, '1', '0z'],
      [null, '01', '00z'], ['V', 'W', 'VV'], ['a', 'a1', 'a0V']]
    for (const [a, b, want] of cases) assert.equal(keyBetween(a, b), want, `keyBetween(${a}, ${b})`)
  })

  test('a scene written with plain Yjs per the schema reads the same in Rust', T, async () => {
    const r = room('js-to-rust')
    const writer = createClient(relay, r)
    await writer.synced()
    const nodes = writer.doc.getMap('nodes')
    const node = (id, fields) => {
      const m = new Y.Map()
      for (const [k, v] of Object.entries(fields)) m.set(k, v)
      nodes.set(id, m)
    }
    writer.doc.transact(() => {
      node('js-room', { name: 'Room', kind: 'group', order: keyBetween(null, null), px: 2, ry: 0.5 })
      const first = keyBetween(null, null)
      node('js-box', {
        name: 'Box', kind: 'mesh', parent: 'js-room', order: first, primitive: 'box', width: 2, height: 3, depth: 4,
        color: '#FF8000', roughness: 0.25, metalness: 1, opacity: 0.5, sx: 2, visible: true, locked: false
      })
      // Only some keys: the rest take their defaults.
      node('js-ball', { name: 'Ball', kind: 'mesh', parent: 'js-room', order: keyBetween(null, first), primitive: 'sphere', radius: 0.75, visible: false })
      node('js-lamp', { name: 'Lamp', kind: 'light', order: 'W', light: 'directional', lightColor: '#fff', intensity: 3 })
      // A stored cycle (as concurrent reparenting can leave): broken at js-p, the smaller id.
      node('js-q', { name: 'Q', kind: 'group', parent: 'js-p', order: 'X' })
      node('js-p', { name: 'P', kind: 'group', parent: 'js-q', order: 'X' })
      // Parent deleted: shown at the root.
      node('js-orphan', { name: 'Orphan', kind: 'camera', parent: 'js-deleted', order: 'Y' })
      // From a newer client: unknown kind reads as group, unknown keys are ignored.
      node('js-future', { name: 'Future', kind: 'teapot', order: 'Z', spout: 'long', px: 'not a number' })
      // A triangle mesh: a quad of two triangles with normals, stored under its SHA-256.
      const quad = encodeMesh({ positions: [0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0], normals: [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], indices: [0, 1, 2, 0, 2, 3] })
      writer.doc.getMap('meshes').set(meshId(quad), quad)
      node('js-quad', { name: 'Quad', kind: 'mesh', order: 'Zz', primitive: 'box', width: 1, height: 1, depth: 0, mesh: meshId(quad) })
    })

    const reader = createClient(relay, r)
    await reader.synced()
    await waitFor(() => reader.doc.getMap('nodes').size === 9, undefined, 'the scene to arrive through the relay')
    const fromRust = JSON.parse(sceneTool('read', Buffer.from(Y.encodeStateAsUpdate(reader.doc))).toString())
    const fromJs = readScene(reader.doc)
    assertClose(fromRust, fromJs, 'rust vs js reader')

    const outline = fromRust.map((n) => `${'  '.repeat(n.depth)}${n.name}`)
    assert.deepEqual(outline, ['Room', '  Ball', '  Box', 'Lamp', 'P', '  Q', 'Orphan', 'Future', 'Quad'])
    const names = byName(fromRust)
    // The Rust model reads the JS-written mesh (its hash and layout check out).
    assert.deepEqual([names.Quad.mesh.triangles, names.Quad.mesh.vertices, names.Quad.mesh.normals], [2, 4, true])
    assert.deepEqual(names.Room.position, [2, 0, 0])
    assert.equal(names.Room.rotation[1], 0.5)
    assert.deepEqual(names.Box.primitive, { type: 'box', width: 2, height: 3, depth: 4 })
    assert.deepEqual(names.Box.material, { color: '#ff8000', roughness: 0.25, metalness: 1, opacity: 0.5 })
    assert.deepEqual(names.Box.scale, [2, 1, 1])
    assert.deepEqual(names.Ball.primitive, { type: 'sphere', radius: 0.75 })
    assert.equal(names.Ball.visible, false)
    assert.deepEqual(names.Ball.material, { color: '#cccccc', roughness: 0.5, metalness: 0, opacity: 1 })
    assertClose(names.Lamp.light, { type: 'directional', color: '#ffffff', intensity: 3, angle: Math.PI / 6 })
    assert.equal(names.P.parent, null)
    assert.equal(names.Q.parent, 'js-p')
    assert.equal(names.Orphan.parent, null)
    assert.equal(names.Future.kind, 'group')
    assert.deepEqual(names.Future.position, [0, 0, 0])
  })

  test('a scene written in Rust reads per the schema in plain Yjs', T, async () => {
    const r = room('rust-to-js')
    const writer = createClient(relay, r)
    const reader = createClient(relay, r)
    await Promise.all([writer.synced(), reader.synced()])
    const update = sceneTool('write')
    Y.applyUpdate(writer.doc, new Uint8Array(update))
    await waitFor(() => reader.doc.getMap('nodes').size === 7, undefined, 'the Rust scene to arrive through the relay')

    const scene = readScene(reader.doc)
    assert.deepEqual(scene.map((n) => `${'  '.repeat(n.depth)}${n.name}`),
      ['Camera', 'Room', '  Floor', '  Table', '    Ball', '    Gem', 'Lamp'])
    const names = byName(scene)
    // The Rust-written mesh decodes per the documented layout; its hash checks out.
    assert.deepEqual([names.Gem.mesh.vertices, names.Gem.mesh.triangles, names.Gem.mesh.normals], [4, 4, false])
    assert.deepEqual(names.Gem.mesh.positions.slice(3, 6), [0.5, 0, 0])
    assert.deepEqual(names.Floor.primitive, { type: 'plane', width: 10, height: 8 })
    assertClose(names.Floor.rotation, [-Math.PI / 2, 0, 0])
    assert.deepEqual(names.Table.primitive, { type: 'box', width: 2, height: 0.1, depth: 1 })
    assert.deepEqual(names.Table.material, { color: '#8b5a2b', roughness: 0.8, metalness: 0, opacity: 1 })
    assert.deepEqual([names.Table.position, names.Table.rotation, names.Table.scale], [[0, 0.75, 0], [0, 0.3, 0], [1, 1, 1.5]])
    assert.deepEqual(names.Ball.primitive, { type: 'sphere', radius: 0.2 })
    assert.equal(names.Ball.position[1], 0.25)
    assert.deepEqual(names.Lamp.light, { type: 'spot', color: '#ffeecc', intensity: 2.5, angle: 0.6 })
    assert.equal(names.Lamp.material, null)
    assert.deepEqual([names.Camera.visible, names.Camera.locked], [false, true])
    for (const n of scene) {
      assert.match(n.order, /^[0-9A-Za-z]*[1-9A-Za-z]$/, `${n.name}: order key per the alphabet`)
      assert.ok(typeof reader.doc.getMap('nodes').get(n.id).get('px') === 'number', 'numbers are plain JS numbers')
    }

    // And the Rust model reads back what plain Yjs resolved.
    const fromRust = JSON.parse(sceneTool('read', Buffer.from(Y.encodeStateAsUpdate(reader.doc))).toString())
    assertClose(fromRust, scene, 'rust vs js reader')
  })
})
