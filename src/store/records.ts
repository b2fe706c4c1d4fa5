/**
 * How inflight records and stored responses are written as strings. The Redis store keeps a record's
 * changing parts (intent id, phase, owner) in their own hash fields so Lua never re-encodes the record: Redis's
 * cjson would round numbers in the intent body to 14 significant digits.
 */
import type { Color } from '../config/schema.js'
import type { EndedIntent, EndedRoute, InflightRecord, StoredResponse } from './types.js'
import { COLORS } from '../config/schema.js'

export function encodeRecord (record: Omit<InflightRecord, 'id' | 'phase'> & Partial<Pick<InflightRecord, 'id' | 'phase'>>): string {
  return JSON.stringify({
    key: record.key,
    upstream: record.upstream,
    version: record.version,
    upstream_version: record.upstream_version,
    created_at_ms: record.created_at_ms,
    deadline: record.deadline,
    intent: record.intent
  })
}

/** Rebuilds a record from its stored JSON and the separately kept id and phase. */
export function decodeRecord (json: string, id: string | null, phase: string | null): InflightRecord {
  const stored = JSON.parse(json) as Omit<InflightRecord, 'id' | 'phase'>
  return { ...stored, id, phase: phase ?? 'submitting' }
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

export function decodeEndedRoute (json: string): EndedRoute {
  return JSON.parse(json) as EndedRoute
}

export function emptyCounts (): Record<Color, number> {
  return Object.fromEntries(COLORS.map((c) => [c, 0])) as Record<Color, number>
}

/** Refuses a record the store could not give back intact, naming the field. */
export function checkRecord (record: Pick<InflightRecord, 'key' | 'upstream'>): void {
  if (typeof record.key !== 'string' || record.key.length === 0) throw new TypeError('inflight record: key must be a non-empty string')
  if (!COLORS.includes(record.upstream)) throw new TypeError(`inflight record: upstream must be one of ${COLORS.join(', ')} (got ${String(record.upstream)})`)
}
