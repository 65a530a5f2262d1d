// Test harness: starts the real relay binary on a free loopback port with a fresh data dir,
// creates stock y-websocket clients and raw `ws` clients, and bounds every wait.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'

import { decodeSingleMessage } from './wire.js'

const interopDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Default bound for a single wait. A stuck test fails, it does not hang. */
export const WAIT_MS = Number(process.env.INTEROP_WAIT_MS || 10_000)

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `predicate` every 10 ms until it returns a truthy value; throws after `ms`.
 * @template T
 * @param {() => T | Promise<T>} predicate
 * @param {number} [ms]
 * @param {string | (() => string)} [what] shown in the timeout error
 * @returns {Promise<T>}
 */
export async function waitFor (predicate, ms = WAIT_MS, what = 'condition') {
  const deadline = Date.now() + ms
  let lastError
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value
    } catch (e) {
      if (e && e.fatal) throw e
      lastError = e
    }
    if (Date.now() >= deadline) {
      const desc = typeof what === 'function' ? what() : what
      const err = new Error(`timed out after ${ms} ms waiting for ${desc}` +
        (lastError ? ` (last error: ${lastError.message})` : ''))
      throw err
    }
    await sleep(10)
  }
}

/** Races `promise` against a timeout. */
export function withTimeout (promise, ms = WAIT_MS, what = 'promise') {
  let timer
  return Promise.race([
    promise,
    new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Every relay started by this process, so an exit hook can kill leftovers. */
const liveRelays = new Set()
function killAllSync () {
  for (const child of liveRelays) {
    try { child.kill('SIGKILL') } catch {}
  }
}
process.on('exit', killAllSync)
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllSync()
    process.exit(128 + (os.constants.signals[sig] || 0))
  })
}

/**
 * Starts the relay binary (RELAY_BIN, default ../../target/debug/relay relative to tests/interop)
 * on a free loopback port, with a fresh temp data dir, and waits for /healthz to answer "ok".
 * @param {{ args?: string[] }} [opts] extra command-line flags
 */
export async function startRelay ({ args = [] } = {}) {
  const bin = process.env.RELAY_BIN
    ? path.resolve(process.env.RELAY_BIN)
    : path.resolve(interopDir, '../../target/debug/relay')
  if (!fs.existsSync(bin)) {
    throw new Error(`relay binary not found at ${bin}: build it with \`cargo build -p relay\` or set RELAY_BIN`)
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-interop-'))
  // The relay reads RELAY_* variables as defaults for its flags: don't inherit any.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RELAY_')))
  env.RUST_LOG = process.env.INTEROP_RUST_LOG || 'info'
  const verbose = !!process.env.INTEROP_VERBOSE

  let lastFailure
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort()
    const child = spawn(bin, [
      '--listen', `127.0.0.1:${port}`,
      '--data-dir', dataDir,
      '--shutdown-grace-secs', '1',
      ...args
    ], { stdio: ['ignore', 'pipe', 'pipe'], env })
    liveRelays.add(child)
    const log = []
    const onData = (chunk) => {
      const text = chunk.toString()
      if (verbose) process.stderr.write(text)
      for (const line of text.split('\n')) if (line) log.push(line)
      if (log.length > 400) log.splice(0, log.length - 400)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      liveRelays.delete(child)
      resolve({ code, signal })
    }))
    let exitInfo = null
    exited.then((info) => { exitInfo = info })

    const relay = {
      port,
      dataDir,
      child,
      httpUrl: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      log,
      get exitInfo () { return exitInfo },
      logTail: (n = 40) => log.slice(-n).join('\n'),
      async stop () {
        if (exitInfo === null) {
          child.kill('SIGTERM')
          try {
            await withTimeout(exited, 5000, 'relay to exit after SIGTERM')
          } catch {
            child.kill('SIGKILL')
            await withTimeout(exited, 5000, 'relay to exit after SIGKILL')
          }
        }
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    }

    try {
      await waitFor(async () => {
        if (exitInfo) throw Object.assign(new Error(`relay exited early (${JSON.stringify(exitInfo)})`), { fatal: true })
        const res = await fetch(`${relay.httpUrl}/healthz`, { signal: AbortSignal.timeout(1000) })
        return res.ok && (await res.text()).trim() === 'ok'
      }, 20_000, 'relay /healthz to answer "ok"')
      if (exitInfo) throw new Error(`relay exited (${JSON.stringify(exitInfo)})`)
      return relay
    } catch (e) {
      lastFailure = new Error(`${e.message}\nrelay log:\n${relay.logTail()}`)
      if (exitInfo === null) {
        child.kill('SIGKILL')
        await withTimeout(exited, 5000, 'relay to exit').catch(() => {})
      }
      // A port stolen between freePort() and the relay's bind: try another one.
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
  throw lastFailure
}

// ---------------------------------------------------------------------------------------------
// Stock Yjs clients (yjs + y-websocket WebsocketProvider over the `ws` package)

/**
 * What the stock client library complained about on the console ("Unable to compute message"
 * for an unknown message type, "Permission denied", …). Tests expect it to stay empty.
 * @type {string[]}
 */
export const clientComplaints = []
for (const level of ['error', 'warn']) {
  const original = console[level].bind(console)
  console[level] = (...args) => {
    clientComplaints.push(`console.${level}: ${args.map(String).join(' ')}`)
    original(...args)
  }
}

/** Clients created since the last `destroyAllClients()`. */
const clients = new Set()

/**
 * A stock y-websocket client. BroadcastChannel is disabled: in one node process the clients
 * would otherwise sync with each other directly and bypass the relay.
 * @param {{wsUrl: string}} relay
 * @param {string} room
 * @param {{connect?: boolean, params?: Record<string,string>}} [opts]
 */
export function createClient (relay, room, { connect = true, params = {} } = {}) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(relay.wsUrl, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    connect,
    params,
    maxBackoffTime: 500
  })
  const client = {
    doc,
    provider,
    awareness: provider.awareness,
    get id () { return doc.clientID },
    /** Waits until the provider has received SyncStep2 from the relay. */
    synced (ms = WAIT_MS) {
      return waitFor(() => provider.synced, ms, `client ${doc.clientID} in room "${room}" to sync`)
    },
    json () { return doc.toJSON() },
    /** Clean leave: awareness null from the client, close handshake. */
    destroy () {
      if (!clients.has(client)) return
      clients.delete(client)
      const ws = provider.ws
      provider.destroy()
      doc.destroy()
      // If the socket could not close cleanly (e.g. paused or already dead) don't let the
      // ws library's 30 s closing timer keep the process alive.
      if (ws && ws._socket) setTimeout(() => ws._socket && ws._socket.destroy(), 2000).unref()
    },
    /**
     * Abrupt leave: the TCP socket is destroyed without a close frame and without an
     * awareness null from the client. The provider does not reconnect.
     */
    kill () {
      provider.shouldConnect = false
      const ws = provider.ws
      if (ws && ws._socket) ws._socket.destroy()
    }
  }
  clients.add(client)
  return client
}

export function destroyAllClients () {
  for (const c of [...clients]) c.destroy()
  for (const r of [...rawClients]) r.terminate()
}

/**
 * The root types the tests use, by name. A doc decoded from an update only knows a root
 * type's kind once it is asked for it (an unknown kind serialises as nothing), so content is
 * always read through this schema.
 */
export const SCHEMA = { t: Y.Text, m: Y.Map, a: Y.Array, log: Y.Array, big: Y.Text }

/**
 * Canonical JSON of a doc's content, recomputed from its encoded state (what a peer would
 * load), plus its state vector, so two docs compare equal only with the same content and the
 * same history.
 */
export function stateJSON (doc) {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const json = {}
  for (const [name, Type] of Object.entries(SCHEMA)) json[name] = copy.get(name, Type).toJSON()
  const sv = [...Y.decodeStateVector(Y.encodeStateVector(copy))].sort((x, y) => x[0] - y[0])
  copy.destroy()
  return JSON.stringify({ content: json, stateVector: sv })
}

/** Just the content part of stateJSON(), as an object. */
export function content (doc) {
  return JSON.parse(stateJSON(doc)).content
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket clients (no y-websocket): every frame is recorded and decoded strictly.

const rawClients = new Set()

/**
 * @param {{wsUrl: string}} relay
 * @param {string} room
 */
export async function rawConnect (relay, room) {
  const ws = new WebSocket(`${relay.wsUrl}/${encodeURIComponent(room)}`)
  /** @type {{bytes: Uint8Array, isBinary: boolean, at: number}[]} */
  const frames = []
  let closeInfo = null
  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() }
      resolve(closeInfo)
    })
  })
  ws.on('error', () => {}) // surfaced through 'close'
  ws.on('message', (data, isBinary) => {
    const bytes = new Uint8Array(Buffer.isBuffer(data) ? data : Buffer.concat(data))
    frames.push({ bytes, isBinary, at: Date.now() })
  })
  try {
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)))
      ws.once('close', () => reject(new Error('closed before open')))
    }), WAIT_MS, `raw WebSocket to room "${room}" to open`)
  } catch (e) {
    ws.terminate()
    throw e
  }

  const raw = {
    ws,
    frames,
    closed,
    get closeInfo () { return closeInfo },
    send (bytes) { ws.send(Uint8Array.from(bytes)) },
    /**
     * Waits for the first frame at index >= `from` whose decoded message satisfies `pred`.
     * @returns {Promise<{index: number, bytes: Uint8Array, msg: any}>}
     */
    async nextFrame (pred, { from = 0, ms = WAIT_MS, what = 'a matching frame' } = {}) {
      let found
      await waitFor(() => {
        for (let i = from; i < frames.length; i++) {
          let msg
          try {
            msg = decodeSingleMessage(frames[i].bytes)
          } catch (e) {
            e.message = `relay frame #${i} is not exactly one well-formed message: ${e.message}`
            e.fatal = true
            throw e
          }
          if (pred(msg, frames[i].bytes)) {
            found = { index: i, bytes: frames[i].bytes, msg }
            return true
          }
        }
        return false
      }, ms, `${what} (got ${frames.length} frames so far)`)
      return found
    },
    terminate () {
      rawClients.delete(raw)
      ws.terminate()
    }
  }
  rawClients.add(raw)
  return raw
}
