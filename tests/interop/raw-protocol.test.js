// Interop at the byte level: a plain `ws` client (no y-websocket) checks the relay's frames
// against the stock protocol: one message per binary frame, SyncStep1/SyncStep2 shapes,
// awareness removal on behalf of a dead connection, and close code 1007 for garbage.

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import * as Y from 'yjs'

import {
  clientComplaints, createClient, destroyAllClients, rawConnect, sleep, startRelay, stateJSON, waitFor, withTimeout
} from './lib/harness.js'
import {
  MSG_AWARENESS, MSG_SYNC, SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE,
  decodeSingleMessage, encodeAwarenessMessage, hex, readVarUint
} from './lib/wire.js'

const T = { timeout: 60_000 }

let relay
let roomSeq = 0
const room = (name) => `raw-${name}-${process.pid}-${++roomSeq}`

/** Decodes a state vector strictly: varUint(n), n × (clientID, clock), nothing after. */
function decodeStateVectorStrict (payload) {
  let pos = 0
  let n
  ;[n, pos] = readVarUint(payload, pos)
  const sv = new Map()
  for (let i = 0; i < n; i++) {
    let client, clock
    ;[client, pos] = readVarUint(payload, pos)
    ;[clock, pos] = readVarUint(payload, pos)
    sv.set(client, clock)
  }
  assert.equal(pos, payload.length, `state vector has trailing bytes: ${hex(payload)}`)
  return sv
}

/** A room with content and a presence in it, and proof the relay has processed both. */
async function populatedRoom (name) {
  const r = room(name)
  const a = createClient(relay, r)
  const observer = createClient(relay, r)
  await Promise.all([a.synced(), observer.synced()])
  a.doc.getText('t').insert(0, 'raw check')
  a.doc.getMap('m').set('k', [1, 2, 3])
  a.awareness.setLocalStateField('user', { name: 'Alice' })
  await waitFor(() => observer.doc.getText('t').toString() === 'raw check' &&
    observer.awareness.getStates().get(a.id)?.user?.name === 'Alice', undefined, 'observer to see A\'s edit and presence')
  return { r, a, observer }
}

describe('raw y-websocket protocol against the relay', () => {
  before(async () => {
    relay = await startRelay({ args: ['--ping-interval-secs', '2'] })
  })
  afterEach(() => {
    destroyAllClients()
    const complaints = clientComplaints.splice(0)
    assert.deepEqual(complaints, [], 'the stock clients logged no error or warning')
  })
  after(async () => {
    destroyAllClients()
    if (relay) {
      const died = relay.exitInfo
      await relay.stop()
      assert.equal(died, null, `relay died during the tests (${JSON.stringify(died)}):\n${relay.logTail()}`)
    }
  })

  test('a fresh room: the relay\'s first frame is exactly an empty SyncStep1 (00 00 01 00)', T, async () => {
    const raw = await rawConnect(relay, room('fresh'))
    const first = await raw.nextFrame(() => true, { what: 'the relay\'s first frame' })
    assert.equal(first.index, 0)
    assert.ok(raw.frames[0].isBinary, 'binary frame')
    assert.equal(hex(first.bytes), '00 00 01 00')
  })

  test('joining a populated room: each first frame is ONE message; SyncStep1 carries the room\'s state vector; presence arrives', T, async () => {
    const { r, a } = await populatedRoom('first-frames')
    const raw = await rawConnect(relay, r)
    // Collect what the relay sends on its own, before we say anything.
    await raw.nextFrame((m) => m.type === MSG_AWARENESS, { what: 'the room\'s awareness states' })
    await sleep(200)
    assert.ok(raw.frames.length >= 2, `expected SyncStep1 and awareness, got ${raw.frames.length} frames`)
    raw.frames.forEach((f, i) => assert.ok(f.isBinary, `frame #${i} is binary`))
    const msgs = raw.frames.map((f) => decodeSingleMessage(f.bytes)) // throws unless one message per frame

    assert.equal(msgs[0].type, MSG_SYNC, `first frame is a sync message: ${hex(raw.frames[0].bytes)}`)
    assert.equal(msgs[0].syncType, SYNC_STEP1, `first frame is SyncStep1: ${hex(raw.frames[0].bytes)}`)
    assert.deepEqual([...raw.frames[0].bytes.subarray(0, 2)], [0, 0])
    const sv = decodeStateVectorStrict(msgs[0].payload)
    assert.deepEqual(sv, Y.decodeStateVector(Y.encodeStateVector(a.doc)), 'relay\'s state vector equals A\'s')

    const aw = msgs.filter((m) => m.type === MSG_AWARENESS).flatMap((m) => m.awareness)
    const alice = aw.find((e) => e.clientID === a.id)
    assert.ok(alice, `A's awareness was sent to the joiner: ${JSON.stringify(aw)}`)
    assert.deepEqual(alice.state, { user: { name: 'Alice' } })
  })

  test('an empty SyncStep1 (00 00 01 00) is answered with a SyncStep2 (00 01 …) holding the whole room', T, async () => {
    const { r, a } = await populatedRoom('step2')
    const raw = await rawConnect(relay, r)
    await raw.nextFrame((m) => m.type === MSG_SYNC && m.syncType === SYNC_STEP1, { what: 'relay SyncStep1' })
    const from = raw.frames.length
    raw.send([0x00, 0x00, 0x01, 0x00])
    const step2 = await raw.nextFrame((m) => m.type === MSG_SYNC && m.syncType !== SYNC_STEP1,
      { from, what: 'a SyncStep2 answer' })
    assert.deepEqual([...step2.bytes.subarray(0, 2)], [0x00, 0x01], `answer starts 00 01: ${hex(step2.bytes)}`)
    assert.equal(step2.msg.syncType, SYNC_STEP2)

    const doc = new Y.Doc()
    Y.applyUpdate(doc, step2.msg.payload)
    assert.equal(stateJSON(doc), stateJSON(a.doc), 'SyncStep2 holds the room\'s full state')
    doc.destroy()

    // Every frame so far, including any awareness, is exactly one message.
    raw.frames.forEach((f) => decodeSingleMessage(f.bytes))
  })

  test('an update is forwarded to a raw client as its own frame (00 02 …)', T, async () => {
    const { r, a } = await populatedRoom('forward')
    const raw = await rawConnect(relay, r)
    await raw.nextFrame((m) => m.type === MSG_SYNC && m.syncType === SYNC_STEP1, { what: 'relay SyncStep1' })
    const from = raw.frames.length
    const before = Y.encodeStateAsUpdate(a.doc)
    a.doc.getText('t').insert(0, '>')
    const upd = await raw.nextFrame((m) => m.type === MSG_SYNC && m.syncType === SYNC_UPDATE,
      { from, what: 'A\'s update forwarded' })
    const doc = new Y.Doc()
    Y.applyUpdate(doc, before)
    Y.applyUpdate(doc, upd.msg.payload)
    assert.ok(doc.getText('t').toString().startsWith('>'), 'forwarded update carries the edit')
    doc.destroy()
  })

  for (const [label, garbage] of [
    ['a truncated update [0, 2, 200]', [0, 2, 200]],
    ['an update whose content is not a Yjs update [0, 2, 3, ff, ff, ff]', [0, 2, 3, 0xff, 0xff, 0xff]]
  ]) {
    test(`garbage (${label}) closes that socket with 1007 and a reason; others in the room keep syncing`, T, async () => {
      const { r, a, observer } = await populatedRoom('garbage')
      const aSocket = a.provider.ws
      const observerSocket = observer.provider.ws
      const raw = await rawConnect(relay, r)
      await raw.nextFrame((m) => m.type === MSG_SYNC && m.syncType === SYNC_STEP1, { what: 'relay SyncStep1' })

      raw.send(garbage)
      const closed = await withTimeout(raw.closed, 5000, 'the relay to close the garbage sender')
      assert.equal(closed.code, 1007, `close code (reason: ${JSON.stringify(closed.reason)})`)
      assert.ok(closed.reason.length > 0, 'close reason is not empty')

      // Others are unaffected: same sockets, still syncing both ways, content intact.
      a.doc.getText('t').insert(0, 'after-garbage;')
      observer.doc.getMap('m').set('still', 'here')
      await waitFor(() => observer.doc.getText('t').toString().startsWith('after-garbage;') &&
        a.doc.getMap('m').get('still') === 'here', undefined, 'A and the observer to keep syncing')
      assert.equal(a.provider.ws, aSocket, 'A was not disconnected')
      assert.equal(observer.provider.ws, observerSocket, 'the observer was not disconnected')
      assert.equal(stateJSON(a.doc), stateJSON(observer.doc))

      const late = createClient(relay, r)
      await late.synced()
      assert.equal(stateJSON(late.doc), stateJSON(a.doc), 'the garbage did not reach the room state')
    })
  }

  test('a dead connection\'s presence is removed for EVERY client id it sent (null, clock + 1)', T, async () => {
    const r = room('multi-id')
    const b = createClient(relay, r)
    await b.synced()
    const watcher = await rawConnect(relay, r)
    const sender = await rawConnect(relay, r)
    const ids = [900001, 900002]
    sender.send(encodeAwarenessMessage([
      { clientID: ids[0], clock: 1, state: { name: 'x' } },
      { clientID: ids[1], clock: 5, state: { name: 'y' } }
    ]))
    await waitFor(() => ids.every((id) => b.awareness.getStates().has(id)), undefined, 'B to see both ids')
    const from = watcher.frames.length

    sender.ws._socket.destroy() // abrupt: no close frame, no awareness null
    await waitFor(() => ids.every((id) => !b.awareness.getStates().has(id)), 10_000,
      'B to see both ids removed')

    // The bytes the relay sent: null states with a higher clock, one message per frame.
    const seen = new Map()
    await waitFor(() => {
      for (let i = from; i < watcher.frames.length; i++) {
        const m = decodeSingleMessage(watcher.frames[i].bytes)
        if (m.type === MSG_AWARENESS) for (const e of m.awareness) if (ids.includes(e.clientID)) seen.set(e.clientID, e)
      }
      return ids.every((id) => seen.get(id)?.state === null)
    }, 5000, 'the watcher to get null states for both ids')
    assert.ok(seen.get(ids[0]).clock > 1, `clock of ${ids[0]} grew: ${seen.get(ids[0]).clock}`)
    assert.ok(seen.get(ids[1]).clock > 5, `clock of ${ids[1]} grew: ${seen.get(ids[1]).clock}`)
  })
})
