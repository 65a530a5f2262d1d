// Interop: a silent Python listener (pycrdt from PyPI, its own Provider over the `websockets`
// package: python/silent_listener.py) stays connected past every timer the relay runs and
// still receives an edit a stock Yjs client makes afterwards (issue 21); then it writes scene
// nodes per docs/scene-schema.md, which the Rust scene model (shared::scene, lib/scene-tool.js)
// reads as written.
//
// The Python interpreter with pycrdt installed: PYCRDT_PYTHON (scripts/interop.sh makes a
// venv at tests/interop/.venv from python/requirements.txt and sets it).

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

import * as Y from 'yjs'

import { clientComplaints, createClient, destroyAllClients, sleep, startRelay, waitFor, withTimeout } from './lib/harness.js'
import { sceneInteropTool } from './lib/scene-tool.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const T = { timeout: 120_000 }

// The relay's timers, shortened: pings every second (a connection that answers none for two
// intervals is closed), the room sweep every 250 ms (a quarter of --room-idle-secs), and
// compaction once the oldest log entry is a second old. No idle limit: that is the default.
const PING_SECS = 1
const RELAY_ARGS = ['--ping-interval-secs', String(PING_SECS), '--room-idle-secs', '1', '--compact-log-age-secs', '1']
// Silence: six ping intervals, three times the dead-connection window, many sweeps.
const SILENCE_MS = 6 * PING_SECS * 1000

function pythonBin () {
  const bin = process.env.PYCRDT_PYTHON || path.join(here, '.venv', 'bin', 'python')
  if (!fs.existsSync(bin)) {
    throw new Error(`no Python with pycrdt at ${bin}: run scripts/interop.sh (it makes the venv) or set PYCRDT_PYTHON`)
  }
  return bin
}

/** The Python listener as a child process: its events (JSON lines) and a way to command it. */
function startListener (url) {
  const child = spawn(pythonBin(), [path.join(here, 'python', 'silent_listener.py'), url, '110'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const events = []
  const stderr = []
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line))
    } catch {
      stderr.push(`(stdout) ${line}`)
    }
  })
  child.stderr.on('data', (chunk) => stderr.push(chunk.toString()))
  let exit = null
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit) }))
  const describe = () => `events ${JSON.stringify(events)}; exit ${JSON.stringify(exit)}; stderr ${stderr.join('').slice(-2000)}`
  return {
    events,
    get exit () { return exit },
    describe,
    command (line) { child.stdin.write(`${line}\n`) },
    /** The last event named `name` satisfying `pred`, waited for. */
    async next (name, pred = () => true, ms) {
      return waitFor(() => {
        if (exit) throw Object.assign(new Error(`the listener exited: ${describe()}`), { fatal: true })
        return [...events].reverse().find((e) => e.event === name && pred(e))
      }, ms, () => `listener event "${name}" (${describe()})`)
    },
    async quit () {
      if (!exit) child.stdin.end('quit\n')
      try {
        return await withTimeout(exited, 10_000, 'the listener to exit')
      } catch (e) {
        child.kill('SIGKILL')
        throw e
      }
    },
    kill () { if (!exit) child.kill('SIGKILL') }
  }
}

/** Numbers within float32 storage of each other, everything else exactly (as scene-schema.test.js). */
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

async function relayStats (relay) {
  const res = await fetch(`${relay.httpUrl}/api/stats`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  return res.json()
}

let relay
let listener
let sceneTool

describe('a silent pycrdt listener', () => {
  before(async () => {
    sceneTool = sceneInteropTool()
    relay = await startRelay({ args: RELAY_ARGS })
  })
  afterEach(() => {
    destroyAllClients()
    if (listener) listener.kill()
    assert.deepEqual(clientComplaints.splice(0), [], 'the stock client logged no error or warning')
  })
  after(async () => {
    if (relay) await relay.stop()
  })

  test('stays past every relay timer, receives a later Yjs edit, and writes a scene Rust reads', T, async () => {
    const room = `pycrdt-${process.pid}`
    const first = createClient(relay, room)
    await first.synced()
    first.doc.getText('t').insert(0, 'before ')

    listener = startListener(`${relay.wsUrl}/${room}`)
    await listener.next('synced')
    await listener.next('text', (e) => e.t === 'before ')
    first.destroy()
    await waitFor(async () => (await relayStats(relay)).connections === 1, undefined, 'only the listener in the room')

    // From here on the room holds only the listener, which sends nothing: no data frame
    // arrives at the relay, only the pongs the websockets library answers on its own.
    // (pycrdt's Provider sends back every update it applies, its own or not, so it is silent
    // exactly while nothing arrives.)
    const quietFrom = await relayStats(relay)
    await sleep(SILENCE_MS)
    const quietTo = await relayStats(relay)
    assert.equal(listener.exit, null, `the listener is still running: ${listener.describe()}`)
    assert.ok(!listener.events.some((e) => e.event === 'closed'), `the relay did not close it: ${listener.describe()}`)
    assert.equal(quietTo.frames_in, quietFrom.frames_in, 'the listener sent no message while silent')
    assert.equal(quietTo.connections, 1, 'the listener is still connected')

    // A stock Yjs client joins and edits after the silence: the listener receives it.
    const late = createClient(relay, room)
    await late.synced()
    assert.equal(late.doc.getText('t').toString(), 'before ')
    late.doc.getText('t').insert(7, 'after')
    await listener.next('text', (e) => e.t === 'before after')

    // The listener writes scene nodes per docs/scene-schema.md; the stock client receives
    // them, and the Rust scene model reads them as written.
    listener.command('write-scene')
    await listener.next('wrote')
    await waitFor(() => late.doc.getMap('nodes').size === 5, undefined, 'the pycrdt scene to arrive through the relay')
    const scene = JSON.parse(sceneTool('read', Buffer.from(Y.encodeStateAsUpdate(late.doc))).toString())
    assert.deepEqual(scene.map((n) => `${'  '.repeat(n.depth)}${n.name}`), ['Eye', 'Shelf', '  Crate', '  Globe', 'Lamp'])
    const byName = Object.fromEntries(scene.map((n) => [n.name, n]))
    assertClose(byName.Eye, {
      ...byName.Eye, kind: 'camera', order: 'U', locked: true, parent: null, position: [0, 0, 0], primitive: null, material: null
    }, 'Eye')
    assertClose(byName.Shelf, { ...byName.Shelf, kind: 'group', order: 'V', position: [1.5, 0, 0], rotation: [0, 0.25, 0] }, 'Shelf')
    assertClose(byName.Crate, {
      ...byName.Crate,
      parent: 'py-shelf',
      order: 'V',
      primitive: { type: 'box', width: 0.5, height: 0.25, depth: 0.4 },
      material: { color: '#3366cc', roughness: 0.9, metalness: 0, opacity: 1 }
    }, 'Crate')
    assertClose(byName.Globe, {
      ...byName.Globe, parent: 'py-shelf', order: 'W', visible: false, primitive: { type: 'sphere', radius: 0.3 }, scale: [1, 2, 1]
    }, 'Globe (a Python int is a number to the scene model)')
    assertClose(byName.Lamp, {
      ...byName.Lamp, parent: null, order: 'W', light: { type: 'point', color: '#ffcc00', intensity: 4, angle: Math.PI / 6 }
    }, 'Lamp')
    assert.equal(late.doc.getMap('nodes').get('py-eye').get('author'), 'pycrdt', 'an unknown key is kept')

    assert.deepEqual(await listener.quit(), { code: 0, signal: null }, listener.describe())
  })
})
