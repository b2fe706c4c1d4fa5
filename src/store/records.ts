/**
 * How inflight records and stored responses are written as strings. The Redis store keeps a record's
 * changing parts (intent id, phase, owner) in their own hash fields so Lua never re-encodes the record: Redis's
 * cjson would round numbers in the intent body to 14 significant digits.
 */
import type { Color } from '../config/schema.js'
import type { EndedIntent, EndedRoute, InflightRecord, StoredResponse } from './types.js'
import { COLORS } from '../config/schema.js'

/** The fingerprint of a record admitted without one: any intent matches it (64 characters, like a SHA-256 hex). */
export const NO_FINGERPRINT = '-'.repeat(64)

/**
 * The admission scope of an intent (INTERFACE section 3: keys are scoped by owner, and a client's key can never
 * stand for another intent's owner and nonce): `o:<owner>:k:<key>` for a client's Idempotency-Key, and
 * `o:<owner>:n:<nonce>` for an order sent without one. Owners are bech32 (no `:`), so the two never meet.
 */
export function admissionScope (owner: string, clientKey: string | null, nonce: string): string {
  return clientKey === null ? `o:${owner}:n:${nonce}` : `o:${owner}:k:${clientKey}`
}

type RecordInput = Omit<InflightRecord, 'id' | 'phase'> & Partial<Pick<InflightRecord, 'id' | 'phase'>>

/**
 * A record as stored: one line of JSON with what the gateway reads (owner, versions, times, key), a newline,
 * then the forwarded bytes exactly as they went upstream. Nothing re-encodes the intent on the submission path,
 * and a resend is byte for byte what was sent first. Lua reads the header line only (see complete.lua).
 */
export function encodeRecord (record: RecordInput): string {
  const header: Record<string, unknown> = {
    key: record.key,
    upstream: record.upstream,
    version: record.version,
    upstream_version: record.upstream_version,
    created_at_ms: record.created_at_ms,
    deadline: record.deadline
  }
  // The optional fields are stored only when given, so a record reads back exactly as it was written.
  if (record.client_key !== undefined) header.client_key = record.client_key
  if (record.fingerprint !== undefined) header.fingerprint = record.fingerprint
  if (record.payload !== undefined) header.raw = true
  return `${JSON.stringify(header)}\n${record.payload ?? JSON.stringify(record.intent)}`
}

/** Rebuilds a record from its stored form and the separately kept id and phase (both layouts). */
export function decodeRecord (stored: string, id: string | null, phase: string | null): InflightRecord {
  const newline = stored.indexOf('\n')
  const state = phaseOf(phase)
  if (newline === -1) {
    // The first layout: one JSON document with the parsed intent.
    const old = JSON.parse(stored) as Omit<InflightRecord, 'id' | 'phase'>
    return { ...old, id, ...state }
  }
  const { raw, ...header } = JSON.parse(stored.slice(0, newline)) as Omit<InflightRecord, 'id' | 'phase' | 'intent' | 'payload'> & { raw?: boolean }
  const payload = stored.slice(newline + 1)
  const record: InflightRecord = { ...header, intent: JSON.parse(payload) as Record<string, unknown>, id, ...state }
  if (raw === true) record.payload = payload
  return record
}

/** `unknown:<ms>` as stored → phase `unknown` and when it became so. */
function phaseOf (stored: string | null): Pick<InflightRecord, 'phase' | 'unknown_since_ms'> {
  if (stored === null || stored === '') return { phase: 'submitting' }
  if (stored.startsWith('unknown')) {
    const since = Number(stored.slice('unknown:'.length))
    return Number.isFinite(since) && since > 0 ? { phase: 'unknown', unknown_since_ms: since } : { phase: 'unknown' }
  }
  return { phase: stored }
}

export function encodeResponse (response: StoredResponse): string {
  return JSON.stringify({ status: response.status, headers: response.headers, body: response.body })
}

export function decodeResponse (json: string): StoredResponse {
  return JSON.parse(json) as StoredResponse
}

export function decodeEnded (json: string): EndedIntent {
  return JSON.parse(json) as EndedIntent
}

/** `<upstream> <version> <upstream_version> <status>` (compact: it is kept for the whole retention), or the first layout's JSON. */
export function decodeEndedRoute (stored: string): EndedRoute {
  if (stored.startsWith('{')) return JSON.parse(stored) as EndedRoute
  const [upstream, version, upstreamVersion, status] = stored.split(' ')
  return { upstream: upstream as Color, version: version ?? '', upstream_version: upstreamVersion ?? '', status: status ?? '' }
}

export function encodeEndedRoute (route: EndedRoute): string {
  return `${route.upstream} ${route.version} ${route.upstream_version} ${route.status}`
}

export function emptyCounts (): Record<Color, number> {
  return Object.fromEntries(COLORS.map((c) => [c, 0])) as Record<Color, number>
}

/** Refuses a record the store could not give back intact, naming the field. */
export function checkRecord (record: Pick<InflightRecord, 'key' | 'upstream'>): void {
  if (typeof record.key !== 'string' || record.key.length === 0) throw new TypeError('inflight record: key must be a non-empty string')
  if (!COLORS.includes(record.upstream)) throw new TypeError(`inflight record: upstream must be one of ${COLORS.join(', ')} (got ${String(record.upstream)})`)
}
