/**
 * Brings a namespace written by an earlier gateway to this key layout, once, at start (docs/store.md, "Key
 * layout 2"): inflight records keyed by a bare key (a client's Idempotency-Key, or `<owner>:<nonce>`) move to
 * their owner-scoped admission scope (`o:<owner>:k:<key>` / `o:<owner>:n:<nonce>`) with their idempotency
 * record, and the counters and the admission-time index (`inflight:count`, `inflight:since`) are built from the
 * records. Answered idempotency records of ended intents are left as they are: they expire within the retention,
 * and a retry of such an order is forwarded again and answered by the service as a resubmission (section 8).
 *
 * Run every instance of a namespace on one layout: stop (or drain) the old ones before starting the new.
 * Safe to run twice or from two instances at once: each record moves in one script, only if still there, and the
 * counters and the index are rebuilt in one script, beside admissions that other instances make meanwhile.
 */
import type { StoreKeys } from '../keys.js'
import { admissionScope, decodeRecord } from '../records.js'
import type { RedisClient } from './connection.js'

export const LAYOUT_VERSION = '2'

/** Moves one record (hash fields and idempotency record) to its new scope, only while it is still under the old. */
const MOVE_RECORD = `
-- KEYS: 1 inflight 2 inflight:owner 3 inflight:phase 4 inflight:bound 5 inflight:ids 6 idem:<old> 7 idem:<new>
-- ARGV: 1 old key 2 new scope
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record or redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], record)
redis.call('HDEL', KEYS[1], ARGV[1])
for i = 2, 4 do
  local v = redis.call('HGET', KEYS[i], ARGV[1])
  if v then
    redis.call('HSET', KEYS[i], ARGV[2], v)
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
local id = redis.call('HGET', KEYS[4], ARGV[2])
if id then redis.call('HSET', KEYS[5], id, ARGV[2]) end
if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('RENAME', KEYS[6], KEYS[7]) end
return 1
`

/**
 * Rebuilds the per-owner counters from the records present now, adds a missing admission-time entry for each
 * (an entry already there, written by an admission, is kept), and marks the layout, atomically. ARGV after the
 * layout: key, admitted at (ms), owner, per record as read before; a record admitted since carries its own
 * owner entry and index entry (admit.lua writes both).
 */
const REBUILD_INDEX = `
-- KEYS: 1 inflight 2 inflight:owner 3 inflight:since 4 inflight:count 5 layout; ARGV: 1 layout, then key, ms, owner triples
local hint = {}
for i = 2, #ARGV, 3 do hint[ARGV[i]] = { ARGV[i + 1], ARGV[i + 2] } end
redis.call('DEL', KEYS[4])
local keys = redis.call('HKEYS', KEYS[1])
for _, key in ipairs(keys) do
  local h = hint[key]
  local owner = redis.call('HGET', KEYS[2], key) or (h and h[2])
  if owner then redis.call('HINCRBY', KEYS[4], owner, 1) end
  if h then redis.call('ZADD', KEYS[3], 'NX', h[1], key) end
end
for _, key in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('HEXISTS', KEYS[1], key) == 0 then redis.call('ZREM', KEYS[3], key) end
end
redis.call('SET', KEYS[5], ARGV[1])
return #keys
`

export interface LayoutReport { moved: number, records: number }

/** Migrates when the namespace is not on this layout yet; resolves at once when it is. */
export async function migrateLayout (client: RedisClient, k: StoreKeys): Promise<LayoutReport | null> {
  if (await client.get(k.layout) === LAYOUT_VERSION) return null
  const records = await client.hgetall(k.inflight)
  let moved = 0
  for (const [key, stored] of Object.entries(records)) {
    // Only records a first-layout gateway wrote (one JSON document, no header line) move.
    if (key.startsWith('o:') || stored.includes('\n')) continue
    const scope = scopeOf(key, stored)
    if (scope === null) continue
    moved += Number(await client.eval(MOVE_RECORD, 7, k.inflight, k.inflightOwner, k.inflightPhase, k.inflightBound, k.inflightIds,
      k.legacyIdem(key), k.idem(scope), key, scope))
  }
  // The counters and the index, from the records as they are at that moment: one script, so an admission by
  // another instance (started at the same time, on this layout already) can never fall between a snapshot and
  // its rewrite and lose its index entry or its count.
  const current = await client.hgetall(k.inflight)
  const hints = Object.entries(current).flatMap(([key, stored]) => {
    const record = decodeRecord(stored, null, null)
    return [key, String(record.created_at_ms), record.upstream]
  })
  const count = Number(await client.eval(REBUILD_INDEX, 5, k.inflight, k.inflightOwner, k.inflightSince, k.inflightCount, k.layout, LAYOUT_VERSION, ...hints))
  return { moved, records: count }
}

/** The owner-scoped scope of a first-layout record: its owner and nonce read from the stored intent. */
function scopeOf (key: string, stored: string): string | null {
  const intent = decodeRecord(stored, null, null).intent
  const owner = typeof intent.owner === 'string' ? intent.owner : typeof intent.user === 'string' ? intent.user : null
  const nonce = intent.nonce === undefined ? null : String(intent.nonce)
  if (owner === null || nonce === null) return null
  return admissionScope(owner, key === `${owner}:${nonce}` ? null : key, nonce)
}
