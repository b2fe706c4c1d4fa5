// Key layout 6, the owner in the header, between the releases that share it (docs/store.md, "Two releases on
// one namespace"): a store that writes layout 6 keeps no `inflight:owner` entry, every reader takes a record's
// owner from its header where there is none, and an entry a layout-5 writer made is still read first and kept
// up to date. Per-upstream counts, an unknown outcome's owner, a move to another upstream and the ending are the
// same whichever release wrote the record and whichever touches it.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { decodeEnded, decodeEndedRoute } from '../../src/store/records.js'
import { endedBucketSecs, inflightHandle, storeKeys } from '../../src/store/keys.js'
import type { KeyLayouts } from '../../src/release.js'
import { record, storeConformance } from './conformance.js'
import { acceptedAnswer, freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 5, reads: [5, 6] }
const STEP_TWO: KeyLayouts = { writes: 6, reads: [5, 6] }

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: 60 })
}

async function counts (namespace: string): Promise<string> {
  return await redis.cli('HGETALL', storeKeys(namespace).inflightCount)
}

t.test('layout 6 keeps no owner entry; the owner comes from the header for every step of a record', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const store = await storeOn(t, namespace, STEP_TWO)
  const rec = record({ key: 'o:cosmos1hdr:n:1', payload: '{"nonce":1}' })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(await redis.cli('HLEN', k.inflightOwner), '0', 'no inflight:owner entry')
  t.same(await store.inflightByUpstream(), { blue: 1, green: 0 })

  t.equal(await store.markUnknown(rec.key, TTL), true)
  const retry = await store.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.equal(retry.kind === 'unknown' ? retry.record.upstream : retry.kind, 'blue', 'an unknown outcome names its owner from the header')

  // Moved to green (a stored-intent migration rewrites the record): the count follows, still no entry.
  const [current] = await store.inflight()
  t.equal(await store.updateInflight({ ...current!, upstream: 'green' }), true)
  t.same(await store.inflightByUpstream(), { blue: 0, green: 1 })
  t.equal(await redis.cli('HLEN', k.inflightOwner), '0', 'the move made no entry')
  const moved = await store.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.equal(moved.kind === 'unknown' ? moved.record.upstream : moved.kind, 'green', 'a retry now goes to green')

  await store.bind(rec.key, 'hdr-1', acceptedAnswer('hdr-1'), TTL)
  t.equal(await store.complete('hdr-1', 'settled', 'reconciler'), true)
  t.same(await store.inflightByUpstream(), { blue: 0, green: 0 }, 'the ending took it off green')
  t.match(decodeEnded(await redis.cli('LINDEX', k.ended, '0')), { id: 'hdr-1', upstream: 'green' })
  const newest = Math.floor(Date.now() / 1000 / endedBucketSecs(60))
  const route = await redis.cli('HGET', k.endedIds(newest), 'hdr-1') || await redis.cli('HGET', k.endedIds(newest - 1), 'hdr-1')
  t.match(decodeEndedRoute(route), { upstream: 'green', status: 'settled' })
})

t.test('records of either step are counted, moved, released and ended by the other', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const one = await storeOn(t, namespace, STEP_ONE)
  const two = await storeOn(t, namespace, STEP_TWO)
  t.equal(await redis.cli('GET', k.layout), '6', 'the layout-6 writer raised the mark; step one shares it')
  const byOne = record({ key: 'o:cosmos1mix:n:1' })
  const byTwo = record({ key: 'o:cosmos1mix:n:2' })
  await one.admit({ record: byOne, idempotencyTtlSecs: TTL })
  await two.admit({ record: byTwo, idempotencyTtlSecs: TTL })
  t.equal(await redis.cli('HGET', k.inflightOwner, inflightHandle(byOne.key)), 'blue', 'step one still writes the entry')
  t.equal(await redis.cli('HEXISTS', k.inflightOwner, inflightHandle(byTwo.key)), '0', 'step two does not')
  for (const store of [one, two]) t.same(await store.inflightByUpstream(), { blue: 2, green: 0 })

  // Each moves the other's record to green: the entry step one made is kept up to date, none is made.
  const records = await one.inflight()
  for (const r of records) t.equal(await (r.key === byOne.key ? two : one).updateInflight({ ...r, upstream: 'green' }), true)
  t.equal(await redis.cli('HGET', k.inflightOwner, inflightHandle(byOne.key)), 'green', 'the entry follows the move')
  t.equal(await redis.cli('HEXISTS', k.inflightOwner, inflightHandle(byTwo.key)), '0', 'and none is made by step one')
  t.same(await counts(namespace), 'blue\n0\ngreen\n2')

  // Each ends or releases the other's.
  await one.bind(byTwo.key, 'mix-2', acceptedAnswer('mix-2'), TTL)
  t.equal(await one.complete('mix-2', 'settled', 'reconciler'), true)
  await two.release(byOne.key, null, TTL)
  t.equal(await two.inflightCount(), 0)
  t.same(await counts(namespace), 'blue\n0\ngreen\n0', 'the per-upstream counts back to 0')
  t.match(decodeEnded(await redis.cli('LINDEX', k.ended, '0')), { id: 'mix-2', upstream: 'green' }, 'step one read the owner from step two\'s header')
})

// The whole store contract holds for the layout-6 writer (test/store/redis.test.ts runs it for this release's).
t.test('the store contract, written as layout 6 (0.10.0)', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
})
