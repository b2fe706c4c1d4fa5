// Key layout 4, short handles, between the two releases that share it (docs/store.md, "Two releases on one
// namespace"): a store that writes layout 4 keeps an inflight record under a 16-character handle of its scope,
// the scope once in a compact header line; a store that writes layout 3 and reads 4 (0.5.0, the step before)
// reads, counts, replays, extends and ends those records as its own, and the other way round. Nothing a replay
// or a resend needs is given up.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { decodeEnded, decodeEndedRoute, decodeRecord, encodeRecord } from '../../src/store/records.js'
import { endedBucketSecs, inflightHandle, ownerKeyMember, storeKeys } from '../../src/store/keys.js'
import type { KeyLayouts } from '../../src/release.js'
import { record, storeConformance } from './conformance.js'
import { acceptedAnswer, freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 3, reads: [3, 4] }
const STEP_TWO: KeyLayouts = { writes: 4, reads: [3, 4] }
const accepted = acceptedAnswer

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: 60 })
}

t.test('a compact header reads back as the record it was written from', async (t) => {
  const fingerprint = 'c0ffee'.repeat(10) + 'abcd'
  const cases = [
    record({ key: 'o:cosmos1a:k:my key', client_key: 'my key', fingerprint, payload: '{"a":1}' }),
    record({ key: 'o:cosmos1a:n:7', client_key: null, fingerprint: 'not-hex' }),
    record({ key: 'o:cosmos1a:k:x', client_key: 'another' }),
    record({ key: 'plain', client_key: '1' }),
    { ...record({ key: 'o:cosmos1a:k:y', client_key: 'y', payload: '{"b":2}' }), body_dropped: true }
  ]
  for (const rec of cases) {
    const compact = encodeRecord(rec, true)
    t.ok(compact.startsWith('['), 'an array')
    t.ok(compact.indexOf('\n') < encodeRecord(rec).indexOf('\n'), 'shorter than the object header')
    const back = decodeRecord(compact, null, null)
    // The fingerprint is the idempotency record's alone from 0.14.0 (records.ts, compactHeader).
    const { fingerprint: _kept, ...want } = decodeRecord(encodeRecord(rec), null, null)
    t.same({ ...back, intent: back.intent }, { ...want, intent: want.intent }, rec.key)
    t.equal(back.fingerprint, undefined, `${rec.key}: no fingerprint in the header`)
  }
  // A header 0.13.0 or older wrote carries it: a SHA-256 hex as base64url, anything else behind `=`.
  const older = (fp: string): string => `${JSON.stringify(['o:cosmos1a:n:8', 'blue', '1.0', '1.0', 1, 2, 0, fp, 0])}\n`
  t.equal(decodeRecord(older(Buffer.from(fingerprint, 'hex').toString('base64url')), null, null).fingerprint, fingerprint, 'a hex fingerprint read back')
  t.equal(decodeRecord(older('=not-hex'), null, null).fingerprint, 'not-hex', 'another read back')
})

t.test('layout 4 keeps a record under its handle; the step before reads it', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const older = await storeOn(t, namespace, STEP_ONE)
  const next = await storeOn(t, namespace, STEP_TWO)
  t.equal(await redis.cli('GET', k.layout), '4', 'the layout-4 writer raised the mark; the step-one store shares it')

  const rec = record({ key: 'o:cosmos1handle:k:abc', client_key: 'abc', fingerprint: 'ab'.repeat(32), payload: '{"nonce":1,"amount":"10"}' })
  const handle = inflightHandle(rec.key)
  t.equal(handle.length, 16)
  t.same(await next.admit({ record: rec, idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1handle', max: 10 } }), { kind: 'admitted' })
  t.equal(await redis.cli('HGET', k.inflight, rec.key), '', 'nothing under the scope')
  const admitted = await redis.cli('HGET', k.inflight, handle)
  t.ok(admitted.startsWith('["o:cosmos1handle:k:abc",') && admitted.endsWith('\n{"nonce":1,"amount":"10"}'), 'under the handle: the scope once, and the bytes a resend may need')
  t.same(await redis.cli('ZRANGE', k.ownerKeys('cosmos1handle'), '0', '-1'), ownerKeyMember(rec.key), 'the owner set holds the handle\'s first 12 characters')
  t.equal(await redis.cli('HGET', k.inflightOwner, handle), rec.upstream)
  t.equal(await redis.cli('ZRANGE', k.inflightSince, '0', '-1'), handle)

  // The step-one release refuses the same order again while it is inflight (found under the handle).
  t.same(await older.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' })
  await redis.cli('DEL', k.idem(rec.key))
  t.same(await older.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' }, 'even after its idempotency record is gone')
  t.equal(await redis.cli('GET', k.idem(rec.key)), '', 'and that refusal left no idempotency record behind')

  await next.bind(rec.key, 'h-1', accepted('h-1'), TTL)
  const bound = await redis.cli('HGET', k.inflight, handle)
  t.ok(bound.endsWith(']\n') && !bound.includes('nonce'), 'bound: the header line alone')
  t.equal(await redis.cli('HGET', k.inflightIds, 'h-1'), handle)
  t.equal(await redis.cli('HGET', k.inflightBound, handle), 'h-1')

  for (const [name, store] of [['0.5.0 (writes 3, reads 4)', older], ['0.6.0 (writes 4)', next]] as const) {
    const byId = await store.inflightById('h-1')
    t.match(byId, { key: rec.key, id: 'h-1', phase: 'accepted', upstream: rec.upstream, version: rec.version, upstream_version: rec.upstream_version, deadline: rec.deadline, client_key: 'abc', body_dropped: true }, `${name}: by id`)
    t.equal(byId?.fingerprint, undefined, `${name}: the fingerprint is the idempotency record's alone`)
    const [listed] = await store.inflight()
    t.match(listed, { key: rec.key, id: 'h-1' }, `${name}: listed`)
    t.equal((await store.inflightPage(10, null)).records[0]?.key, rec.key, `${name}: paged`)
    t.equal(await store.inflightCount(), 1, `${name}: counted`)
    t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: accepted('h-1') }, `${name}: a replay`)
  }

  // A deadline extension by the step-one release rewrites it in place, under the handle.
  const found = await older.inflightById('h-1')
  t.ok(found !== null && await older.updateInflight({ ...found, deadline: found.deadline + 60 }))
  t.equal(await redis.cli('HLEN', k.inflight), '1', 'still one record')
  t.equal((await next.inflightById('h-1'))?.deadline, rec.deadline + 60)

  // The step-one release ends it: the ended route keeps both versions, the log names the scope.
  t.equal(await older.complete('h-1', 'settled', 'reconciler'), true)
  t.equal(await next.inflightCount(), 0)
  for (const hash of [k.inflightOwner, k.inflightBound, k.inflightIds, k.inflightPhase]) t.equal(await redis.cli('HLEN', hash), '0', `${hash} emptied`)
  // The bucket of the end, or the one before if a bucket's time ran out between the end and this read.
  const newest = Math.floor(Date.now() / 1000 / endedBucketSecs(60))
  const route = await redis.cli('HGET', k.endedIds(newest), 'h-1') || await redis.cli('HGET', k.endedIds(newest - 1), 'h-1')
  t.match(decodeEndedRoute(route), { upstream: rec.upstream, version: rec.version, upstream_version: rec.upstream_version, status: 'settled' })
  t.match(decodeEnded(await redis.cli('LINDEX', k.ended, '0')), { id: 'h-1', key: rec.key, status: 'settled' })
})

t.test('layout 3 records under the layout-4 writer: read, replayed, refused again, ended', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const older = await storeOn(t, namespace, STEP_ONE)
  t.equal(await redis.cli('GET', k.layout), '3', 'step one marks a new namespace with the layout it writes')
  const rec = record({ key: 'o:cosmos1old:k:abc', client_key: 'abc', payload: '{"nonce":2}' })
  await older.admit({ record: rec, idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1old', max: 10 } })
  t.ok((await redis.cli('HGET', k.inflight, rec.key)).startsWith('{'), 'layout 3: under the scope, an object header')

  const next = await storeOn(t, namespace, STEP_TWO)
  await redis.cli('DEL', k.idem(rec.key))
  t.same(await next.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' }, 'the layout-4 writer finds it under the scope')
  t.equal(await redis.cli('HLEN', k.inflight), '1', 'and did not admit it twice')
  await older.bind(rec.key, 'old-1', accepted('old-1'), TTL)
  const read = await next.inflightById('old-1')
  t.match(read, { key: rec.key, id: 'old-1', body_dropped: true })
  t.same(await next.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: accepted('old-1') })
  t.equal(await next.complete('old-1', 'settled', 'reconciler'), true)
  t.equal(await older.inflightCount(), 0)
  t.match(decodeEnded(await redis.cli('LINDEX', k.ended, '0')), { id: 'old-1', key: rec.key })
})

t.test('an unknown outcome keeps its bytes under layout 4: a retry through either release resends them', async (t) => {
  const namespace = freshNamespace()
  const next = await storeOn(t, namespace, STEP_TWO)
  const older = await storeOn(t, namespace, STEP_ONE)
  const rec = record({ key: 'o:cosmos1unk:n:3', payload: '{"nonce":3}' })
  await next.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.equal(await next.markUnknown(rec.key, TTL), true)
  for (const store of [older, next]) {
    const retry = await store.admit({ record: rec, idempotencyTtlSecs: TTL })
    t.equal(retry.kind, 'unknown')
    t.equal(retry.kind === 'unknown' ? retry.record.payload : null, '{"nonce":3}', 'the bytes to resend, exactly')
  }
  // The admitting instance releases it (the owner answered 4xx): gone from every hash.
  await next.release(rec.key, null, TTL)
  t.equal(await older.inflightCount(), 0)
})

t.test('a record admitted by one release is released by the other', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const next = await storeOn(t, namespace, STEP_TWO)
  const older = await storeOn(t, namespace, STEP_ONE)
  const a = record({ key: 'o:cosmos1rel:n:1' })
  const b = record({ key: 'o:cosmos1rel:n:2' })
  await next.admit({ record: a, idempotencyTtlSecs: TTL })
  await older.admit({ record: b, idempotencyTtlSecs: TTL })
  await older.release(a.key, null, TTL)
  await next.release(b.key, null, TTL)
  t.equal(await next.inflightCount(), 0)
  t.same(await redis.cli('HGETALL', k.inflightCount), 'blue\n0', 'the per-upstream count back to 0')
})

// The whole store contract holds for the layout-4 writer (test/store/redis.test.ts runs it for this release's).
t.test('the store contract, written as layout 4 (0.6.0)', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
})
