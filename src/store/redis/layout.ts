/**
 * Brings a namespace written by an earlier gateway to this key layout, once, at start (docs/store.md, "Key
 * layout 2"): inflight records keyed by a bare key (a client's Idempotency-Key, or `<owner>:<nonce>`) move to
 * their owner-scoped admission scope (`o:<owner>:k:<key>` / `o:<owner>:n:<nonce>`) with their idempotency
 * record, and the counters and the admission-time index (`inflight:count`, `inflight:since`) are built from the
 * records. Answered idempotency records of ended intents are left as they are: they expire within the retention,
 * and a retry of such an order is forwarded again and answered by the service as a resubmission (section 8).
 *
 * Run every instance of a namespace on one layout: stop (or drain) the old ones before starting the new.
 * Safe to run twice or from two instances at once: each record moves in one script, only if still there.
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
  // The counters and the index, from the records as they now are.
  const [current, owners] = await Promise.all([client.hgetall(k.inflight), client.hgetall(k.inflightOwner)])
  const tx = client.multi().del(k.inflightSince, k.inflightCount)
  for (const [key, stored] of Object.entries(current)) {
    const record = decodeRecord(stored, null, null)
    tx.zadd(k.inflightSince, record.created_at_ms, key).hincrby(k.inflightCount, owners[key] ?? record.upstream, 1)
  }
  tx.set(k.layout, LAYOUT_VERSION)
  await tx.exec()
  return { moved, records: Object.keys(current).length }
}

/** The owner-scoped scope of a first-layout record: its owner and nonce read from the stored intent. */
function scopeOf (key: string, stored: string): string | null {
  const intent = decodeRecord(stored, null, null).intent
  const owner = typeof intent.owner === 'string' ? intent.owner : typeof intent.user === 'string' ? intent.user : null
  const nonce = intent.nonce === undefined ? null : String(intent.nonce)
  if (owner === null || nonce === null) return null
  return admissionScope(owner, key === `${owner}:${nonce}` ? null : key, nonce)
}
