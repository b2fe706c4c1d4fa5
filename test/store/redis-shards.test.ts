// Key layout 9, records in shards (src/store/redis/scripts/linear_shards.lua; docs/store.md, "Records in
// shards"): a store that writes layout 9 keeps the answer a replay gets, and an ended intent's route, as fields
// of small hashes, not a key of its own and not one big hash. A replay gets the very answer, a different order
// under the same key is refused, and a status read finds how an intent ended, whichever of the two adjacent
// releases wrote the record and whichever reads it; the shards grow with the records and every record is still
// found; expired answers are swept and the shards merged back.
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { KeyLayouts } from '../../src/release.js'
import { endedBucketSecs, storeKeys } from '../../src/store/keys.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import type { StoredResponse } from '../../src/store/types.js'
import { startRedis } from '../helpers/redis.js'
import { record, storeConformance } from './conformance.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 8, reads: [8, 9] }
const STEP_TWO: KeyLayouts = { writes: 9, reads: [8, 9] }
/** The fingerprints (SHA-256, hex) of the order every test submits and of another order under the same key. */
const MINE = 'a'.repeat(64)
const ANOTHER = { fingerprint: 'b'.repeat(64) }

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: TTL })
}

function accepted (id: string): StoredResponse {
  return { status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, status: 'pending' }) }
}

/** Admits and binds the intent of `scope`, answered for `id`; returns the record admitted. */
async function submit (t: Test, store: RedisStore, scope: string, id: string): Promise<ReturnType<typeof record>> {
  const rec = record({ key: scope, fingerprint: MINE })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' }, `${scope} admitted`)
  await store.bind(rec.key, id, accepted(id), TTL)
  return rec
}

/**
 * Two answers of the shape every test uses: from then on the store keeps that shape as a template's reference
 * (layout 8), short enough for a shard; the first answer of a shape is kept whole, in its key.
 */
async function warm (t: Test, store: RedisStore): Promise<void> {
  for (let n = 0; n < 2; n++) await submit(t, store, `o:cosmos1warm:n:${Math.random()}`, `warm-${n}`)
}

async function again (store: RedisStore, rec: ReturnType<typeof record>, overrides = {}): Promise<unknown> {
  // Admitted now, as the gateway admits a retry (a record's admission time is the scripts' now).
  return await store.admit({ record: { ...rec, created_at_ms: Date.now(), ...overrides }, idempotencyTtlSecs: TTL })
}

async function shardMeta (namespace: string): Promise<Record<string, string>> {
  const flat = (await redis.cli('HGETALL', storeKeys(namespace).replays)).split('\n').filter((line) => line !== '')
  const meta: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) meta[flat[i] as string] = flat[i + 1] as string
  return meta
}

t.test('layout 9 keeps an answered record in a shard, not a key; a replay gets the very answer', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  await warm(t, store)
  const rec = await submit(t, store, 'o:cosmos1shard:n:1', 'shard-1')
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(rec.key)), '0', 'no idempotency key is left')
  t.match(await shardMeta(namespace), { n: '1', count: '2' }, 'one shard: this record and the second warm-up\'s')
  const entry = await redis.cli('HGET', `${storeKeys(namespace).replays}:0`, storeKeys(namespace).idem(rec.key).slice(-22))
  t.match(entry, /^[0-9a-z]{6}[A-Za-z0-9_-]{20}#[A-Za-z0-9_-]{16}shard-1$/,
    'the expiry, 20 characters of the fingerprint, the answer (a template\'s reference)')
  t.same(await again(store, rec), { kind: 'replay', response: accepted('shard-1') }, 'the replay')
  t.same(await again(store, rec, ANOTHER), { kind: 'mismatch' }, 'another order under the same key is refused')
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(rec.key)), '0', 'neither answer left a key behind')
  t.equal(await store.inflightCount(), 3, 'still the one intent inflight, beside the two warm-ups')
})

t.test('the release before (writes 8) reads records in shards, and one it binds again stays there', async (t) => {
  const namespace = freshNamespace()
  const [newer, older] = await Promise.all([storeOn(t, namespace, STEP_TWO), storeOn(t, namespace, STEP_ONE)])
  await warm(t, newer)
  const inShard = await submit(t, newer, 'o:cosmos1mixed:n:1', 'mixed-1')
  const inKey = await submit(t, older, 'o:cosmos1mixed:n:2', 'mixed-2')
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(inKey.key)), '1', 'the older release keeps a key')
  for (const store of [newer, older]) {
    t.same(await again(store, inShard), { kind: 'replay', response: accepted('mixed-1') })
    t.same(await again(store, inKey), { kind: 'replay', response: accepted('mixed-2') })
    t.same(await again(store, inShard, ANOTHER), { kind: 'mismatch' })
  }
  // A bind sent again (a repair after a lost answer) by the older release: the record stays in its shard.
  await older.bind(inShard.key, 'mixed-1', accepted('mixed-1'), TTL)
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(inShard.key)), '0', 'no key shadows the shard')
  t.same(await again(older, inShard), { kind: 'replay', response: accepted('mixed-1') })
  t.same(await again(newer, inShard, ANOTHER), { kind: 'mismatch' }, 'the fingerprint kept')
  // And the newer release binding a record the older admitted (its key in progress) moves it into a shard.
  const rec = record({ key: 'o:cosmos1mixed:n:3', fingerprint: MINE })
  t.same(await older.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  await newer.bind(rec.key, 'mixed-3', accepted('mixed-3'), TTL)
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(rec.key)), '0')
  t.same(await again(older, rec), { kind: 'replay', response: accepted('mixed-3') })
  t.same(await again(older, rec, ANOTHER), { kind: 'mismatch' })
})

t.test('an answered record in a shard is forgotten after its TTL, to the second, as a key is', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  await warm(t, store)
  const rec = record({ key: 'o:cosmos1ttl:n:1', fingerprint: MINE })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: 1 }), { kind: 'admitted' })
  const boundAt = Date.now()
  await store.bind(rec.key, 'ttl-1', accepted('ttl-1'), 1)
  await store.complete('ttl-1', 'settled', 'reconciler')
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(rec.key)), '0', 'kept in a shard')
  t.same(await again(store, rec), { kind: 'replay', response: accepted('ttl-1') }, 'replayed within the TTL')
  // The expiry is the bind's time and the TTL, rounded up to the second: past it by then at the latest.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, boundAt + 2000 - Date.now())))
  t.same(await again(store, rec), { kind: 'admitted' }, 'a new order once it expired')
})

t.test('an answer too long for a listpack stays in its key', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  const rec = record({ key: 'o:cosmos1long:n:1' })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  const long: StoredResponse = { status: 202, headers: {}, body: JSON.stringify({ id: 'long-1', note: 'x'.repeat(80) }) }
  await store.bind(rec.key, 'long-1', long, TTL)
  t.equal(await redis.cli('EXISTS', storeKeys(namespace).idem(rec.key)), '1')
  t.same(await again(store, rec), { kind: 'replay', response: long })
})

t.test('a Redis whose listpacks take longer values keeps answers with long ids in shards too', async (t) => {
  // A UUID as the intent id makes the value 79 bytes: over the default 64, under what an operator may set.
  const own = await startRedis(t)
  await own.cli('CONFIG', 'SET', 'hash-max-listpack-value', '96')
  const namespace = freshNamespace()
  const store = await redisStore(t, redisConfig(own.url, namespace), { layouts: STEP_TWO, endedRetentionSecs: TTL })
  const recs = []
  for (let n = 0; n < 3; n++) {
    const rec = record({ key: `o:cosmos1uuid:n:${n}`, fingerprint: MINE })
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
    const id = randomUUID()
    await store.bind(rec.key, id, accepted(id), TTL)
    recs.push(rec)
  }
  const last = recs[2] as ReturnType<typeof record>
  t.equal(await own.cli('EXISTS', storeKeys(namespace).idem(last.key)), '0', 'the third (a template\'s reference and a UUID) in a shard')
  t.equal(await own.cli('OBJECT', 'ENCODING', `${storeKeys(namespace).replays}:0`), 'listpack')
})

t.test('the shards grow with the records, every record is found, and a released key is forgotten', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  await warm(t, store)
  const recs: Array<ReturnType<typeof record>> = []
  // Concurrent: the binds go in groups (one script call each), as under load.
  const RECORDS = 600
  await Promise.all(Array.from({ length: RECORDS }, async (_, n) => {
    const rec = record({ key: `o:cosmos1grow:n:${n}` })
    recs[n] = rec
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
    await store.bind(rec.key, `grow-${n}`, accepted(`grow-${n}`), TTL)
  }))
  const meta = await shardMeta(namespace)
  t.equal(meta.count, String(RECORDS + 1), 'and the second warm-up\'s')
  const shards = Number(meta.n)
  t.ok(shards >= RECORDS / 40 && shards <= RECORDS / 20, `${shards} shards for ${RECORDS} records (at most 40 a shard)`)
  let largest = 0
  for (let i = 0; i < shards; i++) {
    const k = `${storeKeys(namespace).replays}:${i}`
    largest = Math.max(largest, Number(await redis.cli('HLEN', k)))
    t.equal(await redis.cli('OBJECT', 'ENCODING', k), 'listpack', `shard ${i} is a listpack`)
  }
  t.ok(largest < 128, `the largest shard holds ${largest} records`)
  const replies = await Promise.all(recs.map(async (rec) => await again(store, rec)))
  t.equal(replies.filter((r, n) => JSON.stringify(r) === JSON.stringify({ kind: 'replay', response: accepted(`grow-${n}`) })).length, RECORDS,
    'every record is found where the shard count says')
  // A release without an answer (the intent was never created) forgets the key: a retry is admitted again.
  const forgotten = recs[7] as ReturnType<typeof record>
  await store.release(forgotten.key, null, TTL)
  t.same(await again(store, forgotten), { kind: 'admitted' })
  t.equal((await shardMeta(namespace)).count, String(RECORDS))
})

t.test('expired records are not replayed, are swept, and the shards merge back', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  await warm(t, store)
  const RECORDS = 300
  const recs = await Promise.all(Array.from({ length: RECORDS }, async (_, n) => {
    const rec = record({ key: `o:cosmos1old:n:${n}` })
    await store.admit({ record: rec, idempotencyTtlSecs: TTL })
    await store.bind(rec.key, `old-${n}`, accepted(`old-${n}`), TTL)
    await store.complete(`old-${n}`, 'settled', 'reconciler')
    return rec
  }))
  const grown = Number((await shardMeta(namespace)).n)
  t.ok(grown > 1)
  // Before their expiry (the TTL) a sweep drops nothing, however many times it runs.
  const start = Date.now()
  for (let i = 0; i < 3; i++) await store.sweepReplays(start + (TTL - 60) * 1000 + i)
  t.equal((await shardMeta(namespace)).count, String(RECORDS + 1), 'nothing dropped before the TTL')
  // Past it: each call sweeps the shards due (every shard once a 24th of the TTL), at most 100 a call.
  const past = start + (TTL + 120) * 1000
  let dropped = 0
  for (let call = 0; call < 10 && Number((await shardMeta(namespace)).count) > 0; call++) {
    const done = await store.sweepReplays(past + call * TTL * 1000)
    dropped += done?.dropped ?? 0
  }
  t.equal(dropped, RECORDS + 1, 'every expired record dropped')
  const meta = await shardMeta(namespace)
  t.equal(meta.count, '0')
  t.ok(Number(meta.n) < grown, `merged back from ${grown} to ${meta.n} shards`)
  t.equal(await redis.cli('EXISTS', ...Array.from({ length: grown }, (_, i) => `${storeKeys(namespace).replays}:${i}`)), '0',
    'no shard is left')
  // With its idempotency record gone, an ended intent's key is admitted again as a new order (as a key expires).
  t.same(await again(store, recs[0] as ReturnType<typeof record>), { kind: 'admitted' })
})

t.test('layout 9 keeps ended routes in small shards of their bucket; either release finds either form', async (t) => {
  const namespace = freshNamespace()
  const [newer, older] = await Promise.all([storeOn(t, namespace, STEP_TWO), storeOn(t, namespace, STEP_ONE)])
  const ENDED = 300
  const width = endedBucketSecs(TTL)
  const bucketAtStart = Math.floor(Date.now() / 1000 / width)
  await Promise.all(Array.from({ length: ENDED }, async (_, n) => {
    // Every third ended by the release before (the old form: a field of the bucket itself).
    const store = n % 3 === 0 ? older : newer
    const rec = record({ key: `o:cosmos1route:n:${n}`, upstream: n % 2 === 0 ? 'blue' : 'green' })
    await store.admit({ record: rec, idempotencyTtlSecs: TTL })
    await store.bind(rec.key, `route-${n}`, accepted(`route-${n}`), TTL)
    t.equal(await store.complete(`route-${n}`, 'settled', 'reconciler'), true)
  }))
  for (const store of [newer, older]) {
    const routes = await Promise.all(Array.from({ length: ENDED }, async (_, n) => await store.endedById(`route-${n}`)))
    t.equal(routes.filter((r, n) => r?.status === 'settled' && r.upstream === (n % 2 === 0 ? 'blue' : 'green')).length, ENDED,
      'every route found, with its upstream and status')
  }
  t.equal(await newer.endedById('route-none'), null)
  const bucket = storeKeys(namespace).endedIds(bucketAtStart)
  if (Math.floor(Date.now() / 1000 / width) !== bucketAtStart) return // the bucket turned meanwhile: its keys are split across two
  t.equal(await redis.cli('HLEN', bucket), String(ENDED / 3), 'the older release\'s routes are fields of the bucket')
  const meta = await redis.cli('HGETALL', `${bucket}:n`)
  const [, shards, , count] = meta.split('\n')
  t.equal(count, String(ENDED - ENDED / 3), 'the newer release\'s are counted beside it')
  t.ok(Number(shards) >= 4, `in ${shards} shards`)
  for (let i = 0; i < Number(shards); i++) {
    t.equal(await redis.cli('OBJECT', 'ENCODING', `${bucket}:${i}`), 'listpack', `shard ${i} is a listpack`)
    t.ok(Number(await redis.cli('TTL', `${bucket}:${i}`)) > TTL, `shard ${i} expires with the bucket`)
  }
  t.ok(Number(await redis.cli('TTL', `${bucket}:n`)) > TTL)
  // An id too long for a listpack's entry keeps its route in the bucket's own hash, which every release reads.
  const longId = `route-${'x'.repeat(70)}`
  const rec = record({ key: 'o:cosmos1route:long' })
  await newer.admit({ record: rec, idempotencyTtlSecs: TTL })
  await newer.bind(rec.key, longId, accepted(longId), TTL)
  t.equal(await newer.complete(longId, 'failed', 'reconciler'), true)
  t.equal((await older.endedById(longId))?.status, 'failed')
  t.not(await redis.cli('HGET', storeKeys(namespace).endedIds(Math.floor(Date.now() / 1000 / width)), longId), '', 'in the bucket itself')
})

storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
