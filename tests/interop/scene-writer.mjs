// A stock Yjs client (yjs + y-websocket from npm) that writes one scene node following
// docs/scene-schema.md, for the browser test "a stock Yjs client's node shows in the
// editor" (tests/tests/browser.rs). Usage: node scene-writer.mjs SERVER ROOM NAME
// (SERVER e.g. ws://127.0.0.1:PORT/ws). Waits until a second stock client in the room sees
// the node (so the relay has it), then exits 0; 1 on failure or after 15 s.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

import { waitFor as harnessWaitFor } from './lib/harness.js'

const [server, room, name] = process.argv.slice(2)
const LIMIT_MS = 15_000
const fail = (why) => { console.error(`scene-writer: ${why}`); process.exit(1) }
setTimeout(() => fail('timed out'), LIMIT_MS).unref()
const waitFor = (check, what) => harnessWaitFor(check, LIMIT_MS, what).catch((e) => fail(e.message))

const connect = () => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server, room, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  return { doc, provider }
}

const writer = connect()
await waitFor(() => writer.provider.synced, 'the first sync')
const id = `js-${writer.doc.clientID}`
writer.doc.transact(() => {
  // Exactly the layout of docs/scene-schema.md: one flat map per node in the root map "nodes".
  const node = new Y.Map()
  writer.doc.getMap('nodes').set(id, node)
  node.set('name', name)
  node.set('kind', 'mesh')
  node.set('order', 'V')
  node.set('px', 1.5); node.set('py', 0); node.set('pz', -2)
  node.set('primitive', 'sphere'); node.set('radius', 0.75)
  node.set('color', '#ff8800'); node.set('roughness', 0.4); node.set('metalness', 0.1)
})

const reader = connect()
await waitFor(() => reader.provider.synced && reader.doc.getMap('nodes').get(id)?.get('name') === name, 'a second stock client to see the node')
writer.provider.destroy()
reader.provider.destroy()
console.log(`scene-writer: wrote ${id}`)
process.exit(0)
