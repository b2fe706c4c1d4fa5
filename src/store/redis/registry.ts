/**
 * The fleet's registry in Redis (docs/specification.md section 4, *The fleet*): one hash, instance id → record JSON
 * `{id, version, layout, state, started_at_ms, last_seen_at_ms, journaled}`. Each instance rewrites its own
 * record every REFRESH_MS; a record not refreshed for INSTANCE_TTL_MS reads `gone`, and is dropped GONE_KEPT_MS
 * later. `state` as written is `serving` or `leaving`; `gone` is only ever computed.
 *
 * After a Redis loss the registry is how the count stays honest: every instance that notices marks each instance
 * it last saw in the registry (serving, leaving, or gone but not yet dropped) as awaited (`awaiting:<epoch>:<id>`
 * in the `recovering` hash, valued with the record it last read: its count of what it held), and an awaited instance
 * clears its own mark once it has registered again what it
 * admitted (`done:<epoch>:<id>`), or an operator forgets it. While any mark of the current epoch stands, the
 * namespace is recovering: the drain status is `unknown` and upgrades are refused.
 */
import type { StoreKeys } from '../keys.js'
import type { InstanceRecord } from '../types.js'
import type { RedisClient } from './connection.js'

/** How often an instance rewrites its record. */
export const REFRESH_MS = 2_000
/** A record not refreshed this long reads `gone` (several refreshes missed: paused, partitioned, killed). */
export const INSTANCE_TTL_MS = 10_000
/** A gone record is dropped this long after it went quiet. */
export const GONE_KEPT_MS = 10 * 60_000

/** Marks each awaited instance of an epoch, unless it already said it is done (a later noticer cannot undo that). */
const MARK_AWAITED = `
-- KEYS: 1 recovering; ARGV: 1 epoch, then id, record pairs
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], 'done:' .. ARGV[1] .. ':' .. ARGV[i]) == 0 then
    redis.call('HSETNX', KEYS[1], 'awaiting:' .. ARGV[1] .. ':' .. ARGV[i], ARGV[i + 1])
  end
end
return 1
`

/** This instance (or an operator, for it) is done with an epoch's loss: its mark goes, and cannot come back. */
const MARK_DONE = `
-- KEYS: 1 recovering; ARGV: 1 epoch, 2 id. Returns the awaited record it cleared, or false.
local awaited = redis.call('HGET', KEYS[1], 'awaiting:' .. ARGV[1] .. ':' .. ARGV[2])
redis.call('HSET', KEYS[1], 'done:' .. ARGV[1] .. ':' .. ARGV[2], '1')
redis.call('HDEL', KEYS[1], 'awaiting:' .. ARGV[1] .. ':' .. ARGV[2])
return awaited
`

export function encodeInstance (record: InstanceRecord): string {
  return JSON.stringify(record)
}

/** Decodes a stored record with its computed state; null for a value that is not a record. */
export function decodeInstance (raw: string, now: number): InstanceRecord | null {
  let parsed: Partial<InstanceRecord> | null
  try {
    parsed = JSON.parse(raw) as Partial<InstanceRecord> | null
  } catch {
    return null
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.id !== 'string' || typeof parsed.last_seen_at_ms !== 'number') return null
  const quiet = now - parsed.last_seen_at_ms > INSTANCE_TTL_MS
  return {
    id: parsed.id,
    version: String(parsed.version ?? 'unknown'),
    layout: String(parsed.layout ?? 'unknown'),
    state: quiet ? 'gone' : parsed.state === 'leaving' ? 'leaving' : 'serving',
    started_at_ms: Number(parsed.started_at_ms ?? 0),
    last_seen_at_ms: parsed.last_seen_at_ms,
    journaled: Number(parsed.journaled ?? 0)
  }
}

/** The fleet from the hash's contents; records gone long enough (or unreadable) are returned to be dropped. */
export function fleetOf (raw: Record<string, string>, now: number): { fleet: InstanceRecord[], drop: string[] } {
  const fleet: InstanceRecord[] = []
  const drop: string[] = []
  for (const [id, value] of Object.entries(raw)) {
    const record = decodeInstance(value, now)
    if (record === null || now - record.last_seen_at_ms > INSTANCE_TTL_MS + GONE_KEPT_MS) drop.push(id)
    else fleet.push(record)
  }
  fleet.sort((a, b) => a.started_at_ms - b.started_at_ms || a.id.localeCompare(b.id))
  return { fleet, drop }
}

export async function readFleet (client: RedisClient, k: StoreKeys): Promise<InstanceRecord[]> {
  const { fleet, drop } = fleetOf(await client.hgetall(k.instances), Date.now())
  if (drop.length > 0) await client.hdel(k.instances, ...drop)
  return fleet
}

/** `awaited`: the instances last seen (their records, with their counts) that must register again after the loss of `epoch`. */
export async function markAwaited (client: RedisClient, k: StoreKeys, c: { epoch: string, awaited: InstanceRecord[] }): Promise<void> {
  if (c.awaited.length === 0) return
  await client.eval(MARK_AWAITED, 1, k.recovering, c.epoch, ...c.awaited.flatMap((r) => [r.id, encodeInstance(r)]))
}

/** Resolves to the record the cleared mark carried, or null when the instance was not awaited. */
export async function markDone (client: RedisClient, k: StoreKeys, c: { epoch: string, id: string }): Promise<InstanceRecord | null> {
  const awaited = await client.eval(MARK_DONE, 1, k.recovering, c.epoch, c.id) as string | null
  return awaited === null ? null : decodeInstance(awaited, Date.now())
}

/** The instances still awaited after the loss that made `epoch`, as last seen (they read `gone` once quiet). */
export function awaitedIn (marks: Record<string, string>, epoch: string): InstanceRecord[] {
  const prefix = `awaiting:${epoch}:`
  return Object.entries(marks).filter(([field]) => field.startsWith(prefix))
    .map(([field, value]) => decodeInstance(value, Date.now()) ?? { id: field.slice(prefix.length), version: 'unknown', layout: 'unknown', state: 'gone', started_at_ms: 0, last_seen_at_ms: 0, journaled: 0 })
}
