// Key layout 5, owner counts, between the releases that share it (docs/store.md, "Two releases on one
// namespace"): `proxy.max_keys_per_owner` counts an owner's keys per time bucket instead of a sorted-set member
// per key. A store that writes layout 4 (0.7.0, step one) keeps both forms; a store that writes 5 (0.8.0) keeps
// the counts only; each caps by the larger count, so keys admitted by 0.6.0 (the set alone) or by either step
// are counted by every release that can run beside them.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { ownerKeyMember, storeKeys } from '../../src/store/keys.js'
import type { KeyLayouts } from '../../src/release.js'
import { record, storeConformance } from './conformance.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
/** A bucket is a 24th of the TTL: a key is counted until at most this long after it expires. */
const BUCKET_SECS = TTL / 24
const STEP_ONE: KeyLayouts = { writes: 4, reads: [4, 5] }
const STEP_TWO: KeyLayouts = { writes: 5, reads: [4, 5] }

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts })
}

/** The owner's keys by the counts: the sum of its buckets. */
async function counted (namespace: string, owner: string): Promise<number> {
  const values = (await redis.cli('HVALS', storeKeys(namespace).ownerCounts(owner))).split('\n').filter((v) => v !== '')
  return values.reduce((sum, v) => sum + Number(v), 0)
}

async function admitKeys (store: RedisStore, owner: string, from: number, to: number, max: number): Promise<string[]> {
  const kinds: string[] = []
  for (let i = from; i < to; i++) {
    const rec = record({ key: `o:${owner}:k:${i}`, client_key: String(i) })
    kinds.push((await store.admit({ record: rec, idempotencyTtlSecs: TTL, ownerKeys: { owner, max } })).kind)
  }
  return kinds
}

t.test('layout 5 counts an owner\'s keys in a few buckets and keeps no member per key', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const store = await storeOn(t, namespace, STEP_TWO)
  t.equal(await redis.cli('GET', k.layout), '5', 'the layout-5 writer marks a new namespace 5')
  t.same(await admitKeys(store, 'cosmos1count', 0, 40, 100), Array(40).fill('admitted'))
  t.equal(await counted(namespace, 'cosmos1count'), 40, 'every new key counted')
  t.ok(Number(await redis.cli('HLEN', k.ownerCounts('cosmos1count'))) <= 2, 'in one bucket (two if the admissions crossed a bucket\'s end)')
  t.equal(await redis.cli('EXISTS', k.ownerKeys('cosmos1count')), '0', 'no sorted set')
  // The expiry was set by the first of the 40 admissions: a minute's margin for them on a busy machine.
  const expiresInMs = Number(await redis.cli('PTTL', k.ownerCounts('cosmos1count')))
  t.ok(expiresInMs > (TTL - 60) * 1000 && expiresInMs <= (TTL + BUCKET_SECS) * 1000, `the counts expire with their newest bucket (${expiresInMs} ms)`)
})

t.test('past the cap a new key is refused until the oldest bucket ends; a key held still replays', async (t) => {
  const namespace = freshNamespace()
  const store = await storeOn(t, namespace, STEP_TWO)
  t.same(await admitKeys(store, 'cosmos1cap', 0, 3, 3), ['admitted', 'admitted', 'admitted'])
  const refused = await store.admit({ record: record({ key: 'o:cosmos1cap:k:9', client_key: '9' }), idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1cap', max: 3 } })
  t.equal(refused.kind, 'owner_limit')
  const wait = refused.kind === 'owner_limit' ? refused.retryAfterSecs : 0
  t.ok(wait > TTL - 60 && wait <= TTL + BUCKET_SECS, `Retry-After: when the oldest bucket ends (${wait} s), at most a bucket after the key expires`)
  t.same(await admitKeys(store, 'cosmos1cap', 0, 1, 3), ['in_progress'], 'a key the owner holds is answered as before')
  t.same(await admitKeys(store, 'cosmos1other', 0, 1, 3), ['admitted'], 'another owner is not counted with it')
  t.equal(await counted(namespace, 'cosmos1cap'), 3, 'a refusal counts nothing')
})

t.test('a bucket that has ended counts nothing and is dropped', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const store = await storeOn(t, namespace, STEP_TWO)
  const ended = Math.floor(Date.now() / 1000) - 1
  await redis.cli('HSET', k.ownerCounts('cosmos1old'), String(ended), '500')
  t.same(await admitKeys(store, 'cosmos1old', 0, 2, 3), ['admitted', 'admitted'], 'the ended bucket\'s 500 keys are not held')
  t.equal(await redis.cli('HEXISTS', k.ownerCounts('cosmos1old'), String(ended)), '0', 'and it is gone')
})

t.test('step one keeps both forms; step two counts the set 0.6.0 and step one keep', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const one = await storeOn(t, namespace, STEP_ONE)
  t.same(await admitKeys(one, 'cosmos1both', 0, 2, 4), ['admitted', 'admitted'])
  t.equal(await counted(namespace, 'cosmos1both'), 2, 'step one counts')
  const members = (await redis.cli('ZRANGE', k.ownerKeys('cosmos1both'), '0', '-1')).split('\n')
  t.same(members.sort(), ['o:cosmos1both:k:0', 'o:cosmos1both:k:1'].map(ownerKeyMember).sort(), 'and keeps the set 0.6.0 caps by')

  // Keys 0.6.0 admitted are in the set alone: here two more, as its admit.lua writes them.
  const expires = Date.now() + TTL * 1000
  await redis.cli('ZADD', k.ownerKeys('cosmos1both'), String(expires), ownerKeyMember('o:cosmos1both:k:a'), String(expires), ownerKeyMember('o:cosmos1both:k:b'))
  const two = await storeOn(t, namespace, STEP_TWO)
  const refused = await two.admit({ record: record({ key: 'o:cosmos1both:k:5', client_key: '5' }), idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1both', max: 4 } })
  t.equal(refused.kind, 'owner_limit', 'step two caps by the set\'s four keys where its counts hold two')
  // The member was written a store's start before this admission: a minute's margin for a busy machine.
  const wait = refused.kind === 'owner_limit' ? refused.retryAfterSecs : 0
  t.ok(wait > TTL - 60 && wait <= TTL, `Retry-After from the set's oldest member (${wait} s)`)
  t.same(await admitKeys(two, 'cosmos1both', 5, 6, 5), ['admitted'], 'under a higher cap it is admitted')
  t.equal(await redis.cli('ZCARD', k.ownerKeys('cosmos1both')), '4', 'step two adds nothing to the set')
  t.equal(await counted(namespace, 'cosmos1both'), 3, 'and counts the key')

  // And the other way: step one caps by the counts step two keeps.
  t.same(await admitKeys(two, 'cosmos1back', 0, 3, 10), ['admitted', 'admitted', 'admitted'])
  const back = await one.admit({ record: record({ key: 'o:cosmos1back:k:7', client_key: '7' }), idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1back', max: 3 } })
  t.equal(back.kind, 'owner_limit', 'step one (the rollback) counts the keys step two admitted')
})

// The whole store contract holds for the layout-5 writer (test/store/redis.test.ts runs it for this release's).
t.test('the store contract, written as layout 5 (0.8.0)', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
})
