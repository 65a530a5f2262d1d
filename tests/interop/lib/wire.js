// Byte-level helpers for the y-websocket wire protocol (see shared/reference or docs):
// varUint, varByteArray, and a strict decoder that checks a frame holds exactly ONE message.

export const MSG_SYNC = 0
export const MSG_AWARENESS = 1
export const MSG_AUTH = 2
export const MSG_QUERY_AWARENESS = 3

export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

/** @param {number} n @returns {number[]} */
export function encodeVarUint (n) {
  const out = []
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f))
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

/** @param {Uint8Array|number[]} bytes @returns {number[]} */
export function encodeVarByteArray (bytes) {
  return [...encodeVarUint(bytes.length), ...bytes]
}

/** @param {string} s @returns {number[]} */
export function encodeVarString (s) {
  return encodeVarByteArray(new TextEncoder().encode(s))
}

/**
 * Reads a varUint at `pos`. Throws on truncation.
 * @param {Uint8Array} buf @param {number} pos @returns {[number, number]} [value, newPos]
 */
export function readVarUint (buf, pos) {
  let value = 0
  let mult = 1
  for (;;) {
    if (pos >= buf.length) throw new Error(`truncated varUint at byte ${pos}`)
    const b = buf[pos++]
    value += (b & 0x7f) * mult
    if (b < 0x80) return [value, pos]
    mult *= 128
    if (mult > 2 ** 53) throw new Error('varUint too large')
  }
}

/** @returns {[Uint8Array, number]} */
export function readVarByteArray (buf, pos) {
  const [len, p] = readVarUint(buf, pos)
  if (p + len > buf.length) {
    throw new Error(`varByteArray of ${len} bytes at ${pos} runs past the end of the ${buf.length}-byte frame`)
  }
  return [buf.subarray(p, p + len), p + len]
}

/** @returns {[string, number]} */
export function readVarString (buf, pos) {
  const [bytes, p] = readVarByteArray(buf, pos)
  return [new TextDecoder('utf-8', { fatal: true }).decode(bytes), p]
}

/**
 * Decodes an awareness payload: varUint(n) then n × (clientID, clock, JSON state).
 * @param {Uint8Array} payload
 * @returns {{clientID: number, clock: number, state: any}[]}
 */
export function decodeAwareness (payload) {
  let pos = 0
  let n
  ;[n, pos] = readVarUint(payload, pos)
  const entries = []
  for (let i = 0; i < n; i++) {
    let clientID, clock, json
    ;[clientID, pos] = readVarUint(payload, pos)
    ;[clock, pos] = readVarUint(payload, pos)
    ;[json, pos] = readVarString(payload, pos)
    entries.push({ clientID, clock, state: JSON.parse(json) })
  }
  if (pos !== payload.length) {
    throw new Error(`awareness payload has ${payload.length - pos} trailing bytes`)
  }
  return entries
}

/**
 * Encodes an awareness message (type 1) for the given entries.
 * @param {{clientID: number, clock: number, state: any}[]} entries
 * @returns {Uint8Array}
 */
export function encodeAwarenessMessage (entries) {
  const payload = [...encodeVarUint(entries.length)]
  for (const { clientID, clock, state } of entries) {
    payload.push(...encodeVarUint(clientID), ...encodeVarUint(clock), ...encodeVarString(JSON.stringify(state)))
  }
  return Uint8Array.from([MSG_AWARENESS, ...encodeVarByteArray(payload)])
}

/**
 * Decodes a frame strictly: it must hold exactly one known message and nothing after it.
 * Throws (with a hex dump) otherwise.
 * @param {Uint8Array} frame
 * @returns {{type: number, syncType?: number, payload?: Uint8Array, awareness?: any[], reason?: string}}
 */
export function decodeSingleMessage (frame) {
  try {
    let pos = 0
    let type
    ;[type, pos] = readVarUint(frame, pos)
    /** @type {any} */
    let msg
    switch (type) {
      case MSG_SYNC: {
        let syncType, payload
        ;[syncType, pos] = readVarUint(frame, pos)
        if (syncType > SYNC_UPDATE) throw new Error(`unknown sync message type ${syncType}`)
        ;[payload, pos] = readVarByteArray(frame, pos)
        msg = { type, syncType, payload }
        break
      }
      case MSG_AWARENESS: {
        let payload
        ;[payload, pos] = readVarByteArray(frame, pos)
        msg = { type, payload, awareness: decodeAwareness(payload) }
        break
      }
      case MSG_AUTH: {
        let authType, reason
        ;[authType, pos] = readVarUint(frame, pos)
        ;[reason, pos] = authType === 0 ? readVarString(frame, pos) : ['', pos]
        msg = { type, authType, reason }
        break
      }
      case MSG_QUERY_AWARENESS:
        msg = { type }
        break
      default:
        throw new Error(`unknown message type ${type}`)
    }
    if (pos !== frame.length) {
      throw new Error(`frame holds ${frame.length - pos} bytes after its first message (more than one message per frame?)`)
    }
    return msg
  } catch (e) {
    e.message = `${e.message}; frame (${frame.length} bytes): ${hex(frame)}`
    throw e
  }
}

/** Hex dump, cut after `max` bytes. */
export function hex (bytes, max = 64) {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return bytes.length > max ? `${shown} … (+${bytes.length - max} bytes)` : shown
}
