// Interop: stock Yjs clients (npm yjs + y-websocket's WebsocketProvider over `ws`) against the
// real relay binary. Every wait is bounded; the relay is killed in after() whatever happens.

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'

import {
  clientComplaints, content, createClient, destroyAllClients, sleep, startRelay, stateJSON, waitFor
} from './lib/harness.js'

const ROOM_IDLE_SECS = 1
const PING_SECS = 2
const T = { timeout: 60_000 }

let relay
let roomSeq = 0
/** A fresh room name per test, so tests don't see each other's state. */
const room = (name) => `interop-${name}-${process.pid}-${++roomSeq}`

describe('stock y-websocket clients against the relay', () => {
  before(async () => {
    relay = await startRelay({
      args: ['--room-idle-secs', String(ROOM_IDLE_SECS), '--ping-interval-secs', String(PING_SECS)]
    })
  })
  afterEach(() => {
    destroyAllClients()
    const complaints = clientComplaints.splice(0)
    assert.deepEqual(complaints, [], 'the stock client logged no error or warning')
  })
  after(async () => {
    destroyAllClients()
    if (relay) {
      const died = relay.exitInfo
      await relay.stop()
      assert.equal(died, null, `relay died during the tests (${JSON.stringify(died)}):\n${relay.logTail()}`)
    }
  })

  test('harness self-check: stateJSON() sees content, so equal means equal', async () => {
    const { Doc } = await import('yjs')
    const x = new Doc()
    const y = new Doc()
    assert.equal(stateJSON(x), stateJSON(y))
    x.getText('t').insert(0, 'a')
    assert.notEqual(stateJSON(x), stateJSON(y))
    assert.equal(content(x).t, 'a')
    x.destroy()
    y.destroy()
  })

  test('initial sync: a late joiner sees Y.Map and Y.Text content when it syncs', T, async () => {
    const r = room('initial')
    const a = createClient(relay, r)
    const observer = createClient(relay, r)
    await Promise.all([a.synced(), observer.synced()])

    a.doc.transact(() => {
      a.doc.getMap('m').set('title', 'hello')
      a.doc.getMap('m').set('n', 42)
      a.doc.getText('t').insert(0, 'héllo wörld ✓')
    })
    // Once another client has it, the relay has processed the update.
    await waitFor(() => observer.doc.getText('t').toString() === 'héllo wörld ✓', undefined, 'observer to get A\'s edit')

    const b = createClient(relay, r, { connect: false })
    let atSync = null
    b.provider.on('sync', (synced) => {
      if (synced && atSync === null) atSync = stateJSON(b.doc)
    })
    b.provider.connect()
    await b.synced()
    assert.equal(atSync, stateJSON(a.doc), 'B\'s content when "sync" fired')
    assert.deepEqual(b.doc.getMap('m').toJSON(), { title: 'hello', n: 42 })
    assert.equal(b.doc.getText('t').toString(), 'héllo wörld ✓')
  })

  test('concurrent edits: 50 interleaved inserts each into Y.Text and Y.Array converge', T, async () => {
    const r = room('concurrent')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])

    let seed = 12345
    const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % (n + 1) }
    for (let i = 0; i < 50; i++) {
      for (const [c, tag] of [[a, 'A'], [b, 'B']]) {
        const text = c.doc.getText('t')
        // Insert at a token boundary, so tokens stay whole and can be checked one by one.
        const str = text.toString()
        const bounds = [0]
        for (let p = 0; p < str.length; p++) if (str[p] === ';') bounds.push(p + 1)
        text.insert(bounds[rand(bounds.length - 1)], `${tag}${i};`)
        const arr = c.doc.getArray('a')
        arr.insert(rand(arr.length), [`${tag}${i}`])
        if (i % 10 === 9) c.doc.getMap('m').set('last', `${tag}${i}`)
      }
      // Let frames cross in flight, so edits really are concurrent.
      if (i % 5 === 0) await sleep(1)
    }

    await waitFor(() => a.doc.getArray('a').length === 100 && b.doc.getArray('a').length === 100 &&
      stateJSON(a.doc) === stateJSON(b.doc), undefined, () =>
      `convergence: A has ${a.doc.getArray('a').length} items, B has ${b.doc.getArray('a').length}`)

    const json = content(a.doc)
    assert.equal(json.a.length, 100)
    assert.equal(new Set(json.a).size, 100, 'no item lost or duplicated')
    const tokens = json.t.split(';').filter(Boolean)
    assert.equal(tokens.length, 100, `text holds 100 tokens: ${json.t}`)
    const expected = []
    for (let i = 0; i < 50; i++) expected.push(`A${i}`, `B${i}`)
    assert.deepEqual([...tokens].sort(), expected.sort(), 'every text insert arrived exactly once')
    assert.deepEqual([...json.a].sort(), expected.sort(), 'every array insert arrived exactly once')
    assert.deepEqual(b.doc.toJSON(), a.doc.toJSON())

    // The relay's merged copy is the same: a third client gets identical content.
    const c = createClient(relay, r)
    await c.synced()
    await waitFor(() => stateJSON(c.doc) === stateJSON(a.doc), undefined, 'late joiner to match A and B')
  })

  test('awareness both ways, removed on clean leave', T, async () => {
    const r = room('awareness')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])

    a.awareness.setLocalStateField('user', { name: 'Alice', color: '#f00' })
    await waitFor(() => b.awareness.getStates().get(a.id)?.user?.name === 'Alice', undefined, 'B to see A\'s awareness')
    b.awareness.setLocalStateField('user', { name: 'Bob' })
    await waitFor(() => a.awareness.getStates().get(b.id)?.user?.name === 'Bob', undefined, 'A to see B\'s awareness')

    a.awareness.setLocalStateField('cursor', { x: 1, y: 2 })
    await waitFor(() => b.awareness.getStates().get(a.id)?.cursor?.x === 1, undefined, 'B to see A\'s awareness update')

    const aId = a.id
    a.destroy()
    await waitFor(() => !b.awareness.getStates().has(aId), undefined, 'B to see A removed after A left')
    assert.ok(b.awareness.getStates().has(b.id), 'B keeps its own state')
  })

  test('awareness removed by the relay when a client\'s socket dies without a goodbye', T, async () => {
    const r = room('awareness-abrupt')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])
    a.awareness.setLocalStateField('user', { name: 'Alice' })
    await waitFor(() => b.awareness.getStates().get(a.id)?.user?.name === 'Alice', undefined, 'B to see A')

    const removedAt = []
    b.awareness.on('change', ({ removed }) => { if (removed.includes(a.id)) removedAt.push(Date.now()) })
    const killedAt = Date.now()
    a.kill() // TCP socket destroyed: no close frame, no awareness null from A
    // B's own awareness timeout is 30 s; the relay must be much quicker.
    await waitFor(() => !b.awareness.getStates().has(a.id), 10_000, 'B to see A removed after A\'s socket died')
    assert.equal(removedAt.length, 1)
    assert.ok(removedAt[0] - killedAt < 10_000)
  })

  test('awareness removed by the relay when a client stops answering (no FIN, no pongs)', T, async () => {
    const r = room('awareness-frozen')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])
    a.awareness.setLocalStateField('user', { name: 'Frozen' })
    await waitFor(() => b.awareness.getStates().get(a.id)?.user?.name === 'Frozen', undefined, 'B to see A')

    // Freeze A: stop reading its socket (so it answers no pings) and stop it sending
    // (its awareness renewals are due only after 15 s, and its own 30 s watchdog later still).
    a.provider.shouldConnect = false
    const sock = a.provider.ws._socket
    sock.pause()
    // The relay drops a connection silent for two ping intervals; B's own timeout is 30 s.
    await waitFor(() => !b.awareness.getStates().has(a.id), PING_SECS * 1000 * 3 + 5_000,
      'B to see the frozen client removed')
    sock.destroy()
  })

  test('offline edits are uploaded after reconnect', T, async () => {
    const r = room('offline')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])
    a.doc.getText('t').insert(0, 'online;')
    await waitFor(() => b.doc.getText('t').toString() === 'online;', undefined, 'B to get the online edit')

    a.provider.disconnect()
    await waitFor(() => !a.provider.wsconnected && a.provider.ws === null, undefined, 'A to disconnect')
    a.doc.getText('t').insert(a.doc.getText('t').length, 'offline-A;')
    a.doc.getMap('m').set('offline', true)
    b.doc.getText('t').insert(0, 'while-A-away-B;')
    await sleep(300)
    assert.equal(b.doc.getText('t').toString(), 'while-A-away-B;online;', 'B must not get A\'s edits while A is offline')
    assert.equal(a.doc.getText('t').toString(), 'online;offline-A;')

    a.provider.connect()
    await a.synced()
    await waitFor(() => b.doc.getMap('m').get('offline') === true &&
      stateJSON(a.doc) === stateJSON(b.doc), undefined, () =>
      `A and B to converge: A=${JSON.stringify(a.doc.toJSON())} B=${JSON.stringify(b.doc.toJSON())}`)
    assert.equal(b.doc.getText('t').toString(), 'while-A-away-B;online;offline-A;')
  })

  test('a 1 MiB update reaches a connected client and a late joiner intact', T, async () => {
    const r = room('big')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])

    // 1 MiB of pseudo-random printable ASCII (no runs to compress, every byte checked).
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    let x = 987654321
    let big = ''
    const parts = []
    for (let i = 0; i < 1024 * 1024; i++) {
      x = (x * 1664525 + 1013904223) >>> 0
      parts.push(chars[x % chars.length])
    }
    big = parts.join('')
    assert.equal(big.length, 1024 * 1024)

    a.doc.getText('big').insert(0, big)
    await waitFor(() => b.doc.getText('big').length === big.length, 20_000, () =>
      `B to receive 1 MiB (has ${b.doc.getText('big').length} chars)`)
    assert.ok(b.doc.getText('big').toString() === big, 'B\'s copy is byte-identical')

    const c = createClient(relay, r)
    await c.synced(20_000)
    assert.ok(c.doc.getText('big').toString() === big, 'late joiner\'s copy is byte-identical')
  })

  test('a late joiner after everyone left gets the full state (room reloaded from the store)', T, async (t) => {
    const r = room('late')
    const a = createClient(relay, r)
    const b = createClient(relay, r)
    await Promise.all([a.synced(), b.synced()])
    for (let i = 0; i < 20; i++) {
      a.doc.getArray('log').push([`a${i}`])
      b.doc.getArray('log').push([`b${i}`])
    }
    a.doc.getMap('m').set('who', 'A')
    b.doc.getText('t').insert(0, 'written by B')
    await waitFor(() => stateJSON(a.doc) === stateJSON(b.doc) && a.doc.getArray('log').length === 40,
      undefined, 'A and B to converge')
    const expected = stateJSON(a.doc)

    a.destroy()
    b.destroy()
    // Past --room-idle-secs the relay writes the room out and drops it from memory. When its
    // /api/stats tells, wait for exactly that (no client is left in any room by now).
    await sleep(ROOM_IDLE_SECS * 1000 + 500)
    const stats = async () => (await fetch(`${relay.httpUrl}/api/stats`, { signal: AbortSignal.timeout(2000) })).json()
    const before = await stats().catch(() => ({}))
    const cacheKnown = typeof before?.cache?.rooms_in_memory === 'number' &&
      typeof before?.cache?.joins_from_store === 'number'
    if (cacheKnown) {
      await waitFor(async () => (await stats()).cache.rooms_in_memory === 0, undefined, 'the relay to drop idle rooms from memory')
    } else {
      t.diagnostic('/api/stats has no cache.rooms_in_memory: not checking that the room was reloaded from the store')
      await sleep(1000)
    }
    const joinsFromStore = cacheKnown ? (await stats()).cache.joins_from_store : 0

    const c = createClient(relay, r)
    await c.synced()
    if (cacheKnown) assert.equal((await stats()).cache.joins_from_store, joinsFromStore + 1, 'C\'s join loaded the room from the store')
    assert.equal(stateJSON(c.doc), expected)
    assert.equal(c.doc.getArray('log').length, 40)
    assert.equal(c.doc.getText('t').toString(), 'written by B')
  })
})
