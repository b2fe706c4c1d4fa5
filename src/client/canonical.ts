/**
 * Canonical JSON, the bytes every intent signature covers: keys sorted at every level (by UTF-16 code units,
 * JavaScript's default sort), no white space, strings and numbers as JSON.stringify writes them. The client
 * signs with it and the gateway verifies with it: one implementation, so the two cannot drift apart.
 */

export function canonicalJson (value: unknown): string {
  // Most values are plain JSON: a copy with sorted keys written by the native JSON.stringify is the same text
  // in about half the time (each leaf and key is otherwise a JSON.stringify call of its own). What the copy
  // cannot carry exactly falls back to the writer below, which also throws as it always did.
  if (value !== null && typeof value === 'object') {
    const sorted = sortedCopy(value)
    if (sorted !== UNSUITABLE) return JSON.stringify(sorted)
  }
  return concatenated(value)
}

/** Returned by sortedCopy for a value JSON.stringify of a copy would not write as canonicalJson does. */
const UNSUITABLE = Symbol('unsuitable')

/**
 * A copy of plain JSON data whose objects have their keys in sorted order, or UNSUITABLE: a key that is an
 * array index (objects enumerate those first, in numeric order, whatever the insertion order), `__proto__` (an
 * assignment would set the prototype), or a value JSON.stringify would write otherwise than canonicalJson
 * (functions, symbols, bigints, non-finite numbers: canonicalJson throws for those; an object's toJSON).
 */
function sortedCopy (value: unknown): unknown {
  if (value === null) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : UNSUITABLE
    case 'object':
      break
    default:
      return UNSUITABLE
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const copy = item === undefined ? null : sortedCopy(item)
      if (copy === UNSUITABLE) return UNSUITABLE
      out[i] = copy
    }
    return out
  }
  const obj = value as Record<string, unknown>
  if (typeof obj['toJSON'] === 'function') return UNSUITABLE
  const keys = Object.keys(obj).sort()
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const c = key.charCodeAt(0)
    if ((c >= 48 && c <= 57) || key === '__proto__') return UNSUITABLE
    const item = obj[key]
    if (item === undefined) continue
    const copy = sortedCopy(item)
    if (copy === UNSUITABLE) return UNSUITABLE
    out[key] = copy
  }
  return out
}

function concatenated (value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`)
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} as JSON`)
    return text
  }
  // Built by concatenation (V8 ropes), not arrays and joins: this runs for every submission's fingerprint.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + concatenated(value[i] ?? null)
    return out + ']'
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  let out = '{'
  for (const key of keys) {
    const item = obj[key]
    if (item === undefined) continue
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + concatenated(item)
  }
  return out + '}'
}
