// Room tokens from JWT libraries nobody here wrote: npm `jose` (HS256 with the relay's
// shared key, EdDSA with a key pair whose public half is in the relay's JWKS file) and
// Python's PyJWT (HS256, and ES256 with a key from the JWKS file) are accepted by the relay,
// stock y-websocket clients sync and edit with them; expired, not-yet-valid, wrong-room and
// wrong-key tokens, `alg: none`, and an HS256 token "signed" with the public key of the RS256
// setup (the classic algorithm confusion) are refused with the documented close codes
// (docs/protocol.md: 4401, and 4403 for another room).
//
// PyJWT runs through pyjwt_mint.py with INTEROP_PYTHON (scripts/interop.sh makes a venv with
// the pinned PyJWT); without PyJWT these tests fail, they do not skip.

import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as jose from 'jose'
import WebSocket from 'ws'

import { createClient, destroyAllClients, startRelay, waitFor, withTimeout, WAIT_MS } from './lib/harness.js'
import { readVarUint } from './lib/wire.js'

const T = { timeout: 60_000 }
const here = path.dirname(fileURLToPath(import.meta.url))
const UNAUTHORIZED = 4401
const FORBIDDEN = 4403

let relay
let dir
const secret = crypto.randomBytes(32).toString('hex') // 64 bytes of key text
const keys = {}

const now = () => Math.floor(Date.now() / 1000)

/** A token for `room` minted by jose: HS256 with the shared key, or EdDSA with kid ed-jose. */
async function joseToken (alg, claims, { key, kid } = {}) {
  const header = { alg, typ: 'JWT' }
  if (kid) header.kid = kid
  const signingKey = key ?? (alg === 'HS256' ? new TextEncoder().encode(secret) : keys.ed.privateKey)
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(signingKey)
}

/** A token minted by Python's PyJWT. */
function pyjwtToken (alg, claims, kid = null) {
  const python = process.env.INTEROP_PYTHON || 'python3'
  const key = alg === 'HS256' ? secret : keys.esPemPath
  const run = spawnSync(python, [path.join(here, 'pyjwt_mint.py')], {
    input: JSON.stringify({ alg, key, kid, claims }),
    encoding: 'utf8',
    timeout: 20_000
  })
  assert.equal(run.status, 0, `PyJWT could not mint (${python}; scripts/interop.sh installs PyJWT): ${run.stderr}`)
  return run.stdout.trim()
}

const claims = (room, role = 'editor', extra = {}) => ({ room, role, iat: now(), exp: now() + 600, ...extra })

/** How the relay closes a WebSocket opened with `token` (and the first frame, if any). */
function closeOf (room, token, query = '') {
  const ws = new WebSocket(`${relay.wsUrl}/${encodeURIComponent(room)}?token=${token}${query}`)
  ws.on('error', () => {})
  const frames = []
  ws.on('message', (data) => frames.push(new Uint8Array(data)))
  return withTimeout(new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), frames }))
  }), WAIT_MS, `the relay to close room "${room}"`)
}

/** A stock client with `token` that syncs and whose edit reaches a second stock client. */
async function editsWith (room, token, otherToken) {
  const a = createClient(relay, room, { params: { token } })
  const b = createClient(relay, room, { params: { token: otherToken } })
  await Promise.all([a.synced(), b.synced()])
  a.doc.getText('t').insert(0, 'signed elsewhere')
  await waitFor(() => b.doc.getText('t').toString() === 'signed elsewhere', WAIT_MS, 'the edit to reach the other client')
}

describe('room tokens minted by jose and PyJWT', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-tokens-'))
    keys.ed = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    keys.es = await jose.generateKeyPair('ES256', { extractable: true })
    keys.rsa = await jose.generateKeyPair('RS256', { extractable: true })
    keys.esPemPath = path.join(dir, 'es256.pem')
    fs.writeFileSync(keys.esPemPath, await jose.exportPKCS8(keys.es.privateKey))
    keys.rsaPublicPem = await jose.exportSPKI(keys.rsa.publicKey)
    const jwk = async (key, kid, alg) => ({ ...(await jose.exportJWK(key)), kid, alg, use: 'sig' })
    const jwks = { keys: [await jwk(keys.ed.publicKey, 'ed-jose', 'EdDSA'), await jwk(keys.es.publicKey, 'es-py', 'ES256'), await jwk(keys.rsa.publicKey, 'rsa-1', 'RS256')] }
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks))
    fs.writeFileSync(path.join(dir, 'shared.key'), secret)
    relay = await startRelay({
      args: ['--auth-key-file', path.join(dir, 'shared.key'), '--auth-jwks-file', path.join(dir, 'jwks.json'), '--auth-leeway-secs', '5', '--store', 'memory']
    })
  })
  afterEach(() => destroyAllClients())
  after(async () => {
    await relay?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('jose HS256 and EdDSA tokens let stock clients in and edit', T, async () => {
    const hs = await joseToken('HS256', claims('jose-room'))
    const ed = await joseToken('EdDSA', claims('jose-*'), { kid: 'ed-jose' })
    await editsWith('jose-room', hs, ed)
  })

  test('PyJWT HS256 and ES256 tokens let stock clients in and edit', T, async () => {
    const hs = pyjwtToken('HS256', claims('py-room'))
    const es = pyjwtToken('ES256', claims('py-room'), 'es-py')
    await editsWith('py-room', hs, es)
  })

  test('a PyJWT viewer with a subject is told its role first and shown by its subject', T, async () => {
    const viewer = pyjwtToken('HS256', claims('py-view', 'viewer', { sub: 'ada@example.com' }))
    const ws = new WebSocket(`${relay.wsUrl}/py-view?access=1&token=${viewer}`)
    ws.on('error', () => {})
    const first = await withTimeout(new Promise((resolve) => ws.once('message', (data) => resolve(new Uint8Array(data)))), WAIT_MS, 'the first frame')
    ws.terminate()
    assert.equal(first[0], 104, 'the access message comes first')
    const [length, start] = readVarUint(first, 1)
    assert.deepEqual(JSON.parse(new TextDecoder().decode(first.subarray(start, start + length))), { role: 'viewer', id: 'ada@example.com' })

    // Its presence carries the id the relay vouches for, whatever it claims.
    const editor = createClient(relay, 'py-view', { params: { token: await joseToken('HS256', claims('py-view')) } })
    const watcher = createClient(relay, 'py-view', { params: { token: viewer } })
    await Promise.all([editor.synced(), watcher.synced()])
    watcher.awareness.setLocalStateField('user', { name: 'Ada', id: 'someone-else' })
    await waitFor(() => editor.awareness.getStates().get(watcher.id)?.user?.id === 'ada@example.com',
      WAIT_MS, 'the viewer\'s presence stamped with its token\'s sub')
  })

  test('expired, not-yet-valid, wrong-room and wrong-key tokens are refused', T, async () => {
    const expired = await joseToken('HS256', claims('r', 'editor', { exp: now() - 3600 }))
    let closed = await closeOf('r', expired)
    assert.equal(closed.code, UNAUTHORIZED, closed.reason)
    assert.match(closed.reason, /expired/)

    const early = pyjwtToken('HS256', claims('r', 'editor', { nbf: now() + 3600 }))
    closed = await closeOf('r', early)
    assert.equal(closed.code, UNAUTHORIZED, closed.reason)
    assert.match(closed.reason, /not valid yet/)

    const elsewhere = await joseToken('EdDSA', claims('another-room'), { kid: 'ed-jose' })
    closed = await closeOf('r', elsewhere)
    assert.equal(closed.code, FORBIDDEN, closed.reason)

    const otherSecret = new TextEncoder().encode(crypto.randomBytes(32).toString('hex'))
    closed = await closeOf('r', await joseToken('HS256', claims('r'), { key: otherSecret }))
    assert.equal(closed.code, UNAUTHORIZED, closed.reason)
    assert.match(closed.reason, /signature/)

    const otherEd = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' })
    closed = await closeOf('r', await joseToken('EdDSA', claims('r'), { key: otherEd.privateKey, kid: 'ed-jose' }))
    assert.equal(closed.code, UNAUTHORIZED, `another Ed25519 key under ed-jose's kid: ${closed.reason}`)
  })

  test('alg none and an HS256 token signed with the RS256 public key are refused', T, async () => {
    const unsecured = new jose.UnsecuredJWT(claims('r')).encode()
    let closed = await closeOf('r', unsecured)
    assert.equal(closed.code, UNAUTHORIZED, closed.reason)
    assert.match(closed.reason, /none/)

    // The attack: the RS256 setup's public key, which anyone may have, as an HMAC secret.
    const publicKeyAsSecret = new TextEncoder().encode(keys.rsaPublicPem)
    for (const kid of ['rsa-1', undefined]) {
      closed = await closeOf('r', await joseToken('HS256', claims('r'), { key: publicKeyAsSecret, kid }))
      assert.equal(closed.code, UNAUTHORIZED, `kid ${kid}: ${closed.reason}`)
    }
    // The real RS256 key works, so the refusal above is about the algorithm.
    const real = await new jose.SignJWT(claims('r')).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(keys.rsa.privateKey)
    const c = createClient(relay, 'r', { params: { token: real } })
    await c.synced()
  })
})
