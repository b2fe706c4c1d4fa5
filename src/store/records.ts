/**
 * How inflight records and stored responses are written as strings. Lua never re-encodes a record's forwarded
 * bytes: Redis's cjson would round numbers in the intent body to 14 significant digits. A record's changing parts
 * are hash entries beside it, or from layouts 6 and 7 its header line (the owner, and the id and phase a bind
 * writes), which holds only strings and integers below 10^14.
 */
import type { Color } from '../config/schema.js'
import type { EndedIntent, EndedRoute, InflightRecord, StoredResponse } from './types.js'
import { COLORS } from '../config/schema.js'

/** The fingerprint of a record admitted without one: any intent matches it (64 characters, like a SHA-256 hex). */
export const NO_FINGERPRINT = '-'.repeat(64)

/**
 * The admission scope of an intent (docs/specification.md section 3: keys are scoped by owner, and a client's key can never
 * stand for another intent's owner and nonce): `o:<owner>:k:<key>` for a client's Idempotency-Key, and
 * `o:<owner>:n:<nonce>` for an order sent without one. Owners are bech32 (no `:`), so the two never meet.
 */
export function admissionScope (owner: string, clientKey: string | null, nonce: string): string {
  return clientKey === null ? `o:${owner}:n:${nonce}` : `o:${owner}:k:${clientKey}`
}

type RecordInput = Omit<InflightRecord, 'id' | 'phase'> & Partial<Pick<InflightRecord, 'id' | 'phase'>>

/**
 * A record as stored: a header line with what the gateway reads (owner, versions, times, key), a newline, then
 * the forwarded bytes exactly as they went upstream. Nothing re-encodes the intent on the submission path, and a
 * resend is byte for byte what was sent first. Lua reads the header line only (see complete.lua). The header is
 * a JSON object up to key layout 3; from layout 4 (`compact`) a JSON array (compactHeader), a third of its size.
 */
export function encodeRecord (record: RecordInput, compact = false): string {
  const header = compact ? JSON.stringify(compactHeader(record)) : JSON.stringify(objectHeader(record))
  // A record whose forwarded bytes were dropped at bind (layout 3) stays without them when rewritten.
  if (record.body_dropped === true) return `${header}\n`
  return `${header}\n${record.payload ?? JSON.stringify(record.intent)}`
}

function objectHeader (record: RecordInput): Record<string, unknown> {
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
  return header
}

/**
 * Layout 4's header: `[key, upstream, version, upstream_version, created_at_ms, deadline, client key,
 * fingerprint, raw]` without the names. The client key is `1` when the key already says it (`o:<owner>:k:<it>`),
 * 0 when absent; raw is 1 or 0. complete.lua reads the versions at [3] and [4] and the key at [1].
 *
 * The fingerprint is written as 0 (absent) since 0.14.0: the idempotency record keeps it (every script compares
 * that one), and nothing reads it from the header, where its 43 characters put a bound record in a larger allocation.
 * Every release since layout 4 reads 0 as absent; a header an older release wrote still gives its fingerprint
 * back (a SHA-256 hex as its 43 base64url characters, others behind a `=`).
 */
function compactHeader (record: RecordInput): unknown[] {
  const ck = record.client_key
  const clientKey = ck === undefined ? 0 : ck !== null && clientKeyOf(record.key) === ck ? 1 : ck
  const fingerprint = 0
  return [
    record.key,
    record.upstream,
    record.version,
    record.upstream_version,
    record.created_at_ms,
    record.deadline,
    clientKey,
    fingerprint,
    record.payload !== undefined ? 1 : 0
  ]
}

/** A header line read back; `bound_id` and `bound_phase` are layout 7's tail, which bind.lua writes. */
type Header = Omit<InflightRecord, 'id' | 'phase' | 'intent' | 'payload'> & { raw?: boolean, bound_id?: string, bound_phase?: string }

/**
 * The nine entries compactHeader writes, then, on a record a layout-7 store bound (bind.lua), the intent id and,
 * for a phase other than `accepted`, that phase: in the header the bind rewrites anyway, instead of an
 * `inflight:bound` and an `inflight:phase` entry (about 190 bytes per inflight intent). No encoder here writes
 * the tail: a record rewritten from here keeps its id and phase in entries, which readers take first.
 */
function readCompactHeader (line: string): Header {
  const [key, upstream, version, upstreamVersion, createdAtMs, deadline, clientKey, fingerprint, raw, boundId, boundPhase] =
    JSON.parse(line) as [string, Color, string, string, number, number, string | number | null, string | number, number, string?, string?]
  const header: Header = { key, upstream, version, upstream_version: upstreamVersion, created_at_ms: createdAtMs, deadline }
  if (clientKey !== 0) header.client_key = clientKey === 1 ? clientKeyOf(key) : clientKey as string | null
  if (typeof fingerprint === 'string') header.fingerprint = fingerprint.startsWith('=') ? fingerprint.slice(1) : Buffer.from(fingerprint, 'base64url').toString('hex')
  if (raw === 1) header.raw = true
  if (typeof boundId === 'string') header.bound_id = boundId
  if (typeof boundPhase === 'string') header.bound_phase = boundPhase
  return header
}

/** The client's Idempotency-Key an admission scope names (`o:<owner>:k:<key>`; owners hold no `:`), or null. */
function clientKeyOf (scope: string): string | null {
  const at = scope.indexOf(':k:')
  return at === -1 ? null : scope.slice(at + 3)
}

/**
 * Rebuilds a record from its stored form and the separately kept id and phase: the first layout's one JSON
 * document, layout 2's header line and forwarded bytes, layout 3's bound record, the header line alone (its
 * forwarded bytes dropped at bind: no resend can need them once the owner answered 2xx; see bind.lua), and
 * layout 4's compact header line, with layout 7's bound tail where no entry gives the id and phase.
 */
export function decodeRecord (stored: string, id: string | null, phase: string | null): InflightRecord {
  const newline = stored.indexOf('\n')
  if (newline === -1) {
    // The first layout: one JSON document with the parsed intent.
    const old = JSON.parse(stored) as Omit<InflightRecord, 'id' | 'phase'>
    return { ...old, id, ...phaseOf(phase, id !== null) }
  }
  const line = stored.slice(0, newline)
  const { raw, bound_id: boundId, bound_phase: boundPhase, ...header } = line.startsWith('[') ? readCompactHeader(line) : JSON.parse(line) as Header
  // An entry wins over the header's tail (a layout-7 bind removes the entries it replaces; see readCompactHeader).
  const boundTo = id ?? boundId ?? null
  const state = phaseOf(phase ?? (boundTo === boundId ? boundPhase ?? null : null), boundTo !== null)
  const payload = stored.slice(newline + 1)
  const record = { ...header, id: boundTo, ...state } as InflightRecord
  if (payload === '') {
    // Nothing was forwarded as an empty body: the bytes were dropped. `intent` is empty, never to be sent.
    record.intent = {}
    record.body_dropped = true
    return record
  }
  lazyIntent(record, payload)
  if (raw === true) record.payload = payload
  return record
}

/**
 * `intent` parsed on first read: status reads, drains and the reconciler never need the body, and parsing
 * thousands of them would hold the event loop. An assignment replaces it like any property.
 */
function lazyIntent (record: InflightRecord, payload: string): void {
  let parsed: Record<string, unknown> | undefined
  Object.defineProperty(record, 'intent', {
    enumerable: true,
    configurable: true,
    get: () => (parsed ??= JSON.parse(payload) as Record<string, unknown>),
    set: (value: Record<string, unknown>) => {
      Object.defineProperty(record, 'intent', { value, writable: true, enumerable: true, configurable: true })
    }
  })
}

/**
 * The stored phase: `unknown:<ms>` → `unknown` and when it became so; none → `accepted` once bound (the common
 * bind writes none, bind.lua), `submitting` before.
 */
function phaseOf (stored: string | null, bound: boolean): Pick<InflightRecord, 'phase' | 'unknown_since_ms'> {
  if (stored === null || stored === '') return { phase: bound ? 'accepted' : 'submitting' }
  if (stored.startsWith('unknown')) {
    const since = Number(stored.slice('unknown:'.length))
    return Number.isFinite(since) && since > 0 ? { phase: 'unknown', unknown_since_ms: since } : { phase: 'unknown' }
  }
  return { phase: stored }
}

/** Header names every stored answer carries, written as two letters (an answer is kept for the whole retention). */
const SHORT_HEADERS = new Map([['content-type', 'ct'], ['intent-version', 'iv']])
const LONG_HEADERS = new Map([...SHORT_HEADERS].map(([long, short]) => [short, long]))

/**
 * An answer kept for replays, compactly: the status, one `name:value` line per header (the common names in two
 * letters), an empty line, then the body as the upstream sent it. Half the size of the JSON it replaces.
 */
export function encodeResponse (response: StoredResponse): string {
  let out = String(response.status)
  for (const [name, value] of Object.entries(response.headers)) out += `\n${SHORT_HEADERS.get(name) ?? name}:${value}`
  return `${out}\n\n${response.body}`
}

/** Both forms: the compact one above, and the first layout's JSON. */
export function decodeResponse (stored: string): StoredResponse {
  if (stored.startsWith('{')) return JSON.parse(stored) as StoredResponse
  const end = stored.indexOf('\n\n')
  const head = (end === -1 ? stored : stored.slice(0, end)).split('\n')
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon)
    headers[LONG_HEADERS.get(name) ?? name] = line.slice(colon + 1)
  }
  return { status: Number(head[0]), headers, body: end === -1 ? '' : stored.slice(end + 2) }
}

/** A log entry: `<ended at ms> <upstream> <status> <via> <id> <key>`, or the first layout's JSON. */
export function decodeEnded (stored: string): EndedIntent {
  if (stored.startsWith('{')) return JSON.parse(stored) as EndedIntent
  const parts = stored.split(' ')
  return {
    id: parts[4] ?? '',
    key: parts.slice(5).join(' '),
    upstream: parts[1] as Color,
    status: parts[2] ?? '',
    via: parts[3] as EndedIntent['via'],
    ended_at_ms: Number(parts[0])
  }
}

/**
 * `<upstream> <version> <upstream_version> <status>[ <ended at, s>]` (compact: it is kept for the whole
 * retention), or the first layout's JSON. The end time is read by endedAtSecsOf.
 */
export function decodeEndedRoute (stored: string): EndedRoute {
  if (stored.startsWith('{')) return JSON.parse(stored) as EndedRoute
  const [upstream, version, upstreamVersion, status] = stored.split(' ')
  return { upstream: upstream as Color, version: version ?? '', upstream_version: upstreamVersion ?? '', status: status ?? '' }
}

/** When a compact ended route says its intent ended (s), or null. */
export function endedAtSecsOf (stored: string): number | null {
  if (stored.startsWith('{')) return null
  const at = Number(stored.split(' ')[4])
  return Number.isFinite(at) && at > 0 ? at : null
}

export function emptyCounts (): Record<Color, number> {
  return Object.fromEntries(COLORS.map((c) => [c, 0])) as Record<Color, number>
}

/** Refuses a record the store could not give back intact, naming the field. */
export function checkRecord (record: Pick<InflightRecord, 'key' | 'upstream'>): void {
  if (typeof record.key !== 'string' || record.key.length === 0) throw new TypeError('inflight record: key must be a non-empty string')
  if (!COLORS.includes(record.upstream)) throw new TypeError(`inflight record: upstream must be one of ${COLORS.join(', ')} (got ${String(record.upstream)})`)
}
