// Key layout 3, lean records, between the two releases that share it (docs/store.md, "Two releases on one
// namespace"): a store that writes layout 3 drops a bound record's forwarded bytes and keeps owners' key sets
// as short hashes; a store that writes layout 2 and reads 3 (0.3.0, the step before) reads, counts, extends
// and ends those records as its own. Nothing a replay or a resend needs is given up.
import t, { type Test } from 'tap'
import { startRedis } from '../helpers/redis.js'
import type { RedisStore } from '../../src/store/redis/redis-store.js'
import { decodeEndedRoute } from '../../src/store/records.js'
import { endedBucketSecs, ownerKeyMember, storeKeys } from '../../src/store/keys.js'
import { storedIntentMigrator } from '../../src/coordinator/adapters.js'
import type { KeyLayouts } from '../../src/release.js'
import { record, storeConformance } from './conformance.js'
import { acceptedAnswer, freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const TTL = 3600
const STEP_ONE: KeyLayouts = { writes: 2, reads: [2, 3] }
const STEP_TWO: KeyLayouts = { writes: 3, reads: [2, 3] }
const accepted = acceptedAnswer

async function storeOn (t: Test, namespace: string, layouts: KeyLayouts): Promise<RedisStore> {
  return await redisStore(t, redisConfig(redis.url, namespace), { layouts, endedRetentionSecs: 60 })
}

t.test('layout 3 keeps a bound record without its forwarded bytes; the step before reads it', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const older = await storeOn(t, namespace, STEP_ONE)
  const lean = await storeOn(t, namespace, STEP_TWO)
  t.equal(await redis.cli('GET', k.layout), '3', 'the lean writer raised the mark; the step-one store shares it')

  const rec = record({ key: 'o:cosmos1lean:n:1', client_key: null, fingerprint: 'ab'.repeat(32), payload: '{"nonce":1,"amount":"10"}' })
  t.same(await lean.admit({ record: rec, idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1lean', max: 10 } }), { kind: 'admitted' })
  const admitted = await redis.cli('HGET', k.inflight, rec.key)
  t.ok(admitted.endsWith('\n{"nonce":1,"amount":"10"}'), 'before the bind the forwarded bytes are kept: a resend may need them')
  t.same(await redis.cli('ZRANGE', k.ownerKeys('cosmos1lean'), '0', '-1'), ownerKeyMember(rec.key), 'the owner set holds the short hash, not the scope')
  t.equal(ownerKeyMember(rec.key).length, 12)

  await lean.bind(rec.key, 'lean-1', accepted('lean-1'), TTL)
  const bound = await redis.cli('HGET', k.inflight, rec.key)
  t.ok(bound.endsWith('}\n') && !bound.includes('nonce'), 'bound: the header line alone')
  t.ok(bound.length < admitted.length)

  // What both releases read back: every field but the bytes, and the flag that says they are gone.
  for (const [name, store] of [['0.3.0 (reads 3)', older], ['lean', lean]] as const) {
    const byId = await store.inflightById('lean-1')
    t.match(byId, { key: rec.key, id: 'lean-1', phase: 'accepted', upstream: rec.upstream, version: rec.version, upstream_version: rec.upstream_version, deadline: rec.deadline, fingerprint: rec.fingerprint, body_dropped: true }, `${name}: by id`)
    t.equal(byId?.payload, undefined, `${name}: no bytes to resend`)
    t.same(byId?.intent, {}, `${name}: no body`)
    const [listed] = await store.inflight()
    t.match(listed, { key: rec.key, id: 'lean-1', body_dropped: true }, `${name}: listed`)
    t.equal((await store.inflightPage(10, null)).records[0]?.key, rec.key, `${name}: paged`)
    t.equal(await store.inflightCount(), 1, `${name}: counted`)
  }

  // A replay (the same order again) is answered from the idempotency record, by either release.
  for (const store of [older, lean]) {
    const again = await store.admit({ record: rec, idempotencyTtlSecs: TTL })
    t.same(again, { kind: 'replay', response: accepted('lean-1') })
  }

  // A deadline extension by the older release keeps the record lean; a version migration leaves it as it is.
  const found = await older.inflightById('lean-1')
  t.ok(found !== null && await older.updateInflight({ ...found, deadline: found.deadline + 60 }))
  const extended = await redis.cli('HGET', k.inflight, rec.key)
  t.ok(extended.includes(`"deadline":${rec.deadline + 60}`) && extended.endsWith('}\n'), 'extended, still the header alone')
  const migrator = storedIntentMigrator({} as never, { blue: { versions: ['1.0', '2.0'] } } as never)
  t.equal(migrator.migrate(found as never, '2.0'), null, 'nothing to translate: it stays in the version its owner took')

  // The step-one release ends it: the ended route keeps both versions for later status reads.
  t.equal(await older.complete('lean-1', 'settled', 'reconciler'), true)
  t.equal(await lean.inflightCount(), 0)
  const bucket = k.endedIds(Math.floor(Date.now() / 1000 / endedBucketSecs(60)))
  t.match(decodeEndedRoute(await redis.cli('HGET', bucket, 'lean-1')), { upstream: rec.upstream, version: rec.version, upstream_version: rec.upstream_version, status: 'settled' })
})

t.test('layout 2 records stay whole under the step-one release, and the lean one reads and ends them', async (t) => {
  const namespace = freshNamespace()
  const k = storeKeys(namespace)
  const older = await storeOn(t, namespace, STEP_ONE)
  t.equal(await redis.cli('GET', k.layout), '2', 'step one marks a new namespace with the layout it writes')
  const rec = record({ key: 'o:cosmos1old:k:abc', client_key: 'abc', payload: '{"nonce":2}' })
  await older.admit({ record: rec, idempotencyTtlSecs: TTL, ownerKeys: { owner: 'cosmos1old', max: 10 } })
  await older.bind(rec.key, 'old-1', accepted('old-1'), TTL)
  t.ok((await redis.cli('HGET', k.inflight, rec.key)).endsWith('\n{"nonce":2}'), 'layout 2: the bytes stay')
  t.same(await redis.cli('ZRANGE', k.ownerKeys('cosmos1old'), '0', '-1'), rec.key, 'layout 2: the scope itself')

  const lean = await storeOn(t, namespace, STEP_TWO)
  const read = await lean.inflightById('old-1')
  t.equal(read?.payload, '{"nonce":2}')
  t.notOk(read?.body_dropped)
  t.equal(await lean.complete('old-1', 'settled', 'reconciler'), true)
  t.equal(await older.inflightCount(), 0)
})

t.test('an unknown outcome keeps its bytes under layout 3: the retry resends them', async (t) => {
  const namespace = freshNamespace()
  const lean = await storeOn(t, namespace, STEP_TWO)
  const older = await storeOn(t, namespace, STEP_ONE)
  const rec = record({ key: 'o:cosmos1unk:n:3', payload: '{"nonce":3}' })
  await lean.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.equal(await lean.markUnknown(rec.key, TTL), true)
  for (const store of [older, lean]) {
    const retry = await store.admit({ record: rec, idempotencyTtlSecs: TTL })
    t.equal(retry.kind, 'unknown')
    t.equal(retry.kind === 'unknown' ? retry.record.payload : null, '{"nonce":3}', 'the bytes to resend, exactly')
  }
})

// The whole store contract holds for both writers (test/store/redis.test.ts runs it for this release's).
t.test('the store contract, written as layout 2 (0.3.0)', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_ONE) })
})
t.test('the store contract, written as layout 3 (0.4.0)', async (t) => {
  storeConformance(t, { create: async (t) => await storeOn(t, freshNamespace(), STEP_TWO), dropsBoundBodies: true })
})
