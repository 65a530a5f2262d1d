// A stock Yjs client (yjs + y-websocket from npm) for tests/tests/proxy.rs: connects to
// SERVER (e.g. ws://127.0.0.1:PORT/collab/ws) in ROOM through the reverse proxy, waits for
// the sync, checks it received the native client's "from-rust;" text, appends "from-yjs;"
// and waits until the relay has it (a second stock client sees it). Exits 0 on success,
// 1 on failure or after 15 s.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

import { waitFor as harnessWaitFor } from './lib/harness.js'

const [server, room] = process.argv.slice(2)
const LIMIT_MS = 15_000
const fail = (why) => { console.error(`proxy-peer: ${why}`); process.exit(1) }
setTimeout(() => fail('timed out'), LIMIT_MS).unref()
const waitFor = (check, what) => harnessWaitFor(check, LIMIT_MS, what).catch((e) => fail(e.message))

const connect = () => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server, room, doc, { WebSocketPolyfill: WebSocket, disableBc: true })
  return { doc, provider }
}

const a = connect()
await waitFor(() => a.provider.synced, 'the first sync')
await waitFor(() => a.doc.getText('t').toString().includes('from-rust;'), "the native client's text")
a.doc.getText('t').insert(a.doc.getText('t').length, 'from-yjs;')

const b = connect()
await waitFor(() => b.provider.synced && b.doc.getText('t').toString().includes('from-yjs;'), 'a second stock client to see the edit')
a.provider.destroy()
b.provider.destroy()
console.log('proxy-peer: ok')
process.exit(0)
