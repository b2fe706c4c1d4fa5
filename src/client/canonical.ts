/**
 * Canonical JSON, the bytes every intent signature covers: keys sorted at every level (by UTF-16 code units,
 * JavaScript's default sort), no white space, strings and numbers as JSON.stringify writes them. The client
 * signs with it and the gateway verifies with it: one implementation, so the two cannot drift apart.
 */

export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`)
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} as JSON`)
    return text
  }
  // Built by concatenation (V8 ropes), not arrays and joins: this runs for every submission's fingerprint.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i] ?? null)
    return out + ']'
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  let out = '{'
  for (const key of keys) {
    const item = obj[key]
    if (item === undefined) continue
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item)
  }
  return out + '}'
}
